package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/ui"
)

// fakeServices is the service layer as the UI tests need it: an in-memory
// set of sessions and contacts, and a record of every call that changes
// something. Methods not overridden here panic through the nil embedded
// interface, so a test notices when the UI calls something unexpected.
type fakeServices struct {
	Records
	Identity

	mu         sync.Mutex
	pending    bool
	sessions   map[string]*fakeSession // by secret
	nextSecret int
	contacts   map[int64]*crm.Contact
	companies  map[int64]*crm.Company
	timeline   []*crm.Activity
	nextCursor string
	fail       map[string]error // method name → forced error

	writes      []string // mutating calls, in order
	tokenCalls  int
	loggedOut   []string // session ids
	lastFilter  crm.ContactFilter
	lastList    crm.ListOptions
	lastInput   crm.ContactInput
	lastVersion int64
	lastAct     crm.ActivityInput
	setupCode   string
	setupInput  crm.UserInput
}

var (
	_ Records  = (*fakeServices)(nil)
	_ Identity = (*fakeServices)(nil)
)

type fakeSession struct {
	p crm.Principal
	s crm.Session
}

const (
	goodEmail    = "ana@example.com"
	goodPassword = "correct horse battery staple"
)

func newFake() *fakeServices {
	return &fakeServices{sessions: map[string]*fakeSession{}, contacts: map[int64]*crm.Contact{},
		companies: map[int64]*crm.Company{}, fail: map[string]error{}}
}

// addSession creates a session directly and returns its secret.
func (f *fakeServices) addSession(role crm.Role, lang string) (secret string, sess crm.Session) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextSecret++
	n := strconv.Itoa(f.nextSecret)
	secret = "secret-" + n
	sess = crm.Session{ID: "sess-" + n, UserID: 7, CSRFToken: "csrf-" + n, ExpiresAt: time.Now().Add(12 * time.Hour).UTC().Truncate(time.Second)}
	f.sessions[secret] = &fakeSession{p: crm.Principal{Kind: crm.KindSession, UserID: 7, Email: goodEmail, Name: "Ana Petrova",
		Role: role, Language: lang, SessionID: sess.ID}, s: sess}
	return secret, sess
}

func (f *fakeServices) wrote(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, call)
}

func (f *fakeServices) Authenticate(ctx context.Context, secret string) (*crm.Principal, *crm.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, ok := f.sessions[secret]
	if !ok {
		return nil, nil, crm.Errorf(crm.EUNAUTHENTICATED, "authentication required")
	}
	p, s := fs.p, fs.s
	return &p, &s, nil
}

func (f *fakeServices) AuthenticateToken(ctx context.Context, secret, _ string) (*crm.Principal, error) {
	f.mu.Lock()
	f.tokenCalls++
	f.mu.Unlock()
	return &crm.Principal{Kind: crm.KindToken, UserID: 7, Name: "Ana", Role: crm.RoleAdmin, Scope: crm.ScopeWrite}, nil
}

func (f *fakeServices) Login(ctx context.Context, email, password, ip, ua string) (*crm.User, *crm.Session, string, error) {
	switch {
	case email == "busy@example.com":
		return nil, nil, "", crm.Errorf(crm.ERATELIMITED, "the server is busy; try again in a moment")
	case email == "broken@example.com":
		return nil, nil, "", errors.New("sqlite: disk I/O error at /var/lib/custos/custos.db")
	case email != goodEmail || password != goodPassword:
		return nil, nil, "", crm.Errorf(crm.EUNAUTHENTICATED, "invalid email or password")
	}
	secret, sess := f.addSession(crm.RoleSales, "en")
	return &crm.User{ID: 7, Email: email, Name: "Ana Petrova", Role: crm.RoleSales}, &sess, secret, nil
}

func (f *fakeServices) Logout(ctx context.Context, p *crm.Principal) error {
	f.wrote("Logout")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loggedOut = append(f.loggedOut, p.SessionID)
	for k, s := range f.sessions {
		if s.s.ID == p.SessionID {
			delete(f.sessions, k)
		}
	}
	return nil
}

func (f *fakeServices) SetupPending(ctx context.Context) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pending, nil
}

func (f *fakeServices) CompleteSetup(ctx context.Context, code string, in crm.UserInput) (*crm.User, string, error) {
	f.wrote("CompleteSetup")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setupCode, f.setupInput = code, in
	if code != "GOOD-CODE" {
		return nil, "", crm.Errorf(crm.EFORBIDDEN, "the setup code is wrong, expired or already used")
	}
	if in.Password != nil && len(*in.Password) < 12 {
		return nil, "", &crm.Error{Code: crm.EINVALID, Message: "validation failed", Fields: map[string]string{"password": "must be at least 12 characters"}}
	}
	f.pending = false
	return &crm.User{ID: 1, Email: *in.Email, Role: crm.RoleAdmin}, "ENROL-SECRET", nil
}

func (f *fakeServices) FindUserByID(ctx context.Context, p *crm.Principal, id int64) (*crm.User, error) {
	return &crm.User{ID: id, Name: "Boris Ivanov"}, nil
}

func (f *fakeServices) FindUsers(ctx context.Context, p *crm.Principal) ([]*crm.User, error) {
	return []*crm.User{{ID: 7, Name: "Boris Ivanov"}}, nil
}

func (f *fakeServices) FindStaffMember(ctx context.Context, p *crm.Principal, id int64) (*crm.StaffMember, error) {
	return &crm.StaffMember{ID: id, Name: "Boris Ivanov", Role: crm.RoleSales}, nil
}

