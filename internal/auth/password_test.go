package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

var fast = Params{Memory: 8 * 1024, Time: 1, Threads: 1}

// TestCheckPassword covers AUTH-1 and NIST SP 800-63B §5.1.1.2: length in
// code points, no composition rules, the common-password list
// (ASVS v5.0.0-6.2.12).
func TestCheckPassword(t *testing.T) {
	cases := map[string]error{
		"short":                      ErrPasswordTooShort,
		"ёжик в тумане":              nil, // 13 code points, 24 bytes
		"ёжик":                       ErrPasswordTooShort,
		"all lowercase no digits ok": nil,
		strings.Repeat("x", 128):     nil,
		strings.Repeat("x", 129):     ErrPasswordTooLong,
		"Password1234":               ErrPasswordCommon, // case-insensitive list match
		"ZxcvbnmMnbvcxz":             ErrPasswordCommon,
		"tab\tinside password":       ErrPasswordInvalid,
		"bad utf8 \xff password":     ErrPasswordInvalid,
	}
	for pw, want := range cases {
		if got := CheckPassword(pw); got != want {
			t.Errorf("CheckPassword(%q) = %v, want %v", pw, got, want)
		}
	}
	if !IsCommon("iloveyou") || IsCommon("a truly uncommon sentence 42") {
		t.Error("IsCommon misclassifies")
	}
}

func TestHashVerifyRehash(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 2)
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=8192,t=1,p=1$") {
		t.Fatalf("encoding %q", enc)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery staple")
	if enc == enc2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || rehash || err != nil {
		t.Errorf("verify: %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, "correct horse battery stapl", enc); ok {
		t.Error("wrong password verified")
	}
	// Changed parameters ask for a rehash on the next successful login.
	h2 := NewHasher(Params{Memory: 16 * 1024, Time: 1, Threads: 1}, 1)
	if ok, rehash, _ := h2.Verify(ctx, "correct horse battery staple", enc); !ok || !rehash {
		t.Errorf("after a parameter change: ok %v rehash %v", ok, rehash)
	}
	// An unknown account (empty hash) never verifies, even with the dummy's password.
	if ok, _, err := h.Verify(ctx, "custos-dummy", ""); ok || err != nil {
		t.Errorf("empty hash: %v %v", ok, err)
	}
	for _, bad := range []string{"$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=18$m=1,t=1,p=1$AA$AA", "plain"} {
		if ok, _, err := h.Verify(ctx, "x", bad); ok || err == nil {
			t.Errorf("malformed hash %q: %v %v", bad, ok, err)
		}
	}
}

// TestHasherPoolBounded checks SHD-4: a full pool makes callers wait, and a
// caller whose context ends gets ErrBusy instead of queueing forever.
func TestHasherPoolBounded(t *testing.T) {
	h := NewHasher(fast, 1)
	h.slots <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "whatever password"); err != ErrBusy {
		t.Errorf("full pool: %v, want ErrBusy", err)
	}
	<-h.slots
	if _, err := h.Hash(context.Background(), "whatever password"); err != nil {
		t.Errorf("free pool: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	a, b := NewSecret(TokenPrefix), NewSecret(TokenPrefix)
	if a == b || !strings.HasPrefix(a, "cst_") || len(a) < 4+50 {
		t.Errorf("secrets %q %q", a, b)
	}
	if string(HashSecret(a)) == string(HashSecret(b)) || len(HashSecret(a)) != 32 {
		t.Error("hashes")
	}
	code := SetupCode()
	if len(code) != 29 || strings.Count(code, "-") != 4 {
		t.Errorf("setup code %q", code)
	}
}
