package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The password-reset pages: the request form and the link's form.

func (u *UI) ResetRequestForm(w http.ResponseWriter, r *http.Request) {
	v := u.newView(r, nil, "reset.title")
	u.render(w, r, http.StatusOK, "reset_request", v)
}

// ResetRequest shows the same confirmation for every address.
func (u *UI) ResetRequest(w http.ResponseWriter, r *http.Request) {
	if !u.parseAnonForm(w, r) {
		return
	}
	v := u.newView(r, nil, "reset.title")
	err := u.identity.RequestPasswordReset(r.Context(), r.PostForm.Get("email"), httpx.ClientIP(r))
	if err != nil {
		u.render(w, r, u.recoveryFailure(r, v, err), "reset_request", v)
		return
	}
	v.Notice = v.T("reset.sent")
	u.render(w, r, http.StatusOK, "reset_request", v)
}

func (u *UI) ResetForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if err := u.identity.CheckResetToken(r.Context(), token); err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			u.renderBadLink(w, r, "reset", "reset.title")
			return
		}
		u.RenderError(w, r, nil, err)
		return
	}
	v := u.newView(r, nil, "reset.title")
	v.Page = tokenPage{Token: token, Valid: true}
	u.render(w, r, http.StatusOK, "reset", v)
}

func (u *UI) Reset(w http.ResponseWriter, r *http.Request) {
	if !u.parseAnonForm(w, r) {
		return
	}
	token := r.PathValue("token")
	password, confirm := r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	v := u.newView(r, nil, "reset.title")
	v.Page = tokenPage{Token: token, Valid: true}
	if password != confirm {
		v.Errors["password_confirm"] = "does not match the password"
		v.Alert = v.T("form.errors")
		u.render(w, r, http.StatusBadRequest, "reset", v)
		return
	}
	if err := u.identity.ResetPassword(r.Context(), token, password); err != nil {
		u.render(w, r, u.recoveryFailure(r, v, err), "reset", v)
		return
	}
	// The reset ended every session, this browser's included: sign in
	// again, with the second factor (ASVS v5.0.0-6.4.3).
	httpx.ClearSessionCookie(w)
	http.Redirect(w, r, "/login?notice=reset", http.StatusSeeOther)
}
