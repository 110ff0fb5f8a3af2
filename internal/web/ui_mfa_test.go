package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// The fake service layer's side of the MFA pages (ui/mfa.go). Failures are
// forced through fakeServices.fail, like the other fake methods.

func (f *fakeServices) MFAStatus(ctx context.Context, p *crm.Principal) (*crm.MFAStatus, error) {
	return &crm.MFAStatus{Required: p.Role == crm.RoleAdmin, TOTP: p.Role == crm.RoleAdmin, RecoveryCodesLeft: 7, Pending: p.Pending}, nil
}

func (f *fakeServices) PendingTOTP(ctx context.Context, p *crm.Principal) (*crm.TOTPEnrolment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail["PendingTOTP"]; err != nil {
		return nil, err
	}
	k, err := auth.TOTPKeyFor("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", p.Email)
	if err != nil {
		return nil, err
	}
	png, err := k.PNG(240)
	return &crm.TOTPEnrolment{Secret: k.Secret, URL: k.URL, QRCodePNG: png, ExpiresAt: time.Now().Add(15 * time.Minute)}, err
}

func (f *fakeServices) FindSessions(ctx context.Context, p *crm.Principal) ([]*crm.Session, error) {
	now := time.Now().UTC()
	return []*crm.Session{
		{ID: p.SessionID, UserID: p.UserID, CreatedAt: now, LastSeenAt: now, IP: "192.0.2.1", UserAgent: "Firefox", AAL: crm.AAL2},
		{ID: "other", UserID: p.UserID, CreatedAt: now, LastSeenAt: now, IP: "198.51.100.2", UserAgent: `<script>alert("ua")</script>`, AAL: crm.AAL1},
	}, nil
}

func (f *fakeServices) VerifyMFA(ctx context.Context, p *crm.Principal, code string) (*crm.SignIn, error) {
	f.wrote("VerifyMFA")
	if code != "123456" {
		return nil, &crm.Error{Code: crm.EINVALID, Message: "the code is wrong or was already used", Fields: map[string]string{"code": "wrong"}}
	}
	secret, sess := f.addSession(p.Role, p.Language)
	return &crm.SignIn{Session: &sess, Secret: secret}, nil
}

func (f *fakeServices) RegenerateRecoveryCodes(ctx context.Context, p *crm.Principal) ([]string, error) {
	f.wrote("RegenerateRecoveryCodes")
	if err := f.fail["RegenerateRecoveryCodes"]; err != nil {
		return nil, err
	}
	return auth.NewRecoveryCodes(), nil
}

// addHalfSession is a session that still has the MFA step to take.
func (f *fakeServices) addHalfSession(step crm.MFAStep, lang string) string {
	secret, _ := f.addSession(crm.RoleAdmin, lang)
	f.mu.Lock()
	f.sessions[secret].p.Pending = step
	f.mu.Unlock()
	return secret
}

