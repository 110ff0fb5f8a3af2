package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// The second-factor pages (AUTH-2, AUTH-4, AUTH-5): the challenge after
// the password (/mfa), TOTP enrolment (/mfa/enrol, its QR image and the
// recovery codes shown once), the account's security page with its
// sessions, and the step-up page that sensitive actions send the user to.
//
// A half-authenticated session (the password is checked, the second factor
// is not) reaches only the pages registered with halfPage: every other
// page redirects it to /mfa or /mfa/enrol, before any handler runs. These
// pages show the sign-in layout (no navigation) to a half session. Pages
// that show a secret (the enrolment key, its QR code, recovery codes) are
// never cached, like every page.

// mfaPath is the page a half session is held on.
func mfaPath(p *crm.Principal) string {
	if p.Pending == crm.MFAEnrol || p.Pending == crm.MFAEnrolLink {
		return "/mfa/enrol"
	}
	return "/mfa"
}

// redirectToMFA sends a half session to its page, remembering where it
// wanted to go (GET only).
func redirectToMFA(w http.ResponseWriter, r *http.Request, p *crm.Principal) {
	target := mfaPath(p)
	next := ""
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		next = r.URL.RequestURI()
		if strings.HasPrefix(r.URL.Path, "/mfa") {
			next = nextParam(r) // between the MFA pages, keep the original target
		}
	}
	if localPath(next) {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// redirectToStepUp sends the user to re-authenticate and come back: to
// the page itself after a GET, to the form's "return" page after a POST
// (a POST cannot be replayed; the user submits it again).
func redirectToStepUp(w http.ResponseWriter, r *http.Request) {
	back := "/account/security"
	if r.Method == http.MethodGet {
		back = r.URL.RequestURI()
	} else if ret := r.PostFormValue("return"); localPath(ret) {
		back = ret
	}
	http.Redirect(w, r, "/stepup?next="+url.QueryEscape(back), http.StatusSeeOther)
}

// nextParam is the local "next" of a query or form, or "".
func nextParam(r *http.Request) string {
	next := r.FormValue("next")
	if !localPath(next) {
		return ""
	}
	return next
}

// authView prepares a page of the sign-in steps: half sessions get the
// sign-in layout without navigation.
func (s *Server) authView(r *http.Request, p *crm.Principal, titleKey string) *view {
	v := s.newView(r, p, titleKey)
	if p.Pending != crm.MFANone {
		v.User = nil
	}
	return v
}

// mfaPage is the data of the challenge and step-up pages.
type mfaPage struct {
	Next     string
	TOTP     bool // the user has TOTP: ask for a code
	Password bool // step-up only: the password alone confirms (no second factor held or required)
	StepUp   bool
}

func (s *Server) uiMFAForm(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	switch p.Pending {
	case crm.MFANone:
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return nil
	case crm.MFAEnrol, crm.MFAEnrolLink:
		redirectToMFA(w, r, p)
		return nil
	}
	v := s.authView(r, p, "mfa.title")
	v.Page = mfaPage{Next: next, TOTP: true}
	s.render(w, r, http.StatusOK, "mfa", v)
	return nil
}

func (s *Server) uiMFA(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	if p.Pending != crm.MFAVerify {
		http.Redirect(w, r, "/mfa", http.StatusSeeOther)
		return nil
	}
	in, err := s.identity.VerifyMFA(r.Context(), p, r.PostForm.Get("code"))
	if err != nil {
		return s.codeFailed(w, r, p, err, "mfa", "mfa.title", mfaPage{Next: next, TOTP: true})
	}
	setSessionCookie(w, in.Secret, in.Session)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

// codeFailed shows a code form again with the reason: a wrong code (the
// same words whether it was wrong, used, replayed or the account is
// locked), or the wait of a back-off. Other errors go to the renderer.
func (s *Server) codeFailed(w http.ResponseWriter, r *http.Request, p *crm.Principal, err error, page, titleKey string, data any) error {
	v := s.authView(r, p, titleKey)
	v.Page = data
	status := statusOf(crm.ErrorCode(err))
	switch crm.ErrorCode(err) {
	case crm.EINVALID:
		v.Alert = v.T("mfa.failed")
		status = http.StatusUnauthorized
	case crm.ERATELIMITED:
		v.Alert = v.T("login.rate_limited")
	case crm.ECONFLICT:
		v.Alert = v.T("mfa.enrol.expired")
	default:
		return err
	}
	s.render(w, r, status, page, v)
	return nil
}

// enrolPage is the data of the enrolment page.
type enrolPage struct {
	Next    string
	Pending bool   // an enrolment is begun: show the key and ask for a code
	Key     string // the secret in groups of four
	URL     string // the otpauth:// URL, for a link on mobile devices
}

func (s *Server) enrolView(r *http.Request, p *crm.Principal, next string) (*view, error) {
	v := s.authView(r, p, "enrol.title")
	v.Nav = "security"
	pg := enrolPage{Next: next}
	e, err := s.identity.PendingTOTP(r.Context(), p)
	switch {
	case err == nil:
		pg.Pending, pg.URL = true, e.URL
		for i, c := range e.Secret {
			if i > 0 && i%4 == 0 {
				pg.Key += " "
			}
			pg.Key += string(c)
		}
	case crm.ErrorCode(err) != crm.ENOTFOUND:
		return nil, err
	}
	v.Page = pg
	return v, nil
}

func (s *Server) uiEnrolForm(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if p.Pending == crm.MFAVerify {
		redirectToMFA(w, r, p)
		return nil
	}
	if p.Pending == crm.MFAEnrolLink {
		// The password alone does not enrol a factor for this account.
		s.render(w, r, http.StatusForbidden, "enrol_link_needed", s.authView(r, p, "enrol_link.needed_heading"))
		return nil
	}
	v, err := s.enrolView(r, p, nextParam(r))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "mfa_enrol", v)
	return nil
}

func (s *Server) uiEnrol(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	if p.Pending == crm.MFAVerify || p.Pending == crm.MFAEnrolLink {
		redirectToMFA(w, r, p)
		return nil
	}
	if r.PostForm.Get("action") == "begin" {
		if _, err := s.identity.BeginTOTP(r.Context(), p); err != nil {
			return err
		}
		target := "/mfa/enrol"
		if next != "" {
			target += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	codes, in, err := s.identity.ConfirmTOTP(r.Context(), p, r.PostForm.Get("code"))
	if err != nil {
		if c := crm.ErrorCode(err); c != crm.EINVALID && c != crm.ECONFLICT {
			return err
		}
		v, verr := s.enrolView(r, p, next)
		if verr != nil {
			return verr
		}
		v.Alert = v.T("mfa.failed")
		if crm.ErrorCode(err) == crm.ECONFLICT {
			v.Alert = v.T("mfa.enrol.expired")
		}
		s.render(w, r, http.StatusBadRequest, "mfa_enrol", v)
		return nil
	}
	setSessionCookie(w, in.Secret, in.Session)
	if next == "" {
		next = "/account/security"
	}
	s.renderCodes(w, r, p, in.Session.CSRFToken, codes, next, "enrol.done")
	return nil
}

// codesPage is the data of the recovery-codes page.
type codesPage struct {
	Codes []string
	Next  string
}

// renderCodes shows recovery codes, this once, with the CSRF token of the
// session the browser now holds. The page is the response
// to the POST that made them, so a reload cannot show them again.
func (s *Server) renderCodes(w http.ResponseWriter, r *http.Request, p *crm.Principal, csrf string, codes []string, next, notice string) {
	v := s.newView(r, p, "codes.title")
	v.Nav = "security"
	v.CSRF = csrf // the session may have just been replaced
	v.Notice = v.T(notice)
	v.Page = codesPage{Codes: codes, Next: safeNext(next)}
	s.render(w, r, http.StatusOK, "recovery_codes", v)
}

// uiEnrolQR serves the pending enrolment's QR code. It is an image of this
// origin, so the CSP (img-src 'self') needs no exception; it holds the
// secret, so it is never cached.
func (s *Server) uiEnrolQR(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	e, err := s.identity.PendingTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(e.QRCodePNG)
	return nil
}

// securityPage is the data of the account's security page.
type securityPage struct {
	Status   *crm.MFAStatus
	Sessions []sessionBody
	Others   int
}

// securityNotices are the confirmations of the security page.
var securityNotices = map[string]string{"totp_removed": "security.totp_removed", "session_revoked": "security.session_revoked",
	"others_revoked": "security.others_revoked", "stepped_up": "stepup.done", "email_sent": "security.email_sent"}

func (s *Server) uiSecurity(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	st, err := s.identity.MFAStatus(r.Context(), p)
	if err != nil {
		return err
	}
	list, err := s.identity.FindSessions(r.Context(), p)
	if err != nil {
		return err
	}
	pg := securityPage{Status: st}
	for _, x := range list {
		pg.Sessions = append(pg.Sessions, sessionBody{Session: x, Current: x.ID == p.SessionID})
		if x.ID != p.SessionID {
			pg.Others++
		}
	}
	v := s.newView(r, p, "security.title")
	v.Nav = "security"
	if key, ok := securityNotices[r.URL.Query().Get("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Page = pg
	s.render(w, r, http.StatusOK, "account_security", v)
	return nil
}

func (s *Server) uiRegenerateCodes(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	codes, err := s.identity.RegenerateRecoveryCodes(r.Context(), p)
	if err != nil {
		return err
	}
	s.renderCodes(w, r, p, sessionOf(r).CSRFToken, codes, "/account/security", "codes.regenerated")
	return nil
}

func (s *Server) uiRemoveTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := s.identity.RemoveTOTP(r.Context(), p); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=totp_removed", http.StatusSeeOther)
	return nil
}

func (s *Server) uiRevokeSession(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := s.identity.RevokeSession(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=session_revoked", http.StatusSeeOther)
	return nil
}

// uiRequestEmailChange mails a confirmation link to a new address and a
// notice to the old one (AUTH-8); it needs a recent step-up.
func (s *Server) uiRequestEmailChange(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := s.identity.RequestEmailChange(r.Context(), p, r.PostFormValue("email")); err != nil {
		if crm.ErrorCode(err) != crm.EINVALID {
			return err
		}
		v := s.newView(r, p, "security.title")
		v.Alert = v.T("security.email_invalid")
		st, serr := s.identity.MFAStatus(r.Context(), p)
		if serr != nil {
			return serr
		}
		v.Nav, v.Page = "security", &securityPage{Status: st}
		s.render(w, r, http.StatusBadRequest, "account_security", v)
		return nil
	}
	http.Redirect(w, r, "/account/security?notice=email_sent", http.StatusSeeOther)
	return nil
}

func (s *Server) uiRevokeOthers(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if _, err := s.identity.RevokeOtherSessions(r.Context(), p); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=others_revoked", http.StatusSeeOther)
	return nil
}

func (s *Server) stepUpPage(r *http.Request, p *crm.Principal, next string) (*view, error) {
	st, err := s.identity.MFAStatus(r.Context(), p)
	if err != nil {
		return nil, err
	}
	v := s.newView(r, p, "stepup.title")
	v.Page = mfaPage{Next: next, TOTP: st.TOTP, Password: st.PasswordStepUp, StepUp: true}
	return v, nil
}

func (s *Server) uiStepUpForm(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	v, err := s.stepUpPage(r, p, nextParam(r))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "stepup", v)
	return nil
}

func (s *Server) uiStepUp(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	in, err := s.identity.StepUp(r.Context(), p, r.PostForm.Get("code"))
	if err != nil {
		v, verr := s.stepUpPage(r, p, next)
		if verr != nil {
			return verr
		}
		return s.codeFailed(w, r, p, err, "stepup", "stepup.title", v.Page)
	}
	setSessionCookie(w, in.Secret, in.Session)
	if next == "" {
		next = "/account/security?notice=stepped_up"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
