package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The delete confirmation of a contact and the delete itself.

// confirmPage is the data of the delete and erase confirmations.
type confirmPage struct {
	ID   int64
	Name string
}

// renderConfirm renders a confirmation page of contact c.
func (u *UI) renderConfirm(w http.ResponseWriter, r *http.Request, p *crm.Principal, title, page string, c *crm.Contact, status int, errs map[string]string) {
	v := u.newView(r, p, title)
	v.Nav = "contacts"
	v.Page = confirmPage{ID: c.ID, Name: displayName(c)}
	for k, reason := range errs {
		v.Errors[k] = reason
	}
	u.render(w, r, status, page, v)
}

func (u *UI) ConfirmDeleteContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	// The confirmation is for whoever may delete the contact (ACL-4).
	if err := u.records.CheckRecord(r.Context(), p, "contact", id, "delete"); err != nil {
		return err
	}
	c, err := u.records.FindContactByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	u.renderConfirm(w, r, p, "delete.title", "contact_delete", c, http.StatusOK, nil)
	return nil
}

func (u *UI) DeleteContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	if err := u.records.DeleteContact(r.Context(), p, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts?notice=deleted", http.StatusSeeOther)
	return nil
}

// The erasure of a contact for good (ENC-5): a confirmation page on which
// the user types the contact's name, then the erase itself, which needs a
// recent step-up (without one the browser goes to the step-up page and
// back to this confirmation).

// mayErase reports whether p holds every action erasing a contact takes.
func mayErase(p *crm.Principal) bool {
	for _, a := range policy.EraseActions("contact") {
		if !policy.Allowed(p, a) {
			return false
		}
	}
	return true
}

// erasable loads the contact for the erase pages: for holders of the
// erase permission who may delete it.
func (u *UI) erasable(r *http.Request, p *crm.Principal, id int64) (*crm.Contact, error) {
	if !mayErase(p) {
		return nil, crm.Errorf(crm.EFORBIDDEN, "you are not allowed to do this")
	}
	if err := u.records.CheckRecord(r.Context(), p, "contact", id, "delete"); err != nil {
		return nil, err
	}
	return u.records.FindContactByID(r.Context(), p, id)
}

func (u *UI) ConfirmEraseContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	c, err := u.erasable(r, p, id)
	if err != nil {
		return err
	}
	u.renderConfirm(w, r, p, "erase.title", "contact_erase", c, http.StatusOK, nil)
	return nil
}

func (u *UI) EraseContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	c, err := u.erasable(r, p, id)
	if err != nil {
		return err
	}
	if !strings.EqualFold(strings.Join(strings.Fields(r.PostFormValue("confirm")), " "), strings.Join(strings.Fields(displayName(c)), " ")) {
		u.renderConfirm(w, r, p, "erase.title", "contact_erase", c, http.StatusBadRequest, map[string]string{"confirm": "does not match the contact's name"})
		return nil
	}
	_, err = u.records.EraseClient(r.Context(), p, "contact", id)
	if crm.ErrorCode(err) == crm.ESTEPUPREQUIRED {
		// Back to this confirmation after the step-up: a POST is not
		// replayed, the user confirms again.
		http.Redirect(w, r, "/stepup?"+url.Values{"next": {"/contacts/" + strconv.FormatInt(id, 10) + "/erase"}}.Encode(), http.StatusSeeOther)
		return nil
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts?notice=erased", http.StatusSeeOther)
	return nil
}
