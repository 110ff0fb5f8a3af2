package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/web"
	"github.com/custos-crm/custos/internal/web/api"
)

// The tests of the document against the server: they need the route table
// that package web mounts, so they sit outside package api.

// openAPINilServices satisfies Records and Identity without implementing
// anything: the route table only takes method values, and these tests
// never call them.
type openAPINilServices struct {
	web.Records
	web.Identity
}

// documentedRoute reports whether a registered route belongs in the
// document: the API under /api/v1/ and the health probes, not the UI.
func documentedRoute(path string) bool {
	return strings.HasPrefix(path, "/api/v1/") || path == "/healthz" || path == "/readyz"
}

// TestOpenAPIMatchesRoutes compares the documented operations with the
// route table in both directions.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := api.LoadOpenAPI(t)
	documented := api.OpenAPIOperations(doc)
	s := web.New(openAPINilServices{}, openAPINilServices{}, web.Options{Logger: slog.New(slog.DiscardHandler)})
	registered := map[string]bool{}
	for _, r := range s.Routes() {
		_, path, _ := strings.Cut(r, " ")
		if documentedRoute(path) {
			registered[r] = true
		}
	}
	if len(registered) == 0 {
		t.Fatal("Routes() lists no API routes")
	}
	var missing, extra []string
	for r := range registered {
		if documented[r] == nil {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !registered[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, r := range missing {
		t.Errorf("route %s is not documented in openapi.json", r)
	}
	for _, r := range extra {
		t.Errorf("openapi.json documents %s, which is not a route", r)
	}
}

// TestOpenAPIServed checks that the API serves the embedded document.
func TestOpenAPIServed(t *testing.T) {
	s := web.New(openAPINilServices{}, openAPINilServices{}, web.Options{Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: status %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	body := rec.Body.Bytes()
	if !json.Valid(body) {
		t.Error("the served document is not valid JSON")
	}
	if !bytes.Equal(body, api.Document) {
		t.Error("the served document is not the embedded openapi.json")
	}
}
