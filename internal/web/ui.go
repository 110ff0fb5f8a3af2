package web

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/i18n"
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

// uiHandler is a page handler for a signed-in user. It returns an error
// for the central renderer, or nil after writing a response.
type uiHandler func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error

// errCSRF is returned when a form's CSRF token is missing or wrong.
var errCSRF = &crm.Error{Code: crm.EFORBIDDEN, Message: "the form's security token is missing or wrong"}

// page wraps a handler that needs a signed-in user: without a valid
// session cookie it redirects to the login page (ASVS v5.0.0-8.2.1); for
// POST it limits and parses the form and checks the CSRF token before the
// handler, and so the service, runs.
func (s *Server) page(h uiHandler) http.Handler { return s.pageFor(h, false) }

// halfPage wraps the pages a half-authenticated session may see: the MFA
// challenge, TOTP enrolment and logout (ui_mfa.go). page redirects such a
// session to them from everywhere else, before any handler runs.
func (s *Server) halfPage(h uiHandler) http.Handler { return s.pageFor(h, true) }

func (s *Server) pageFor(h uiHandler, half bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, sess, hadCookie, err := s.cookieSession(r)
		if err != nil {
			s.renderError(w, r, nil, err)
			return
		}
		if p == nil {
			if hadCookie {
				clearSessionCookie(w)
			}
			redirectToLogin(w, r)
			return
		}
		if p.Pending != crm.MFANone && !half {
			redirectToMFA(w, r, p)
			return
		}
		r = withPrincipal(r, p, sess)
		if r.Method == http.MethodPost {
			if err := parseForm(w, r); err != nil {
				s.renderError(w, r, p, err)
				return
			}
			if !validCSRF(sess.CSRFToken, r.PostForm.Get("csrf")) {
				s.renderError(w, r, p, errCSRF)
				return
			}
		}
		if err := h(w, r, p); err != nil {
			s.renderError(w, r, p, err)
		}
	})
}

