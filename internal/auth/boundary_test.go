package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"golang.org/x/crypto/argon2"
)

// The boundaries below are where the gremlins mutation tool found the
// tests silent (docs/testing.md): each case is one side of a comparison.

// TestThrottleValidateBounds: the limits accept their smallest legal
// values and refuse one below.
func TestThrottleValidateBounds(t *testing.T) {
	ok := Throttle{AccountLimit: 1, Lockout: time.Second, IPLimit: 1, IPWindow: time.Second,
		BackoffAfter: 1, BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond}
	if err := ok.Validate(); err != nil {
		t.Errorf("the smallest legal limits: %v", err)
	}
	if top := ok; func() bool { top.AccountLimit = MaxAccountLimit; return top.Validate() != nil }() {
		t.Error("the account limit of 100 refused")
	}
	for name, bad := range map[string]func(*Throttle){
		"account limit 0":     func(t *Throttle) { t.AccountLimit = 0 },
		"account limit 101":   func(t *Throttle) { t.AccountLimit = MaxAccountLimit + 1 },
		"lockout under 1s":    func(t *Throttle) { t.Lockout = time.Second - 1 },
		"window under 1s":     func(t *Throttle) { t.IPWindow = time.Second - 1 },
		"address limit 0":     func(t *Throttle) { t.IPLimit = 0 },
		"back-off after 0":    func(t *Throttle) { t.BackoffAfter = 0 },
		"back-off base 0":     func(t *Throttle) { t.BackoffBase = 0 },
		"back-off max < base": func(t *Throttle) { t.BackoffBase, t.BackoffMax = 2, 1 },
	} {
		th := ok
		bad(&th)
		if th.Validate() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestIPKeyLongGarbage: an unparseable address is its own key, cut at 64
// characters and not one sooner.
func TestIPKeyLongGarbage(t *testing.T) {
	s64 := strings.Repeat("x", 64)
	if got := IPKey(s64); got != s64 {
		t.Errorf("64 characters: %q", got)
	}
	if got := IPKey(s64 + "yz"); got != s64 {
		t.Errorf("66 characters: %d kept", len(got))
	}
}

// TestRepetitiveBounds: the wrap of 9 to 0 (and 0 to 9 downwards) counts
// as a step, and three quarters exactly is refused.
func TestRepetitiveBounds(t *testing.T) {
	for pw, want := range map[string]bool{
		"789078901234":  true,  // 10 of 11 steps with the 9-0 wraps, 8 without
		"321098721098":  true,  // the same, downwards through 0-9
		"abcdefghijqxz": true,  // 9 of 12: exactly three quarters
		"abcdefghiqxzw": false, // 8 of 12
		"x":             false, // one character has no steps
		"":              false,
	} {
		if got := repetitive(pw); got != want {
			t.Errorf("repetitive(%q) = %v, want %v", pw, got, want)
		}
	}
}

// TestPersonalWordsBounds: the whole email is taken out before its pieces
// (so what it leaves is judged), and words of exactly three letters count.
func TestPersonalWordsBounds(t *testing.T) {
	personal := []string{"Zoë Kowalski", "zoe.kowalski@example.com"}
	for pw, want := range map[string]error{
		"zoe.kowalski@example.com12": ErrPasswordPersonal, // "12" left, not ".@.com12"
		"Zoe-Zoe-Zoe-81":             ErrPasswordPersonal, // "zoe" is three letters
	} {
		if got := CheckPassword(pw, personal...); got != want {
			t.Errorf("CheckPassword(%q) = %v, want %v", pw, got, want)
		}
	}
}

// TestHasherPoolAndKeys: the pool runs as many hashes at once as asked
// (at least one), and a stored key of 16 bytes, the shortest allowed,
// verifies.
func TestHasherPoolAndKeys(t *testing.T) {
	if n := cap(NewHasher(fast, 3).slots); n != 3 {
		t.Errorf("a pool of 3 has %d slots", n)
	}
	if n := cap(NewHasher(fast, 0).slots); n != 1 {
		t.Errorf("a pool of 0 has %d slots, want 1", n)
	}
	h := NewHasher(fast, 1)
	salt := make([]byte, 16)
	rand.Read(salt)
	enc := encode(fast, salt, argon2.IDKey([]byte("sixteen byte key"), salt, fast.Time, fast.Memory, fast.Threads, 16), true)
	if ok, _, err := h.Verify(context.Background(), "sixteen byte key", enc); !ok || err != nil {
		t.Errorf("a 16-byte key: %v %v", ok, err)
	}
	short := encode(fast, salt, argon2.IDKey([]byte("x"), salt, fast.Time, fast.Memory, fast.Threads, 15), true)
	if _, _, err := h.Verify(context.Background(), "x", short); err == nil {
		t.Error("a 15-byte key accepted")
	}
}

// TestTOTPBounds: the key is shown in groups of four without a leading
// space; an 80-bit secret (10 bytes) is the shortest accepted; codes with
// anything but digits are refused.
func TestTOTPBounds(t *testing.T) {
	k := &TOTPKey{Secret: "ABCDEFGHIJKL"}
	if got := k.GroupedSecret(); got != "ABCD EFGH IJKL" {
		t.Errorf("grouped %q", got)
	}
	if _, err := decodeTOTPSecret(b32.EncodeToString(make([]byte, 10))); err != nil {
		t.Errorf("a 10-byte secret: %v", err)
	}
	if _, err := decodeTOTPSecret(b32.EncodeToString(make([]byte, 9))); !errors.Is(err, ErrTOTPSecret) {
		t.Errorf("a 9-byte secret: %v", err)
	}
	for s, want := range map[string]bool{"123456": true, "12345a": false, "a23456": false, "": true, "12 456": false} {
		if got := allDigits(s); got != want {
			t.Errorf("allDigits(%q) = %v", s, got)
		}
	}
}

// TestPasskeyBounds: a user handle of 64 bytes is the longest allowed; a
// ceremony made for a known user is no passwordless one; stored flags map
// onto the library's credential flags one by one.
func TestPasskeyBounds(t *testing.T) {
	rp, err := NewRelyingParty("localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.SetOrigins("https://localhost:8443"); err != nil {
		t.Fatal(err)
	}
	u := &PasskeyUser{Handle: make([]byte, 64), Name: "a@example.com", DisplayName: "A"}
	if _, _, err := rp.BeginRegistration(u); err != nil {
		t.Errorf("a 64-byte handle: %v", err)
	}
	u.Handle = make([]byte, 65)
	if _, _, err := rp.BeginRegistration(u); !errors.Is(err, ErrPasskeyConfig) {
		t.Errorf("a 65-byte handle: %v", err)
	}
	u.Handle = []byte("handle")
	u.Credentials = []PasskeyCredential{{ID: []byte("c"), Flags: PasskeyFlagBackupEligible}}
	_, ceremony, err := rp.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rp.FinishPasswordlessLogin(nil, ceremony, []byte("{}")); !errors.Is(err, ErrPasskeyCeremony) {
		t.Errorf("a second-factor ceremony used for a passwordless login: %v", err)
	}
	// A passwordless ceremony has no user and requires user verification;
	// either one wrong is refused, and the real one passes the check (and
	// fails later, on the empty response).
	for name, sd := range map[string]webauthn.SessionData{
		"with a user":          {UserID: []byte("u"), UserVerification: protocol.VerificationRequired},
		"without verification": {UserVerification: protocol.VerificationPreferred},
	} {
		sd.Challenge, sd.Expires = "challenge", time.Now().Add(time.Minute)
		_, c, err := encodeCeremony(struct{}{}, &sd)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := rp.FinishPasswordlessLogin(nil, c, []byte("{}")); !errors.Is(err, ErrPasskeyCeremony) {
			t.Errorf("a ceremony %s: %v, want ErrPasskeyCeremony", name, err)
		}
	}
	_, real, err := rp.BeginPasswordlessLogin()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rp.FinishPasswordlessLogin(nil, real, []byte("{}")); errors.Is(err, ErrPasskeyCeremony) || err == nil {
		t.Errorf("the passwordless ceremony: %v, want it past the ceremony check", err)
	}
	for _, f := range []uint8{0, PasskeyFlagUserVerified, PasskeyFlagBackupEligible, PasskeyFlagBackupState,
		PasskeyFlagUserVerified | PasskeyFlagBackupEligible | PasskeyFlagBackupState} {
		creds := waUser{&PasskeyUser{Credentials: []PasskeyCredential{{ID: []byte("c"), Flags: f}}}}.WebAuthnCredentials()
		if got := flagsOf(creds[0].Flags); got != f {
			t.Errorf("flags %03b came back as %03b", f, got)
		}
	}
}
