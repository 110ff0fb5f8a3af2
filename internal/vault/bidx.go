package vault

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
)

// Index makes blind indexes (ENC-4): a keyed hash of a normalised value
// (a lower-case email, an E.164 phone), stored beside the sealed value so
// that the store can find a record by equality, and tell duplicates,
// without holding the value. What rests on disk reveals which records
// share a value, nothing of its order or prefixes; without the key no
// guess of a value can be checked against it. Each purpose ("email",
// "phone") hashes under a key of its own, derived from the root key, so a
// token of one purpose never equals one of another.
type Index struct {
	root []byte
	mu   sync.Mutex
	keys map[string][]byte
}

// TokenLen is the length of a token in bytes before encoding: 128 bits.
const TokenLen = 16

// NewIndex returns the index of a root key of KeySize bytes.
func NewIndex(root []byte) (*Index, error) {
	if len(root) != KeySize {
		return nil, fmt.Errorf("vault: a blind-index key has %d bytes, want %d", len(root), KeySize)
	}
	return &Index{root: append([]byte(nil), root...), keys: map[string][]byte{}}, nil
}

func (x *Index) key(purpose string) ([]byte, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if k, ok := x.keys[purpose]; ok {
		return k, nil
	}
	k, err := hkdf.Key(sha256.New, x.root, nil, "custos/blind-index/v1/"+purpose, KeySize)
	if err != nil {
		return nil, err
	}
	x.keys[purpose] = k
	return k, nil
}

// Token returns the blind index of a normalised value for purpose; "" for
// an empty value (an unset field has no token, so that it matches
// nothing).
func (x *Index) Token(purpose, value string) string {
	if value == "" {
		return ""
	}
	k, err := x.key(purpose)
	if err != nil {
		panic(err) // HKDF of a fixed-size key and length cannot fail
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:TokenLen])
}
