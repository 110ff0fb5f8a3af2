package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The enrolment-link page: a user whose second factors were reset signs
// in once with the link and enrols again.

// EnrolLinkForm shows the sign-in of an enrolment link: the link's user
// types the password, and the session may then enrol a second factor.
func (u *UI) EnrolLinkForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	usr, err := u.identity.EnrolmentLinkUser(r.Context(), token)
	if err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			u.renderBadLink(w, r, "enrol_link", "enrol_link.title")
			return
		}
		u.RenderError(w, r, nil, err)
		return
	}
	v := u.newView(r, nil, "enrol_link.title")
	v.Page = tokenPage{Token: token, Email: usr.Email, Valid: true}
	u.render(w, r, http.StatusOK, "enrol_link", v)
}

// EnrolLink signs in through an enrolment link and goes on to enrolment.
func (u *UI) EnrolLink(w http.ResponseWriter, r *http.Request) {
	if !u.parseAnonForm(w, r) {
		return
	}
	token := r.PathValue("token")
	v := u.newView(r, nil, "enrol_link.title")
	usr, err := u.identity.EnrolmentLinkUser(r.Context(), token)
	if err != nil {
		u.render(w, r, u.recoveryFailure(r, v, err), "enrol_link", v)
		return
	}
	v.Page = tokenPage{Token: token, Email: usr.Email, Valid: true}
	_, sess, secret, err := u.identity.StartEnrolment(r.Context(), token, r.PostForm.Get("password"), httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		switch crm.ErrorCode(err) {
		case crm.EUNAUTHENTICATED:
			v.Alert = v.T("login.failed")
			u.render(w, r, http.StatusUnauthorized, "enrol_link", v)
		case crm.ERATELIMITED:
			v.Alert = v.T("login.rate_limited")
			u.render(w, r, http.StatusTooManyRequests, "enrol_link", v)
		default:
			u.render(w, r, u.recoveryFailure(r, v, err), "enrol_link", v)
		}
		return
	}
	u.startSession(w, r, secret, sess) // as at login: no planted session survives
	if sess.MFAPending {
		http.Redirect(w, r, "/mfa/enrol", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
