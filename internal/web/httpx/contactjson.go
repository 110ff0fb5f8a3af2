package httpx

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
)

// Hand-written JSON encoding of contacts (PRF-1). Contact lists are the
// busiest API responses, and encoding/json spent about 15% of their CPU on
// reflection. The functions here append exactly the bytes that
// json.Encoder.Encode with SetEscapeHTML(true) writes for *crm.Contact and
// *crm.Page[*crm.Contact], trailing newline included; every other type, and
// every value these functions cannot reproduce, keeps the encoding/json
// path. contactjson_test.go compares the two byte for byte.
//
// The rules mirrored here are those of encoding/json in Go 1.27, which is
// built on encoding/json/v2 (jsontext's AppendQuote with the v1 options
// EscapeForHTML, EscapeForJS and AllowInvalidUTF8):
//
//   - '"' and '\\' are escaped with a backslash; \b \f \n \r \t use their
//     short forms; the other control characters below U+0020 are \u00xx
//     with lower-case hex digits; U+007F is written as is.
//   - '<', '>' and '&' are \u003c, \u003e and \u0026 (EscapeForHTML).
//   - U+2028 and U+2029 are \u2028 and \u2029 (EscapeForJS).
//   - Each byte of invalid UTF-8 becomes U+FFFD. Go 1.27 writes the raw
//     character (the bytes EF BF BD), where the classic encoding/json (and
//     Go 1.27 built with GOEXPERIMENT=nojsonv2) writes the escape \ufffd.
//     The replacement is therefore taken from encoding/json at start-up,
//     and a self-check turns the fast path off should the rest differ.
//   - Times are RFC 3339 with nanoseconds, trailing zeros dropped, as
//     time.Time.MarshalJSON. A year outside 0..9999 or a zone offset of 24
//     hours or more is an error there; the fast path then steps aside so
//     that the caller gets exactly the encoding/json behaviour.

// Pooled output buffers. Buffers that grew beyond maxPooledJSONBuffer (a
// very large page) are dropped rather than kept alive by the pool.
const (
	initialJSONBuffer   = 4 << 10
	maxPooledJSONBuffer = 1 << 20
)

var jsonBufferPool = sync.Pool{New: func() any {
	b := make([]byte, 0, initialJSONBuffer)
	return &b
}}

func getJSONBuffer() *[]byte { return jsonBufferPool.Get().(*[]byte) }

func putJSONBuffer(b *[]byte) {
	if cap(*b) > maxPooledJSONBuffer {
		return
	}
	*b = (*b)[:0]
	jsonBufferPool.Put(b)
}

var (
	// jsonInvalidUTF8 is what encoding/json writes for each byte of invalid
	// UTF-8 in a string; see the rules at the top of this file.
	jsonInvalidUTF8 string
	// fastJSON reports whether the start-up self-check passed. If this
	// build's encoding/json escapes differently from the rules above, every
	// value takes the encoding/json path: slower, never different.
	fastJSON bool
)

func init() {
	jsonInvalidUTF8 = probeInvalidUTF8()
	fastJSON = jsonSelfCheck()
}

// probeInvalidUTF8 asks encoding/json how it writes an invalid byte.
func probeInvalidUTF8() string {
	b, err := json.Marshal("\xff")
	if err != nil || len(b) < 2 {
		return "\ufffd"
	}
	return string(b[1 : len(b)-1])
}

