package web

import (
	"net/http"
	"net/url"

	"github.com/custos-crm/custos/internal/crm"
)

// Sign-in, sign-out and first-time setup pages. Login and setup have no
// session yet, so no CSRF token: they rely on CrossOriginProtection around
// the whole server and on SameSite cookies (ASVS v5.0.0-3.5.1, 3.3.2).

// maxAuthForm bounds the login and setup forms.
const maxAuthForm = 16 << 10

// loginPage is the data of the login page.
type loginPage struct {
	Next string
}

// setSessionCookie sets the session cookie: __Host- prefix, Secure, Path=/,
// no Domain (ASVS v5.0.0-3.3.3), HttpOnly (3.3.4), SameSite=Lax (3.3.2),
// expiring with the session's absolute timeout.
func setSessionCookie(w http.ResponseWriter, secret string, sess *crm.Session) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// clearSessionCookie tells the browser to drop the session cookie, with the
// same attributes it was set with.
func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// safeNext returns next if it is a local path, else the contacts list.
func safeNext(next string) string {
	if localPath(next) {
		return next
	}
	return "/contacts"
}

// loginNotices are the confirmations the login page can show, by the
// notice parameter; anything else shows nothing.
var loginNotices = map[string]string{"setup": "login.setup_done", "signed_out": "login.signed_out",
	"invited": "login.invited", "reset": "login.reset"}

func (s *Server) uiLoginForm(w http.ResponseWriter, r *http.Request) {
	pending, err := s.identity.SetupPending(r.Context())
	if err != nil {
		s.renderError(w, r, nil, err)
		return
	} else if pending {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	next := q.Get("next")
	if !localPath(next) {
		next = ""
	}
	// Already signed in: go on, without showing the form; a half session
	// to its second step.
	if p, _, _, err := s.cookieSession(r); err == nil && p != nil {
		if p.Pending != crm.MFANone {
			target := mfaPath(p)
			if next != "" {
				target += "?next=" + url.QueryEscape(next)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return
	}
	v := s.newView(r, nil, "login.title")
	if key, ok := loginNotices[q.Get("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Page = loginPage{Next: next}
	s.render(w, r, http.StatusOK, "login", v)
}

func (s *Server) uiLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, nil, crm.Errorf(crm.EINVALID, "malformed form"))
		return
	}
	email, password, next := r.PostForm.Get("email"), r.PostForm.Get("password"), r.PostForm.Get("next")
	if !localPath(next) {
		next = ""
	}
	_, sess, secret, err := s.identity.Login(r.Context(), email, password, clientIP(r), r.UserAgent())
	if err != nil {
		// One message for unknown accounts and wrong passwords alike
		// (ASVS v5.0.0-6.3.8); the password is never sent back.
		v := s.newView(r, nil, "login.title")
		v.Form.Set("email", email)
		v.Page = loginPage{Next: next}
		status := http.StatusUnauthorized
		switch crm.ErrorCode(err) {
		case crm.EUNAUTHENTICATED, crm.EINVALID, crm.EFORBIDDEN:
			v.Alert = v.T("login.failed")
		case crm.ERATELIMITED:
			status = http.StatusTooManyRequests
			v.Alert = v.T("login.rate_limited")
		default:
			s.logError(r, err)
			status = http.StatusInternalServerError
			v.Alert = v.T("error.500.body", requestID(r))
		}
		s.render(w, r, status, "login", v)
		return
	}
	s.startSession(w, r, secret, sess)
	if sess.MFAPending {
		// The password is right; the second factor (or its enrolment) is
		// due. /mfa sends a session without a factor on to /mfa/enrol.
		target := "/mfa"
		if next != "" {
			target += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// startSession sets the cookie of a session just signed in. A session id
// planted before must not survive the sign-in (attack 8, session fixation;
// ASVS v5.0.0-7.2.4): whatever session the request carried is ended. The
// new secret comes from the service, never from the request.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, secret string, sess *crm.Session) {
	if old, _, _, oerr := s.cookieSession(r); oerr == nil && old != nil {
		if err := s.identity.Logout(r.Context(), old); err != nil {
			s.logError(r, err)
		}
	}
	setSessionCookie(w, secret, sess)
}

func (s *Server) uiLogout(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	err := s.identity.Logout(r.Context(), p)
	clearSessionCookie(w)
	if err != nil && crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		return err
	}
	http.Redirect(w, r, "/login?notice=signed_out", http.StatusSeeOther)
	return nil
}

// setupPending answers whether setup may run; when it may not, it has
// already redirected or rendered the error.
func (s *Server) setupPending(w http.ResponseWriter, r *http.Request) bool {
	pending, err := s.identity.SetupPending(r.Context())
	if err != nil {
		s.renderError(w, r, nil, err)
		return false
	} else if !pending {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return false
	}
	return true
}

func (s *Server) uiSetupForm(w http.ResponseWriter, r *http.Request) {
	if !s.setupPending(w, r) {
		return
	}
	v := s.newView(r, nil, "setup.title")
	s.render(w, r, http.StatusOK, "setup", v)
}

func (s *Server) uiSetup(w http.ResponseWriter, r *http.Request) {
	if !s.setupPending(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, nil, crm.Errorf(crm.EINVALID, "malformed form"))
		return
	}
	f := r.PostForm
	code, name, email := f.Get("code"), f.Get("name"), f.Get("email")
	password, confirm := f.Get("password"), f.Get("password_confirm")

	v := s.newView(r, nil, "setup.title")
	// The code and passwords are secrets: they are never sent back.
	v.Form = url.Values{"name": {name}, "email": {email}}
	if password != confirm {
		v.Errors["password_confirm"] = "does not match the password"
		v.Alert = v.T("form.errors")
		s.render(w, r, http.StatusBadRequest, "setup", v)
		return
	}
	lang := v.Lang
	_, enrol, err := s.identity.CompleteSetup(r.Context(), code, crm.UserInput{Email: &email, Name: &name, Password: &password, Language: &lang})
	if err == nil {
		// The first administrator signs in through their enrolment link
		// and sets up the second factor their role requires.
		http.Redirect(w, r, "/enrol/"+enrol, http.StatusSeeOther)
		return
	}
	status := statusOf(crm.ErrorCode(err))
	switch crm.ErrorCode(err) {
	case crm.EINVALID:
		v.setFieldErrors(err)
	case crm.EFORBIDDEN:
		v.Errors["code"] = crm.ErrorMessage(err)
		v.Alert = v.T("setup.bad_code")
	case crm.ERATELIMITED:
		v.Alert = v.T("error.429.body")
	default:
		s.logError(r, err)
		status = http.StatusInternalServerError
		v.Alert = v.T("error.500.body", requestID(r))
	}
	s.render(w, r, status, "setup", v)
}
