package httpx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
)

// Tests of the hand-written contact encoder (PRF-1): for every value its
// output must be byte for byte what encoding/json writes, and where
// encoding/json fails the response must be what it was before.

// writeJSONReflect is WriteJSON as it was before PRF-1, encoding/json for
// every value. It is the reference the fast path is held to.
func writeJSONReflect(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// encodeReflect is encoding/json's encoding of v, as WriteJSON used it.
func encodeReflect(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// checkSameJSON asserts that the fast encoder and encoding/json agree on v:
// the same bytes, or, where encoding/json fails, no fast encoding; and that
// WriteJSON answers exactly as before.
func checkSameJSON(t *testing.T, name string, v any) {
	t.Helper()
	want, err := encodeReflect(v)
	prefix := []byte("prefix")
	got, ok := appendFastJSON(prefix, v)
	switch {
	case err != nil && ok:
		t.Errorf("%s: encoding/json fails (%v) but the fast encoder wrote %q", name, err, got)
	case err != nil && !bytes.Equal(got, prefix):
		t.Errorf("%s: the refused value left %q behind", name, got)
	case err == nil && !ok:
		t.Errorf("%s: the fast encoder refused a value encoding/json writes as %q", name, want)
	case err == nil && !bytes.Equal(got[len(prefix):], want):
		t.Errorf("%s: output differs\nfast: %q\njson: %q", name, got[len(prefix):], want)
	}
	checkSameResponse(t, name, v)
}

// checkSameResponse asserts that WriteJSON answers v exactly as it did
// before PRF-1: the same status, headers and body.
func checkSameResponse(t *testing.T, name string, v any) {
	t.Helper()
	fast, ref := httptest.NewRecorder(), httptest.NewRecorder()
	fast.Header().Set("ETag", `"3"`)
	ref.Header().Set("ETag", `"3"`)
	WriteJSON(fast, http.StatusCreated, v)
	writeJSONReflect(ref, http.StatusCreated, v)
	if fast.Code != ref.Code || !reflect.DeepEqual(fast.Header(), ref.Header()) || !bytes.Equal(fast.Body.Bytes(), ref.Body.Bytes()) {
		t.Errorf("%s: WriteJSON answers %d %v %q, before PRF-1 it answered %d %v %q", name,
			fast.Code, fast.Header(), fast.Body.Bytes(), ref.Code, ref.Header(), ref.Body.Bytes())
	}
}

// edgeStrings are the strings whose escaping could go wrong.
func edgeStrings() []string {
	s := []string{
		"", "a", "plain ascii text", " leading and trailing ",
		"<script>alert('x')</script>", "Tom & Jerry", "a<b>c", "&amp;&lt;&gt;",
		`"quoted"`, `back\slash`, `\"`, `\\\\`, "/slash/", "'single'", "`tick`",
		"\x7f", "del\x7fete",
		"\u2028", "\u2029", "line\u2028separator\u2029paragraph", "\u2027\u202a",
		// Invalid UTF-8: lone bytes, truncated, overlong, surrogates,
		// beyond U+10FFFF, and a valid U+FFFD beside them.
		"\xff", "\xfe\xff", "\x80", "abc\x80def", "\xc0\xaf", "\xc3", "\xe2\x82", "\xe2\x82x",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf0\x9f\x98", "\ufffd", "\ufffd\xff\ufffd",
		"Наталья Соловьёва", "Главный бухгалтер", "ёЁйЙ", "Ελληνικά", "日本語", "עברית",
		"😀", "👍🏽", "👨\u200d👩\u200d👧", "e\u0301", "\u00a0nbsp", "\u200bzero-width", "\ufeffbom", "\U0010ffff", "\u0080",
		"+442079460123", "natalya.soloveva@mail.example", "2001-02-03",
		strings.Repeat("x", 5000), strings.Repeat("Ж<", 700) + "\xff",
	}
	// Every control character, alone and inside text.
	var all strings.Builder
	for c := range 0x20 {
		s = append(s, string(rune(c)), "a"+string(rune(c))+"b")
		all.WriteByte(byte(c))
	}
	s = append(s, all.String())
	// Every ASCII character, and every byte.
	var ascii, bytesAll []byte
	for c := range 256 {
		if c < utf8.RuneSelf {
			ascii = append(ascii, byte(c))
		}
		bytesAll = append(bytesAll, byte(c))
	}
	return append(s, string(ascii), string(bytesAll))
}

// edgeTimes are times with and without sub-second parts, in UTC, fixed
// zones and a named location.
func edgeTimes(t *testing.T) []time.Time {
	times := []time.Time{
		{}, time.Unix(0, 0), time.Unix(0, 0).UTC(),
		time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 10, 30, 0, 123456000, time.UTC),
		time.Date(2026, 11, 1, 10, 30, 0, 100000000, time.UTC),
		time.Date(2026, 11, 1, 10, 30, 0, 1, time.UTC),
		time.Date(2026, 11, 1, 10, 30, 0, 999999999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 29, 2, 30, 0, 5000, time.FixedZone("MSK", 3*3600)),
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.FixedZone("", -(9*3600+30*60))),
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.FixedZone("", 5*3600+45*60)),
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.FixedZone("", 23*3600+59*60)),
		time.Date(2026, 3, 29, 2, 30, 0, 0, time.FixedZone("", -(23*3600+59*60))),
		time.Date(1880, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 2*3600+30*60+17)), // offset seconds are dropped
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("UTC0", 0)),              // +00:00 in a zone is Z
		time.Now(),
	}
	for _, name := range []string{"Europe/Moscow", "America/St_Johns", "Asia/Kathmandu"} {
		if loc, err := time.LoadLocation(name); err == nil {
			times = append(times, time.Date(2026, 6, 15, 12, 0, 0, 7e8, loc), time.Date(1901, 1, 1, 0, 0, 0, 0, loc))
		} else {
			t.Logf("no time zone %s: %v", name, err)
		}
	}
	return times
}