func (f *fakeServices) FindStaff(ctx context.Context, p *crm.Principal) ([]*crm.StaffMember, error) {
	return []*crm.StaffMember{{ID: 7, Name: "Boris Ivanov", Role: crm.RoleSales}}, nil
}

func (f *fakeServices) FindContacts(ctx context.Context, p *crm.Principal, fl crm.ContactFilter, o crm.ListOptions) (*crm.Page[*crm.Contact], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastFilter, f.lastList = fl, o
	if err := f.fail["FindContacts"]; err != nil {
		return nil, err
	}
	pg := &crm.Page[*crm.Contact]{Items: []*crm.Contact{}, NextCursor: f.nextCursor}
	for _, c := range f.contacts {
		pg.Items = append(pg.Items, c)
	}
	slices.SortFunc(pg.Items, func(a, b *crm.Contact) int { return int(a.ID - b.ID) })
	return pg, nil
}

func (f *fakeServices) FindContactByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail["FindContactByID"]; err != nil {
		return nil, err
	}
	c, ok := f.contacts[id]
	if !ok {
		return nil, crm.NotFound("contact")
	}
	return c, nil
}

func (f *fakeServices) CreateContact(ctx context.Context, p *crm.Principal, in crm.ContactInput) (*crm.Contact, error) {
	f.wrote("CreateContact")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastInput = in
	if err := f.fail["CreateContact"]; err != nil {
		return nil, err
	}
	return &crm.Contact{ID: 42}, nil
}

func (f *fakeServices) UpdateContact(ctx context.Context, p *crm.Principal, id int64, in crm.ContactInput, ifVersion int64) (*crm.Contact, error) {
	f.wrote("UpdateContact")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastInput, f.lastVersion = in, ifVersion
	c, ok := f.contacts[id]
	if !ok {
		return nil, crm.NotFound("contact")
	}
	if ifVersion != 0 && ifVersion != c.Version {
		return nil, crm.Errorf(crm.EPRECONDITION, "the record was changed by someone else; reload it and apply your change again")
	}
	return c, nil
}

func (f *fakeServices) DeleteContact(ctx context.Context, p *crm.Principal, id int64) error {
	f.wrote("DeleteContact")
	if _, err := f.FindContactByID(ctx, p, id); err != nil {
		return err
	}
	return nil
}

func (f *fakeServices) FindTimeline(ctx context.Context, p *crm.Principal, id int64, o crm.ListOptions) (*crm.Page[*crm.Activity], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &crm.Page[*crm.Activity]{Items: f.timeline}, nil
}

func (f *fakeServices) CreateActivity(ctx context.Context, p *crm.Principal, in crm.ActivityInput) (*crm.Activity, error) {
	f.wrote("CreateActivity")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAct = in
	if in.Subject == nil || strings.TrimSpace(*in.Subject) == "" {
		return nil, &crm.Error{Code: crm.EINVALID, Message: "validation failed", Fields: map[string]string{"subject": "required"}}
	}
	return &crm.Activity{ID: 9}, nil
}

func (f *fakeServices) FindCompanies(ctx context.Context, p *crm.Principal, fl crm.CompanyFilter, o crm.ListOptions) (*crm.Page[*crm.Company], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pg := &crm.Page[*crm.Company]{}
	for _, c := range f.companies {
		if len(fl.IDs) == 0 || slices.Contains(fl.IDs, c.ID) {
			pg.Items = append(pg.Items, c)
		}
	}
	return pg, nil
}

func (f *fakeServices) FindCompanyByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Company, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.companies[id]
	if !ok {
		return nil, crm.NotFound("company")
	}
	return c, nil
}

// testUI returns a server over a fake with one ordinary contact.
func testUI(t *testing.T) (*Server, *fakeServices) {
	t.Helper()
	f := newFake()
	co := int64(3)
	f.companies[3] = &crm.Company{ID: 3, Name: "Acme"}
	f.contacts[1] = &crm.Contact{ID: 1, FirstName: "Ivan", LastName: "Sidorov", Email: "ivan@example.com", Phone: "+79161234567",
		CompanyID: &co, Tags: []string{"vip"}, OwnerID: 7, Version: 2, CreatedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		UpdatedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	srv := New(f, f, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return srv, f
}

type reqOption func(*http.Request)

func withCookie(secret string) reqOption {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: SessionCookie, Value: secret}) }
}

func withHeader(k, v string) reqOption {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// do sends one request; form, when not nil, is the urlencoded body.
func do(t *testing.T, h http.Handler, method, target string, form url.Values, opts ...reqOption) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status = %d, want %d; body:\n%.2000s", w.Code, want, w.Body.String())
	}
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, location string) {
	t.Helper()
	wantStatus(t, w, http.StatusSeeOther)
	if got := w.Header().Get("Location"); got != location {
		t.Fatalf("Location = %q, want %q", got, location)
	}
}

func sessionCookieOf(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %q", SessionCookie, w.Header().Values("Set-Cookie"))
	return nil
}

// ASVS v5.0.0-3.3.2, 3.3.3, 3.3.4; AUTH-5: the session cookie after login.
func TestLoginSetsHardenedCookie(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	w := do(t, srv, "POST", "/login", url.Values{"email": {goodEmail}, "password": {goodPassword}})
	wantRedirect(t, w, "/contacts")

	c := sessionCookieOf(t, w)
	f.mu.Lock()
	fs, ok := f.sessions[c.Value]
	f.mu.Unlock()
	if !ok {
		t.Fatalf("cookie value %q is not the secret Login returned", c.Value)
	}
	if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie attributes = %+v; want __Host- name, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain", c)
	}
	if !c.Expires.Equal(fs.s.ExpiresAt) {
		t.Errorf("Expires = %v, want the session's absolute timeout %v", c.Expires, fs.s.ExpiresAt)
	}
	raw := w.Header().Get("Set-Cookie")
	for _, want := range []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(raw, want) {
			t.Errorf("Set-Cookie %q lacks %s", raw, want)
		}
	}
	if strings.Contains(strings.ToLower(raw), "domain=") {
		t.Errorf("Set-Cookie %q has a Domain: __Host- forbids it", raw)
	}
}