// jsonSelfCheck encodes a contact with every kind of character that needs
// escaping, and a page of it, both ways and reports whether they agree.
func jsonSelfCheck() bool {
	const tricky = "<a href=\"x\">&amp;</a> \\ \x00\x01\b\t\n\f\r\x1f\x7f \u2028\u2029 \xff\xe2\x82 \ufffd Жёлудь 😀"
	company := int64(-7)
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("", 3*3600+30*60))
	c := &crm.Contact{ID: 1, FirstName: tricky, LastName: tricky, Email: tricky, Phone: tricky,
		CompanyID: &company, Title: tricky, Address: tricky, Birthday: tricky, Notes: tricky,
		Tags: []string{tricky, ""}, Preferences: crm.Preferences{Channel: tricky, Language: tricky, DoNotContact: true},
		OwnerID: 2, Version: 3, CreatedAt: at, UpdatedAt: at.UTC(), DeletedAt: &at, Masked: []string{tricky, "phone"}}
	for _, v := range []any{c, &crm.Page[*crm.Contact]{Items: []*crm.Contact{c, {}, nil}, NextCursor: tricky}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(true)
		if enc.Encode(v) != nil {
			return false
		}
		got, ok := appendFastJSON(nil, v)
		if !ok || !bytes.Equal(got, want.Bytes()) {
			return false
		}
	}
	return true
}

// writeFastJSON writes status and the encoding of v in one Write if v has a
// hand-written encoder, and reports whether it did. Otherwise it writes
// nothing, not even the status.
func writeFastJSON(w http.ResponseWriter, status int, v any) bool {
	buf := getJSONBuffer()
	defer putJSONBuffer(buf)
	b, ok := appendFastJSON(*buf, v)
	*buf = b // keep what the buffer grew to, even when unused
	if !ok {
		return false
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return true
}

// appendFastJSON appends the encoding of v and a newline to dst, for the
// types that have a hand-written encoder. It reports false, with dst
// unchanged, if v is of another type or holds a value that encoding/json
// would refuse (an out-of-range time); the caller then uses encoding/json.
func appendFastJSON(dst []byte, v any) ([]byte, bool) {
	n := len(dst)
	var ok bool
	switch v := v.(type) {
	case *crm.Contact:
		if v == nil {
			return dst, false
		}
		dst, ok = appendContactJSON(dst, v)
	case *crm.Page[*crm.Contact]:
		if v == nil {
			return dst, false
		}
		dst, ok = appendContactPageJSON(dst, v)
	}
	if !ok {
		return dst[:n], false
	}
	return append(dst, '\n'), true
}

// appendContactPageJSON appends a page of contacts: {"items":[...]} with
// "next_cursor" when there is a next page. A nil Items is null.
func appendContactPageJSON(dst []byte, pg *crm.Page[*crm.Contact]) ([]byte, bool) {
	dst = append(dst, `{"items":`...)
	if pg.Items == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, c := range pg.Items {
			if i > 0 {
				dst = append(dst, ',')
			}
			if c == nil {
				dst = append(dst, "null"...)
				continue
			}
			var ok bool
			if dst, ok = appendContactJSON(dst, c); !ok {
				return dst, false
			}
		}
		dst = append(dst, ']')
	}
	if pg.NextCursor != "" {
		dst = append(dst, `,"next_cursor":`...)
		dst = appendJSONString(dst, pg.NextCursor)
	}
	return append(dst, '}'), true
}

