// Package ui is the browser UI (CORE-6): server-rendered pages, one file
// per screen (contacts, sign-in, second factors and the security page,
// passkeys, one-time links), the page wrappers (session cookie, CSRF, the
// half-session rule), the templates, the static assets and the one error
// page. It must not mount routes (the web package's routes.go mounts every
// route), answer JSON, or reach a store: it calls the two services alone.
package ui

import (
	"crypto/subtle"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The browser UI (CORE-6) is server-rendered with html/template, whose
// contextual escaping is the XSS defence (ASVS v5.0.0-1.2.1, SHD-5): no
// handler builds HTML by hand and no user data is ever wrapped in
// template.HTML, template.URL or similar. Pages carry no inline script or
// style, so the strict CSP set in base holds (ASVS v5.0.0-3.4.3); app.js
// only adds progressive enhancement.
//
// UI pages authenticate by the session cookie only, never by a bearer
// token, and every POST form carries the session's CSRF token, checked in
// constant time on top of CrossOriginProtection (ASVS v5.0.0-3.5.1).

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxFormBody bounds a UI form post (SHD-4): a contact's notes are at most
// 10,000 characters, which URL-encode to well under this.
const maxFormBody = 256 << 10

// UI holds the services the pages call.
type UI struct {
	records  httpx.Records
	identity httpx.Identity
	log      *slog.Logger
}

// New returns the UI over the two services.
func New(records httpx.Records, identity httpx.Identity, log *slog.Logger) *UI {
	if log == nil {
		log = slog.Default()
	}
	return &UI{records: records, identity: identity, log: log}
}

// errCSRF is returned when a form's CSRF token is missing or wrong.
var errCSRF = &crm.Error{Code: crm.EFORBIDDEN, Message: "the form's security token is missing or wrong"}

// Page wraps a handler that needs a signed-in user: without a valid
// session cookie it redirects to the login page (ASVS v5.0.0-8.2.1); for
// POST it limits and parses the form and checks the CSRF token before the
// handler, and so the service, runs.
func (u *UI) Page(h httpx.Handler) http.Handler { return u.pageFor(h, false) }

// HalfPage wraps the pages a half-authenticated session may see: the MFA
// challenge, TOTP enrolment and logout (mfa.go). Page redirects such a
// session to them from everywhere else, before any handler runs.
func (u *UI) HalfPage(h httpx.Handler) http.Handler { return u.pageFor(h, true) }

func (u *UI) pageFor(h httpx.Handler, half bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, sess, hadCookie, err := u.cookieSession(r)
		if err != nil {
			u.RenderError(w, r, nil, err)
			return
		}
		if p == nil {
			if hadCookie {
				httpx.ClearSessionCookie(w)
			}
			redirectToLogin(w, r)
			return
		}
		if p.Pending != crm.MFANone && !half {
			redirectToMFA(w, r, p)
			return
		}
		r = httpx.WithPrincipal(r, p, sess)
		if r.Method == http.MethodPost {
			if err := parseForm(w, r); err != nil {
				u.RenderError(w, r, p, err)
				return
			}
			if !validCSRF(sess.CSRFToken, r.PostForm.Get("csrf")) {
				u.RenderError(w, r, p, errCSRF)
				return
			}
		}
		if err := h(w, r, p); err != nil {
			u.RenderError(w, r, p, err)
		}
	})
}

// cookieSession resolves the session cookie, and only the cookie: a bearer
// token in an Authorization header never opens a UI page. An expired or
// revoked session is no session (p nil), with hadCookie set so the caller
// can clear it.
func (u *UI) cookieSession(r *http.Request) (p *crm.Principal, sess *crm.Session, hadCookie bool, err error) {
	c, cerr := r.Cookie(httpx.SessionCookie)
	if cerr != nil || c.Value == "" {
		return nil, nil, false, nil
	}
	p, sess, err = u.identity.Authenticate(r.Context(), c.Value)
	if crm.ErrorCode(err) == crm.EUNAUTHENTICATED {
		return nil, nil, true, nil
	} else if err != nil {
		return nil, nil, true, err
	}
	if p == nil || sess == nil || p.Kind != crm.KindSession {
		return nil, nil, true, nil
	}
	httpx.Stamp(p, r)
	return p, sess, true, nil
}

// validCSRF compares a submitted token with the session's in constant
// time. An empty session token never matches.
func validCSRF(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// parseForm reads a urlencoded form body within maxFormBody.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return crm.Errorf(crm.ETOOLARGE, "the form is larger than %d bytes", maxFormBody)
		}
		return crm.Errorf(crm.EINVALID, "malformed form")
	}
	return nil
}

// redirectToLogin sends an anonymous browser to the login page, remembering
// where it wanted to go (for GET only: a POST cannot be replayed).
func redirectToLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath reports whether next is a path on this site, so that redirects
// after login cannot be turned into an open redirect (ASVS v5.0.0-1.3.6
// class): it must start with one "/", contain no backslash (browsers read
// "/\evil" as "//evil") and no control characters (browsers drop tabs and
// newlines, turning "/\t/evil" into "//evil").
func localPath(next string) bool {
	if len(next) > 2000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return false
	}
	for _, r := range next {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}
