package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strconv"
	"strings"
)

// Recovery codes (AUTH-2) are look-up secrets (NIST SP 800-63B §5.1.2):
// RecoveryCodeCount single-use codes shown once when TOTP is activated or
// the codes are regenerated. Each has 60 bits from crypto/rand, written in
// Crockford's base32 (no i, l, o or u; those typed by mistake are read as
// 1, 1, 0 and v) in three groups of four: "7g2k-q9xm-4hcw".
//
// Only a SHA-256 of each code is stored. A fast hash is enough for 60 bits
// behind online throttling (800-63B asks for rate limiting below 64 bits);
// the user id is hashed in too, so one precomputation cannot attack every
// user's codes at once and a hash copied to another account is useless.
const (
	RecoveryCodeCount = 10
	recoveryChars     = 12 // 60 bits
	recoveryGroup     = 4
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, formatted for
// people.
func NewRecoveryCodes() []string {
	out := make([]string, RecoveryCodeCount)
	for i := range out {
		b := make([]byte, recoveryChars)
		_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
		var s strings.Builder
		for j, x := range b {
			if j > 0 && j%recoveryGroup == 0 {
				s.WriteByte('-')
			}
			s.WriteByte(crockford[x&31]) // 256 is a multiple of 32: uniform
		}
		out[i] = s.String()
	}
	return out
}

// NormalizeRecoveryCode returns the canonical form of a typed code
// (lower case, no separators, look-alike letters mapped) and whether it
// has the shape of a recovery code at all.
func NormalizeRecoveryCode(code string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\u00a0':
			continue
		case r == 'i' || r == 'l':
			r = '1'
		case r == 'o':
			r = '0'
		case r == 'u':
			r = 'v'
		}
		if r > 127 || !strings.ContainsRune(crockford, r) {
			return "", false
		}
		b.WriteRune(r)
		if b.Len() > recoveryChars {
			return "", false
		}
	}
	if b.Len() != recoveryChars {
		return "", false
	}
	return b.String(), true
}

// HashRecoveryCode returns the stored form of a code of user userID. An
// input that is not a recovery code hashes to nil.
func HashRecoveryCode(userID int64, code string) []byte {
	norm, ok := NormalizeRecoveryCode(code)
	if !ok {
		return nil
	}
	h := sha256.Sum256([]byte("custos recovery code v1\x00" + strconv.FormatInt(userID, 10) + "\x00" + norm))
	return h[:]
}

// MatchRecoveryCode returns the index in hashes of the stored hash that
// code matches, or -1. Every hash is compared, in constant time, so the
// time taken does not tell which one (or whether one) matched. Using the
// code up, once, is the store's job.
func MatchRecoveryCode(userID int64, code string, hashes [][]byte) int {
	h := HashRecoveryCode(userID, code)
	valid := h != nil
	if !valid {
		h = make([]byte, sha256.Size) // compare anyway, so malformed input takes as long
	}
	found := -1
	for i, x := range hashes {
		if subtle.ConstantTimeCompare(h, x) == 1 && found < 0 {
			found = i
		}
	}
	if !valid {
		return -1
	}
	return found
}