func TestContactJSONEdgeCases(t *testing.T) {
	if !fastJSON {
		t.Fatal("the start-up self-check disabled the fast JSON path")
	}
	var cases []*crm.Contact
	for _, s := range edgeStrings() {
		// s in every string field, then in each one alone.
		cases = append(cases, &crm.Contact{ID: 1, FirstName: s, LastName: s, Email: s, Phone: s, Title: s,
			Address: s, Birthday: s, Notes: s, Tags: []string{s, s},
			Preferences: crm.Preferences{Channel: s, Language: s}})
		for i := range 12 {
			c := &crm.Contact{ID: int64(i)}
			switch i {
			case 0:
				c.FirstName = s
			case 1:
				c.LastName = s
			case 2:
				c.Email = s
			case 3:
				c.Phone = s
			case 4:
				c.Title = s
			case 5:
				c.Address = s
			case 6:
				c.Birthday = s
			case 7:
				c.Notes = s
			case 8:
				c.Tags = []string{s}
			case 9:
				c.Preferences.Channel = s
			case 10:
				c.Preferences.Language = s
			case 11:
				c.Tags = []string{"", s, ""}
			}
			cases = append(cases, c)
		}
	}
	for _, tags := range [][]string{nil, {}, {""}, {"customer", "vip"}} {
		cases = append(cases, &crm.Contact{ID: 2, FirstName: "Anna", Tags: tags})
	}
	for _, id := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64} {
		company := id
		cases = append(cases, &crm.Contact{ID: id, CompanyID: &company, OwnerID: id, Version: id})
	}
	for _, p := range []crm.Preferences{{}, {DoNotContact: true}, {Channel: "email"}, {Language: "ru"},
		{Channel: "sms", Language: "en", DoNotContact: true}} {
		cases = append(cases, &crm.Contact{ID: 3, Preferences: p})
	}
	for _, at := range edgeTimes(t) {
		cases = append(cases,
			&crm.Contact{ID: 4, CreatedAt: at},
			&crm.Contact{ID: 5, UpdatedAt: at},
			&crm.Contact{ID: 6, CreatedAt: at, UpdatedAt: at, DeletedAt: &at})
	}

	for i, c := range cases {
		checkSameJSON(t, fmt.Sprintf("contact %d", i), c)
	}

	// Pages of 0, 1 and 50 contacts, with and without a next page.
	full := benchContactPage(50).Items
	for _, items := range [][]*crm.Contact{nil, {}, full[:1], full, cases[:50], cases[len(cases)-50:], {nil}, {full[0], nil, full[1]}} {
		for _, cursor := range []string{"", "eyJzIjoibGFzdF9uYW1lIiwiayI6IkEiLCJpIjo0Mn0", "<&>\u2028\xff"} {
			pg := &crm.Page[*crm.Contact]{Items: items, NextCursor: cursor}
			checkSameJSON(t, fmt.Sprintf("page of %d, cursor %q", len(items), cursor), pg)
		}
	}
	// Whole pages of the edge cases.
	for i := 0; i < len(cases); i += 50 {
		pg := &crm.Page[*crm.Contact]{Items: cases[i:min(i+50, len(cases))]}
		checkSameJSON(t, fmt.Sprintf("page at %d", i), pg)
	}
}

