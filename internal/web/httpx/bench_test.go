package httpx

import (
	"bytes"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Benchmarks of the web layer's share of a request's hot path (issue 3):
// the strict JSON decoder every write goes through, and the encoding of the
// largest common response, a page of 50 contacts. `custos bench` measures
// whole requests.

// contactBody is what the UI and API clients send to create a contact.
const contactBody = `{"first_name":"Наталья","last_name":"Соловьёва","email":"natalya.soloveva@mail.example",` +
	`"phone":"+44 20 7946 0123","title":"Главный бухгалтер","tags":["customer","vip"],` +
	`"preferences":{"channel":"phone","language":"ru","do_not_contact":false},"company_id":null}`

func BenchmarkDecodeJSON(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"contact", contactBody},
		{"update-title", `{"title":"CFO"}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := []byte(bc.body)
			r := httptest.NewRequest(http.MethodPost, "/api/v1/contacts", nil)
			r.Header.Set("Content-Type", "application/json")
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r.Body = io.NopCloser(bytes.NewReader(body))
				var in crm.ContactInput
				if err := DecodeJSON(nil, r, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckStructure is the duplicate-key and depth check alone, which
// walks every body token by token before it is decoded.
func BenchmarkCheckStructure(b *testing.B) {
	body := []byte(contactBody)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := checkStructure(body); err != nil {
			b.Fatal(err)
		}
	}
}

// writeJSONv2 is WriteJSON over encoding/json/v2, escaping as the API does
// (<, > and & as \u003c…, U+2028 and U+2029 escaped).
func writeJSONv2(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = jsonv2.MarshalWrite(w, v, jsontext.EscapeForHTML(true), jsontext.EscapeForJS(true), jsonv2.FormatNilSliceAsNull(true), jsonv2.FormatNilMapAsNull(true))
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the encoding rather than a growing buffer.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func (w *discardWriter) WriteHeader(int) {}

// benchContactPage is a page of n contacts as the store returns them.
func benchContactPage(n int) *crm.Page[*crm.Contact] {
	now := time.Date(2026, 11, 1, 10, 30, 0, 123456000, time.UTC)
	pg := &crm.Page[*crm.Contact]{NextCursor: "eyJzIjoibGFzdF9uYW1lIiwiayI6ItGB0L7Qu9C-0LLRjNGR0LLQsCIsImkiOjQyfQ"}
	for i := range n {
		company := int64(1000 + i)
		pg.Items = append(pg.Items, &crm.Contact{
			ID: int64(i + 1), FirstName: "Наталья", LastName: "Соловьёва",
			Email: fmt.Sprintf("natalya.soloveva.%d@mail.example", i), Phone: "+442079460123",
			CompanyID: &company, Title: "Главный бухгалтер", Tags: []string{"customer", "vip"},
			Preferences: crm.Preferences{Channel: "phone", Language: "ru"},
			OwnerID:     7, Version: 3, CreatedAt: now, UpdatedAt: now,
		})
	}
	return pg
}

// BenchmarkWriteJSON encodes one contact (GET, create, update) and a page of
// 50 (a list): contacts-N is WriteJSON, which takes the hand-written encoder
// (PRF-1); encoding-json/contacts-N is the encoding/json path WriteJSON
// used before, and json-v2/contacts-N the standard library's
// encoding/json/v2 with the same escaping, for comparison in the same run
// (docs/performance.md, "The contact encoder").
func BenchmarkWriteJSON(b *testing.B) {
	for _, bc := range []struct {
		prefix string
		write  func(http.ResponseWriter, int, any)
	}{
		{"", WriteJSON},
		{"encoding-json/", writeJSONReflect},
		{"json-v2/", writeJSONv2},
	} {
		for _, n := range []int{1, 50} {
			b.Run(fmt.Sprintf("%scontacts-%d", bc.prefix, n), func(b *testing.B) {
				var v any = benchContactPage(n)
				if n == 1 {
					v = benchContactPage(1).Items[0]
				}
				if _, ok := appendFastJSON(nil, v); !ok || !fastJSON {
					b.Fatal("the value does not take the fast path")
				}
				w := &discardWriter{h: http.Header{}}
				bc.write(w, http.StatusOK, v)
				b.SetBytes(int64(w.n))
				b.ReportAllocs()
				for b.Loop() {
					bc.write(w, http.StatusOK, v)
				}
			})
		}
	}
}
