package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// What the pages of one-time links share (AUTH-8): accepting an invitation
// (invite.go), requesting and completing a password reset (reset.go),
// confirming a new email address (email_confirm.go), signing in with an
// enrolment link (enrol_link.go). They are
// anonymous, like the login page: no session, so no CSRF token, and
// CrossOriginProtection guards the posts. A GET only shows a form; the link
// is used by the POST, so that mail scanners that fetch links do not burn
// them (ASVS v5.0.0-3.5.3). The token is in the path: Referrer-Policy is
// no-referrer on every response, pages are no-store, and httpx.LogPath
// redacts it from every log line.

// tokenPage is the data of the one-time-link pages.
type tokenPage struct {
	Token string
	Email string
	Valid bool
}

// parseAnonForm reads an anonymous form within maxAuthForm.
func (u *UI) parseAnonForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		u.RenderError(w, r, nil, crm.Errorf(crm.EINVALID, "malformed form"))
		return false
	}
	return true
}

// renderBadLink shows that a link cannot be used, with a way forward.
func (u *UI) renderBadLink(w http.ResponseWriter, r *http.Request, page, title string) {
	v := u.newView(r, nil, title)
	v.Alert = v.T("link.invalid")
	v.Page = tokenPage{}
	u.render(w, r, http.StatusNotFound, page, v)
}

// recoveryFailure fills v for a failed submission and returns the status.
func (u *UI) recoveryFailure(r *http.Request, v *view, err error) int {
	status := httpx.StatusOf(crm.ErrorCode(err))
	switch crm.ErrorCode(err) {
	case crm.EINVALID, crm.ECONFLICT:
		if _, bad := crm.ErrorFields(err)["token"]; bad {
			v.Alert = v.T("link.invalid")
			v.Page = tokenPage{}
			return http.StatusNotFound
		}
		v.setFieldErrors(err)
	case crm.ERATELIMITED:
		v.Alert = v.T("error.429.body")
	default:
		httpx.LogError(u.log, r, err)
		status = http.StatusInternalServerError
		v.Alert = v.T("error.500.body", httpx.RequestID(r))
	}
	return status
}