// ASVS v5.0.0-6.3.8, attack 18: one message for unknown users and wrong
// passwords; the password is never echoed; 401. Rate limiting is 429.
func TestLoginFailure(t *testing.T) {
	t.Parallel()
	srv, _ := testUI(t)
	tests := []struct {
		name, email, password string
		status                int
		want                  string
	}{
		{"wrong password", goodEmail, "not-the-password-1", http.StatusUnauthorized, "Invalid email or password."},
		{"unknown user", "nobody@example.com", "not-the-password-2", http.StatusUnauthorized, "Invalid email or password."},
		{"rate limited", "busy@example.com", "not-the-password-3", http.StatusTooManyRequests, "Too many attempts"},
		{"internal", "broken@example.com", "not-the-password-4", http.StatusInternalServerError, "An unexpected error occurred"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, srv, "POST", "/login", url.Values{"email": {tt.email}, "password": {tt.password}})
			wantStatus(t, w, tt.status)
			body := w.Body.String()
			if !strings.Contains(body, tt.want) {
				t.Errorf("body lacks %q", tt.want)
			}
			if !strings.Contains(body, `value="`+tt.email+`"`) {
				t.Errorf("the email was not kept in the form")
			}
			for _, leak := range []string{tt.password, "sqlite", "/var/lib", "disk I/O"} {
				if strings.Contains(body, leak) {
					t.Errorf("body contains %q", leak)
				}
			}
			if len(w.Result().Cookies()) != 0 {
				t.Errorf("a failed login set cookies: %v", w.Result().Cookies())
			}
		})
	}
}

// Open redirect after login: next must be a local path.
func TestLoginNextIsLocalOnly(t *testing.T) {
	t.Parallel()
	srv, _ := testUI(t)
	tests := []struct{ next, want string }{
		{"/contacts/1", "/contacts/1"},
		{"/contacts?q=ivan", "/contacts?q=ivan"},
		{"", "/contacts"},
		{"//evil.example", "/contacts"},
		{"https://evil.example", "/contacts"},
		{"/\\evil.example", "/contacts"},
		{"\\\\evil.example", "/contacts"},
		{"/\t/evil.example", "/contacts"},
		{"javascript:alert(1)", "/contacts"},
		{"contacts", "/contacts"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			w := do(t, srv, "POST", "/login", url.Values{"email": {goodEmail}, "password": {goodPassword}, "next": {tt.next}})
			wantRedirect(t, w, tt.want)
		})
	}
	// A foreign next is not even carried into the form.
	w := do(t, srv, "GET", "/login?next="+url.QueryEscape("//evil.example"), nil)
	wantStatus(t, w, http.StatusOK)
	if strings.Contains(w.Body.String(), "evil.example") {
		t.Error("the login form carries a foreign next")
	}
}

// Attack 8, session fixation (ASVS v5.0.0-7.2.4): a planted session does
// not survive login, and the new cookie is a fresh secret.
func TestLoginEndsPlantedSession(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	planted, plantedSess := f.addSession(crm.RoleSales, "en")
	w := do(t, srv, "POST", "/login", url.Values{"email": {goodEmail}, "password": {goodPassword}}, withCookie(planted))
	wantRedirect(t, w, "/contacts")
	if c := sessionCookieOf(t, w); c.Value == planted {
		t.Fatal("login kept the planted session secret")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.loggedOut, plantedSess.ID) {
		t.Errorf("the planted session %s was not ended; logged out: %v", plantedSess.ID, f.loggedOut)
	}
	if _, alive := f.sessions[planted]; alive {
		t.Error("the planted session is still alive")
	}
}

// ASVS v5.0.0-8.2.1: every page needs a session; anonymous browsers are
// sent to the login page with a local next.
func TestPagesRequireSession(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	tests := []struct{ method, path, want string }{
		{"GET", "/contacts", "/login?next=%2Fcontacts"},
		{"GET", "/contacts?q=ivan", "/login?next=%2Fcontacts%3Fq%3Divan"},
		{"GET", "/contacts/new", "/login?next=%2Fcontacts%2Fnew"},
		{"GET", "/contacts/1", "/login?next=%2Fcontacts%2F1"},
		{"GET", "/contacts/1/edit", "/login?next=%2Fcontacts%2F1%2Fedit"},
		{"GET", "/contacts/1/delete", "/login?next=%2Fcontacts%2F1%2Fdelete"},
		{"POST", "/contacts", "/login"},
		{"POST", "/contacts/1", "/login"},
		{"POST", "/contacts/1/delete", "/login"},
		{"POST", "/contacts/1/activities", "/login"},
		{"POST", "/logout", "/login"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{"csrf": {"x"}, "subject": {"s"}}
			}
			wantRedirect(t, do(t, srv, tt.method, tt.path, form), tt.want)
			// An unknown or expired session is no session, and its cookie is dropped.
			w := do(t, srv, tt.method, tt.path, form, withCookie("expired-secret"))
			wantRedirect(t, w, tt.want)
			if c := sessionCookieOf(t, w); c.MaxAge >= 0 {
				t.Errorf("stale cookie not cleared: %+v", c)
			}
		})
	}
	if len(f.writes) != 0 {
		t.Errorf("service writes without a session: %v", f.writes)
	}
}

