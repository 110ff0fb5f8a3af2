package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// FuzzDecodeJSON feeds arbitrary bodies to the strict decoder (SHD-6,
// attack 14): it must never panic, must answer every body with either a
// decoded value or a coded error, and must refuse duplicate keys.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"last_name":"x"}`, `{"last_name":"a","last_name":"b"}`, `{"first_name":5}`, `[`, `{"a":{"b":[1,2,{"c":null}]}}`,
		strings.Repeat("[", 40), "{\"last_name\":\"\xff\"}", `{"company_id":null,"tags":["a"]}`, `{} {}`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		var in crm.ContactInput
		err := decodeJSON(httptest.NewRecorder(), r, &in)
		if err != nil {
			if code := crm.ErrorCode(err); code != crm.EINVALID && code != crm.ETOOLARGE {
				t.Fatalf("error code %q for %q", code, body)
			}
			return
		}
		// Whatever was accepted is a single JSON object without duplicate keys.
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			t.Fatalf("accepted a body that is not an object: %q", body)
		}
	})
}

// FuzzCursor checks that any cursor text decodes to an error or a cursor
// for the requested sort, never a panic.
func FuzzCursor(f *testing.F) {
	f.Add(crm.EncodeCursor(crm.Cursor{Sort: "last_name", Key: "smith", ID: 4}), "last_name")
	f.Add("eyJzIjoiIn0", "created_at")
	f.Add("%%%", "x")
	f.Fuzz(func(t *testing.T, s, sort string) {
		c, err := crm.DecodeCursor(s, sort)
		if err == nil && (c.Sort != sort || c.ID <= 0) {
			t.Fatalf("accepted %q for sort %q: %+v", s, sort, c)
		}
	})
}

// FuzzQuery checks the query-string reader with arbitrary input.
func FuzzQuery(f *testing.F) {
	f.Add("limit=10&sort=-last_name&q=%D0%B8")
	f.Add("tag=a&tag=b")
	f.Add("a;b=c")
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/v1/contacts", nil)
		r.URL.RawQuery = raw
		q, err := parseQuery(r, append([]string{"tag", "company_id"}, listParams...)...)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("code %q", crm.ErrorCode(err))
			}
			return
		}
		q.list()
		q.id("company_id")
		q.boolean("deleted")
	})
}
