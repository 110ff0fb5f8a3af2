package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The passkeys page (AUTH-3): the list of the user's passkeys with their
// names, creation and last use and a flag for a counter regression, and
// forms to rename and remove them. Adding one runs in the browser
// (static/passkey.js, through the API); removing one needs a step-up,
// which the central renderer sends the user to.

// passkeysPage is the data of the passkeys page.
type passkeysPage struct {
	Passkeys []*crm.Passkey
}

// passkeyNotices are the confirmations of the passkeys page.
var passkeyNotices = map[string]string{"added": "passkeys.added", "renamed": "passkeys.renamed", "removed": "passkeys.removed"}

func (u *UI) Passkeys(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := u.identity.Passkeys(r.Context(), p)
	if err != nil {
		return err
	}
	v := u.newView(r, p, "passkeys.title")
	v.Nav = "security"
	if key, ok := passkeyNotices[r.URL.Query().Get("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Page = passkeysPage{Passkeys: list}
	u.render(w, r, http.StatusOK, "account_passkeys", v)
	return nil
}

func (u *UI) RenamePasskey(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "passkey")
	if err != nil {
		return err
	}
	if _, err := u.identity.RenamePasskey(r.Context(), p, id, r.PostForm.Get("name")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/passkeys?notice=renamed", http.StatusSeeOther)
	return nil
}

func (u *UI) RemovePasskey(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "passkey")
	if err != nil {
		return err
	}
	if err := u.identity.DeletePasskey(r.Context(), p, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/passkeys?notice=removed", http.StatusSeeOther)
	return nil
}
