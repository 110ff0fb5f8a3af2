package ui

import (
	"net/http"
	"net/url"

	"github.com/custos-crm/custos/internal/crm"
)

// The invitation page: an invited user chooses a password (AUTH-8).

func (u *UI) InviteForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	inv, err := u.identity.InvitationByToken(r.Context(), token)
	if err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			u.renderBadLink(w, r, "invite", "invite.title")
			return
		}
		u.RenderError(w, r, nil, err)
		return
	}
	v := u.newView(r, nil, "invite.title")
	v.Form.Set("name", inv.Name)
	v.Page = tokenPage{Token: token, Email: inv.Email, Valid: true}
	u.render(w, r, http.StatusOK, "invite", v)
}

func (u *UI) AcceptInvite(w http.ResponseWriter, r *http.Request) {
	if !u.parseAnonForm(w, r) {
		return
	}
	token := r.PathValue("token")
	f := r.PostForm
	name, password, confirm := f.Get("name"), f.Get("password"), f.Get("password_confirm")
	v := u.newView(r, nil, "invite.title")
	v.Form = url.Values{"name": {name}} // passwords are never sent back
	inv, err := u.identity.InvitationByToken(r.Context(), token)
	if err != nil {
		u.render(w, r, u.recoveryFailure(r, v, err), "invite", v)
		return
	}
	v.Page = tokenPage{Token: token, Email: inv.Email, Valid: true}
	if password != confirm {
		v.Errors["password_confirm"] = "does not match the password"
		v.Alert = v.T("form.errors")
		u.render(w, r, http.StatusBadRequest, "invite", v)
		return
	}
	_, enrol, err := u.identity.AcceptInvitation(r.Context(), token, name, password, v.Lang)
	if err != nil {
		u.render(w, r, u.recoveryFailure(r, v, err), "invite", v)
		return
	}
	if enrol != "" {
		// The role requires a second factor: on to its enrolment link.
		http.Redirect(w, r, "/enrol/"+enrol, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?notice=invited", http.StatusSeeOther)
}
