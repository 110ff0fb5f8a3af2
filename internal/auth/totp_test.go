package auth

import (
	"bytes"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
)

// rfcSecret is the SHA1 seed of RFC 6238 Appendix B, "12345678901234567890"
// in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

// rfcVectors are the SHA1 rows of RFC 6238 Appendix B (eight digits).
var rfcVectors = []struct {
	unix int64
	code string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

// TestTOTPRFC6238Vectors checks the code computation against RFC 6238
// Appendix B (attack 10), in eight digits as the RFC prints them and in
// the six digits Custos uses (the same value modulo 10^6).
func TestTOTPRFC6238Vectors(t *testing.T) {
	for _, v := range rfcVectors {
		now := time.Unix(v.unix, 0)
		got, err := totpCode(rfcSecret, TOTPStep(now), otp.DigitsEight)
		if err != nil || got != v.code {
			t.Errorf("T=%d: code %q, %v; want %s", v.unix, got, err, v.code)
		}
		six := v.code[2:]
		if got, _ := TOTPCode(rfcSecret, now); got != six {
			t.Errorf("T=%d: six-digit code %q, want %s", v.unix, got, six)
		}
		step, ok := VerifyTOTP(rfcSecret, six, now, 0)
		if !ok || step != v.unix/30 {
			t.Errorf("T=%d: VerifyTOTP = %d, %v; want step %d", v.unix, step, ok, v.unix/30)
		}
	}
}

// TestTOTPWindowAndReplay covers RFC 6238 §5.2 and ASVS v5.0.0-6.5.1,
// 6.5.5: ±1 step of skew, no more, and a step at or before the last
// accepted one is refused.
func TestTOTPWindowAndReplay(t *testing.T) {
	key, err := NewTOTPKey("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 12, 0, 10, 0, time.UTC)
	cur := TOTPStep(now)
	codeAt := func(step int64) string {
		c, err := totpCode(key.Secret, step, totpDigits)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, d := range []int64{-1, 0, 1} {
		step, ok := VerifyTOTP(key.Secret, codeAt(cur+d), now, 0)
		if !ok || step != cur+d {
			t.Errorf("step %+d: VerifyTOTP = %d, %v; want %d, true", d, step, ok, cur+d)
		}
	}
	for _, d := range []int64{-3, -2, 2, 3} {
		if step, ok := VerifyTOTP(key.Secret, codeAt(cur+d), now, 0); ok && step == cur+d {
			t.Errorf("a code %+d steps away was accepted", d)
		}
	}
	// Replay: the same code again, once its step is recorded.
	step, ok := VerifyTOTP(key.Secret, codeAt(cur), now, 0)
	if !ok {
		t.Fatal("fresh code refused")
	}
	if _, ok := VerifyTOTP(key.Secret, codeAt(cur), now, step); ok {
		t.Error("a replayed code (same step) was accepted")
	}
	if _, ok := VerifyTOTP(key.Secret, codeAt(cur), now.Add(20*time.Second), step); ok {
		t.Error("a replayed code was accepted in the next step")
	}
	// An older code, still inside the window, after a newer one was used.
	if _, ok := VerifyTOTP(key.Secret, codeAt(cur-1), now, step); ok {
		t.Error("a code of an earlier step was accepted after a later one")
	}
	// The next step's code is still good.
	if s, ok := VerifyTOTP(key.Secret, codeAt(cur+1), now, step); !ok || s != cur+1 {
		t.Errorf("the next step's code: %d, %v", s, ok)
	}
}

func TestTOTPInputs(t *testing.T) {
	now := time.Unix(1234567890, 0)
	good := "005924"
	for _, c := range []string{"005 924", " 005-924 ", "005\u00a0924"} {
		if _, ok := VerifyTOTP(rfcSecret, c, now, 0); !ok {
			t.Errorf("%q (with separators) refused", c)
		}
	}
	for _, c := range []string{"", "05924", "0059240", "00592a", "٠٠٥٩٢٤", "005924\x00"} {
		if _, ok := VerifyTOTP(rfcSecret, c, now, 0); ok {
			t.Errorf("%q accepted", c)
		}
	}
	for _, s := range []string{"", "not base32!", "AAAA"} {
		if _, ok := VerifyTOTP(s, good, now, 0); ok {
			t.Errorf("secret %q accepted a code", s)
		}
	}
	if _, ok := VerifyTOTP(strings.ToLower(rfcSecret), good, now, 0); !ok {
		t.Error("a lower-case secret does not verify")
	}
}

func TestTOTPKey(t *testing.T) {
	k, err := NewTOTPKey("alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := NewTOTPKey("alice@example.com")
	if k.Secret == k2.Secret {
		t.Error("two keys share a secret")
	}
	raw, err := decodeTOTPSecret(k.Secret)
	if err != nil || len(raw) != 20 {
		t.Errorf("secret %q: %d bytes, %v; want 20", k.Secret, len(raw), err)
	}
	u, err := url.Parse(k.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Custos:alice@example.com" ||
		q.Get("secret") != k.Secret || q.Get("issuer") != "Custos" || q.Get("digits") != "6" ||
		q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("URL %s", k.URL)
	}
	again, err := TOTPKeyFor(k.Secret, "alice@example.com")
	if err != nil || *again != *k {
		t.Errorf("TOTPKeyFor = %+v, %v; want %+v", again, err, k)
	}
	if _, err := TOTPKeyFor("!!", "alice@example.com"); err == nil {
		t.Error("TOTPKeyFor accepted a bad secret")
	}
	if g := k.GroupedSecret(); strings.ReplaceAll(g, " ", "") != k.Secret || len(strings.Fields(g)) != 8 {
		t.Errorf("GroupedSecret %q", g)
	}
	b, err := k.PNG(200)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("PNG does not decode: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 200 || r.Dy() != 200 {
		t.Errorf("PNG is %v, want 200x200", r)
	}
}
