package ui

import (
	"net/http"
	"net/url"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The sign-in page, sign-out, and what they share with the setup page
// (setup.go). Login and setup have no
// session yet, so no CSRF token: they rely on CrossOriginProtection around
// the whole server and on SameSite cookies (ASVS v5.0.0-3.5.1, 3.3.2).

// maxAuthForm bounds the login and setup forms.
const maxAuthForm = 16 << 10

// loginPage is the data of the login page.
type loginPage struct {
	Next string
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

func (u *UI) LoginForm(w http.ResponseWriter, r *http.Request) {
	pending, err := u.identity.SetupPending(r.Context())
	if err != nil {
		u.RenderError(w, r, nil, err)
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
	if p, _, _, err := u.cookieSession(r); err == nil && p != nil {
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
	v := u.newView(r, nil, "login.title")
	if key, ok := loginNotices[q.Get("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Page = loginPage{Next: next}
	u.render(w, r, http.StatusOK, "login", v)
}

func (u *UI) Login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		u.RenderError(w, r, nil, crm.Errorf(crm.EINVALID, "malformed form"))
		return
	}
	email, password, next := r.PostForm.Get("email"), r.PostForm.Get("password"), r.PostForm.Get("next")
	if !localPath(next) {
		next = ""
	}
	_, sess, secret, err := u.identity.Login(r.Context(), email, password, httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		// One message for unknown accounts and wrong passwords alike
		// (ASVS v5.0.0-6.3.8); the password is never sent back.
		v := u.newView(r, nil, "login.title")
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
			httpx.LogError(u.log, r, err)
			status = http.StatusInternalServerError
			v.Alert = v.T("error.500.body", httpx.RequestID(r))
		}
		u.render(w, r, status, "login", v)
		return
	}
	u.startSession(w, r, secret, sess)
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
func (u *UI) startSession(w http.ResponseWriter, r *http.Request, secret string, sess *crm.Session) {
	if old, _, _, oerr := u.cookieSession(r); oerr == nil && old != nil {
		if err := u.identity.Logout(r.Context(), old); err != nil {
			httpx.LogError(u.log, r, err)
		}
	}
	httpx.SetSessionCookie(w, secret, sess)
}

func (u *UI) Logout(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	err := u.identity.Logout(r.Context(), p)
	httpx.ClearSessionCookie(w)
	if err != nil && crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		return err
	}
	http.Redirect(w, r, "/login?notice=signed_out", http.StatusSeeOther)
	return nil
}