// The UI takes the session cookie only: a valid bearer token opens no page.
func TestBearerTokenDoesNotOpenUI(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	for _, path := range []string{"/contacts", "/contacts/1"} {
		w := do(t, srv, "GET", path, nil, withHeader("Authorization", "Bearer ctk_valid"))
		wantStatus(t, w, http.StatusSeeOther)
		if !strings.HasPrefix(w.Header().Get("Location"), "/login") {
			t.Errorf("%s: Location = %q", path, w.Header().Get("Location"))
		}
	}
	w := do(t, srv, "POST", "/contacts", url.Values{"first_name": {"X"}}, withHeader("Authorization", "Bearer ctk_valid"))
	wantRedirect(t, w, "/login")
	if f.tokenCalls != 0 || len(f.writes) != 0 {
		t.Errorf("token resolved %d times, writes %v; want none", f.tokenCalls, f.writes)
	}
}

// Attack 4, CSRF (ASVS v5.0.0-3.5.1): every POST form needs the session's
// token; without it or with a wrong one the answer is 403 and the service
// is not called.
func TestCSRFTokenRequired(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")
	_, other := f.addSession(crm.RoleSales, "en")
	paths := []string{"/contacts", "/contacts/1", "/contacts/1/delete", "/contacts/1/activities", "/logout"}
	tokens := []struct {
		name  string
		token []string
	}{
		{"missing", nil},
		{"empty", []string{""}},
		{"wrong", []string{"csrf-guess"}},
		{"another session's", []string{other.CSRFToken}},
		{"prefix", []string{sess.CSRFToken[:len(sess.CSRFToken)-1]}},
	}
	for _, path := range paths {
		for _, tok := range tokens {
			t.Run(path+" "+tok.name, func(t *testing.T) {
				form := url.Values{"first_name": {"Eve"}, "version": {"2"}, "type": {"note"}, "subject": {"x"}}
				if tok.token != nil {
					form["csrf"] = tok.token
				}
				w := do(t, srv, "POST", path, form, withCookie(secret))
				wantStatus(t, w, http.StatusForbidden)
				if !strings.Contains(w.Body.String(), "This form has expired") {
					t.Error("the 403 page does not explain the CSRF failure")
				}
			})
		}
	}
	// A token in the query string does not count either.
	w := do(t, srv, "POST", "/contacts/1/delete?csrf="+sess.CSRFToken, url.Values{}, withCookie(secret))
	wantStatus(t, w, http.StatusForbidden)

	f.mu.Lock()
	if len(f.writes) != 0 {
		t.Errorf("the service was called despite a bad CSRF token: %v", f.writes)
	}
	f.mu.Unlock()

	// Control: the right token passes.
	w = do(t, srv, "POST", "/contacts/1/delete", url.Values{"csrf": {sess.CSRFToken}}, withCookie(secret))
	wantRedirect(t, w, "/contacts?notice=deleted")
}

// Attack 4: a cross-site browser POST is refused by CrossOriginProtection
// even with a valid cookie and token (ASVS v5.0.0-3.5.1).
func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")
	for _, path := range []string{"/contacts/1/delete", "/login", "/setup"} {
		w := do(t, srv, "POST", path, url.Values{"csrf": {sess.CSRFToken}, "email": {goodEmail}, "password": {goodPassword}},
			withCookie(secret), withHeader("Sec-Fetch-Site", "cross-site"))
		wantStatus(t, w, http.StatusForbidden)
	}
	if len(f.writes) != 0 {
		t.Errorf("writes despite cross-site requests: %v", f.writes)
	}
}

// Attack 5, stored XSS (ASVS v5.0.0-1.2.1, WSTG-INPV-02): payloads stored in
// a contact's fields come out escaped on the list and the detail page.
func TestStoredXSSIsEscaped(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, _ := f.addSession(crm.RoleSales, "en")
	co := int64(66)
	f.companies[66] = &crm.Company{ID: 66, Name: `<svg onload=alert(4)>`}
	f.contacts[5] = &crm.Contact{ID: 5, FirstName: `<script>alert(1)</script>`, LastName: `"><img src=x onerror=alert(1)>`,
		Title: `'><svg/onload=alert(2)>`, Email: `javascript:alert(3)`, Phone: `javascript:alert(3)`,
		Notes: "</textarea><script>alert(5)</script>", Address: `<a href="javascript:alert(6)">x</a>`,
		Tags: []string{`"><script>alert(7)</script>`, `javascript:alert(8)`}, CompanyID: &co, OwnerID: 7, Version: 1,
		Preferences: crm.Preferences{Channel: `<b>x</b>`, Language: `"><i>`}}
	f.timeline = []*crm.Activity{{ID: 1, Type: `note"><script>alert(9)</script>`, Subject: `<img src=x onerror=alert(10)>`,
		Body: `<iframe src="javascript:alert(11)"></iframe>`, OccurredAt: time.Now()}}

	raw := []string{
		`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `<svg/onload=alert(2)>`, `<svg onload=alert(4)>`,
		`<script>alert(5)</script>`, `<a href="javascript:alert(6)">`, `<script>alert(7)</script>`, `<b>x</b>`,
		`<script>alert(9)</script>`, `<img src=x onerror=alert(10)>`, `<iframe`,
	}
	escaped := []string{`&lt;script&gt;alert(1)&lt;/script&gt;`, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`}

	for _, path := range []string{"/contacts", "/contacts/5", "/contacts/5/edit", "/contacts/5/delete"} {
		t.Run(path, func(t *testing.T) {
			w := do(t, srv, "GET", path, nil, withCookie(secret))
			wantStatus(t, w, http.StatusOK)
			body := w.Body.String()
			for _, p := range raw {
				if strings.Contains(body, p) {
					t.Errorf("raw payload %q in the page", p)
				}
			}
			for _, e := range escaped {
				if !strings.Contains(body, e) {
					t.Errorf("escaped form %q missing", e)
				}
			}
			for _, tag := range scanTags(t, body) {
				if tag.name == "img" || tag.name == "iframe" || tag.name == "svg" && tag.attrs["class"] == "" {
					t.Errorf("injected element <%s %v>", tag.name, tag.attrs)
				}
				for _, a := range []string{"href", "src", "action"} {
					if v, ok := tag.attrs[a]; ok && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "javascript:") {
						t.Errorf("<%s %s=%q>: a javascript: URL", tag.name, a, v)
					}
				}
			}
			checkCSPSafe(t, body)
		})
	}
}

