package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// Pages of one-time links (AUTH-8): accepting an invitation, requesting and
// completing a password reset, confirming a new email address. They are
// anonymous, like the login page: no session, so no CSRF token, and
// CrossOriginProtection guards the posts. A GET only shows a form; the link
// is used by the POST, so that mail scanners that fetch links do not burn
// them (ASVS v5.0.0-3.5.3). The token is in the path: Referrer-Policy is
// no-referrer on every response, pages are no-store, and logPath redacts it
// from every log line.

// secretPaths are the path prefixes whose rest is a one-time secret.
var secretPaths = []string{"/invite/", "/reset/", "/account/email/confirm/", "/enrol/"}

// logPath is the path to log for r: the secret part of one-time-link pages
// replaced, everything else as is.
func logPath(r *http.Request) string {
	p := r.URL.Path
	for _, prefix := range secretPaths {
		if strings.HasPrefix(p, prefix) && len(p) > len(prefix) {
			return prefix + "[redacted]"
		}
	}
	return p
}

// tokenPage is the data of the one-time-link pages.
type tokenPage struct {
	Token string
	Email string
	Valid bool
}

// parseAnonForm reads an anonymous form within maxAuthForm.
func (s *Server) parseAnonForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, nil, crm.Errorf(crm.EINVALID, "malformed form"))
		return false
	}
	return true
}

// renderBadLink shows that a link cannot be used, with a way forward.
func (s *Server) renderBadLink(w http.ResponseWriter, r *http.Request, page, title string) {
	v := s.newView(r, nil, title)
	v.Alert = v.T("link.invalid")
	v.Page = tokenPage{}
	s.render(w, r, http.StatusNotFound, page, v)
}

// recoveryFailure fills v for a failed submission and returns the status.
func (s *Server) recoveryFailure(r *http.Request, v *view, err error) int {
	status := statusOf(crm.ErrorCode(err))
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
		s.logError(r, err)
		status = http.StatusInternalServerError
		v.Alert = v.T("error.500.body", requestID(r))
	}
	return status
}

func (s *Server) uiInviteForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	inv, err := s.identity.InvitationByToken(r.Context(), token)
	if err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			s.renderBadLink(w, r, "invite", "invite.title")
			return
		}
		s.renderError(w, r, nil, err)
		return
	}
	v := s.newView(r, nil, "invite.title")
	v.Form.Set("name", inv.Name)
	v.Page = tokenPage{Token: token, Email: inv.Email, Valid: true}
	s.render(w, r, http.StatusOK, "invite", v)
}

func (s *Server) uiAcceptInvite(w http.ResponseWriter, r *http.Request) {
	if !s.parseAnonForm(w, r) {
		return
	}
	token := r.PathValue("token")
	f := r.PostForm
	name, password, confirm := f.Get("name"), f.Get("password"), f.Get("password_confirm")
	v := s.newView(r, nil, "invite.title")
	v.Form = url.Values{"name": {name}} // passwords are never sent back
	inv, err := s.identity.InvitationByToken(r.Context(), token)
	if err != nil {
		s.render(w, r, s.recoveryFailure(r, v, err), "invite", v)
		return
	}
	v.Page = tokenPage{Token: token, Email: inv.Email, Valid: true}
	if password != confirm {
		v.Errors["password_confirm"] = "does not match the password"
		v.Alert = v.T("form.errors")
		s.render(w, r, http.StatusBadRequest, "invite", v)
		return
	}
	_, enrol, err := s.identity.AcceptInvitation(r.Context(), token, name, password, v.Lang)
	if err != nil {
		s.render(w, r, s.recoveryFailure(r, v, err), "invite", v)
		return
	}
	if enrol != "" {
		// The role requires a second factor: on to its enrolment link.
		http.Redirect(w, r, "/enrol/"+enrol, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login?notice=invited", http.StatusSeeOther)
}

// uiEnrolLinkForm shows the sign-in of an enrolment link: the link's user
// types the password, and the session may then enrol a second factor.
func (s *Server) uiEnrolLinkForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	u, err := s.identity.EnrolmentLinkUser(r.Context(), token)
	if err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			s.renderBadLink(w, r, "enrol_link", "enrol_link.title")
			return
		}
		s.renderError(w, r, nil, err)
		return
	}
	v := s.newView(r, nil, "enrol_link.title")
	v.Page = tokenPage{Token: token, Email: u.Email, Valid: true}
	s.render(w, r, http.StatusOK, "enrol_link", v)
}

