package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP (RFC 6238, AUTH-2) with the parameters every authenticator app
// supports: HMAC-SHA1, six digits, 30-second steps, a 160-bit secret
// (RFC 4226 §4 recommends 160 bits). The protocol itself is pquerna/otp's;
// this file only adds what it lacks: the matched time step, so that the
// caller can refuse a step at or before the last accepted one (replay,
// NIST SP 800-63B §5.1.4.2, ASVS v5.0.0-6.5.1).
const (
	// TOTPIssuer names the service in authenticator apps.
	TOTPIssuer = "Custos"
	// TOTPPeriod is the length of a time step.
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is the number of steps accepted before and after the current
	// one, for clock drift (RFC 6238 §5.2; ASVS v5.0.0-6.5.5 allows one).
	TOTPSkew = 1

	totpDigits     = otp.DigitsSix
	totpSecretSize = 20
)

// ErrTOTPSecret is returned for a stored secret that is not valid base32.
var ErrTOTPSecret = errors.New("auth: TOTP secret is not valid base32")

// TOTPKey is a TOTP secret with the otpauth:// URL that apps scan.
type TOTPKey struct {
	Secret string // base32 without padding: the key typed by hand
	URL    string // otpauth://totp/Custos:alice@example.com?secret=...
}

// NewTOTPKey returns a fresh random key for account (the user's email).
func NewTOTPKey(account string) (*TOTPKey, error) {
	return totpKey(account, nil)
}

// TOTPKeyFor rebuilds the key of a stored secret, to show its QR code
// again while enrolment is pending.
func TOTPKeyFor(secret, account string) (*TOTPKey, error) {
	raw, err := decodeTOTPSecret(secret)
	if err != nil {
		return nil, err
	}
	return totpKey(account, raw)
}

func totpKey(account string, secret []byte) (*TOTPKey, error) {
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: TOTPIssuer, AccountName: account, Period: uint(TOTPPeriod / time.Second),
		SecretSize: totpSecretSize, Secret: secret, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("auth: TOTP key: %w", err)
	}
	return &TOTPKey{Secret: k.Secret(), URL: k.URL()}, nil
}

// GroupedSecret is the secret in blocks of four characters, easier to type.
func (k *TOTPKey) GroupedSecret() string {
	var b strings.Builder
	for i, r := range k.Secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PNG renders the key's URL as a QR code of size×size pixels. The server
// serves it as an image of its own origin, so the CSP needs no exception.
func (k *TOTPKey) PNG(size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(k.URL)
	if err != nil {
		return nil, fmt.Errorf("auth: TOTP QR code: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("auth: TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("auth: TOTP QR code: %w", err)
	}
	return buf.Bytes(), nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func decodeTOTPSecret(secret string) ([]byte, error) {
	raw, err := b32.DecodeString(strings.ToUpper(strings.TrimRight(strings.TrimSpace(secret), "=")))
	if err != nil || len(raw) < 10 {
		return nil, ErrTOTPSecret
	}
	return raw, nil
}

// TOTPStep returns the RFC 6238 time step (counter) of t.
func TOTPStep(t time.Time) int64 {
	return t.Unix() / int64(TOTPPeriod/time.Second)
}

// NormalizeOTP removes the spaces and dashes people type inside a code.
func NormalizeOTP(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// VerifyTOTP checks code against secret at now, accepting the current step
// and TOTPSkew steps on either side, but only steps after lastStep: a code
// is good once, and never after a later one was used (store the returned
// step as the new lastStep; 0 when none was used yet). It returns the
// matched step. Every candidate step is computed and compared in constant
// time, so the time taken does not tell which step matched.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	code = NormalizeOTP(code)
	if len(code) != totpDigits.Length() || !allDigits(code) {
		return 0, false
	}
	if _, err := decodeTOTPSecret(secret); err != nil {
		return 0, false
	}
	cur := TOTPStep(now)
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		want, err := totpCode(secret, s, totpDigits)
		if err != nil || s < 0 {
			continue
		}
		match := subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
		// The latest matching step wins, so that no later step with the
		// same code (a one-in-a-million coincidence) stays usable.
		if match && s > lastStep {
			step, ok = s, true
		}
	}
	return step, ok
}

// TOTPCode returns the code of secret at time t. Tests and the CLI's
// diagnostics use it; the server only verifies.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totpCode(secret, TOTPStep(t), totpDigits)
}

func totpCode(secret string, step int64, digits otp.Digits) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1})
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