// htmlTag is a start tag found by scanTags.
type htmlTag struct {
	name  string
	attrs map[string]string
}

// scanTags is a small HTML start-tag scanner: enough for html/template's
// output, whose attribute values never contain a raw quote or '<'.
func scanTags(t *testing.T, s string) []htmlTag {
	t.Helper()
	var out []htmlTag
	for i := 0; i < len(s); i++ {
		if s[i] != '<' || i+1 >= len(s) || !isLetter(s[i+1]) {
			continue
		}
		j := i + 1
		for j < len(s) && !isSpace(s[j]) && s[j] != '>' && s[j] != '/' {
			j++
		}
		tag := htmlTag{name: strings.ToLower(s[i+1 : j]), attrs: map[string]string{}}
		for j < len(s) && s[j] != '>' {
			if isSpace(s[j]) || s[j] == '/' {
				j++
				continue
			}
			k := j
			for k < len(s) && !isSpace(s[k]) && s[k] != '=' && s[k] != '>' {
				k++
			}
			name := strings.ToLower(s[j:k])
			val := ""
			j = k
			if j < len(s) && s[j] == '=' {
				j++
				if j < len(s) && (s[j] == '"' || s[j] == '\'') {
					q := s[j]
					end := strings.IndexByte(s[j+1:], q)
					if end < 0 {
						t.Fatalf("unterminated attribute in %.80q", s[i:])
					}
					val = s[j+1 : j+1+end]
					j += end + 2
				} else {
					k = j
					for k < len(s) && !isSpace(s[k]) && s[k] != '>' {
						k++
					}
					val = s[j:k]
					j = k
				}
			}
			tag.attrs[name] = val
		}
		out = append(out, tag)
		i = j
	}
	return out
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
func isSpace(b byte) bool  { return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' }

var scriptRe = regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`)

// checkCSPSafe fails on anything the CSP would block or that weakens it:
// inline script, <style> blocks, style attributes, on* handlers
// (ASVS v5.0.0-3.4.3, SHD-5).
func checkCSPSafe(t *testing.T, body string) {
	t.Helper()
	for _, m := range scriptRe.FindAllStringSubmatch(body, -1) {
		if strings.TrimSpace(m[1]) != "" {
			t.Errorf("inline script: %.80q", m[0])
		}
	}
	for _, tag := range scanTags(t, body) {
		if tag.name == "style" {
			t.Error("<style> block")
		}
		if tag.name == "script" && tag.attrs["src"] == "" {
			t.Error("<script> without src")
		}
		for name := range tag.attrs {
			if name == "style" || strings.HasPrefix(name, "on") {
				t.Errorf("<%s %s=...>: attribute forbidden by the CSP", tag.name, name)
			}
		}
	}
	if !strings.Contains(body, "<html lang=\"") {
		t.Error("no <html lang>")
	}
}

// SHD-5, ASVS v5.0.0-3.4.3, 3.4.4, 3.4.6, 14.3.2: every page carries the
// CSP and the other headers, is not cached, and has no inline script or
// style.
func TestPagesAreCSPSafe(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, _ := f.addSession(crm.RoleAdmin, "en")
	f.timeline = []*crm.Activity{{ID: 1, Type: crm.ActivityCall, Subject: "Intro call", Body: "Discussed the renewal.", OccurredAt: time.Now()}}
	pending, pendingFake := testUI(t)
	pendingFake.pending = true

	tests := []struct {
		name   string
		h      http.Handler
		path   string
		cookie string
		status int
	}{
		{"login", srv, "/login", "", http.StatusOK},
		{"setup", pending, "/setup", "", http.StatusOK},
		{"list", srv, "/contacts", secret, http.StatusOK},
		{"detail", srv, "/contacts/1", secret, http.StatusOK},
		{"new", srv, "/contacts/new", secret, http.StatusOK},
		{"edit", srv, "/contacts/1/edit", secret, http.StatusOK},
		{"delete", srv, "/contacts/1/delete", secret, http.StatusOK},
		{"not found", srv, "/contacts/999", secret, http.StatusNotFound},
		{"bad id", srv, "/contacts/abc", secret, http.StatusNotFound},
		{"bad query", srv, "/contacts?evil=1", secret, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []reqOption
			if tt.cookie != "" {
				opts = append(opts, withCookie(tt.cookie))
			}
			w := do(t, tt.h, "GET", tt.path, nil, opts...)
			wantStatus(t, w, tt.status)
			h := w.Header()
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %q", csp, d)
				}
			}
			if strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP allows unsafe-inline: %q", csp)
			}
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
				"Content-Type": "text/html; charset=utf-8", "X-Frame-Options": "DENY"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			checkCSPSafe(t, w.Body.String())
		})
	}
}

// CORE-6: Russian pages by Accept-Language, and the user's own setting
// over the browser's.
func TestRussian(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	w := do(t, srv, "GET", "/login", nil, withHeader("Accept-Language", "ru-RU,ru;q=0.9,en;q=0.8"))
	wantStatus(t, w, http.StatusOK)
	body := w.Body.String()
	for _, want := range []string{`<html lang="ru">`, "<title>Вход · Custos</title>", "Эл. почта", "Пароль", "Войти"} {
		if !strings.Contains(body, want) {
			t.Errorf("Russian login page lacks %q", want)
		}
	}
	w = do(t, srv, "POST", "/login", url.Values{"email": {"x@example.com"}, "password": {"wrong-password"}},
		withHeader("Accept-Language", "ru"))
	wantStatus(t, w, http.StatusUnauthorized)
	if !strings.Contains(w.Body.String(), "Неверная эл. почта или пароль.") {
		t.Error("the login failure is not in Russian")
	}

	ru, _ := f.addSession(crm.RoleSales, "ru")
	w = do(t, srv, "GET", "/contacts", nil, withCookie(ru), withHeader("Accept-Language", "en-US"))
	wantStatus(t, w, http.StatusOK)
	for _, want := range []string{`<html lang="ru">`, "Контакты", "Продажи", "Выйти", "Ответственный"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the Russian user's list lacks %q", want)
		}
	}
	en, _ := f.addSession(crm.RoleSales, "en")
	w = do(t, srv, "GET", "/contacts", nil, withCookie(en), withHeader("Accept-Language", "ru"))
	if !strings.Contains(w.Body.String(), `<html lang="en">`) {
		t.Error("the English user's setting did not win over Accept-Language")
	}
}

// CORE-4: the setup page exists only while no user does.
func TestSetupOnlyWhilePending(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	wantRedirect(t, do(t, srv, "GET", "/setup", nil), "/login")
	form := url.Values{"code": {"GOOD-CODE"}, "name": {"Root"}, "email": {"root@example.com"},
		"password": {"a long enough passphrase"}, "password_confirm": {"a long enough passphrase"}}
	wantRedirect(t, do(t, srv, "POST", "/setup", form), "/login")
	if len(f.writes) != 0 {
		t.Fatalf("CompleteSetup called after setup: %v", f.writes)
	}

	f.mu.Lock()
	f.pending = true
	f.mu.Unlock()
	wantRedirect(t, do(t, srv, "GET", "/login", nil), "/setup")
	w := do(t, srv, "GET", "/setup", nil)
	wantStatus(t, w, http.StatusOK)
	for _, field := range []string{`name="code"`, `name="email"`, `name="name"`, `name="password"`, `name="password_confirm"`} {
		if !strings.Contains(w.Body.String(), field) {
			t.Errorf("setup form lacks %s", field)
		}
	}

	t.Run("mismatch", func(t *testing.T) {
		bad := url.Values{"code": {"GOOD-CODE"}, "email": {"root@example.com"}, "password": {"a long enough passphrase"}, "password_confirm": {"something else entirely"}}
		w := do(t, srv, "POST", "/setup", bad)
		wantStatus(t, w, http.StatusBadRequest)
		body := w.Body.String()
		if !strings.Contains(body, "does not match the password") || !strings.Contains(body, `value="root@example.com"`) {
			t.Errorf("mismatch not shown next to the field with the input kept:\n%s", body)
		}
		for _, secret := range []string{"a long enough passphrase", "something else entirely", "GOOD-CODE"} {
			if strings.Contains(body, secret) {
				t.Errorf("secret %q echoed", secret)
			}
		}
	})
	t.Run("field error", func(t *testing.T) {
		short := url.Values{"code": {"GOOD-CODE"}, "email": {"root@example.com"}, "password": {"short"}, "password_confirm": {"short"}}
		w := do(t, srv, "POST", "/setup", short)
		wantStatus(t, w, http.StatusBadRequest)
		if !strings.Contains(w.Body.String(), "must be at least 12 characters") {
			t.Error("password field error missing")
		}
	})
	t.Run("wrong code", func(t *testing.T) {
		wrong := url.Values{"code": {"BAD"}, "email": {"root@example.com"}, "password": {"a long enough passphrase"}, "password_confirm": {"a long enough passphrase"}}
		w := do(t, srv, "POST", "/setup", wrong)
		wantStatus(t, w, http.StatusForbidden)
		if !strings.Contains(w.Body.String(), "The setup code is wrong") {
			t.Error("wrong code not explained")
		}
	})

	// The first administrator goes on to their enrolment link.
	wantRedirect(t, do(t, srv, "POST", "/setup", form), "/enrol/ENROL-SECRET")
	if f.setupCode != "GOOD-CODE" || f.setupInput.Email == nil || *f.setupInput.Email != "root@example.com" ||
		f.setupInput.Language == nil || *f.setupInput.Language != "en" {
		t.Errorf("CompleteSetup got code %q, input %+v", f.setupCode, f.setupInput)
	}
	w = do(t, srv, "GET", "/login?notice=setup", nil)
	if !strings.Contains(w.Body.String(), "Setup is complete") {
		t.Error("no flash message after setup")
	}
	wantRedirect(t, do(t, srv, "GET", "/setup", nil), "/login")
}

// AUTH-5, ASVS v5.0.0-7.4.1: logout ends the session on the server and
// clears the cookie; there is no GET logout.
func TestLogout(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")
	if w := do(t, srv, "GET", "/logout", nil, withCookie(secret)); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout = %d, want 405", w.Code)
	}
	w := do(t, srv, "POST", "/logout", url.Values{"csrf": {sess.CSRFToken}}, withCookie(secret))
	wantRedirect(t, w, "/login?notice=signed_out")
	c := sessionCookieOf(t, w)
	if c.MaxAge >= 0 || c.Value != "" || !c.Secure || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cleared cookie = %+v", c)
	}
	if !slices.Contains(f.loggedOut, sess.ID) {
		t.Errorf("Logout not called for %s", sess.ID)
	}
	// The old cookie opens nothing any more.
	wantRedirect(t, do(t, srv, "GET", "/contacts", nil, withCookie(secret)), "/login?next=%2Fcontacts")
}

func TestContactsList(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, _ := f.addSession(crm.RoleSales, "en")
	f.nextCursor = "CUR123"
	w := do(t, srv, "GET", "/contacts?q=iva&tag=vip&sort=-created_at", nil, withCookie(secret))
	wantStatus(t, w, http.StatusOK)
	if f.lastFilter.Q != "iva" || f.lastFilter.Tag != "vip" || f.lastList.Sort != "-created_at" || f.lastList.Limit != ui.ContactsPerPage {
		t.Errorf("filter %+v, options %+v", f.lastFilter, f.lastList)
	}
	body := w.Body.String()
	for _, want := range []string{"Ivan Sidorov", "ivan@example.com", "79161234567", "Acme", "vip", "Ana Petrova",
		`href="/contacts/1"`, `cursor=CUR123`, `value="iva"`, `<option value="-created_at" selected>`} {
		if !strings.Contains(body, want) {
			t.Errorf("list lacks %q", want)
		}
	}

	f.mu.Lock()
	f.contacts = map[int64]*crm.Contact{}
	f.nextCursor = ""
	f.mu.Unlock()
	w = do(t, srv, "GET", "/contacts", nil, withCookie(secret))
	if !strings.Contains(w.Body.String(), "No contacts yet") {
		t.Error("no empty state")
	}

	// Attack 6: a sort outside the whitelist is the service's 400, shown on the page.
	f.fail["FindContacts"] = &crm.Error{Code: crm.EINVALID, Message: "validation failed", Fields: map[string]string{"sort": "must be one of last_name, first_name"}}
	w = do(t, srv, "GET", "/contacts?sort=name%3BDROP", nil, withCookie(secret))
	wantStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "must be one of last_name") {
		t.Error("sort error not shown")
	}
}

func TestContactDetailAndActivity(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")
	f.timeline = []*crm.Activity{
		{ID: 2, Type: crm.ActivityMeeting, Subject: "Contract review", OccurredAt: time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)},
		{ID: 1, Type: crm.ActivityCall, Subject: "First call", Body: "Asked for a quote.", OccurredAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)},
	}
	w := do(t, srv, "GET", "/contacts/1", nil, withCookie(secret))
	wantStatus(t, w, http.StatusOK)
	body := w.Body.String()
	for _, want := range []string{"Ivan Sidorov", "Acme", "Interaction history", "Contract review", "Asked for a quote.", "Meeting",
		`action="/contacts/1/activities"`, `name="csrf" value="` + sess.CSRFToken + `"`, `href="/contacts/1/edit"`, `href="/contacts/1/delete"`} {
		if !strings.Contains(body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if strings.Index(body, "Contract review") > strings.Index(body, "First call") {
		t.Error("timeline not newest first")
	}

	w = do(t, srv, "POST", "/contacts/1/activities", url.Values{"csrf": {sess.CSRFToken}, "type": {"call"}, "subject": {"Follow-up"}, "body": {"Sent the offer."}}, withCookie(secret))
	wantRedirect(t, w, "/contacts/1?notice=activity#timeline")
	if in := f.lastAct; !in.ContactID.Valid || in.ContactID.V != 1 || *in.Type != "call" || *in.Subject != "Follow-up" || *in.Body != "Sent the offer." {
		t.Errorf("CreateActivity got %+v", in)
	}

	w = do(t, srv, "POST", "/contacts/1/activities", url.Values{"csrf": {sess.CSRFToken}, "type": {"email"}, "subject": {""}, "body": {"kept body"}}, withCookie(secret))
	wantStatus(t, w, http.StatusBadRequest)
	if body := w.Body.String(); !strings.Contains(body, "kept body") || !strings.Contains(body, `class="field-error"`) {
		t.Error("activity form errors or input missing")
	}
}

// Forms keep the input and show the service's reasons next to fields;
// concurrent edits are refused with a clear message.
func TestContactForms(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")

	w := do(t, srv, "GET", "/contacts/1/edit", nil, withCookie(secret))
	wantStatus(t, w, http.StatusOK)
	for _, want := range []string{`name="version" value="2"`, `value="Ivan"`, `<option value="3" selected>Acme</option>`, `value="vip"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("edit form lacks %q", want)
		}
	}

	form := url.Values{"csrf": {sess.CSRFToken}, "first_name": {"Olga"}, "last_name": {"K"}, "email": {"not-an-email"},
		"tags": {"a, b ,,c"}, "company_id": {"3"}, "channel": {"email"}, "do_not_contact": {"on"}, "owner_id": {"1"}}
	f.fail["CreateContact"] = &crm.Error{Code: crm.EINVALID, Message: "validation failed", Fields: map[string]string{"email": "must be a valid email address"}}
	w = do(t, srv, "POST", "/contacts", form, withCookie(secret))
	wantStatus(t, w, http.StatusBadRequest)
	body := w.Body.String()
	for _, want := range []string{`value="Olga"`, `value="not-an-email"`, "must be a valid email address", `aria-invalid="true"`} {
		if !strings.Contains(body, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}
	in := f.lastInput
	if got := *in.Tags; !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("tags = %q", got)
	}
	if !in.CompanyID.Valid || in.CompanyID.V != 3 || !*in.Preferences.DoNotContact || *in.Preferences.Channel != "email" {
		t.Errorf("input = %+v", in)
	}
	// Attack 2, mass assignment (ASVS v5.0.0-15.3.3): owner_id is not a form field.
	if in.OwnerID != nil {
		t.Error("owner_id from the form reached the service")
	}

	delete(f.fail, "CreateContact")
	w = do(t, srv, "POST", "/contacts", form, withCookie(secret))
	wantRedirect(t, w, "/contacts/42?notice=created")

	// Stale version: someone saved version 2 after this form loaded version 1.
	stale := url.Values{"csrf": {sess.CSRFToken}, "version": {"1"}, "first_name": {"Ivan"}, "last_name": {"Changed"}}
	w = do(t, srv, "POST", "/contacts/1", stale, withCookie(secret))
	wantStatus(t, w, http.StatusPreconditionFailed)
	if f.lastVersion != 1 {
		t.Errorf("ifVersion = %d, want 1", f.lastVersion)
	}
	if body := w.Body.String(); !strings.Contains(body, "Someone else changed this contact") || !strings.Contains(body, `value="Changed"`) {
		t.Error("stale edit not explained, or input lost")
	}
	// A form without a version is refused, never saved unconditionally.
	w = do(t, srv, "POST", "/contacts/1", url.Values{"csrf": {sess.CSRFToken}, "first_name": {"X"}}, withCookie(secret))
	wantStatus(t, w, http.StatusBadRequest)

	stale.Set("version", "2")
	wantRedirect(t, do(t, srv, "POST", "/contacts/1", stale, withCookie(secret)), "/contacts/1?notice=updated")
}

