package auth

import (
	"encoding/base64"
	"testing"
)

// TestCSRFToken: a session's CSRF token is a function of its secret alone,
// differs between secrets, and is neither the secret nor its stored hash
// (ASVS v5.0.0-3.5.1).
func TestCSRFToken(t *testing.T) {
	a, b := NewSecret(""), NewSecret("")
	ta, tb := CSRFToken(a), CSRFToken(b)
	if ta != CSRFToken(a) {
		t.Error("the token of one secret is not stable")
	}
	if ta == tb {
		t.Error("two secrets give one token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(ta)
	if err != nil || len(raw) != 32 {
		t.Errorf("token %q: %d bytes, %v; want 32 bytes of base64url", ta, len(raw), err)
	}
	if ta == a || ta == base64.RawURLEncoding.EncodeToString(HashSecret(a)) {
		t.Error("the token is the secret or its stored hash")
	}
}
