package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Prefixes make leaked secrets recognisable to secret scanners.
const (
	TokenPrefix = "cst_"
)

// NewSecret returns a random secret of 32 bytes (256 bits) as unpadded
// base64url text with the given prefix.
func NewSecret(prefix string) string {
	return prefix + rand.Text() + rand.Text()
}

// HashSecret returns the SHA-256 of a bearer secret. Secrets carry 256 bits
// of entropy, so a fast hash is enough (no salt or KDF needed) and lookups by
// hash stay indexable.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CSRFToken derives the anti-forgery token of a browser session from the
// session's secret with HMAC-SHA-256 (the secret is the key). Nothing of it
// is stored: the database holds only the SHA-256 of the secret, from which
// the token cannot be computed, and each new session (a login, a step-up,
// any replacement) has a new secret and so a new token (ASVS v5.0.0-3.5.1).
func CSRFToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte("custos csrf token v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// NewID returns a random public identifier (for sessions).
func NewID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SetupCode returns a human-typable one-time code: 5 groups of 5 base32 chars.
func SetupCode() string {
	t := rand.Text() // 26 base32 characters, 130 bits
	var b strings.Builder
	for i := 0; i < 25; i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(t[i : i+5])
	}
	return b.String()
}
