package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/web"
)

// apiFixture is the real router over the real service and an embedded store.
type apiFixture struct {
	srv    *httptest.Server
	svc    *service.Service
	tokens map[string]string // name → bearer token
	users  map[string]*crm.User
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	ctx := context.Background()
	db := testkit.SQLite(t)
	svc := service.New(db, service.Options{Logger: slog.New(slog.DiscardHandler)})
	idn := identity.New(db, identity.Options{Logger: slog.New(slog.DiscardHandler), Hasher: testkit.Hasher()})
	f := &apiFixture{svc: svc, tokens: map[string]string{}, users: map[string]*crm.User{}}
	for name, role := range map[string]crm.Role{"admin": crm.RoleAdmin, "alice": crm.RoleSales, "bob": crm.RoleSales,
		"auditor": crm.RoleAuditor, "reader": crm.RoleReadOnly} {
		email, pw := name+"@example.com", "correct horse battery staple"
		u, err := idn.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		f.users[name] = u
		nt, err := idn.CreateToken(ctx, crm.SystemPrincipal(), u.ID, "t", crm.ScopeWrite, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = nt.Secret
	}
	nt, _ := idn.CreateToken(ctx, crm.SystemPrincipal(), f.users["alice"].ID, "ro", crm.ScopeRead, time.Hour)
	f.tokens["alice-read"] = nt.Secret
	f.srv = httptest.NewServer(web.New(svc, idn, web.Options{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(f.srv.Close)
	return f
}

type apiResult struct {
	status int
	header http.Header
	body   string
	err    struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	}
}

// do sends a request as the named principal ("" for none).
func (f *apiFixture) do(t *testing.T, who, method, path, body string, hdr map[string]string) apiResult {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if tok, ok := f.tokens[who]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := apiResult{status: res.StatusCode, header: res.Header, body: string(b)}
	if res.StatusCode >= 400 {
		var eb struct {
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(b, &eb); err != nil || eb.Error == nil {
			t.Fatalf("%s %s: error body is not the uniform shape: %q", method, path, b)
		}
		json.Unmarshal(eb.Error, &r.err)
		if r.err.Code == "" || r.err.Message == "" {
			t.Fatalf("%s %s: error without code or message: %q", method, path, b)
		}
	}
	return r
}

// TestAPIScenarios is the scenario table of the API: successes and the
// denials and bad inputs around them (SECURITY.md attacks 1, 2, 3, 6, 13, 14;
// ASVS v5.0.0-8.2.2, 15.3.3, 1.5.3, 15.3.7, 4.1.4).
func TestAPIScenarios(t *testing.T) {
	f := newAPIFixture(t)
	created := f.do(t, "alice", "POST", "/api/v1/contacts", `{"first_name":"Анна","last_name":"Кузнецова","email":"anna@example.com"}`, nil)
	if created.status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.status, created.body)
	}
	var c crm.Contact
	json.Unmarshal([]byte(created.body), &c)
	one := fmt.Sprintf("/api/v1/contacts/%d", c.ID)
	big := `{"last_name":"` + strings.Repeat("x", 300<<10) + `"}`
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)

	cases := []struct {
		name         string
		who          string
		method, path string
		body         string
		hdr          map[string]string
		status       int
		code, field  string
		notContains  string
	}{
		{name: "anonymous", method: "GET", path: "/api/v1/contacts", status: 401, code: "unauthenticated"},
		{name: "basic auth", method: "GET", path: "/api/v1/contacts", hdr: map[string]string{"Authorization": "Basic YTpi"}, status: 401},
		{name: "forged token", method: "GET", path: "/api/v1/contacts", hdr: map[string]string{"Authorization": "Bearer cst_forged"}, status: 401},
		{name: "owner reads", who: "alice", method: "GET", path: one, status: 200},
		{name: "other owner reads", who: "bob", method: "GET", path: one, status: 404, code: "not_found", notContains: "Кузнецова"},
		{name: "other owner patches", who: "bob", method: "PATCH", path: one, body: `{"notes":"x"}`, status: 404},
		{name: "other owner deletes", who: "bob", method: "DELETE", path: one, status: 404},
		{name: "other owner timeline", who: "bob", method: "GET", path: one + "/timeline", status: 404},
		{name: "other owner consents", who: "bob", method: "GET", path: one + "/consents", status: 404},
		{name: "other owner lists", who: "bob", method: "GET", path: "/api/v1/contacts?q=%D0%BA%D1%83%D0%B7", status: 200, notContains: "Кузнецова"},
		{name: "auditor lists contacts", who: "auditor", method: "GET", path: "/api/v1/contacts", status: 403, code: "forbidden"},
		{name: "reader patches", who: "reader", method: "PATCH", path: one, body: `{"notes":"x"}`, status: 403},
		{name: "read token writes", who: "alice-read", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x"}`, status: 403},
		// New users come by invitation only (AUTH-8): no role, not even an
		// admin, creates one with a chosen password over the API.
		{name: "sales creates user", who: "alice", method: "POST", path: "/api/v1/users", body: `{"email":"x@example.com","role":"admin","password":"long enough passphrase"}`, status: 405, code: "method_not_allowed"},
		{name: "admin creates user", who: "admin", method: "POST", path: "/api/v1/users", body: `{"email":"x@example.com","role":"admin","password":"long enough passphrase"}`, status: 405, code: "method_not_allowed"},
		{name: "token mints token", who: "alice", method: "POST", path: "/api/v1/tokens", body: `{"scope":"write"}`, status: 403},
		{name: "malformed JSON", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":`, status: 400, code: "invalid"},
		{name: "not an object", who: "alice", method: "POST", path: "/api/v1/contacts", body: `[1,2]`, status: 400},
		{name: "wrong type", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"first_name":5}`, status: 400, field: "first_name"},
		{name: "unknown field", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x","is_admin":true}`, status: 400, field: "is_admin"},
		{name: "server-owned id", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x","id":5}`, status: 400, field: "id"},
		{name: "server-owned version", who: "alice", method: "PATCH", path: one, body: `{"version":99}`, status: 400, field: "version"},
		{name: "server-owned created_at", who: "alice", method: "PATCH", path: one, body: `{"created_at":"2020-01-01T00:00:00Z"}`, status: 400, field: "created_at"},
		{name: "owner to someone else", who: "alice", method: "POST", path: "/api/v1/contacts", body: fmt.Sprintf(`{"last_name":"x","owner_id":%d}`, f.users["bob"].ID), status: 403, field: "owner_id"},
		{name: "duplicate key in another case", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"a","LAST_NAME":"b"}`, status: 400, field: "LAST_NAME"},
		{name: "token lists sessions", who: "alice", method: "GET", path: "/api/v1/sessions", status: 403},
		// Keys that encoding/json folds onto last_name (ASVS v5.0.0-1.5.3):
		// ſ (U+017F) and the Kelvin sign (U+212A); the last value would win.
		{name: "duplicate key with long s", who: "alice", method: "POST", path: "/api/v1/contacts", body: "{\"last_name\":\"a\",\"la\u017ft_name\":\"b\"}", status: 400, field: "la\u017ft_name"},
		{name: "duplicate key mixed case and long s", who: "alice", method: "POST", path: "/api/v1/contacts", body: "{\"La\u017ft_Name\":\"a\",\"LAST_name\":\"b\"}", status: 400, field: "LAST_name"},
		{name: "duplicate key", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"a","last_name":"b"}`, status: 400, field: "last_name"},
		{name: "invalid UTF-8", who: "alice", method: "POST", path: "/api/v1/contacts", body: "{\"last_name\":\"\xff\xfe\"}", status: 400, field: "body"},
		{name: "over-long value", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"` + strings.Repeat("x", 101) + `"}`, status: 400, field: "last_name"},
		{name: "oversized body", who: "alice", method: "POST", path: "/api/v1/contacts", body: big, status: 413, code: "too_large"},
		// Routes without query parameters refuse any (the README's promise),
		// naming each; the list routes name the unknown ones.
		{name: "query on the user list", who: "alice", method: "GET", path: "/api/v1/users?role=admin", status: 400, field: "role"},
		{name: "query on the pipelines", who: "alice", method: "GET", path: "/api/v1/pipelines?x=1", status: 400, field: "x"},
		{name: "query on a contact", who: "alice", method: "GET", path: "/api/v1/contacts/1?fields=all", status: 400, field: "fields"},
		{name: "query on a write", who: "alice", method: "POST", path: "/api/v1/contacts?owner_id=1", body: `{"last_name":"x"}`, status: 400, field: "owner_id"},
		{name: "unknown list parameter", who: "alice", method: "GET", path: "/api/v1/contacts?colour=red", status: 400, field: "colour"},
		{name: "deep nesting", who: "alice", method: "POST", path: "/api/v1/contacts", body: deep, status: 400},
		{name: "bad email", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x","email":"nope"}`, status: 400, field: "email"},
		{name: "bad phone", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x","phone":"+1 23"}`, status: 400, field: "phone"},
		{name: "unknown company", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x","company_id":424242}`, status: 400, field: "company_id"},
		{name: "unknown stage", who: "alice", method: "POST", path: "/api/v1/deals", body: `{"title":"x","stage_id":424242}`, status: 400, field: "stage_id"},
		{name: "wrong content type", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x"}`, hdr: map[string]string{"Content-Type": "text/plain"}, status: 400},
		{name: "unknown query param", who: "alice", method: "GET", path: "/api/v1/contacts?password=x", status: 400, field: "password"},
		{name: "repeated query param", who: "alice", method: "GET", path: "/api/v1/contacts?tag=a&tag=b", status: 400, field: "tag"},
		{name: "sort injection", who: "alice", method: "GET", path: "/api/v1/contacts?sort=last_name%3BDROP%20TABLE%20contacts", status: 400, field: "sort"},
		{name: "raw semicolon", who: "alice", method: "GET", path: "/api/v1/contacts?sort=last_name;DROP%20TABLE%20contacts", status: 400, code: "invalid"},
		{name: "sort subquery", who: "alice", method: "GET", path: "/api/v1/contacts?sort=(select%201)", status: 400, field: "sort"},
		{name: "limit too big", who: "alice", method: "GET", path: "/api/v1/contacts?limit=1000", status: 400, field: "limit"},
		{name: "bad cursor", who: "alice", method: "GET", path: "/api/v1/contacts?cursor=%27%20OR%201=1", status: 400, field: "cursor"},
		{name: "bad id filter", who: "alice", method: "GET", path: "/api/v1/contacts?company_id=abc", status: 400, field: "company_id"},
		{name: "non-numeric path id", who: "alice", method: "GET", path: "/api/v1/contacts/abc", status: 404},
		{name: "bad If-Match", who: "alice", method: "PATCH", path: one, body: `{"notes":"x"}`, hdr: map[string]string{"If-Match": "yesterday"}, status: 400, field: "If-Match"},
		{name: "stale If-Match", who: "alice", method: "PATCH", path: one, body: `{"notes":"x"}`, hdr: map[string]string{"If-Match": `"v7"`}, status: 412, code: "precondition_failed"},
		{name: "verb tampering", who: "alice", method: "PUT", path: one, body: `{"notes":"x"}`, status: 405},
		{name: "method override ignored", who: "reader", method: "POST", path: one + "/restore", hdr: map[string]string{"X-HTTP-Method-Override": "GET"}, status: 403},
		{name: "unknown API route", who: "alice", method: "GET", path: "/api/v1/secrets", status: 404},
		{name: "cross-site browser write", who: "alice", method: "POST", path: "/api/v1/contacts", body: `{"last_name":"x"}`, hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.who, tc.method, tc.path, tc.body, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %.300s", r.status, tc.status, r.body)
			}
			if tc.code != "" && r.err.Code != tc.code {
				t.Errorf("code %q, want %q", r.err.Code, tc.code)
			}
			if tc.field != "" {
				if _, ok := r.err.Fields[tc.field]; !ok {
					t.Errorf("fields %v, want %q named", r.err.Fields, tc.field)
				}
			}
			if tc.notContains != "" && strings.Contains(r.body, tc.notContains) {
				t.Errorf("response contains %q", tc.notContains)
			}
			if ct := r.header.Get("Content-Type"); r.status != 204 && !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if r.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	// None of the refused writes changed the contact or added one.
	r := f.do(t, "admin", "GET", "/api/v1/contacts", "", nil)
	var pg crm.Page[crm.Contact]
	json.Unmarshal([]byte(r.body), &pg)
	if len(pg.Items) != 1 || pg.Items[0].Version != 1 || pg.Items[0].Notes != "" {
		t.Errorf("after refused writes: %+v", pg.Items)
	}
}

// TestAPICollections drives each collection through create, get, list,
// update, delete and restore.
func TestAPICollections(t *testing.T) {
	f := newAPIFixture(t)
	co := f.do(t, "alice", "POST", "/api/v1/companies", `{"name":"ООО Ромашка","domain":"romashka.ru"}`, nil)
	if co.status != 201 {
		t.Fatalf("company: %d %s", co.status, co.body)
	}
	var company crm.Company
	json.Unmarshal([]byte(co.body), &company)
	ct := f.do(t, "alice", "POST", "/api/v1/contacts", fmt.Sprintf(`{"last_name":"Иванов","company_id":%d}`, company.ID), nil)
	var contact crm.Contact
	json.Unmarshal([]byte(ct.body), &contact)
	bodies := map[string]string{
		"companies":  `{"name":"Acme Ltd"}`,
		"contacts":   `{"first_name":"John","last_name":"Smith","email":"john@example.com"}`,
		"deals":      fmt.Sprintf(`{"title":"Licences","pipeline_id":1,"amount":"99000","currency":"RUB","contact_id":%d,"company_id":%d,"expected_close":"2026-12-31"}`, contact.ID, company.ID),
		"activities": fmt.Sprintf(`{"type":"call","subject":"Intro call","occurred_at":"2026-11-01T10:00:00Z","contact_id":%d}`, contact.ID),
		"tasks":      fmt.Sprintf(`{"title":"Send offer","due_at":"2026-12-01T09:00:00Z","contact_id":%d}`, contact.ID),
	}
	patches := map[string]string{
		"companies": `{"industry":"Retail"}`, "contacts": `{"title":"CTO"}`, "deals": `{"amount":"1.5"}`,
		"activities": `{"body":"Went well"}`, "tasks": `{"status":"done"}`,
	}
	for coll, body := range bodies {
		t.Run(coll, func(t *testing.T) {
			r := f.do(t, "alice", "POST", "/api/v1/"+coll, body, nil)
			if r.status != 201 || r.header.Get("Location") == "" || r.header.Get("ETag") != `"v1"` {
				t.Fatalf("create: %d %s %v", r.status, r.body, r.header)
			}
			path := r.header.Get("Location")
			if r := f.do(t, "alice", "GET", path, "", nil); r.status != 200 {
				t.Fatalf("get: %d", r.status)
			}
			if r := f.do(t, "alice", "GET", "/api/v1/"+coll+"?limit=1", "", nil); r.status != 200 || !strings.Contains(r.body, `"items":[{`) {
				t.Fatalf("list: %d %s", r.status, r.body)
			}
			r = f.do(t, "alice", "PATCH", path, patches[coll], map[string]string{"If-Match": `"v1"`})
			if r.status != 200 || r.header.Get("ETag") != `"v2"` {
				t.Fatalf("patch: %d %s", r.status, r.body)
			}
			if r := f.do(t, "bob", "GET", path, "", nil); r.status != 404 {
				t.Fatalf("bob get: %d", r.status)
			}
			if r := f.do(t, "alice", "DELETE", path, "", nil); r.status != 204 {
				t.Fatalf("delete: %d", r.status)
			}
			if r := f.do(t, "alice", "GET", path, "", nil); r.status != 404 {
				t.Fatalf("get deleted: %d", r.status)
			}
			if r := f.do(t, "alice", "GET", "/api/v1/"+coll+"?deleted=true", "", nil); !strings.Contains(r.body, `"deleted_at"`) {
				t.Fatalf("bin: %s", r.body)
			}
			if r := f.do(t, "alice", "POST", path+"/restore", "", nil); r.status != 200 {
				t.Fatalf("restore: %d", r.status)
			}
		})
	}
	r := f.do(t, "alice", "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", contact.ID), "", nil)
	if r.status != 200 || !strings.Contains(r.body, "Intro call") {
		t.Errorf("timeline: %d %s", r.status, r.body)
	}
	r = f.do(t, "alice", "POST", fmt.Sprintf("/api/v1/contacts/%d/consents", contact.ID), `{"purpose":"marketing","granted":true,"source":"web form"}`, nil)
	if r.status != 201 {
		t.Errorf("consent: %d %s", r.status, r.body)
	}
	r = f.do(t, "alice", "GET", "/api/v1/me", "", nil)
	if r.status != 200 || !strings.Contains(r.body, `"role":"sales"`) || !strings.Contains(r.body, `"via":"token"`) {
		t.Errorf("me: %s", r.body)
	}
	if r := f.do(t, "", "GET", "/healthz", "", nil); r.status != 200 {
		t.Errorf("healthz: %d", r.status)
	}
	if r := f.do(t, "", "GET", "/readyz", "", nil); r.status != 200 {
		t.Errorf("readyz: %d", r.status)
	}
}

// TestAPISecurityHeaders checks the headers on API responses (SHD-5,
// ASVS v5.0.0-3.4.3, 3.4.4, 14.3.2).
func TestAPISecurityHeaders(t *testing.T) {
	f := newAPIFixture(t)
	r := f.do(t, "alice", "GET", "/api/v1/contacts", "", nil)
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no request id")
	}
}
