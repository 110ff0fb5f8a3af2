package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/web"
)

// mfaSite is the real router over the real service and an embedded store,
// with a settable clock, for the tests of AUTH-2…AUTH-6 through HTTP.
type mfaSite struct {
	web   *web.Server
	srv   *httptest.Server
	svc   *service.Service  // the client records
	idn   *identity.Service // users, sessions, second factors
	store crm.Store
	users map[string]*crm.User

	mu  sync.Mutex
	now time.Time
}

func (s *mfaSite) clock() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }

func (s *mfaSite) advance(d time.Duration) { s.mu.Lock(); s.now = s.now.Add(d); s.mu.Unlock() }

const sitePassword = "correct horse battery staple"

func newMFASite(t *testing.T, th auth.Throttle) *mfaSite {
	t.Helper()
	return newMFASiteWith(t, th, nil)
}

// newMFASiteWith is newMFASite with the record service's options changed
// by opts.
func newMFASiteWith(t *testing.T, th auth.Throttle, opts func(*service.Options)) *mfaSite {
	t.Helper()
	return newSiteOn(t, testkit.SQLite(t), th, opts, nil)
}

// newSiteOn is newMFASiteWith over the store db (SQLite or PostgreSQL),
// with the identity service's options changed by idOpts.
func newSiteOn(t *testing.T, db crm.Store, th auth.Throttle, opts func(*service.Options), idOpts func(*identity.Options)) *mfaSite {
	t.Helper()
	ctx := context.Background()
	s := &mfaSite{store: db, users: map[string]*crm.User{}, now: time.Now().UTC().Truncate(30 * time.Second).Add(5 * time.Second)}
	o := service.Options{Logger: slog.New(slog.DiscardHandler), Now: s.clock}
	if opts != nil {
		opts(&o)
	}
	s.svc = service.New(db, o)
	io := identity.Options{Logger: slog.New(slog.DiscardHandler), Clock: s.clock, Throttle: th, Hasher: testkit.Hasher()}
	if idOpts != nil {
		idOpts(&io)
	}
	s.idn = identity.New(db, io)
	for name, role := range map[string]crm.Role{"admin": crm.RoleAdmin, "alice": crm.RoleSales, "bob": crm.RoleSales, "sam": crm.RoleSupport} {
		email, pw := name+"@example.com", sitePassword
		u, err := s.idn.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		s.users[name] = u
	}
	s.web = web.New(s.svc, s.idn, web.Options{Logger: slog.New(slog.DiscardHandler)})
	s.srv = httptest.NewServer(s.web)
	t.Cleanup(s.srv.Close)
	return s
}

// reply is a response, read.
type reply struct {
	status int
	header http.Header
	body   string
}

// cookie returns the session cookie a reply sets, or "".
func (r reply) cookie() string {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == web.SessionCookie && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}

// errCode is the code of a JSON error body.
func (r reply) errCode() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal([]byte(r.body), &b)
	return b.Error.Code
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token in a page.
func (r reply) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page: %.300s", r.body)
	}
	return m[1]
}

// send makes one request without following redirects. form (a url.Values)
// or json (a string) is the body; cookie the session secret; hdr extra
// headers.
func (s *mfaSite) send(t *testing.T, method, path, cookie string, body any, hdr ...string) reply {
	t.Helper()
	r, err := s.try(method, path, cookie, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try is send for a goroutine of its own: it returns the failure to
// make the request instead of ending the test.
func (s *mfaSite) try(method, path, cookie string, body any, hdr ...string) (reply, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		return reply{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: cookie})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: string(b)}, nil
}

// login posts the login form and returns the reply and the new cookie.
func (s *mfaSite) login(t *testing.T, name string) (reply, string) {
	t.Helper()
	r := s.send(t, "POST", "/login", "", url.Values{"email": {name + "@example.com"}, "password": {sitePassword}})
	if r.status != http.StatusSeeOther || r.cookie() == "" {
		t.Fatalf("login %s: %d %v", name, r.status, r.header)
	}
	return r, r.cookie()
}

