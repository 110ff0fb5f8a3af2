package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

var fast = Params{Memory: 8 * 1024, Time: 1, Threads: 1}

// long is 130 characters of no pattern, for the length limits.
var long = strings.Repeat("the quick brown fox jumps over a lazy dog, ", 4)[:130]

// TestCheckPassword covers AUTH-1 and NIST SP 800-63B §5.1.1.2: length in
// code points, no composition rules, the common-password list
// (ASVS v5.0.0-6.2.12), repetitive and sequential passwords, and the
// user's own name and email (issue 9 item 8).
func TestCheckPassword(t *testing.T) {
	cases := map[string]error{
		"short":                      ErrPasswordTooShort,
		"ёжик в тумане":              nil, // 13 code points, 24 bytes
		"ёжик":                       ErrPasswordTooShort,
		"all lowercase no digits ok": nil,
		long[:128]:                   nil,
		long[:129]:                   ErrPasswordTooLong,
		"Password1234":               ErrPasswordCommon, // case-insensitive list match
		"ZxcvbnmMnbvcxz":             ErrPasswordCommon,
		"tab\tinside password":       ErrPasswordInvalid,
		"bad utf8 \xff password":     ErrPasswordInvalid,
		// Repetitive and sequential.
		"aaaaaaaaaaaa":             ErrPasswordRepetitive,
		"123456789012":             ErrPasswordCommon,     // on the list before it is sequential
		"234567890123":             ErrPasswordRepetitive, // 9 to 0 wraps
		"210987654321":             ErrPasswordRepetitive, // downwards
		"abcdefghijklm":            ErrPasswordRepetitive,
		"ABCDEFGHIJKLM":            ErrPasswordRepetitive,
		"1234abcd1234":             ErrPasswordRepetitive, // 9 of 11 steps
		"aabbccddeeff":             ErrPasswordRepetitive,
		"xq7xq7xq7xq7":             ErrPasswordRepetitive, // a unit of 3, four times
		"tango-delta-tango-delta-": ErrPasswordRepetitive, // a unit of 12, twice
		"ааааааааааааа":            ErrPasswordRepetitive, // Cyrillic а
		"Abcdefgh2026":             nil,                   // 7 of 11 steps: under three quarters
		"abcdefgh 2026 winter":     nil,
		// The user's own words, and the product's name.
		"zoe.kowalski@example.com":  ErrPasswordPersonal,
		"ZoeKowalski2026":           ErrPasswordPersonal, // 4 characters left
		"kowalski+zoe!!":            ErrPasswordPersonal,
		"Zoë Kowalski 1980":         ErrPasswordPersonal, // the name as given
		"Custos2026!!":              ErrPasswordPersonal,
		"zoe likes green tea a lot": nil, // "zoe" out, 22 left
		// Invisible characters hide nothing (issue 9 review).
		"password1234\u200b":                              ErrPasswordCommon,
		"qwertyuiop12\u200d":                              ErrPasswordCommon,
		"pass\u00adword1234":                              ErrPasswordCommon,
		"zoe\u200b.kowalski@example.com":                  ErrPasswordPersonal,
		"aaaa\u200baaaa\u200baaaa":                        ErrPasswordRepetitive,
		"short\u200b\u200b\u200b\u200b\u200b\u200b\u200b": ErrPasswordTooShort,
		// The email's domain is the user's too.
		"example example 77":       ErrPasswordPersonal,
		"kowalski's garden shed 7": nil,
	}
	for pw, want := range cases {
		if got := CheckPassword(pw, "Zoë Kowalski", "zoe.kowalski@example.com"); got != want {
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
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=8192,t=1,p=1,n=1$") {
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

// TestPasswordNormalised: passwords are hashed in NFKC (NIST SP 800-63B
// §5.1.1.2), so the same passphrase typed composed or decomposed, with
// full-width digits or ligatures, verifies; hashes made from the password
// as typed, before normalisation, still verify and ask for a rehash.
func TestPasswordNormalised(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(fast, 1)
	composed, decomposed := "Zo\u00eb's ﬁrst ｐａｓｓ 2026", "Zoe\u0308's first pass 2026"
	enc, err := h.Hash(ctx, decomposed)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{composed, decomposed, "Zo\u00eb's first pass 2026"} {
		if ok, rehash, err := h.Verify(ctx, pw, enc); !ok || rehash || err != nil {
			t.Errorf("Verify(%q) = %v, %v, %v: want a match without rehash", pw, ok, rehash, err)
		}
	}
	if ok, _, _ := h.Verify(ctx, "Zoe's first pass 2026", enc); ok {
		t.Error("the letter without its diaeresis verified")
	}
	// A hash of the password as typed (no normalisation), as stored before.
	salt := make([]byte, 16)
	legacy := encode(fast, salt, argon2.IDKey([]byte(decomposed), salt, fast.Time, fast.Memory, fast.Threads, 32), false)
	if ok, rehash, _ := h.Verify(ctx, decomposed, legacy); !ok || !rehash {
		t.Errorf("a hash of the password as typed: ok %v rehash %v, want true, true", ok, rehash)
	}
	if ok, _, _ := h.Verify(ctx, decomposed+"x", legacy); ok {
		t.Error("a wrong password verified against the legacy hash")
	}
	// An old hash of an ASCII password verifies and is rehashed once, to
	// carry the mark; a marked hash is never checked as typed, so a hash of
	// the typed form that claimed the mark would not verify.
	asciiOld := encode(fast, salt, argon2.IDKey([]byte("plain ascii passphrase"), salt, fast.Time, fast.Memory, fast.Threads, 32), false)
	if ok, rehash, _ := h.Verify(ctx, "plain ascii passphrase", asciiOld); !ok || !rehash {
		t.Errorf("an old ASCII hash: ok %v rehash %v", ok, rehash)
	}
	forged := encode(fast, salt, argon2.IDKey([]byte(decomposed), salt, fast.Time, fast.Memory, fast.Threads, 32), true)
	if ok, _, _ := h.Verify(ctx, decomposed, forged); ok {
		t.Error("a marked hash was checked against the password as typed")
	}
	for _, bad := range []string{"$argon2id$v=19$m=8192,t=1,p=1,x=2$AAAA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=8192,t=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if _, _, err := h.Verify(ctx, "x", bad); err == nil {
			t.Errorf("Verify accepted the malformed hash %q", bad)
		}
	}
	// Checks see the normalised form: full-width letters count as letters.
	if err := CheckPassword("ａａａａａａａａａａａａ"); err != ErrPasswordRepetitive {
		t.Errorf("full-width repetition: %v", err)
	}
}