// uiEnrolLink signs in through an enrolment link and goes on to enrolment.
func (s *Server) uiEnrolLink(w http.ResponseWriter, r *http.Request) {
	if !s.parseAnonForm(w, r) {
		return
	}
	token := r.PathValue("token")
	v := s.newView(r, nil, "enrol_link.title")
	u, err := s.identity.EnrolmentLinkUser(r.Context(), token)
	if err != nil {
		s.render(w, r, s.recoveryFailure(r, v, err), "enrol_link", v)
		return
	}
	v.Page = tokenPage{Token: token, Email: u.Email, Valid: true}
	_, sess, secret, err := s.identity.StartEnrolment(r.Context(), token, r.PostForm.Get("password"), clientIP(r), r.UserAgent())
	if err != nil {
		switch crm.ErrorCode(err) {
		case crm.EUNAUTHENTICATED:
			v.Alert = v.T("login.failed")
			s.render(w, r, http.StatusUnauthorized, "enrol_link", v)
		case crm.ERATELIMITED:
			v.Alert = v.T("login.rate_limited")
			s.render(w, r, http.StatusTooManyRequests, "enrol_link", v)
		default:
			s.render(w, r, s.recoveryFailure(r, v, err), "enrol_link", v)
		}
		return
	}
	s.startSession(w, r, secret, sess) // as at login: no planted session survives
	if sess.MFAPending {
		http.Redirect(w, r, "/mfa/enrol", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) uiResetRequestForm(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, nil, "reset.title")
	s.render(w, r, http.StatusOK, "reset_request", v)
}

// uiResetRequest shows the same confirmation for every address.
func (s *Server) uiResetRequest(w http.ResponseWriter, r *http.Request) {
	if !s.parseAnonForm(w, r) {
		return
	}
	v := s.newView(r, nil, "reset.title")
	err := s.identity.RequestPasswordReset(r.Context(), r.PostForm.Get("email"), clientIP(r))
	if err != nil {
		s.render(w, r, s.recoveryFailure(r, v, err), "reset_request", v)
		return
	}
	v.Notice = v.T("reset.sent")
	s.render(w, r, http.StatusOK, "reset_request", v)
}

func (s *Server) uiResetForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if err := s.identity.CheckResetToken(r.Context(), token); err != nil {
		if crm.ErrorCode(err) == crm.EINVALID {
			s.renderBadLink(w, r, "reset", "reset.title")
			return
		}
		s.renderError(w, r, nil, err)
		return
	}
	v := s.newView(r, nil, "reset.title")
	v.Page = tokenPage{Token: token, Valid: true}
	s.render(w, r, http.StatusOK, "reset", v)
}

func (s *Server) uiReset(w http.ResponseWriter, r *http.Request) {
	if !s.parseAnonForm(w, r) {
		return
	}
	token := r.PathValue("token")
	password, confirm := r.PostForm.Get("password"), r.PostForm.Get("password_confirm")
	v := s.newView(r, nil, "reset.title")
	v.Page = tokenPage{Token: token, Valid: true}
	if password != confirm {
		v.Errors["password_confirm"] = "does not match the password"
		v.Alert = v.T("form.errors")
		s.render(w, r, http.StatusBadRequest, "reset", v)
		return
	}
	if err := s.identity.ResetPassword(r.Context(), token, password); err != nil {
		s.render(w, r, s.recoveryFailure(r, v, err), "reset", v)
		return
	}
	// The reset ended every session, this browser's included: sign in
	// again, with the second factor (ASVS v5.0.0-6.4.3).
	clearSessionCookie(w)
	http.Redirect(w, r, "/login?notice=reset", http.StatusSeeOther)
}

func (s *Server) uiEmailConfirmForm(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, nil, "email_confirm.title")
	v.Page = tokenPage{Token: r.PathValue("token"), Valid: true}
	s.render(w, r, http.StatusOK, "email_confirm", v)
}

func (s *Server) uiEmailConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.parseAnonForm(w, r) {
		return
	}
	v := s.newView(r, nil, "email_confirm.title")
	u, err := s.identity.ConfirmEmailChange(r.Context(), r.PathValue("token"))
	if err != nil {
		v.Page = tokenPage{}
		status := s.recoveryFailure(r, v, err)
		if crm.ErrorCode(err) == crm.ECONFLICT {
			v.Alert = v.T("email_confirm.taken")
		}
		s.render(w, r, status, "email_confirm", v)
		return
	}
	v.Notice = v.T("email_confirm.done", u.Email)
	v.Page = tokenPage{}
	s.render(w, r, http.StatusOK, "email_confirm", v)
}