// enrolLogin signs in as a user who must enrol, through an enrolment link
// (the operator's) and the password, and returns the reply and cookie.
func (s *mfaSite) enrolLogin(t *testing.T, name string) (reply, string) {
	t.Helper()
	link, err := s.idn.IssueEnrolmentLink(context.Background(), crm.SystemPrincipal(), s.users[name].ID)
	if err != nil {
		t.Fatal(err)
	}
	path := link[strings.Index(link, "/enrol/"):]
	if page := s.send(t, "GET", path, "", nil); page.status != 200 || !strings.Contains(page.body, name+"@example.com") {
		t.Fatalf("GET the enrolment link: %d", page.status)
	}
	r := s.send(t, "POST", path, "", url.Values{"password": {sitePassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/mfa/enrol" || r.cookie() == "" {
		t.Fatalf("sign in through the enrolment link: %d %q", r.status, r.header.Get("Location"))
	}
	return r, r.cookie()
}

// code is the TOTP code of secret at the site's clock.
func (s *mfaSite) code(t *testing.T, secret string) string {
	t.Helper()
	c, err := auth.TOTPCode(secret, s.clock())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var keyRE = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
var codesRE = regexp.MustCompile(`<li><code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code></li>`)

// enrolUI enrols TOTP for a half session through the pages and returns the
// key, the recovery codes and the new (full) cookie.
func (s *mfaSite) enrolUI(t *testing.T, cookie string) (string, []string, string) {
	t.Helper()
	page := s.send(t, "GET", "/mfa/enrol", cookie, nil)
	if page.status != 200 {
		t.Fatalf("GET /mfa/enrol: %d", page.status)
	}
	r := s.send(t, "POST", "/mfa/enrol", cookie, url.Values{"csrf": {page.csrf(t)}, "action": {"begin"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("begin: %d %.300s", r.status, r.body)
	}
	page = s.send(t, "GET", "/mfa/enrol", cookie, nil)
	m := keyRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no key on the enrolment page: %.500s", page.body)
	}
	key := strings.ReplaceAll(m[1], " ", "")
	qr := s.send(t, "GET", "/mfa/enrol/qr.png", cookie, nil)
	if qr.status != 200 || qr.header.Get("Content-Type") != "image/png" || qr.header.Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("QR: %d %v", qr.status, qr.header)
	}
	r = s.send(t, "POST", "/mfa/enrol", cookie, url.Values{"csrf": {page.csrf(t)}, "action": {"confirm"}, "code": {s.code(t, key)}})
	if r.status != 200 || r.cookie() == "" {
		t.Fatalf("confirm: %d %.300s", r.status, r.body)
	}
	var codes []string
	for _, m := range codesRE.FindAllStringSubmatch(r.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes on the page", len(codes))
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("the recovery codes page may be cached")
	}
	return key, codes, r.cookie()
}

// TestMFAFlowThroughPages: the password leads to enrolment, enrolment to a
// new full session; the next login asks for the code and issues another new
// session; old session ids die at each step (attack 8, ASVS v5.0.0-7.2.4).
func TestMFAFlowThroughPages(t *testing.T) {
	s := newMFASite(t, auth.Throttle{})
	r, half := s.login(t, "admin")
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/mfa") {
		t.Fatalf("after the password: Location %q", loc)
	}
	if r := s.send(t, "GET", "/mfa", half, nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/mfa/enrol") {
		t.Errorf("GET /mfa without a factor: %d %q", r.status, r.header.Get("Location"))
	}
	// The password alone enrols nothing (issue 9 item 4): the page says
	// to use the enrolment link, and the form is refused.
	held := s.send(t, "GET", "/mfa/enrol", half, nil)
	if held.status != http.StatusForbidden || !strings.Contains(held.body, "enrolment link") || keyRE.MatchString(held.body) {
		t.Fatalf("the enrolment page with the password alone: %d %.300s", held.status, held.body)
	}
	if r := s.send(t, "POST", "/mfa/enrol", half, url.Values{"csrf": {held.csrf(t)}, "action": {"begin"}}); r.status != http.StatusSeeOther {
		t.Errorf("begin with the password alone: %d", r.status)
	}
	if r := s.send(t, "GET", "/mfa/enrol/qr.png", half, nil); r.status == 200 {
		t.Error("a QR code for the password alone")
	}
	if r := s.send(t, "POST", "/api/v1/account/mfa/totp", half, "{}"); r.status != 403 {
		t.Errorf("API enrolment with the password alone: %d %s", r.status, r.body)
	}
	_, half = s.enrolLogin(t, "admin")
	key, codes, full := s.enrolUI(t, half)
	if full == half {
		t.Fatal("enrolment kept the session secret")
	}
	if r := s.send(t, "GET", "/contacts", half, nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("the half session after enrolment: %d %q", r.status, r.header.Get("Location"))
	}
	if r := s.send(t, "GET", "/contacts", full, nil); r.status != 200 {
		t.Errorf("the full session: %d", r.status)
	}
	sec := s.send(t, "GET", "/account/security", full, nil)
	if sec.status != 200 || !strings.Contains(sec.body, "10 unused") {
		t.Errorf("security page: %d", sec.status)
	}

	// Next login: the code.
	s.advance(30 * time.Second)
	r, half2 := s.login(t, "admin")
	if loc := r.header.Get("Location"); loc != "/mfa" && !strings.HasPrefix(loc, "/mfa?") {
		t.Fatalf("second login: Location %q", loc)
	}
	page := s.send(t, "GET", "/mfa", half2, nil)
	if page.status != 200 {
		t.Fatalf("GET /mfa: %d", page.status)
	}
	bad := s.send(t, "POST", "/mfa", half2, url.Values{"csrf": {page.csrf(t)}, "code": {"000000"}})
	if bad.status != http.StatusUnauthorized || bad.cookie() != "" {
		t.Errorf("wrong code: %d", bad.status)
	}
	code := s.code(t, key)
	ok := s.send(t, "POST", "/mfa", half2, url.Values{"csrf": {page.csrf(t)}, "code": {code}, "next": {"/contacts?q=x"}})
	if ok.status != http.StatusSeeOther || ok.header.Get("Location") != "/contacts?q=x" || ok.cookie() == "" || ok.cookie() == half2 {
		t.Fatalf("right code: %d %q", ok.status, ok.header.Get("Location"))
	}
	if r := s.send(t, "GET", "/contacts", half2, nil); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login") {
		t.Errorf("the half session id survived the second factor: %d %q", r.status, r.header.Get("Location"))
	}
	// Replay of the same code in another session.
	_, half3 := s.login(t, "admin")
	page = s.send(t, "GET", "/mfa", half3, nil)
	if r := s.send(t, "POST", "/mfa", half3, url.Values{"csrf": {page.csrf(t)}, "code": {code}}); r.status != http.StatusUnauthorized {
		t.Errorf("replayed code: %d", r.status)
	}
	// A recovery code works once.
	if r := s.send(t, "POST", "/mfa", half3, url.Values{"csrf": {page.csrf(t)}, "code": {codes[3]}}); r.status != http.StatusSeeOther {
		t.Errorf("recovery code: %d", r.status)
	}
	_, half4 := s.login(t, "admin")
	page = s.send(t, "GET", "/mfa", half4, nil)
	if r := s.send(t, "POST", "/mfa", half4, url.Values{"csrf": {page.csrf(t)}, "code": {codes[3]}}); r.status != http.StatusUnauthorized {
		t.Errorf("used recovery code: %d", r.status)
	}
	// The API completes a half session too, and sets the new cookie.
	api := s.send(t, "POST", "/api/v1/session/mfa", half4, `{"code":"`+codes[4]+`"}`)
	if api.status != 200 || api.cookie() == "" || api.cookie() == half4 {
		t.Fatalf("POST /api/v1/session/mfa: %d %s", api.status, api.body)
	}
	if r := s.send(t, "GET", "/api/v1/me", api.cookie(), nil); r.status != 200 {
		t.Errorf("GET /api/v1/me with the new cookie: %d", r.status)
	}
	if r := s.send(t, "GET", "/api/v1/me", half4, nil); r.status != 401 || r.errCode() != "unauthenticated" {
		t.Errorf("GET /api/v1/me with the half cookie: %d %s", r.status, r.body)
	}
}

// fillPath makes a concrete request path of a route pattern.
func fillPath(pattern string) string {
	p := strings.TrimSuffix(pattern, "{$}")
	return regexp.MustCompile(`\{[a-z_]+\.{0,3}\}`).ReplaceAllStringFunc(p, func(v string) string {
		if v == "{name}" {
			return "app.css"
		}
		if strings.Contains(v, "id") {
			return "1"
		}
		return "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	})
}

// halfAllowed are the routes a half-authenticated session may use.
var halfAllowed = []string{
	"GET /mfa", "POST /mfa", "GET /mfa/enrol", "POST /mfa/enrol", "GET /mfa/enrol/qr.png", "POST /logout",
	"GET /api/v1/account/mfa", "POST /api/v1/account/mfa/totp", "POST /api/v1/account/mfa/totp/confirm",
	"POST /api/v1/session/mfa", "DELETE /api/v1/session",
	"POST /api/v1/session/passkey/challenge", "POST /api/v1/session/passkey", // passkeys: api/passkey.go
}

// TestHalfSessionReachesNothing calls every route of the router with a
// half-authenticated session (AUTH-4: "can reach nothing else, API
// included"). A route that turns away an anonymous caller must turn the
// half session away too: API routes with 401 mfa_required, pages with a
// redirect to the MFA step. A public route must answer the half session
// as it answers anyone.
func TestHalfSessionReachesNothing(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 10000, AccountLimit: 100})
	_, half := s.login(t, "admin")
	routes := s.web.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes", len(routes))
	}
	checked := 0
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		if slices.Contains(halfAllowed, route) {
			continue
		}
		path := fillPath(pattern)
		var body any
		if method != "GET" && method != "DELETE" {
			if strings.HasPrefix(path, "/api/") {
				body = `{}`
			} else {
				body = url.Values{"csrf": {"x"}}
			}
		}
		anon := s.send(t, method, path, "", body)
		got := s.send(t, method, path, half, body)
		loc := got.header.Get("Location")
		switch {
		case got.status == anon.status && loc == anon.header.Get("Location") && !strings.HasPrefix(path, "/api/"):
			// Answered like an anonymous caller: no more access than anyone.
		case anon.status == 401 && strings.HasPrefix(path, "/api/"):
			if got.status != 401 || got.errCode() != crm.EMFAREQUIRED {
				t.Errorf("%s: half session got %d %s, want 401 mfa_required", route, got.status, got.body)
			}
		case anon.status == http.StatusSeeOther && strings.HasPrefix(anon.header.Get("Location"), "/login"):
			if got.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa") {
				t.Errorf("%s: half session got %d %q, want a redirect to the MFA step", route, got.status, loc)
			}
		default: // public
			if got.status != anon.status && !(got.status == http.StatusSeeOther && strings.HasPrefix(loc, "/mfa")) {
				t.Errorf("%s: half session got %d, anonymous %d", route, got.status, anon.status)
			}
		}
		checked++
	}
	t.Logf("checked %d routes", checked)
	// The session is still half: nothing above completed it. Signed in
	// with the password alone, it may not even enrol (issue 9 item 4).
	if r := s.send(t, "GET", "/api/v1/account/mfa", half, nil); r.status != 200 || !strings.Contains(r.body, `"pending":"enrol_link"`) {
		t.Errorf("GET /api/v1/account/mfa: %d %s", r.status, r.body)
	}
	if r := s.send(t, "POST", "/api/v1/account/mfa/totp", half, `{}`); r.status != http.StatusForbidden {
		t.Errorf("API enrolment with the password alone: %d %s", r.status, r.body)
	}
	// Signed in through an enrolment link it may: enrol through the API.
	_, half = s.enrolLogin(t, "admin")
	if r := s.send(t, "GET", "/api/v1/account/mfa", half, nil); r.status != 200 || !strings.Contains(r.body, `"pending":"enrol"`) {
		t.Errorf("GET /api/v1/account/mfa through the link: %d %s", r.status, r.body)
	}
	r := s.send(t, "POST", "/api/v1/account/mfa/totp", half, `{}`)
	if r.status != http.StatusCreated {
		t.Fatalf("begin over the API: %d %s", r.status, r.body)
	}
	var e struct {
		Secret string `json:"secret"`
		QRPNG  string `json:"qr_png"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || len(e.QRPNG) < 100 || e.Secret == "" {
		t.Fatalf("enrolment body: %v %s", err, r.body)
	}
	r = s.send(t, "POST", "/api/v1/account/mfa/totp/confirm", half, `{"code":"`+s.code(t, e.Secret)+`"}`)
	if r.status != 200 || r.cookie() == "" || !strings.Contains(r.body, "recovery_codes") {
		t.Fatalf("confirm over the API: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/v1/users", r.cookie(), nil); r.status != 200 {
		t.Errorf("the new full session: %d", r.status)
	}
	// Logout of a half session over the API.
	_, half2 := s.login(t, "admin")
	if r := s.send(t, "DELETE", "/api/v1/session", half2, nil); r.status != 204 {
		t.Errorf("DELETE /api/v1/session: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/v1/account/mfa", half2, nil); r.status != 401 || r.errCode() != "unauthenticated" {
		t.Errorf("after logout: %d %s", r.status, r.body)
	}
}

// TestLoginFixation is attack 8 against the real service: a session id
// planted before login does not survive it.
func TestLoginFixation(t *testing.T) {
	s := newMFASite(t, auth.Throttle{})
	_, planted := s.login(t, "bob")
	r := s.send(t, "POST", "/login", planted, url.Values{"email": {"alice@example.com"}, "password": {sitePassword}})
	if r.status != http.StatusSeeOther || r.cookie() == "" || r.cookie() == planted {
		t.Fatalf("login: %d", r.status)
	}
	if r := s.send(t, "GET", "/api/v1/me", planted, nil); r.status != 401 {
		t.Errorf("the planted session survived the login: %d", r.status)
	}
}

// loginBody posts a login and returns the status and the body with the
// parts that differ by design (the echoed email, the request id) masked.
func (s *mfaSite) loginBody(t *testing.T, email, password string, hdr ...string) (int, string) {
	t.Helper()
	r := s.send(t, "POST", "/login", "", url.Values{"email": {email}, "password": {password}}, hdr...)
	body := strings.ReplaceAll(r.body, email, "EMAIL")
	if id := r.header.Get("X-Request-Id"); id != "" {
		body = strings.ReplaceAll(body, id, "ID")
	}
	return r.status, body
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestNoEnumeration is attack 18 (ASVS v5.0.0-6.3.8): an unknown account,
// a wrong password and a locked account give the same status and body,
// and unknown and known accounts take about the same time: the medians of
// 30 interleaved tries each are within a factor of two (a ratio, not a
// fixed time, so a slow machine does not make the test flaky).
func TestNoEnumeration(t *testing.T) {
	s := newMFASite(t, auth.Throttle{AccountLimit: 100, BackoffAfter: 100, IPLimit: 100000})
	st1, unknown := s.loginBody(t, "nobody@example.com", "wrong password!!")
	st2, known := s.loginBody(t, "alice@example.com", "wrong password!!")
	if st1 != st2 || unknown != known {
		t.Fatalf("unknown vs known account: %d vs %d, bodies equal %v", st1, st2, unknown == known)
	}
	var tu, tk []time.Duration
	for i := range 30 {
		start := time.Now()
		s.loginBody(t, fmt.Sprintf("nobody%d@example.com", i), "wrong password!!")
		tu = append(tu, time.Since(start))
		start = time.Now()
		s.loginBody(t, "alice@example.com", "wrong password!!")
		tk = append(tk, time.Since(start))
	}
	ratio := float64(median(tu)) / float64(median(tk))
	t.Logf("median unknown %v, known %v, ratio %.2f", median(tu), median(tk), ratio)
	if ratio < 0.5 || ratio > 2 {
		t.Errorf("timing tells accounts apart: median unknown %v, known %v", median(tu), median(tk))
	}

	// A locked account answers like an unknown one.
	l := newMFASite(t, auth.Throttle{AccountLimit: 3, BackoffAfter: 100, IPLimit: 100000})
	for range 3 {
		l.loginBody(t, "bob@example.com", "wrong password!!")
		l.loginBody(t, "ghost@example.com", "wrong password!!")
	}
	st1, locked := l.loginBody(t, "bob@example.com", sitePassword)
	st2, lockedUnknown := l.loginBody(t, "ghost@example.com", sitePassword)
	st3, wrong := l.loginBody(t, "nobody@example.com", "wrong password!!")
	if st1 != st3 || st2 != st3 || locked != wrong || lockedUnknown != wrong {
		t.Errorf("locked account: %d %d vs wrong password %d; bodies equal %v %v", st1, st2, st3, locked == wrong, lockedUnknown == wrong)
	}
}

// TestPerIPThrottleIgnoresForwardedFor is attack 9 from one client that
// claims other addresses: X-Forwarded-For and X-Real-IP are not trusted
// (ASVS v5.0.0-15.3.4), so the client's own address hits its limit.
func TestPerIPThrottleIgnoresForwardedFor(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 5, BackoffAfter: 100})
	for i := range 5 {
		ip := fmt.Sprintf("203.0.113.%d", i+1)
		st, _ := s.loginBody(t, fmt.Sprintf("user%d@example.com", i), "wrong password!!", "X-Forwarded-For", ip, "X-Real-IP", ip, "Forwarded", "for="+ip)
		if st != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, st)
		}
	}
	st, body := s.loginBody(t, "alice@example.com", sitePassword, "X-Forwarded-For", "198.51.100.77", "X-Real-IP", "198.51.100.77")
	if st != http.StatusTooManyRequests {
		t.Errorf("after 5 failures from one client with spoofed headers: %d, want 429", st)
	}
	if strings.Contains(body, "alice") {
		t.Error("the refusal mentions the account")
	}
	s.advance(16 * time.Minute)
	if st, _ := s.loginBody(t, "alice@example.com", sitePassword); st != http.StatusSeeOther {
		t.Errorf("after the window: %d", st)
	}
}

// TestStepUpThroughPages: a guarded action after the window sends the user
// to the step-up page and back; tokens cannot step up or reach guarded
// routes (ASVS v5.0.0-7.5.3).
func TestStepUpThroughPages(t *testing.T) {
	s := newMFASite(t, auth.Throttle{})
	_, half := s.enrolLogin(t, "admin")
	key, _, full := s.enrolUI(t, half)
	s.advance(6 * time.Minute)
	sec := s.send(t, "GET", "/account/security", full, nil)
	r := s.send(t, "POST", "/account/security/recovery-codes", full, url.Values{"csrf": {sec.csrf(t)}, "return": {"/account/security"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/stepup?next=%2Faccount%2Fsecurity" {
		t.Fatalf("guarded action after the window: %d %q", r.status, r.header.Get("Location"))
	}
	if r := s.send(t, "DELETE", "/api/v1/account/mfa/totp", full, nil); r.status != 403 || r.errCode() != crm.ESTEPUPREQUIRED {
		t.Errorf("API removal without a step-up: %d %s", r.status, r.body)
	}
	page := s.send(t, "GET", "/stepup?next=%2Faccount%2Fsecurity", full, nil)
	if page.status != 200 {
		t.Fatalf("step-up page: %d", page.status)
	}
	r = s.send(t, "POST", "/stepup", full, url.Values{"csrf": {page.csrf(t)}, "code": {s.code(t, key)}, "next": {"/account/security"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/security" || r.cookie() == "" || r.cookie() == full {
		t.Fatalf("step-up: %d %q", r.status, r.header.Get("Location"))
	}
	stepped := r.cookie()
	if r := s.send(t, "GET", "/contacts", full, nil); r.status != http.StatusSeeOther {
		t.Errorf("the session from before the step-up: %d", r.status)
	}
	sec = s.send(t, "GET", "/account/security", stepped, nil)
	r = s.send(t, "POST", "/account/security/recovery-codes", stepped, url.Values{"csrf": {sec.csrf(t)}})
	if r.status != 200 || len(codesRE.FindAllString(r.body, -1)) != 10 {
		t.Errorf("regenerate after the step-up: %d", r.status)
	}
	if r := s.send(t, "DELETE", "/api/v1/account/mfa/totp", stepped, nil); r.status != 204 {
		t.Errorf("API removal after the step-up: %d %s", r.status, r.body)
	}

	// A token never steps up and reaches no guarded route.
	nt, err := s.idn.CreateToken(context.Background(), crm.SystemPrincipal(), s.users["admin"].ID, "t", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bearer := []string{"Authorization", "Bearer " + nt.Secret}
	bob := fmt.Sprint(s.users["bob"].ID)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/session/step-up", `{"code":"123456"}`},
		{"PATCH", "/api/v1/users/" + bob, `{"name":"B"}`},
		{"DELETE", "/api/v1/users/" + bob + "/sessions", ""},
		{"POST", "/api/v1/users/" + bob + "/unlock", ""},
		{"POST", "/api/v1/tokens", `{"name":"x"}`},
		{"DELETE", "/api/v1/account/mfa/totp", ""},
		{"POST", "/api/v1/account/mfa/recovery-codes", ""},
		{"POST", "/api/v1/account/mfa/totp", `{}`},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		if r := s.send(t, c.method, c.path, "", body, bearer...); r.status != 403 {
			t.Errorf("token %s %s: %d %s, want 403", c.method, c.path, r.status, r.body)
		}
	}
}

// TestCSRFTokenPerSession drives the real service: every session has its
// own CSRF token, a form is refused with another session's token (another
// user's, or the same user's other session), and every replacement of the
// session (the second factor at enrolment, a step-up) brings a new token
// and retires the old one (ASVS v5.0.0-3.5.1, attack 7; issue 18 item 5).
func TestCSRFTokenPerSession(t *testing.T) {
	s := newMFASite(t, auth.Throttle{})
	csrfOf := func(cookie string) string {
		t.Helper()
		page := s.send(t, "GET", "/account/security", cookie, nil)
		if page.status != 200 {
			t.Fatalf("security page: %d", page.status)
		}
		return page.csrf(t)
	}
	// revokeOthers posts a form that changes state, and tells whether it
	// was accepted.
	revokeOthers := func(cookie, token string) int {
		t.Helper()
		return s.send(t, "POST", "/account/security/sessions/revoke-others", cookie, url.Values{"csrf": {token}}).status
	}
	_, alice1 := s.login(t, "alice")
	_, alice2 := s.login(t, "alice")
	_, bob := s.login(t, "bob")
	a1, a2, b := csrfOf(alice1), csrfOf(alice2), csrfOf(bob)
	if a1 == a2 || a1 == b || a2 == b {
		t.Fatalf("sessions share a CSRF token: %q %q %q", a1, a2, b)
	}
	if again := csrfOf(alice1); again != a1 {
		t.Errorf("one session's token changed between pages: %q then %q", a1, again)
	}
	for name, token := range map[string]string{"bob's": b, "alice's other session's": a2, "none": "", "a guess": strings.Repeat("A", len(a1))} {
		if st := revokeOthers(alice1, token); st != http.StatusForbidden {
			t.Errorf("a form with %s token: %d, want 403", name, st)
		}
	}
	if r := s.send(t, "GET", "/contacts", alice2, nil); r.status != 200 {
		t.Fatalf("a refused form still ended the other session: %d", r.status)
	}
	if st := revokeOthers(alice1, a1); st != http.StatusSeeOther {
		t.Fatalf("the session's own token: %d", st)
	}
	if r := s.send(t, "GET", "/contacts", alice2, nil); r.status != http.StatusSeeOther {
		t.Errorf("the accepted form did not end the other session: %d", r.status)
	}

	// Renewal at every replacement: enrolment's second factor, then a
	// step-up, each give a new session, whose token is new; the old token
	// does not work with the new session.
	_, half := s.enrolLogin(t, "admin")
	halfPage := s.send(t, "GET", "/mfa/enrol", half, nil)
	old := halfPage.csrf(t)
	key, _, full := s.enrolUI(t, half)
	fullToken := csrfOf(full)
	if fullToken == old {
		t.Fatal("the session made at enrolment kept the half session's token")
	}
	if st := revokeOthers(full, old); st != http.StatusForbidden {
		t.Errorf("the half session's token with the new session: %d, want 403", st)
	}
	s.advance(6 * time.Minute)
	page := s.send(t, "GET", "/stepup", full, nil)
	r := s.send(t, "POST", "/stepup", full, url.Values{"csrf": {page.csrf(t)}, "code": {s.code(t, key)}, "next": {"/account/security"}})
	if r.status != http.StatusSeeOther || r.cookie() == "" {
		t.Fatalf("step-up: %d", r.status)
	}
	stepped := r.cookie()
	if tok := csrfOf(stepped); tok == fullToken || tok == old {
		t.Error("the stepped-up session kept an earlier token")
	}
	if st := revokeOthers(stepped, fullToken); st != http.StatusForbidden {
		t.Errorf("the token from before the step-up: %d, want 403", st)
	}
}

// TestStaffDirectory: the user list shows every role and token the names
// and roles that owner display needs, and only an administrator's session
// the rest (emails, sign-in times, lock status; issue 9 item 7).
func TestStaffDirectory(t *testing.T) {
	s := newMFASite(t, auth.Throttle{})
	ctx := context.Background()
	bob := fmt.Sprint(s.users["bob"].ID)
	// Bob has signed in, so his record has a last sign-in time.
	_, _ = s.login(t, "bob")
	keys := func(t *testing.T, body string) []map[string]any {
		t.Helper()
		var list struct{ Items []map[string]any }
		if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Items) != len(s.users) {
			t.Fatalf("user list %q: %v", body, err)
		}
		return list.Items
	}
	_, alice := s.login(t, "alice")
	readTok, err := s.idn.CreateToken(ctx, crm.SystemPrincipal(), s.users["alice"].ID, "ro", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	adminTok, err := s.idn.CreateToken(ctx, crm.SystemPrincipal(), s.users["admin"].ID, "w", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for who, auth := range map[string][]string{
		"alice's session":    {"Cookie", web.SessionCookie + "=" + alice},
		"alice's read token": {"Authorization", "Bearer " + readTok.Secret},
		"an admin's token":   {"Authorization", "Bearer " + adminTok.Secret},
	} {
		r := s.send(t, "GET", "/api/v1/users", "", nil, auth...)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", who, r.status, r.body)
		}
		for _, u := range keys(t, r.body) {
			if len(u) != 3 || u["id"] == nil || u["name"] == nil || u["role"] == nil {
				t.Errorf("%s sees %v, want only id, name and role", who, u)
			}
		}
		one := s.send(t, "GET", "/api/v1/users/"+bob, "", nil, auth...)
		if one.status != 200 || strings.Contains(one.body, `"email"`) || strings.Contains(one.body, "last_login") ||
			!strings.Contains(one.body, `"role":"sales"`) {
			t.Errorf("%s, one user: %d %s", who, one.status, one.body)
		}
		if r := s.send(t, "GET", "/api/v1/users/99999", "", nil, auth...); r.status != 404 {
			t.Errorf("%s, an unknown user: %d", who, r.status)
		}
	}
	// An administrator's session sees whole records.
	_, half := s.enrolLogin(t, "admin")
	_, _, full := s.enrolUI(t, half)
	r := s.send(t, "GET", "/api/v1/users", full, nil)
	if r.status != 200 {
		t.Fatalf("admin: %d", r.status)
	}
	for _, u := range keys(t, r.body) {
		if u["email"] == nil || u["created_at"] == nil {
			t.Errorf("the administrator sees %v, want the whole record", u)
		}
	}
	if one := s.send(t, "GET", "/api/v1/users/"+bob, full, nil); !strings.Contains(one.body, `"email":"bob@example.com"`) ||
		!strings.Contains(one.body, "last_login_at") {
		t.Errorf("admin, one user: %s", one.body)
	}
}

// TestAdminSessionsAndUnlockAPI: an administrator ends all of a user's
// sessions and lifts a lock over the API, with a step-up.
func TestAdminSessionsAndUnlockAPI(t *testing.T) {
	s := newMFASite(t, auth.Throttle{AccountLimit: 3, BackoffAfter: 100})
	_, bob1 := s.login(t, "bob")
	_, bob2 := s.login(t, "bob")
	if r := s.send(t, "DELETE", "/api/v1/sessions", bob2, nil); r.status != 200 || !strings.Contains(r.body, `"revoked":1`) {
		t.Errorf("DELETE /api/v1/sessions: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/v1/me", bob1, nil); r.status != 401 {
		t.Errorf("another session survived: %d", r.status)
	}
	_, half := s.enrolLogin(t, "admin")
	key, _, admin := s.enrolUI(t, half)
	bob := fmt.Sprint(s.users["bob"].ID)
	if r := s.send(t, "DELETE", "/api/v1/users/"+bob+"/sessions", admin, nil); r.status != 204 {
		t.Fatalf("admin revokes bob's sessions: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/v1/me", bob2, nil); r.status != 401 {
		t.Errorf("bob's session survived: %d", r.status)
	}
	for range 3 {
		s.loginBody(t, "bob@example.com", "wrong password!!")
	}
	if st, _ := s.loginBody(t, "bob@example.com", sitePassword); st != 401 {
		t.Fatalf("bob is not locked: %d", st)
	}
	users := s.send(t, "GET", "/api/v1/users/"+bob, admin, nil)
	if !strings.Contains(users.body, `"locked_until"`) {
		t.Errorf("the user does not show the lock: %s", users.body)
	}
	if r := s.send(t, "POST", "/api/v1/users/"+bob+"/unlock", admin, nil); r.status != 204 {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	if st, _ := s.loginBody(t, "bob@example.com", sitePassword); st != http.StatusSeeOther {
		t.Errorf("after the unlock: %d", st)
	}
	s.advance(6 * time.Minute)
	if r := s.send(t, "POST", "/api/v1/users/"+bob+"/unlock", admin, nil); r.status != 403 || r.errCode() != crm.ESTEPUPREQUIRED {
		t.Errorf("unlock after the step-up window: %d %s", r.status, r.body)
	}
	// Step up over the API: a new cookie, and the old one is dead.
	if r := s.send(t, "POST", "/api/v1/session/step-up", admin, `{"code":"000000"}`); r.status != 400 || r.errCode() != crm.EINVALID {
		t.Errorf("step-up with a wrong code: %d %s", r.status, r.body)
	}
	r := s.send(t, "POST", "/api/v1/session/step-up", admin, `{"code":"`+s.code(t, key)+`"}`)
	var body struct {
		Session struct {
			ID  string `json:"id"`
			AAL int    `json:"aal"`
		} `json:"session"`
		Until time.Time `json:"stepped_up_until"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); r.status != 200 || err != nil || r.cookie() == "" || body.Session.AAL != 2 ||
		body.Until.Sub(s.clock()) != 5*time.Minute {
		t.Fatalf("step-up over the API: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", "/api/v1/me", admin, nil); r.status != 401 {
		t.Errorf("the session from before the step-up: %d", r.status)
	}
	stepped := r.cookie()
	if r := s.send(t, "POST", "/api/v1/users/"+bob+"/unlock", stepped, nil); r.status != 204 {
		t.Errorf("unlock after the step-up: %d %s", r.status, r.body)
	}
}

