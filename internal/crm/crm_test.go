package crm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestErrors: the code, safe message and fields of an *Error survive
// wrapping; anything else is "internal" with a generic message, so an
// internal error's text never reaches a caller (ASVS v5.0.0-16.5.1).
func TestErrors(t *testing.T) {
	e := &Error{Code: EINVALID, Message: "validation failed", Fields: map[string]string{"email": "required"}}
	wrapped := fmt.Errorf("handler: %w", e)
	if ErrorCode(wrapped) != EINVALID || ErrorMessage(wrapped) != "validation failed" || ErrorFields(wrapped)["email"] != "required" {
		t.Errorf("wrapped: %q %q %v", ErrorCode(wrapped), ErrorMessage(wrapped), ErrorFields(wrapped))
	}
	plain := errors.New("pq: password authentication failed for user custos")
	if ErrorCode(plain) != EINTERNAL || ErrorMessage(plain) != "internal error" || ErrorFields(plain) != nil {
		t.Errorf("plain: %q %q", ErrorCode(plain), ErrorMessage(plain))
	}
	if ErrorCode(nil) != "" || ErrorMessage(nil) != "" || ErrorFields(nil) != nil {
		t.Error("nil is not an error")
	}
	if got := NotFound("contact"); got.Code != ENOTFOUND || got.Message != "contact not found" {
		t.Errorf("NotFound: %+v", got)
	}
	if got := Errorf(ECONFLICT, "taken: %d", 3); got.Code != ECONFLICT || got.Message != "taken: 3" {
		t.Errorf("Errorf: %+v", got)
	}
	if s := e.Error(); !strings.Contains(s, "code=invalid") || !strings.Contains(s, "email") {
		t.Errorf("Error(): %q", s)
	}
	// FieldErrors keeps the first reason per field; no failures, no error.
	var f FieldErrors = map[string]string{}
	if f.Err() != nil {
		t.Error("no failures gave an error")
	}
	f.Add("email", "required")
	f.Add("email", "too long")
	f.Add("name", "too long")
	err := f.Err()
	if ErrorCode(err) != EINVALID || ErrorFields(err)["email"] != "required" || len(ErrorFields(err)) != 2 {
		t.Errorf("FieldErrors: %v", err)
	}
}

// TestCursor: a cursor round-trips; one made for another sort, forged
// without an id, oversized or not base64 JSON is refused with EINVALID on
// the field "cursor" (attack 14: cursors are client input).
func TestCursor(t *testing.T) {
	c := Cursor{Sort: "last_name", Key: "Соколова\x00x", ID: 42}
	s := EncodeCursor(c)
	got, err := DecodeCursor(s, "last_name")
	if err != nil || *got != c {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	forge := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, bad := range map[string]string{
		"another sort":   s,
		"no id":          forge(map[string]any{"s": "created_at", "k": "x"}),
		"negative id":    forge(map[string]any{"s": "created_at", "k": "x", "i": -1}),
		"oversized":      forge(map[string]any{"s": "created_at", "k": strings.Repeat("x", 600), "i": 1}),
		"not base64":     "%%%",
		"not JSON":       base64.RawURLEncoding.EncodeToString([]byte("{")),
		"a wrong type":   forge(map[string]any{"s": "created_at", "k": 5, "i": 1}),
		"padded base64":  base64.URLEncoding.EncodeToString([]byte(`{"s":"created_at","k":"","i":1}`)),
		"the empty text": "",
	} {
		_, err := DecodeCursor(bad, "created_at")
		if ErrorCode(err) != EINVALID || ErrorFields(err)["cursor"] == "" {
			t.Errorf("%s: %v, want EINVALID on cursor", name, err)
		}
	}
}

// TestNullable: absent, null and a value are three different inputs.
func TestNullable(t *testing.T) {
	var in struct {
		A Nullable[int64] `json:"a"`
		B Nullable[int64] `json:"b"`
		C Nullable[int64] `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":null,"b":7}`), &in); err != nil {
		t.Fatal(err)
	}
	if !in.A.Set || in.A.Valid || in.A.Ptr() != nil {
		t.Errorf("null: %+v", in.A)
	}
	if !in.B.Set || !in.B.Valid || *in.B.Ptr() != 7 {
		t.Errorf("value: %+v", in.B)
	}
	if in.C.Set {
		t.Errorf("absent: %+v", in.C)
	}
	if err := json.Unmarshal([]byte(`{"a":"x"}`), &in); err == nil {
		t.Error("a string for an int64 was accepted")
	}
	out, _ := json.Marshal(struct{ A, B Nullable[int64] }{Null[int64](), Value[int64](3)})
	if string(out) != `{"A":null,"B":3}` {
		t.Errorf("marshal: %s", out)
	}
}

// TestOneTimeTokenUsable: a used or expired link is not usable, exactly
// at its expiry included.
func TestOneTimeTokenUsable(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tok := &OneTimeToken{ExpiresAt: now.Add(time.Minute)}
	if !tok.Usable(now) || tok.Usable(now.Add(time.Minute)) {
		t.Error("expiry")
	}
	tok.UsedAt = &now
	if tok.Usable(now) {
		t.Error("a used link is usable")
	}
}

// TestRolesAndScopes: only the six roles and two scopes are valid, and the
// system principal is the one with the system kind.
func TestRolesAndScopes(t *testing.T) {
	for _, r := range Roles {
		if !r.Valid() {
			t.Errorf("role %q invalid", r)
		}
	}
	for _, r := range []Role{"", "root", "Admin", "admin "} {
		if r.Valid() {
			t.Errorf("role %q valid", r)
		}
	}
	if !ScopeRead.Valid() || !ScopeWrite.Valid() || TokenScope("admin").Valid() {
		t.Error("scopes")
	}
	if p := SystemPrincipal(); p.Kind != KindSystem || p.UserID != 0 {
		t.Errorf("system principal: %+v", p)
	}
}