// TestMFAPagesAreCSPSafe: the MFA, enrolment, security and step-up pages
// carry the security headers, are never cached, have no inline script or
// style, and escape what they show (SHD-5, ASVS v5.0.0-3.4.3, 14.3.2).
func TestMFAPagesAreCSPSafe(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	full, _ := f.addSession(crm.RoleAdmin, "en")
	verify := f.addHalfSession(crm.MFAVerify, "en")
	enrol := f.addHalfSession(crm.MFAEnrol, "en")
	tests := []struct {
		name, path, cookie string
		want, notWant      []string
	}{
		{"challenge", "/mfa", verify, []string{`action="/mfa"`, `autocomplete="one-time-code"`, `action="/logout"`}, []string{`class="nav"`}},
		{"enrolment", "/mfa/enrol", enrol, []string{`src="/mfa/enrol/qr.png"`, "JBSW Y3DP", `value="confirm"`}, []string{`class="nav"`}},
		{"security", "/account/security", full, []string{"&lt;script&gt;alert(&#34;ua&#34;)&lt;/script&gt;", "7 unused", "/account/security/sessions/other/revoke", "Sign out all other sessions (1)"}, []string{`<script>alert("ua")`}},
		{"step-up", "/stepup?next=%2Faccount%2Fsecurity", full, []string{`action="/stepup"`, `value="/account/security"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, srv, "GET", tt.path, nil, withCookie(tt.cookie))
			wantStatus(t, w, http.StatusOK)
			for k, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			body := w.Body.String()
			checkCSPSafe(t, body)
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("page contains %q", s)
				}
			}
		})
	}
	// The QR image: a PNG of this origin, never cached.
	w := do(t, srv, "GET", "/mfa/enrol/qr.png", nil, withCookie(enrol))
	wantStatus(t, w, http.StatusOK)
	if w.Header().Get("Content-Type") != "image/png" || w.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(w.Body.String(), "\x89PNG") {
		t.Errorf("QR: %v", w.Header())
	}
	// Without a pending enrolment the page offers to start one.
	f.mu.Lock()
	f.fail["PendingTOTP"] = crm.NotFound("pending enrolment")
	f.mu.Unlock()
	w = do(t, srv, "GET", "/mfa/enrol", nil, withCookie(enrol))
	if !strings.Contains(w.Body.String(), `value="begin"`) {
		t.Error("no start button without a pending enrolment")
	}
}

// TestHalfSessionHeldOnMFA: with the fake service, every page but the MFA
// step redirects a half session there, and the challenge posts replace
// the cookie.
func TestHalfSessionHeldOnMFA(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	verify := f.addHalfSession(crm.MFAVerify, "en")
	enrol := f.addHalfSession(crm.MFAEnrol, "ru")
	for _, c := range []struct{ cookie, path, want string }{
		{verify, "/contacts", "/mfa?next=%2Fcontacts"},
		{verify, "/account/security", "/mfa?next=%2Faccount%2Fsecurity"},
		{enrol, "/contacts/1", "/mfa/enrol?next=%2Fcontacts%2F1"},
		{enrol, "/mfa", "/mfa/enrol"},
		{verify, "/login", "/mfa"},
		{verify, "/login?next=%2Fcontacts%2F1", "/mfa?next=%2Fcontacts%2F1"},
	} {
		wantRedirect(t, do(t, srv, "GET", c.path, nil, withCookie(c.cookie)), c.want)
	}
	w := do(t, srv, "POST", "/contacts", url.Values{"csrf": {"csrf-1"}, "first_name": {"X"}}, withCookie(verify))
	wantRedirect(t, w, "/mfa")
	// Russian texts.
	w = do(t, srv, "GET", "/mfa/enrol", nil, withCookie(enrol))
	if !strings.Contains(w.Body.String(), "приложение-аутентификатор") {
		t.Error("the enrolment page is not in Russian")
	}
	// A wrong code: 401 and the form again; a right one: a new cookie.
	csrf := f.sessions[verify].s.CSRFToken
	w = do(t, srv, "POST", "/mfa", url.Values{"csrf": {csrf}, "code": {"000000"}}, withCookie(verify))
	wantStatus(t, w, http.StatusUnauthorized)
	if !strings.Contains(w.Body.String(), "wrong or was already used") {
		t.Error("no failure message")
	}
	w = do(t, srv, "POST", "/mfa", url.Values{"csrf": {csrf}, "code": {"123456"}, "next": {"//evil.example"}}, withCookie(verify))
	wantRedirect(t, w, "/contacts")
	if c := sessionCookieOf(t, w); c.Value == "" || c.Value == verify {
		t.Errorf("cookie after the second factor: %+v", c)
	}
	for _, call := range []string{"CreateContact"} {
		for _, wr := range f.writes {
			if wr == call {
				t.Errorf("a half session reached %s", call)
			}
		}
	}
}

// TestStepUpRedirect: a guarded form posted without a recent step-up goes
// to the step-up page, which returns to the form's page.
func TestStepUpRedirect(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleAdmin, "en")
	f.mu.Lock()
	f.fail["RegenerateRecoveryCodes"] = crm.Errorf(crm.ESTEPUPREQUIRED, "confirm it is you")
	f.mu.Unlock()
	w := do(t, srv, "POST", "/account/security/recovery-codes", url.Values{"csrf": {sess.CSRFToken}, "return": {"/account/security"}}, withCookie(secret))
	wantRedirect(t, w, "/stepup?next=%2Faccount%2Fsecurity")
	w = do(t, srv, "POST", "/account/security/recovery-codes", url.Values{"csrf": {sess.CSRFToken}, "return": {"https://evil.example/"}}, withCookie(secret))
	wantRedirect(t, w, "/stepup?next=%2Faccount%2Fsecurity")
}

// FieldLevels: the fake's callers edit every field (the real rules are
// tested against the real service).
func (f *fakeServices) FieldLevels(p *crm.Principal) map[string]map[string]crm.FieldLevel { return nil }

// FindShares: the fake's contacts are shared with no one.
func (f *fakeServices) FindShares(ctx context.Context, p *crm.Principal, entity string, id int64) ([]*crm.Share, error) {
	return []*crm.Share{}, nil
}

// FindTeams: the fake has no teams.
func (f *fakeServices) FindTeams(ctx context.Context, p *crm.Principal) ([]*crm.Team, error) {
	return []*crm.Team{}, nil
}

// Permissions: the fake's callers may do nothing the tests rely on.
func (f *fakeServices) Permissions(p *crm.Principal) []string { return []string{} }

// CheckRecord: the fake's callers may do anything to what they read.
func (f *fakeServices) CheckRecord(ctx context.Context, p *crm.Principal, entity string, id int64, verb string) error {
	_, err := f.FindContactByID(ctx, p, id)
	return err
}