// cookieSession resolves the session cookie, and only the cookie: a bearer
// token in an Authorization header never opens a UI page. An expired or
// revoked session is no session (p nil), with hadCookie set so the caller
// can clear it.
func (s *Server) cookieSession(r *http.Request) (p *crm.Principal, sess *crm.Session, hadCookie bool, err error) {
	c, cerr := r.Cookie(SessionCookie)
	if cerr != nil || c.Value == "" {
		return nil, nil, false, nil
	}
	p, sess, err = s.identity.Authenticate(r.Context(), c.Value)
	if crm.ErrorCode(err) == crm.EUNAUTHENTICATED {
		return nil, nil, true, nil
	} else if err != nil {
		return nil, nil, true, err
	}
	if p == nil || sess == nil || p.Kind != crm.KindSession {
		return nil, nil, true, nil
	}
	p.IP, p.UserAgent, p.RequestID = clientIP(r), r.UserAgent(), requestID(r)
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

// view is the data of every page.
type view struct {
	Lang      string
	Title     string // translated
	User      *crm.Principal
	CSRF      string
	Nav       string // the active navigation item
	Notice    string // a translated confirmation
	Alert     string // a translated or service-safe error above the page
	Form      url.Values
	Errors    map[string]string // field → reason, from crm.ErrorFields
	RequestID string
	Page      any
}

// newView prepares the data common to all pages. The language is the
// user's setting, else the browser's Accept-Language.
func (s *Server) newView(r *http.Request, p *crm.Principal, titleKey string) *view {
	userLang := ""
	if p != nil {
		userLang = p.Language
	}
	v := &view{Lang: i18n.Negotiate(userLang, r.Header.Get("Accept-Language")), User: p,
		Form: url.Values{}, Errors: map[string]string{}, RequestID: requestID(r)}
	if sess := sessionOf(r); sess != nil {
		v.CSRF = sess.CSRFToken
	}
	v.Title = v.T(titleKey)
	return v
}

// T translates a message key into the page's language.
func (v *view) T(key string, args ...any) string { return i18n.Lookup(v.Lang, key, args...) }

// Err is the translated validation reason for a field, or "".
func (v *view) Err(field string) string {
	reason := v.Errors[field]
	if reason == "" {
		return ""
	}
	return i18n.Reason(v.Lang, reason)
}

// Other lists, translated and sorted, the field failures of fields not in
// shown, so that no reason is lost when a form has no input for it.
func (v *view) Other(shown ...string) []string {
	var out []string
	for k := range v.Errors {
		if !slices.Contains(shown, k) {
			out = append(out, k+": "+v.Err(k))
		}
	}
	slices.Sort(out)
	return out
}

// Val is the submitted (or stored) value of a form field.
func (v *view) Val(field string) string { return v.Form.Get(field) }

// Is reports whether a form field holds value (for options and radios).
func (v *view) Is(field, value string) bool { return v.Form.Get(field) == value }

// RoleLabel is the signed-in user's role, translated.
func (v *view) RoleLabel() string {
	if v.User == nil {
		return ""
	}
	return v.T("role." + string(v.User.Role))
}

// Date formats a time for people; app.js turns it into local time.
func (v *view) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if v.Lang == "ru" {
		return t.UTC().Format("02.01.2006, 15:04 UTC")
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// setFieldErrors copies the field failures of err into the view, and a
// general message when there are none.
func (v *view) setFieldErrors(err error) {
	fields := crm.ErrorFields(err)
	for k, reason := range fields {
		v.Errors[k] = reason
	}
	if len(fields) > 0 {
		v.Alert = v.T("form.errors")
	} else {
		v.Alert = crm.ErrorMessage(err)
	}
}

var uiFuncs = template.FuncMap{
	"static":   staticURL,
	"initials": initials,
	"avatar":   func(id int64) string { return fmt.Sprintf("av-%d", id%8) },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, errors.New("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, errors.New("dict: keys must be strings")
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}

// initials are up to two letters of a name, for avatars.
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// uiPages are the page templates, parsed once at start; a broken template
// fails every test of this package.
var uiPages = parsePages()

// parsePages parses each templates/NAME.html together with the shared
// templates (names starting with "_") into its own set, keyed by NAME.
func parsePages() map[string]*template.Template {
	shared := template.Must(template.New("_").Funcs(uiFuncs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") {
			continue
		}
		t := template.Must(template.Must(shared.Clone()).ParseFS(templateFS, n))
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages
}

// render writes a page. It renders into a buffer first so that a template
// failure becomes a clean 500, never half a page. Pages are not cached
// anywhere: they show client data (ASVS v5.0.0-14.3.2).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	t := uiPages[name]
	if t == nil {
		s.logError(r, fmt.Errorf("ui: no template %q", name))
		http.Error(w, "internal error; request id "+requestID(r), http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logError(r, fmt.Errorf("ui: render %s: %w", name, err))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "internal error; request id "+requestID(r), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Status int
	Body   string
}

// renderError is the UI's one error renderer. Messages of *crm.Error are
// safe to show; anything else is logged and shown as a generic failure
// with the request id (ASVS v5.0.0-16.5.1).
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p *crm.Principal, err error) {
	s.logError(r, err)
	code := crm.ErrorCode(err)
	switch code {
	case crm.EUNAUTHENTICATED:
		clearSessionCookie(w)
		redirectToLogin(w, r)
		return
	case crm.EMFAREQUIRED:
		if p == nil {
			p = &crm.Principal{Pending: crm.MFAVerify}
		}
		redirectToMFA(w, r, p)
		return
	case crm.ESTEPUPREQUIRED:
		redirectToStepUp(w, r)
		return
	}
	// The status is the API's (statusOf, error.go): one mapping for both.
	status := statusOf(code)
	if status == http.StatusUnauthorized || status == http.StatusMethodNotAllowed {
		status = http.StatusInternalServerError // handled above, or never a page's
	}
	v := s.newView(r, p, "")
	if p != nil && p.Pending != crm.MFANone {
		v.User = nil // a half session sees the sign-in layout, without navigation
	}
	key, body := "error."+strconv.Itoa(status), crm.ErrorMessage(err)
	switch {
	case err == errCSRF:
		body = v.T("error.csrf")
	case status == http.StatusBadRequest:
		v.Errors = crm.ErrorFields(err)
	case status == http.StatusConflict || status == http.StatusPreconditionFailed:
		// the service's message says what conflicts
	case status == http.StatusInternalServerError:
		body = v.T("error.500.body", requestID(r))
	default:
		body = v.T(key + ".body")
	}
	v.Title = v.T(key + ".title")
	v.Page = errorPage{Status: status, Body: body}
	s.render(w, r, status, "error", v)
}

// staticFile is one embedded asset with its precomputed headers.
type staticFile struct {
	body    []byte
	ctype   string
	etag    string
	version string
}

// staticFiles are the assets under static/, loaded once.
var staticFiles = loadStatic()

func loadStatic() map[string]staticFile {
	types := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}
	out := map[string]staticFile{}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := types[path.Ext(e.Name())]
		if !ok {
			panic("ui: no content type for static/" + e.Name())
		}
		sum := sha256.Sum256(b)
		v := hex.EncodeToString(sum[:6])
		out[e.Name()] = staticFile{body: b, ctype: ct, etag: `"` + v + `"`, version: v}
	}
	return out
}

// staticURL is the URL of an asset with its content hash, so that the
// year-long cache never serves a stale file after an upgrade.
func staticURL(name string) (string, error) {
	f, ok := staticFiles[name]
	if !ok {
		return "", fmt.Errorf("ui: no static file %q", name)
	}
	return "/static/" + name + "?v=" + f.version, nil
}

// serveStatic serves an embedded asset with an explicit content type
// (nosniff is on) and long-lived caching.
func serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := staticFiles[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