// completeMFA enrols TOTP over the API for a browser whose sign-in stopped
// at the second factor, so that tests of other features can sign in as
// an administrator.
func (f *recoveryFixture) completeMFA(t *testing.T, c *http.Client) {
	t.Helper()
	res := f.json(t, c, "/api/v1/account/mfa/totp", `{}`, "")
	var e struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(res.body), &e); res.status != http.StatusCreated || err != nil {
		t.Fatalf("begin TOTP: %d %s", res.status, res.body)
	}
	code, err := auth.TOTPCode(e.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res := f.json(t, c, "/api/v1/account/mfa/totp/confirm", `{"code":"`+code+`"}`, ""); res.status != http.StatusOK {
		t.Fatalf("confirm TOTP: %d %s", res.status, res.body)
	}
}

// TestEnrolmentLinkAPI: an administrator's session with a step-up has an
// enrolment link mailed to a user without a factor; the response never
// carries the link; other roles and tokens are refused (issue 9 item 4).
func TestEnrolmentLinkAPI(t *testing.T) {
	s := newMFASite(t, auth.Throttle{})
	alice := fmt.Sprint(s.users["alice"].ID)
	_, half := s.enrolLogin(t, "admin")
	_, _, admin := s.enrolUI(t, half)
	r := s.send(t, "POST", "/api/v1/users/"+alice+"/enrolment-link", admin, nil)
	if r.status != http.StatusAccepted || strings.Contains(r.body, "/enrol/") {
		t.Fatalf("issue: %d %s", r.status, r.body)
	}
	if r := s.send(t, "POST", "/api/v1/users/99999/enrolment-link", admin, nil); r.status != 404 {
		t.Errorf("an unknown user: %d", r.status)
	}
	// The administrator has a factor: no link for them.
	if r := s.send(t, "POST", "/api/v1/users/"+fmt.Sprint(s.users["admin"].ID)+"/enrolment-link", admin, nil); r.status != 409 {
		t.Errorf("a user with a factor: %d %s", r.status, r.body)
	}
	_, bob := s.login(t, "bob")
	if r := s.send(t, "POST", "/api/v1/users/"+alice+"/enrolment-link", bob, nil); r.status != 403 {
		t.Errorf("a sales user: %d", r.status)
	}
	tok, err := s.idn.CreateToken(context.Background(), crm.SystemPrincipal(), s.users["admin"].ID, "w", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.send(t, "POST", "/api/v1/users/"+alice+"/enrolment-link", "", nil, "Authorization", "Bearer "+tok.Secret); r.status != 403 {
		t.Errorf("an administrator's token: %d", r.status)
	}
	s.advance(6 * time.Minute)
	if r := s.send(t, "POST", "/api/v1/users/"+alice+"/enrolment-link", admin, nil); r.status != 403 || r.errCode() != crm.ESTEPUPREQUIRED {
		t.Errorf("without a recent step-up: %d %s", r.status, r.body)
	}
}
