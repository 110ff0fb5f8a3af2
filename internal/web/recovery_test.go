package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/mail/mailtest"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/web"
)

// Invitations, password resets and email changes over HTTP (AUTH-8,
// attack 11), against the real service, an embedded store and a real SMTP
// server in process. The links come from the received mail.

type recoveryFixture struct {
	srv   *httptest.Server
	svc   *identity.Service
	smtp  *mailtest.Server
	logs  *testkit.Buffer // the service's and the web layer's log, access log included
	base  string          // the public URL in links
	token string          // the admin's bearer token
}

const recoveryPassword = "correct horse battery staple"

func newRecoveryFixture(t *testing.T) *recoveryFixture {
	t.Helper()
	ctx := context.Background()
	db := testkit.SQLite(t)
	f := &recoveryFixture{smtp: mailtest.Start(t, mailtest.Options{}), logs: &testkit.Buffer{}, base: "https://crm.example.test"}
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.svc = identity.New(db, identity.Options{Logger: log, Mailer: f.smtp.Mailer(t), PublicURL: f.base,
		Hasher: testkit.Hasher()})
	t.Cleanup(f.svc.WaitMail)
	for name, role := range map[string]crm.Role{"admin": crm.RoleAdmin, "alice": crm.RoleSales} {
		email, pw := name+"@example.com", recoveryPassword
		u, err := f.svc.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		if name == "admin" {
			nt, err := f.svc.CreateToken(ctx, crm.SystemPrincipal(), u.ID, "t", crm.ScopeWrite, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			f.token = nt.Secret
		}
	}
	f.srv = httptest.NewTLSServer(web.New(service.New(db, service.Options{Logger: log}), f.svc, web.Options{Logger: log}))
	t.Cleanup(f.srv.Close)
	return f
}

// browser returns a client with a cookie jar that does not follow redirects.
func (f *recoveryFixture) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *f.srv.Client() // a copy: each browser has its own jar
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// signIn returns a browser signed in as email.
func (f *recoveryFixture) signIn(t *testing.T, email string) *http.Client {
	t.Helper()
	c := f.browser(t)
	res := f.send(t, c, "POST", "/login", "application/x-www-form-urlencoded",
		url.Values{"email": {email}, "password": {recoveryPassword}}.Encode(), nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d %s", email, res.status, res.body)
	}
	if strings.HasPrefix(res.header.Get("Location"), "/mfa") {
		// The role requires a second factor the user lacks: the password
		// alone enrols none, so sign in again through an enrolment link.
		u, err := f.svc.FindUserByEmail(context.Background(), crm.SystemPrincipal(), email)
		if err != nil {
			t.Fatal(err)
		}
		link, err := f.svc.IssueEnrolmentLink(context.Background(), crm.SystemPrincipal(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		res := f.send(t, c, "POST", link[strings.Index(link, "/enrol/"):], "application/x-www-form-urlencoded",
			url.Values{"password": {recoveryPassword}}.Encode(), nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/mfa/enrol" {
			t.Fatalf("enrolment sign-in %s: %d %s", email, res.status, res.body)
		}
		f.completeMFA(t, c) // mfa_test.go
	}
	return c
}

// adminBrowser returns a browser with a fully signed-in administrator:
// admins must use a second factor, so it enrols TOTP through the service
// and takes the session that enrolment hands out (fresh, so stepped up).
func (f *recoveryFixture) adminBrowser(t *testing.T) *http.Client {
	t.Helper()
	ctx := context.Background()
	// An administrator without a factor enrols through an enrolment link.
	admin, err := f.svc.FindUserByEmail(ctx, crm.SystemPrincipal(), "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	link, err := f.svc.IssueEnrolmentLink(ctx, crm.SystemPrincipal(), admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, _, secret, err := f.svc.StartEnrolment(ctx, link[strings.LastIndex(link, "/")+1:], recoveryPassword, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := f.svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	enr, err := f.svc.BeginTOTP(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	code, err := auth.TOTPCode(enr.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, in, err := f.svc.ConfirmTOTP(ctx, p, code)
	if err != nil {
		t.Fatal(err)
	}
	c := f.browser(t)
	u, _ := url.Parse(f.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: in.Secret, Path: "/", Secure: true, HttpOnly: true}})
	return c
}

type recoveryResult struct {
	status int
	header http.Header
	body   string
}

func (f *recoveryFixture) send(t *testing.T, c *http.Client, method, path, ctype, body string, hdr map[string]string) recoveryResult {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return recoveryResult{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (f *recoveryFixture) json(t *testing.T, c *http.Client, path, body string, bearer string) recoveryResult {
	t.Helper()
	var hdr map[string]string
	if bearer != "" {
		hdr = map[string]string{"Authorization": "Bearer " + bearer}
	}
	return f.send(t, c, "POST", path, "application/json", body, hdr)
}

func (f *recoveryFixture) form(t *testing.T, c *http.Client, path string, v url.Values) recoveryResult {
	t.Helper()
	return f.send(t, c, "POST", path, "application/x-www-form-urlencoded", v.Encode(), nil)
}

// linkPath waits for the n-th mail and returns the path of its link.
func (f *recoveryFixture) linkPath(t *testing.T, n int, prefix string) (path, token string) {
	t.Helper()
	f.svc.WaitMail()
	m := f.smtp.Wait(t, n)[n-1]
	link := m.Link()
	path, ok := strings.CutPrefix(link, f.base)
	if !ok || !strings.HasPrefix(path, prefix) {
		t.Fatalf("mail %d (%q) link %q, want %s%s…", n, m.Subject, link, f.base, prefix)
	}
	return path, strings.TrimPrefix(path, prefix)
}

func TestRecoveryOverHTTP(t *testing.T) {
	f := newRecoveryFixture(t)
	anon := f.browser(t)
	admin := f.adminBrowser(t)
	var secrets []string

	// The login page offers the reset.
	if res := f.send(t, anon, "GET", "/login", "", "", nil); !strings.Contains(res.body, `href="/reset"`) {
		t.Errorf("login page lacks the forgot-password link")
	}

	// Invitations: admins in a browser session; tokens and others cannot.
	if res := f.json(t, anon, "/api/v1/invitations", `{"email":"new@example.com","role":"support"}`, f.token); res.status != http.StatusForbidden {
		t.Errorf("invitation with a token: %d %s", res.status, res.body)
	}
	if res := f.json(t, anon, "/api/v1/invitations", `{"email":"new@example.com","role":"support"}`, ""); res.status != http.StatusUnauthorized {
		t.Errorf("anonymous invitation: %d", res.status)
	}
	if res := f.json(t, admin, "/api/v1/invitations", `{"email":"new@example.com","role":"support","is_admin":true}`, ""); res.status != http.StatusBadRequest {
		t.Errorf("invitation with an unknown field: %d", res.status)
	}
	res := f.json(t, admin, "/api/v1/invitations", `{"email":"new@example.com","role":"support","name":"Nova"}`, "")
	if res.status != http.StatusCreated || !strings.Contains(res.body, `"email":"new@example.com"`) {
		t.Fatalf("invitation: %d %s", res.status, res.body)
	}
	invitePath, secret := f.linkPath(t, 1, "/invite/")
	secrets = append(secrets, secret)
	if strings.Contains(res.body, secret) {
		t.Error("the API returned the invitation secret to the admin")
	}
	page := f.send(t, anon, "GET", invitePath, "", "", nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, "new@example.com") {
		t.Fatalf("invitation page: %d", page.status)
	}
	if page.header.Get("Referrer-Policy") != "no-referrer" || page.header.Get("Cache-Control") != "no-store" {
		t.Errorf("invitation page headers: Referrer-Policy %q, Cache-Control %q", page.header.Get("Referrer-Policy"), page.header.Get("Cache-Control"))
	}
	if res := f.form(t, anon, invitePath, url.Values{"name": {"Nova"}, "password": {recoveryPassword}, "password_confirm": {"other"}}); res.status != http.StatusBadRequest {
		t.Errorf("mismatched passwords: %d", res.status)
	}
	res = f.form(t, anon, invitePath, url.Values{"name": {"Nova"}, "password": {recoveryPassword}, "password_confirm": {recoveryPassword}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?notice=invited" {
		t.Fatalf("accept invitation: %d %s", res.status, res.header.Get("Location"))
	}
	if res := f.form(t, anon, invitePath, url.Values{"name": {"Nova"}, "password": {recoveryPassword}, "password_confirm": {recoveryPassword}}); res.status != http.StatusNotFound {
		t.Errorf("invitation used twice: %d", res.status)
	}
	if res := f.send(t, anon, "GET", invitePath, "", "", nil); res.status != http.StatusNotFound {
		t.Errorf("used invitation page: %d", res.status)
	}
	nova := f.signIn(t, "new@example.com")

	// Password reset by API: the same 202 for known and unknown addresses.
	known := f.json(t, anon, "/api/v1/password-reset", `{"email":"new@example.com"}`, "")
	unknown := f.json(t, anon, "/api/v1/password-reset", `{"email":"nobody@example.com"}`, "")
	if known.status != http.StatusAccepted || unknown.status != known.status || unknown.body != known.body {
		t.Errorf("reset requests: known %d %q, unknown %d %q", known.status, known.body, unknown.status, unknown.body)
	}
	resetPath, secret := f.linkPath(t, 2, "/reset/")
	secrets = append(secrets, secret)
	f.svc.WaitMail()
	if n := len(f.smtp.To("nobody@example.com")); n != 0 {
		t.Errorf("%d mails to an unknown address", n)
	}
	if res := f.send(t, anon, "GET", resetPath, "", "", nil); res.status != http.StatusOK || !strings.Contains(res.body, `action="`+resetPath+`"`) {
		t.Fatalf("reset page: %d", res.status)
	}
	res = f.form(t, anon, resetPath, url.Values{"password": {"new passphrase for nova"}, "password_confirm": {"new passphrase for nova"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login?notice=reset" {
		t.Fatalf("reset: %d %s", res.status, res.header.Get("Location"))
	}
	// The reset ended Nova's session; the notice was mailed; no sign-in.
	if res := f.send(t, nova, "GET", "/contacts", "", "", nil); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Errorf("Nova's old session after the reset: %d %s", res.status, res.header.Get("Location"))
	}
	if m := f.smtp.Wait(t, 3)[2]; !strings.Contains(m.Subject, "password was changed") {
		t.Errorf("third mail %q, want the password-changed notice", m.Subject)
	}
	body := `{"token":"` + secret + `","password":"another passphrase 123"}`
	if res := f.json(t, anon, "/api/v1/password-reset/complete", body, ""); res.status != http.StatusBadRequest || !strings.Contains(res.body, `"token"`) {
		t.Errorf("reused reset token by API: %d %s", res.status, res.body)
	}

	// Reset through the UI form, completed through the API.
	if res := f.form(t, anon, "/reset", url.Values{"email": {"alice@example.com"}}); res.status != http.StatusOK {
		t.Fatalf("reset form: %d", res.status)
	}
	_, secret = f.linkPath(t, 4, "/reset/")
	secrets = append(secrets, secret)
	body = `{"token":"` + secret + `","password":"alice resets by api 1"}`
	if res := f.json(t, anon, "/api/v1/password-reset/complete", body, ""); res.status != http.StatusNoContent {
		t.Errorf("reset by API: %d %s", res.status, res.body)
	}
	f.smtp.Wait(t, 5)

	// Email change: a browser session asks, the new address confirms.
	if res := f.json(t, anon, "/api/v1/account/email", `{"email":"boss@example.com"}`, f.token); res.status != http.StatusForbidden {
		t.Errorf("email change with a token: %d", res.status)
	}
	if res := f.json(t, admin, "/api/v1/account/email", `{"email":"boss@example.com"}`, ""); res.status != http.StatusAccepted {
		t.Fatalf("email change: %d %s", res.status, res.body)
	}
	confirmPath, secret := f.linkPath(t, 6, "/account/email/confirm/")
	secrets = append(secrets, secret)
	if n := len(f.smtp.To("admin@example.com")); n != 1 {
		t.Errorf("%d notices to the old address, want 1", n)
	}
	// GET only shows the button: nothing changes yet.
	if res := f.send(t, anon, "GET", confirmPath, "", "", nil); res.status != http.StatusOK {
		t.Errorf("confirm page: %d", res.status)
	}
	if u, _ := f.svc.FindUserByEmail(context.Background(), crm.SystemPrincipal(), "admin@example.com"); u == nil {
		t.Error("a GET changed the address")
	}
	if res := f.form(t, anon, confirmPath, url.Values{}); res.status != http.StatusOK || !strings.Contains(res.body, "boss@example.com") {
		t.Errorf("confirm: %d", res.status)
	}
	if res := f.form(t, anon, confirmPath, url.Values{}); res.status != http.StatusNotFound {
		t.Errorf("confirm twice: %d", res.status)
	}

	// The secrets never reach a log line; the access log shows redacted paths.
	logs := f.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a one-time secret is in the log")
		}
	}
	for _, p := range []string{`"path":"/invite/[redacted]"`, `"path":"/reset/[redacted]"`, `"path":"/account/email/confirm/[redacted]"`} {
		if !strings.Contains(logs, p) {
			t.Errorf("the access log lacks %s", p)
		}
	}
}

func TestRecoveryBadLinks(t *testing.T) {
	f := newRecoveryFixture(t)
	anon := f.browser(t)
	for _, path := range []string{"/invite/AAAA", "/reset/" + strings.Repeat("A", 52), "/invite/%3Cscript%3E"} {
		res := f.send(t, anon, "GET", path, "", "", nil)
		if res.status != http.StatusNotFound || strings.Contains(res.body, "<script>") {
			t.Errorf("GET %s: %d", path, res.status)
		}
	}
	res := f.json(t, anon, "/api/v1/password-reset/complete", `{"token":"nope","password":"whatever passphrase 1"}`, "")
	if res.status != http.StatusBadRequest {
		t.Errorf("bad token by API: %d", res.status)
	}
	// Many requests from one address: 429, as JSON.
	var last recoveryResult
	for range 25 {
		if last = f.json(t, anon, "/api/v1/password-reset", `{"email":"x@example.com"}`, ""); last.status != http.StatusAccepted {
			break
		}
	}
	if last.status != http.StatusTooManyRequests || !strings.Contains(last.body, "rate_limited") {
		t.Errorf("reset flood: %d %s", last.status, last.body)
	}
}