func TestDeleteNeedsConfirmation(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")
	w := do(t, srv, "GET", "/contacts/1/delete", nil, withCookie(secret))
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `action="/contacts/1/delete"`) || len(f.writes) != 0 {
		t.Fatalf("confirmation page wrong or it deleted already: %v", f.writes)
	}
	wantRedirect(t, do(t, srv, "POST", "/contacts/1/delete", url.Values{"csrf": {sess.CSRFToken}}, withCookie(secret)), "/contacts?notice=deleted")
	if !slices.Equal(f.writes, []string{"DeleteContact"}) {
		t.Errorf("writes = %v", f.writes)
	}
	w = do(t, srv, "GET", "/contacts?notice=deleted", nil, withCookie(secret))
	if !strings.Contains(w.Body.String(), "Contact deleted") {
		t.Error("no confirmation after delete")
	}
}

// ASVS v5.0.0-16.5.1: error pages by code; internal details never shown.
func TestErrorPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"not found", crm.NotFound("contact"), http.StatusNotFound, "Not found"},
		{"forbidden", crm.Errorf(crm.EFORBIDDEN, "forbidden"), http.StatusForbidden, "Access denied"},
		{"internal", errors.New("sqlite: no such table: contacts_secret"), http.StatusInternalServerError, "An unexpected error occurred"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, f := testUI(t)
			secret, _ := f.addSession(crm.RoleSales, "en")
			f.fail["FindContactByID"] = tt.err
			w := do(t, srv, "GET", "/contacts/1", nil, withCookie(secret))
			wantStatus(t, w, tt.status)
			body := w.Body.String()
			if !strings.Contains(body, tt.want) {
				t.Errorf("page lacks %q", tt.want)
			}
			if strings.Contains(body, "sqlite") || strings.Contains(body, "contacts_secret") {
				t.Error("internal error text leaked")
			}
			if tt.status == http.StatusInternalServerError && !strings.Contains(body, w.Header().Get("X-Request-Id")) {
				t.Error("500 page lacks the request id")
			}
			checkCSPSafe(t, body)
		})
	}
}

func TestStaticAndRoot(t *testing.T) {
	t.Parallel()
	srv, _ := testUI(t)
	wantRedirect(t, do(t, srv, "GET", "/", nil), "/contacts")
	tests := []struct{ path, ctype string }{
		{"/static/app.css", "text/css; charset=utf-8"},
		{"/static/app.js", "text/javascript; charset=utf-8"},
		{"/static/favicon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		w := do(t, srv, "GET", tt.path, nil)
		wantStatus(t, w, http.StatusOK)
		if got := w.Header().Get("Content-Type"); got != tt.ctype {
			t.Errorf("%s: Content-Type = %q, want %q", tt.path, got, tt.ctype)
		}
		if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control = %q", tt.path, cc)
		}
		if w.Body.Len() == 0 {
			t.Errorf("%s: empty", tt.path)
		}
		etag := w.Header().Get("ETag")
		w = do(t, srv, "GET", tt.path, nil, withHeader("If-None-Match", etag))
		wantStatus(t, w, http.StatusNotModified)
	}
	for _, p := range []string{"/static/nope.js", "/static/../ui.go", "/static/"} {
		if w := do(t, srv, "GET", p, nil); w.Code == http.StatusOK {
			t.Errorf("%s = 200", p)
		}
	}
}
