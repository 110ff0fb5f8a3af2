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

// deletePage is the data of the delete confirmation.
type deletePage struct {
	ID   int64
	Name string
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
	v := u.newView(r, p, "delete.title")
	v.Nav = "contacts"
	v.Page = deletePage{ID: c.ID, Name: displayName(c)}
	u.render(w, r, http.StatusOK, "contact_delete", v)
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

// erasePage is the data of the erase confirmation.
type erasePage struct {
	ID   int64
	Name string
}

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
	v := u.newView(r, p, "erase.title")
	v.Nav = "contacts"
	v.Page = erasePage{ID: c.ID, Name: displayName(c)}
	u.render(w, r, http.StatusOK, "contact_erase", v)
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
	name := displayName(c)
	if !strings.EqualFold(strings.Join(strings.Fields(r.PostFormValue("confirm")), " "), strings.Join(strings.Fields(name), " ")) {
		v := u.newView(r, p, "erase.title")
		v.Nav = "contacts"
		v.Page = erasePage{ID: c.ID, Name: name}
		v.Errors["confirm"] = "does not match the contact's name"
		u.render(w, r, http.StatusBadRequest, "contact_erase", v)
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
