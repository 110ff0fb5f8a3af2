package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/postgres/postgrestest"
)

// TestTwoInstancesOnePostgres runs two real `custos serve` instances on one
// PostgreSQL database (SCL-1, CORE-5) and shows that a token and a browser
// session made through one work on the other, that a change made through one
// is seen by the other, and that a scheduled job runs on exactly one.
// It skips without CUSTOS_TEST_POSTGRES.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn, _ := postgrestest.Schema(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	runCLI(t, dirA, "a long and unusual passphrase\n", "user", "add", "--db", dsn, "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dirA, "", "token", "create", "--db", dsn, "--email", "rep@example.com", "--scope", "write"))
	a := startServer(t, dirA, "--db", dsn, "--log-level", "info")
	// Every instance holds the same key-encryption key (docs/encryption.md).
	b := startServer(t, dirB, "--db", dsn, "--log-level", "info", "--key-file", dirA+".kek")

	// A change through A is seen through B, with the same token.
	var c struct {
		ID      int64  `json:"id"`
		Title   string `json:"title"`
		Version int64  `json:"version"`
	}
	wantStatus(t, a.api(t, token, "POST", "/api/v1/contacts", map[string]any{"last_name": "Shared", "title": "CEO"}, &c), http.StatusCreated)
	path := fmt.Sprintf("/api/v1/contacts/%d", c.ID)
	wantStatus(t, b.api(t, token, "GET", path, nil, &c), http.StatusOK)
	if c.Title != "CEO" {
		t.Errorf("B reads %+v", c)
	}
	wantStatus(t, b.api(t, token, "PATCH", path, map[string]any{"title": "CFO"}, &c), http.StatusOK)
	wantStatus(t, a.api(t, token, "GET", path, nil, &c), http.StatusOK)
	if c.Title != "CFO" || c.Version != 2 {
		t.Errorf("A reads %+v after B's change", c)
	}

	// A browser session made on A works on B, and logging out on B ends it on A.
	form := url.Values{"email": {"rep@example.com"}, "password": {"a long and unusual passphrase"}}
	req, _ := http.NewRequest("POST", a.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.url)
	noRedirect := *a.client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-custos_session" {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatalf("login on A: status %d, no session cookie", res.StatusCode)
	}
	me := func(s *server) int {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/me", nil)
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := me(b); got != http.StatusOK {
		t.Fatalf("A's session on B: %d", got)
	}

	// The purge job ran on start on exactly one of the two instances.
	runs := strings.Count(a.log.String(), "scheduled job ran") + strings.Count(b.log.String(), "scheduled job ran")
	if runs != 1 {
		t.Errorf("the scheduled job ran %d times on two instances, want 1\nA:\n%s\nB:\n%s", runs, a.log.String(), b.log.String())
	}

	// Revoking the session through B (with the session itself) ends it on A.
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	req, _ = http.NewRequest("GET", b.url+"/api/v1/sessions", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	res, err = b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list.Items) != 1 {
		t.Fatalf("sessions listed on B: %d", len(list.Items))
	}
	req, _ = http.NewRequest("DELETE", b.url+"/api/v1/sessions/"+list.Items[0].ID, nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	if res, err = b.client.Do(req); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke on B: %v %v", err, res.StatusCode)
	}
	res.Body.Close()
	if got := me(a); got != http.StatusUnauthorized {
		t.Errorf("A still accepts a session revoked through B: %d", got)
	}
}