// randomString draws from pieces that need escaping, multi-byte text and
// raw random bytes.
func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", "@", ".", "<", ">", "&", `"`, `\`, "/", "\x00", "\x1f", "\n", "\t", "\b", "\f", "\r",
		"\x7f", "ж", "Ё", "é", "€", "😀", "\u2028", "\u2029", "\ufffd", "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80"}
	if r.IntN(8) == 0 {
		return ""
	}
	var b strings.Builder
	for range r.IntN(40) {
		if r.IntN(6) == 0 {
			b.WriteByte(byte(r.IntN(256)))
		} else {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
	}
	return b.String()
}

// randomTime is mostly within 1900..2100, sometimes anywhere; zones are
// UTC or whole offsets up to ±26 hours, so some are refused.
func randomTime(r *rand.Rand) time.Time {
	var sec int64
	if r.IntN(20) == 0 {
		sec = r.Int64N(1<<40) - 1<<39 // years far outside 0..9999
	} else {
		sec = r.Int64N(200*365*86400) - 70*365*86400
	}
	nsec := int64(0)
	switch r.IntN(4) {
	case 1:
		nsec = r.Int64N(1e9)
	case 2:
		nsec = r.Int64N(1000) * 1e6
	case 3:
		nsec = r.Int64N(1000) * 1e3
	}
	t := time.Unix(sec, nsec)
	if r.IntN(3) == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", (r.IntN(26*60*2+1)-26*60)*60+r.IntN(2)*r.IntN(60)))
}

func randomContact(r *rand.Rand) *crm.Contact {
	c := &crm.Contact{
		ID: r.Int64() - r.Int64N(1<<62), FirstName: randomString(r), LastName: randomString(r), Email: randomString(r),
		Phone: randomString(r), Title: randomString(r), Address: randomString(r), Birthday: randomString(r),
		Notes:       randomString(r),
		Preferences: crm.Preferences{Channel: randomString(r), Language: randomString(r), DoNotContact: r.IntN(2) == 0},
		OwnerID:     r.Int64N(1000), Version: r.Int64N(1 << 40), CreatedAt: randomTime(r), UpdatedAt: randomTime(r),
	}
	if r.IntN(2) == 0 {
		company := r.Int64() - r.Int64N(1<<62)
		c.CompanyID = &company
	}
	if r.IntN(2) == 0 {
		team := r.Int64() - r.Int64N(1<<62)
		c.TeamID = &team
	}
	if r.IntN(3) == 0 {
		at := randomTime(r)
		c.DeletedAt = &at
	}
	switch r.IntN(3) {
	case 0: // nil
	case 1:
		c.Tags = []string{}
	default:
		for range 1 + r.IntN(5) {
			c.Tags = append(c.Tags, randomString(r))
		}
	}
	switch r.IntN(3) {
	case 0: // nil
	case 1:
		c.Masked = []string{}
	default:
		for range 1 + r.IntN(3) {
			c.Masked = append(c.Masked, randomString(r))
		}
	}
	return c
}

func TestContactJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var all []*crm.Contact
	for i := range 3000 {
		c := randomContact(r)
		all = append(all, c)
		checkSameJSON(t, fmt.Sprintf("random contact %d", i), c)
	}
	for i := 0; i+50 <= len(all); i += 37 {
		pg := &crm.Page[*crm.Contact]{Items: all[i : i+r.IntN(51)]}
		if r.IntN(2) == 0 {
			pg.NextCursor = randomString(r)
		}
		checkSameJSON(t, fmt.Sprintf("random page at %d", i), pg)
	}
}

// TestContactJSONOutOfRange checks the times encoding/json refuses: the fast
// path steps aside and the response is what it was before PRF-1, the status
// and headers with an empty body.
func TestContactJSONOutOfRange(t *testing.T) {
	good := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, bad := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600)),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 100*3600)),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC).In(time.FixedZone("", 2*3600)), // year 10000 locally
	} {
		for i, c := range []*crm.Contact{
			{ID: 1, CreatedAt: bad, UpdatedAt: good},
			{ID: 2, CreatedAt: good, UpdatedAt: bad},
			{ID: 3, CreatedAt: good, UpdatedAt: good, DeletedAt: &bad},
		} {
			name := fmt.Sprintf("%s in field %d", bad, i)
			if _, err := encodeReflect(c); err == nil {
				t.Fatalf("%s: encoding/json accepts it; the test needs a refused time", name)
			}
			if _, ok := appendFastJSON(nil, c); ok {
				t.Errorf("%s: the fast encoder accepted it", name)
			}
			checkSameJSON(t, name, c)
			// One bad contact at the end of a page refuses the whole page.
			pg := benchContactPage(50)
			pg.Items[49] = c
			checkSameJSON(t, name+" in a page", pg)
			rec := httptest.NewRecorder()
			WriteJSON(rec, http.StatusOK, pg)
			if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("%s: WriteJSON answered %d %v %q", name, rec.Code, rec.Header(), rec.Body.Bytes())
			}
		}
	}
}

// TestWriteJSONOtherTypes checks that values without a hand-written encoder,
// including nil pointers and look-alikes, keep the encoding/json path.
func TestWriteJSONOtherTypes(t *testing.T) {
	c := benchContactPage(1).Items[0]
	for _, v := range []any{
		nil, (*crm.Contact)(nil), (*crm.Page[*crm.Contact])(nil), *c, crm.Page[*crm.Contact]{},
		[]*crm.Contact{c}, &crm.Page[crm.Contact]{Items: []crm.Contact{*c}}, &crm.Page[*crm.Company]{},
		map[string]any{"items": []*crm.Contact{c}}, map[string]string{"status": "ok"},
	} {
		if _, ok := appendFastJSON(nil, v); ok {
			t.Errorf("%T: took the fast path", v)
		}
		checkSameResponse(t, fmt.Sprintf("%T", v), v)
	}
}

// TestContactJSONFields pins the shape of the types the fast encoder writes
// by hand. If it fails, crm.Contact, crm.Preferences or crm.Page changed:
// update appendContactJSON or appendContactPageJSON to match, then this
// list.
func TestContactJSONFields(t *testing.T) {
	fields := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			out = append(out, f.Name+" "+f.Type.String()+" "+string(f.Tag))
		}
		return out
	}
	for _, tc := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[crm.Contact](), []string{
			`ID int64 json:"id"`,
			`FirstName string json:"first_name"`,
			`LastName string json:"last_name"`,
			`Email string json:"email,omitempty"`,
			`Phone string json:"phone,omitempty"`,
			`CompanyID *int64 json:"company_id,omitempty"`,
			`Title string json:"title,omitempty"`,
			`Address string json:"address,omitempty"`,
			`Birthday string json:"birthday,omitempty"`,
			`Notes string json:"notes,omitempty"`,
			`Tags []string json:"tags"`,
			`Preferences crm.Preferences json:"preferences"`,
			`OwnerID int64 json:"owner_id"`,
			`TeamID *int64 json:"team_id,omitempty"`,
			`Version int64 json:"version"`,
			`CreatedAt time.Time json:"created_at"`,
			`UpdatedAt time.Time json:"updated_at"`,
			`DeletedAt *time.Time json:"deleted_at,omitempty"`,
			`Masked []string json:"masked,omitempty"`,
			`EmailToken string json:"-"`,
			`PhoneToken string json:"-"`,
			`TagTokens []string json:"-"`,
		}},
		{reflect.TypeFor[crm.Preferences](), []string{
			`Channel string json:"channel,omitempty"`,
			`Language string json:"language,omitempty"`,
			`DoNotContact bool json:"do_not_contact"`,
		}},
		{reflect.TypeFor[crm.Page[*crm.Contact]](), []string{
			`Items []*crm.Contact json:"items"`,
			`NextCursor string json:"next_cursor,omitempty"`,
		}},
	} {
		if got := fields(tc.typ); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s changed; update contactjson.go:\n got %q\nwant %q", tc.typ, got, tc.want)
		}
		// A marshaling method would take precedence over the fields.
		for _, typ := range []reflect.Type{tc.typ, reflect.PointerTo(tc.typ)} {
			for _, m := range []string{"MarshalJSON", "MarshalJSONTo", "MarshalText", "AppendText"} {
				if _, ok := typ.MethodByName(m); ok {
					t.Errorf("%s has a %s method, which the fast encoder ignores", typ, m)
				}
			}
		}
	}
}

// TestJSONBufferPool checks that large buffers are not kept by the pool.
func TestJSONBufferPool(t *testing.T) {
	big := make([]byte, 0, maxPooledJSONBuffer+1)
	putJSONBuffer(&big)
	for range 10 {
		b := getJSONBuffer()
		if cap(*b) > maxPooledJSONBuffer {
			t.Fatalf("the pool returned a buffer of %d bytes", cap(*b))
		}
		if len(*b) != 0 {
			t.Fatalf("the pool returned a buffer holding %d bytes", len(*b))
		}
		putJSONBuffer(b)
	}
}
