package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// KeySize is the size of every key: AES-256, HMAC-SHA-256.
const KeySize = 32

// Prefix starts every sealed field; a stored value without it is a
// plaintext written before encryption (or by no one the product trusts).
const Prefix = "e1:"

const (
	formatV1  = 1
	headerLen = 1 + 8 + 12 // version, data key id, nonce
)

// ErrIntegrity is the error of a sealed value that does not open: it was
// altered, truncated, moved to another record, field or key, or its key
// was erased. Callers name the record; the value is never shown.
var ErrIntegrity = errors.New("vault: the encrypted value does not open (altered, moved, or its key erased)")

// Where is the place a sealed value belongs to, bound into its
// associated data.
type Where struct {
	Table string // "contacts"
	ID    int64  // the record's id
	Field string // "email"
}

// aad is the associated data of a field at w under data key dek.
func (w Where) aad(dek uint64) []byte {
	return []byte("custos/field/v1|" + w.Table + "|" + strconv.FormatInt(w.ID, 10) + "|" + w.Field + "|" + strconv.FormatUint(dek, 10))
}

// DataKey is an unwrapped data key and its id.
type DataKey struct {
	ID   uint64
	aead cipher.AEAD
}

// NewDataKey returns a data key of id over the 32 bytes of key.
func NewDataKey(id uint64, key []byte) (*DataKey, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("vault: a data key has %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &DataKey{ID: id, aead: aead}, nil
}

// Seal encrypts plaintext for the place w. An empty plaintext stays empty:
// that a field is unset is not hidden (docs/data-classification.md).
func (k *DataKey) Seal(w Where, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	buf := make([]byte, headerLen, headerLen+len(plaintext)+k.aead.Overhead())
	buf[0] = formatV1
	binary.BigEndian.PutUint64(buf[1:9], k.ID)
	if _, err := rand.Read(buf[9:headerLen]); err != nil {
		return "", err
	}
	out := k.aead.Seal(buf, buf[9:headerLen], []byte(plaintext), w.aad(k.ID))
	return Prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// KeyOf returns the id of the data key a sealed value names, and false
// for a value that is not sealed (empty, or plaintext).
func KeyOf(sealed string) (uint64, bool) {
	// The version byte and the key id are the first 9 bytes: the first 12
	// characters of the base64, decoded alone (a page of fifty contacts
	// asks this of every field before opening any).
	body, ok := strings.CutPrefix(sealed, Prefix)
	if !ok || base64.RawURLEncoding.DecodedLen(len(body)) < headerLen+16 {
		return 0, false
	}
	var head [9]byte
	if n, err := base64.RawURLEncoding.Decode(head[:], []byte(body[:12])); err != nil || n != 9 || head[0] != formatV1 {
		return 0, false
	}
	return binary.BigEndian.Uint64(head[1:9]), true
}

// Sealed reports whether a stored value is in the sealed format.
func Sealed(v string) bool { return strings.HasPrefix(v, Prefix) }

func decode(sealed string) ([]byte, bool) {
	body, ok := strings.CutPrefix(sealed, Prefix)
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < headerLen+16 || raw[0] != formatV1 {
		return nil, false
	}
	return raw, true
}

// Open decrypts a value sealed for the place w. An empty value opens to
// "". ErrIntegrity for anything else that does not open under k at w.
func (k *DataKey) Open(w Where, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := decode(sealed)
	if !ok || binary.BigEndian.Uint64(raw[1:9]) != k.ID {
		return "", ErrIntegrity
	}
	plain, err := k.aead.Open(nil, raw[9:headerLen], raw[headerLen:], w.aad(k.ID))
	if err != nil {
		return "", ErrIntegrity
	}
	return string(plain), nil
}
