package ui

import (
	"bytes"
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
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The pages' data and their rendering: the view every template gets, the
// templates, and the one error page (its status from httpx.StatusOf, error.go).

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
	// levels are the caller's levels of the fields it may not edit, per
	// entity (ACL-3), for the pages to show them masked, hidden or
	// read-only.
	levels map[string]map[string]crm.FieldLevel
}

// newView prepares the data common to all pages. The language is the
// user's setting, else the browser's Accept-Language.
func (u *UI) newView(r *http.Request, p *crm.Principal, titleKey string) *view {
	userLang := ""
	if p != nil {
		userLang = p.Language
	}
	v := &view{Lang: i18n.Negotiate(userLang, r.Header.Get("Accept-Language")), User: p,
		Form: url.Values{}, Errors: map[string]string{}, RequestID: httpx.RequestID(r)}
	if sess := httpx.SessionOf(r); sess != nil {
		v.CSRF = sess.CSRFToken
	}
	if p != nil && p.Pending == crm.MFANone && p.UserID != 0 {
		v.levels = u.records.FieldLevels(p)
	}
	v.Title = v.T(titleKey)
	return v
}

// Level is the caller's level of a field of entity: "hidden", "masked",
// "read" or "edit" (ACL-3).
func (v *view) Level(entity, field string) string {
	if l, ok := v.levels[entity][field]; ok {
		return string(l)
	}
	return string(crm.FieldEdit)
}

// Editable reports whether the caller may change a field of entity.
func (v *view) Editable(entity, field string) bool {
	return v.Level(entity, field) == string(crm.FieldEdit)
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

// RoleLabel is the signed-in user's role, translated; a custom role's
// label (or name).
func (v *view) RoleLabel() string {
	if v.User == nil {
		return ""
	}
	if !v.User.Role.Valid() {
		if d := v.User.Def; d != nil && d.Label != "" {
			return d.Label
		}
		return string(v.User.Role)
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
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	var buf bytes.Buffer
	t := uiPages[name]
	if t == nil {
		httpx.LogError(u.log, r, fmt.Errorf("ui: no template %q", name))
		http.Error(w, "internal error; request id "+httpx.RequestID(r), http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		httpx.LogError(u.log, r, fmt.Errorf("ui: render %s: %w", name, err))
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "internal error; request id "+httpx.RequestID(r), http.StatusInternalServerError)
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

// RenderError is the UI's one error renderer. Messages of *crm.Error are
// safe to show; anything else is logged and shown as a generic failure
// with the request id (ASVS v5.0.0-16.5.1).
func (u *UI) RenderError(w http.ResponseWriter, r *http.Request, p *crm.Principal, err error) {
	httpx.LogError(u.log, r, err)
	code := crm.ErrorCode(err)
	switch code {
	case crm.EUNAUTHENTICATED:
		httpx.ClearSessionCookie(w)
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
	// The status is the API's (httpx.StatusOf, error.go): one mapping for both.
	status := httpx.StatusOf(code)
	if status == http.StatusUnauthorized || status == http.StatusMethodNotAllowed {
		status = http.StatusInternalServerError // handled above, or never a page's
	}
	v := u.newView(r, p, "")
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
		body = v.T("error.500.body", httpx.RequestID(r))
	default:
		body = v.T(key + ".body")
	}
	v.Title = v.T(key + ".title")
	v.Page = errorPage{Status: status, Body: body}
	u.render(w, r, status, "error", v)
}
