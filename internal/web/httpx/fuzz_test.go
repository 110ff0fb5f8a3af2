package httpx

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// FuzzDecodeJSON feeds arbitrary bodies to the strict decoder (SHD-6,
// attack 14): it must never panic, must answer every body with either a
// decoded value or a coded error, and must refuse duplicate keys.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"last_name":"x"}`, `{"last_name":"a","last_name":"b"}`, `{"first_name":5}`, `[`, `{"a":{"b":[1,2,{"c":null}]}}`,
		strings.Repeat("[", 40), "{\"last_name\":\"\xff\"}", `{"company_id":null,"tags":["a"]}`, `{} {}`, `"x"`,
		"{\"last_name\":\"a\",\"la\u017ft_name\":\"b\"}", "{\"\u212a\":1,\"k\":2}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		var in crm.ContactInput
		err := DecodeJSON(httptest.NewRecorder(), r, &in)
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
		// No two top-level keys are the same under the decoder's folding.
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		for i := range keys {
			for j := i + 1; j < len(keys); j++ {
				if strings.EqualFold(keys[i], keys[j]) {
					t.Fatalf("accepted keys %q and %q, which the decoder folds together", keys[i], keys[j])
				}
			}
		}
	})
}

// TestCheckStructureFolding refuses keys that encoding/json folds onto
// one another (ASVS v5.0.0-1.5.3): the Kelvin sign K (U+212A) is k, ſ
// (U+017F) is s, whatever the case.
func TestCheckStructureFolding(t *testing.T) {
	for _, body := range []string{
		"{\"\u212a\":1,\"k\":2}", "{\"K\":1,\"\u212a\":2}", "{\"la\u017ft_name\":1,\"LAST_NAME\":2}",
		"{\"a\":{\"\u017f\":1,\"S\":2}}",
	} {
		if err := checkStructure([]byte(body)); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("checkStructure(%q) = %v, want a duplicate key error", body, err)
		}
	}
	if err := checkStructure([]byte(`{"last_name":1,"first_name":2,"k":3,"s":4}`)); err != nil {
		t.Errorf("distinct keys refused: %v", err)
	}
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
		q, err := ParseQuery(r, append([]string{"tag", "company_id"}, ListParams...)...)
		if err != nil {
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("code %q", crm.ErrorCode(err))
			}
			return
		}
		q.List()
		q.ID("company_id")
		q.Bool("deleted")
	})
}

// FuzzContactJSON holds the hand-written contact encoder (PRF-1) to
// encoding/json on arbitrary strings and times: the same bytes, or both
// refusing the value.
func FuzzContactJSON(f *testing.F) {
	f.Add("Наталья", "<b>&</b>", "vip", "eyJzIjoiIn0", int64(1793442600), int64(123456000), 3*3600)
	f.Add("\x00\x1f\"\\", "\u2028\u2029\xff", "", "", int64(0), int64(0), 0)
	f.Add("\xe2\x82", "😀\ufffd", "\x7f", "<", int64(253402300800), int64(1), -24*3600) // year 10000
	f.Fuzz(func(t *testing.T, name, notes, tag, cursor string, sec, nsec int64, offset int) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", offset))
		company := sec
		c := &crm.Contact{ID: sec, FirstName: name, LastName: notes, Email: tag, Phone: cursor, CompanyID: &company,
			Title: name + notes, Address: notes, Birthday: tag, Notes: notes, Tags: []string{tag, name},
			Preferences: crm.Preferences{Channel: tag, Language: cursor, DoNotContact: nsec%2 == 0},
			OwnerID:     nsec, Version: int64(offset), CreatedAt: at, UpdatedAt: at.UTC(), DeletedAt: &at}
		checkSameJSON(t, "contact", c)
		checkSameJSON(t, "page", &crm.Page[*crm.Contact]{Items: []*crm.Contact{c, {FirstName: cursor}}, NextCursor: cursor})
	})
}

// TestJSONDepthLimit: objects nested exactly maxJSONDepth deep pass the
// structure check, one more level is refused with the depth error, not
// some other one (issue 18 item 6; ASVS v5.0.0-1.5.3, attack 14). Arrays
// and objects count alike.
func TestJSONDepthLimit(t *testing.T) {
	nest := func(n int, open, close string) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	objects := func(n int) string { return nest(n, `{"a":`, `}`) }
	mixed := func(n int) string { return `{"a":` + nest(n-1, `[`, `]`) + `}` }
	for _, body := range []string{objects(maxJSONDepth), mixed(maxJSONDepth)} {
		if err := checkStructure([]byte(body)); err != nil {
			t.Errorf("depth %d refused: %v", maxJSONDepth, err)
		}
	}
	for _, body := range []string{objects(maxJSONDepth + 1), mixed(maxJSONDepth + 1)} {
		err := checkStructure([]byte(body))
		if crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(crm.ErrorMessage(err), "nested too deeply") {
			t.Errorf("depth %d: %v, want the depth error", maxJSONDepth+1, err)
		}
		// Through the request decoder too, before any field is looked at.
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		var in crm.ContactInput
		if err := DecodeJSON(httptest.NewRecorder(), r, &in); !strings.Contains(crm.ErrorMessage(err), "nested too deeply") {
			t.Errorf("DecodeJSON at depth %d: %v", maxJSONDepth+1, err)
		}
	}
}