// appendContactJSON appends one contact, its fields in declaration order
// with the names and omitempty rules of their json tags.
func appendContactJSON(dst []byte, c *crm.Contact) ([]byte, bool) {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, c.ID, 10)
	dst = append(dst, `,"first_name":`...)
	dst = appendJSONString(dst, c.FirstName)
	dst = append(dst, `,"last_name":`...)
	dst = appendJSONString(dst, c.LastName)
	dst = appendOptionalJSONString(dst, `,"email":`, c.Email)
	dst = appendOptionalJSONString(dst, `,"phone":`, c.Phone)
	if c.CompanyID != nil {
		dst = append(dst, `,"company_id":`...)
		dst = strconv.AppendInt(dst, *c.CompanyID, 10)
	}
	dst = appendOptionalJSONString(dst, `,"title":`, c.Title)
	dst = appendOptionalJSONString(dst, `,"address":`, c.Address)
	dst = appendOptionalJSONString(dst, `,"birthday":`, c.Birthday)
	dst = appendOptionalJSONString(dst, `,"notes":`, c.Notes)

	// Tags has no omitempty: nil is null, empty is [].
	dst = append(dst, `,"tags":`...)
	if c.Tags == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, t := range c.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, t)
		}
		dst = append(dst, ']')
	}

	dst = append(dst, `,"preferences":{`...)
	p := &c.Preferences
	if p.Channel != "" {
		dst = append(dst, `"channel":`...)
		dst = appendJSONString(dst, p.Channel)
		dst = append(dst, ',')
	}
	if p.Language != "" {
		dst = append(dst, `"language":`...)
		dst = appendJSONString(dst, p.Language)
		dst = append(dst, ',')
	}
	dst = append(dst, `"do_not_contact":`...)
	dst = strconv.AppendBool(dst, p.DoNotContact)
	dst = append(dst, '}')

	dst = append(dst, `,"owner_id":`...)
	dst = strconv.AppendInt(dst, c.OwnerID, 10)
	if c.TeamID != nil {
		dst = append(dst, `,"team_id":`...)
		dst = strconv.AppendInt(dst, *c.TeamID, 10)
	}
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, c.Version, 10)
	var ok bool
	dst = append(dst, `,"created_at":`...)
	if dst, ok = appendJSONTime(dst, c.CreatedAt); !ok {
		return dst, false
	}
	dst = append(dst, `,"updated_at":`...)
	if dst, ok = appendJSONTime(dst, c.UpdatedAt); !ok {
		return dst, false
	}
	// omitempty on a pointer omits only nil; a zero time is still written.
	if c.DeletedAt != nil {
		dst = append(dst, `,"deleted_at":`...)
		if dst, ok = appendJSONTime(dst, *c.DeletedAt); !ok {
			return dst, false
		}
	}
	// omitempty on a slice omits nil and empty alike.
	if len(c.Masked) > 0 {
		dst = append(dst, `,"masked":[`...)
		for i, f := range c.Masked {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, f)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), true
}

// appendOptionalJSONString appends an omitempty string field: name (with
// its leading comma and trailing colon) and value, or nothing when s is "".
func appendOptionalJSONString(dst []byte, name, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, name...)
	return appendJSONString(dst, s)
}

// appendJSONTime appends t as time.Time.MarshalJSON does: a quoted RFC 3339
// timestamp with as many fractional digits as needed. It reports false for
// the times MarshalJSON refuses (the same checks as encoding/json/v2's time
// marshaler): a year that is not exactly four digits, or a zone offset
// whose hours are outside 0..23.
func appendJSONTime(dst []byte, t time.Time) ([]byte, bool) {
	dst = append(dst, '"')
	n := len(dst)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	b := dst[n:]
	if b[len("9999")] != '-' {
		return dst, false
	}
	if b[len(b)-1] != 'Z' {
		// The offset is the last six bytes, "+07:00".
		off := b[len(b)-len("+07:00"):]
		if (off[0] != '+' && off[0] != '-') || (off[1]-'0')*10+(off[2]-'0') >= 24 {
			return dst, false
		}
	}
	return append(dst, '"'), true
}

// jsonSafeASCII marks the ASCII bytes written as they are inside a JSON
// string: not a control character, '"', '\\', '<', '>' or '&'.
var jsonSafeASCII = func() (safe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = true
	}
	for _, c := range `"\<>&` {
		safe[c] = false
	}
	return safe
}()

const lowerHex = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string with encoding/json's
// escaping (see the rules at the top of this file).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, to be copied as is
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, '<', '>' and '&'
				dst = append(dst, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		// A two-byte sequence (U+0080..U+07FF: Latin, Greek, Cyrillic,
		// Hebrew...) never needs escaping; it is valid exactly when the
		// lead byte is C2..DF and the next a continuation byte 80..BF.
		if c := s[i]; 0xC2 <= c && c <= 0xDF && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			i += 2
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, jsonInvalidUTF8...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', lowerHex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
