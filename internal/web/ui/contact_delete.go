package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
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
