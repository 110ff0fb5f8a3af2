package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/web"
)

// failing is the real service with two calls broken: one panics, one
// fails with an internal error whose text must not reach the client.
type failing struct{ web.Records }

func (failing) FindContacts(context.Context, *crm.Principal, crm.ContactFilter, crm.ListOptions) (*crm.Page[*crm.Contact], error) {
	panic("boom: the secret detail of a panic")
}

func (failing) FindContactByID(context.Context, *crm.Principal, int64) (*crm.Contact, error) {
	return nil, errors.New("db exploded: password=hunter2")
}

// TestInternalErrorsAndPanics: a panic in a handler and an internal error
// both answer 500 with the uniform body ("internal error" and the request
// id, which is also in X-Request-Id and in the log line with the cause),
// never the cause's text; a browser gets the error page with the id; the
// server goes on serving (ASVS v5.0.0-16.5.1, 16.5.3; issue 18 item 8).
func TestInternalErrorsAndPanics(t *testing.T) {
	site := newMFASite(t, auth.Throttle{})
	var logs testkit.Buffer
	srv := httptest.NewServer(web.New(failing{site.svc}, site.idn, web.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	defer srv.Close()
	tok, err := site.idn.CreateToken(context.Background(), crm.SystemPrincipal(), site.users["alice"].ID, "t", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, cookie := site.login(t, "alice")
	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, path := range []string{"/api/v1/contacts", "/api/v1/contacts/1"} {
		res, body := get(path, "Authorization", "Bearer "+tok.Secret)
		var e struct {
			Error struct{ Code, Message, RequestID string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		id := res.Header.Get("X-Request-Id")
		if res.StatusCode != 500 || e.Error.Code != crm.EINTERNAL || e.Error.Message != "internal error" || id == "" ||
			!strings.Contains(body, `"request_id":"`+id+`"`) {
			t.Errorf("%s: %d %s (X-Request-Id %q)", path, res.StatusCode, body, id)
		}
		if strings.Contains(body, "secret detail") || strings.Contains(body, "hunter2") || strings.Contains(body, "goroutine") {
			t.Errorf("%s: the cause reached the client: %s", path, body)
		}
		if !strings.Contains(logs.String(), id) {
			t.Errorf("%s: the request id is not in the log", path)
		}
	}
	if l := logs.String(); !strings.Contains(l, "boom: the secret detail") || !strings.Contains(l, `"stack"`) || !strings.Contains(l, "db exploded") {
		t.Errorf("the log lacks the panic, its stack or the internal error:\n%.2000s", l)
	}
	// A browser page that panics gets the error page, with the id.
	res, body := get("/contacts", "Cookie", web.SessionCookie+"="+cookie)
	if res.StatusCode != 500 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, res.Header.Get("X-Request-Id")) || strings.Contains(body, "secret detail") {
		t.Errorf("a panicking page: %d %s %.300s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	// And the server is still up.
	if res, _ := get("/healthz"); res.StatusCode != 200 {
		t.Errorf("after the panics: %d", res.StatusCode)
	}
}
