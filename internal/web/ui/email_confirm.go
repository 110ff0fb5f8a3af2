package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
)

// The email-change confirmation page.

func (u *UI) EmailConfirmForm(w http.ResponseWriter, r *http.Request) {
	v := u.newView(r, nil, "email_confirm.title")
	v.Page = tokenPage{Token: r.PathValue("token"), Valid: true}
	u.render(w, r, http.StatusOK, "email_confirm", v)
}

func (u *UI) EmailConfirm(w http.ResponseWriter, r *http.Request) {
	if !u.parseAnonForm(w, r) {
		return
	}
	v := u.newView(r, nil, "email_confirm.title")
	usr, err := u.identity.ConfirmEmailChange(r.Context(), r.PathValue("token"))
	if err != nil {
		v.Page = tokenPage{}
		status := u.recoveryFailure(r, v, err)
		if crm.ErrorCode(err) == crm.ECONFLICT {
			v.Alert = v.T("email_confirm.taken")
		}
		u.render(w, r, status, "email_confirm", v)
		return
	}
	v.Notice = v.T("email_confirm.done", usr.Email)
	v.Page = tokenPage{}
	u.render(w, r, http.StatusOK, "email_confirm", v)
}
