package seal

import (
	"context"
	"strings"
	"sync"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/vault"
)

// Blind indexes (ENC-4): a contact's email and phone are stored sealed and
// beside them as tokens, keyed hashes of the normalised values (vault.Index:
// HMAC-SHA-256 under a key per purpose derived from one root key). The
// store finds a contact by an exact email or phone through its token,
// and tells contacts that share one, without holding either; what rests
// on disk reveals which contacts share a value, nothing else.
//
// The root key is a data key of its own, under the subject
// BlindIndexSubject: wrapped by the key-encryption key like every data
// key, re-wrapped by `custos keys rotate`, and never a client's, so
// erasing a client leaves it (the client's tokens go with its row).

// BlindIndexSubject is the subject of the blind-index root key.
const BlindIndexSubject = "blind-index:1"

// Token purposes, and the normalisation their values get first.
const (
	TokenEmail = "email" // lower case
	TokenPhone = "phone" // E.164, as the service stores it
	TokenTag   = "tag"   // lower case, as the service stores it
)

// tokenIndex caches the blind index of the stored root key.
type tokenIndex struct {
	mu sync.Mutex
	id int64 // the data key's id
	x  *vault.Index
}

// index returns the blind index, making its root key at the first write
// that needs it. The key's id is read on every call (one read by a unique
// index, as for a client's key): a key made by a write that then rolled
// back is never used again.
func (s *Sealer) index(ctx context.Context, tx crm.RecordTx) (*vault.Index, error) {
	stored, raw, err := s.storedKey(ctx, tx, BlindIndexSubject)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		s.tokens.mu.Lock()
		if s.tokens.id == stored.ID {
			x := s.tokens.x
			s.tokens.mu.Unlock()
			return x, nil
		}
		s.tokens.mu.Unlock()
		if raw, err = s.kek.Unwrap(ctx, stored.Wrapped, stored.KEKVersion, wrapAAD(BlindIndexSubject)); err != nil {
			return nil, err
		}
	}
	defer clear(raw)
	return s.tokens.set(stored.ID, raw)
}

func (t *tokenIndex) set(id int64, raw []byte) (*vault.Index, error) {
	x, err := vault.NewIndex(raw)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.id, t.x = id, x
	t.mu.Unlock()
	return x, nil
}

// setTokens sets c's blind-index tokens from its plain email, phone and
// tags.
func (s *Sealer) setTokens(ctx context.Context, tx crm.RecordTx, c *crm.Contact) error {
	c.EmailToken, c.PhoneToken, c.TagTokens = "", "", nil
	if c.Email == "" && c.Phone == "" && len(c.Tags) == 0 {
		return nil
	}
	if vault.Sealed(c.Email) || vault.Sealed(c.Phone) {
		return crm.Errorf(crm.EINTERNAL, "seal: contact %d: tokens of a sealed value", c.ID)
	}
	x, err := s.index(ctx, tx)
	if err != nil {
		return err
	}
	if c.Email != "" {
		c.EmailToken = x.Token(TokenEmail, strings.ToLower(c.Email))
	}
	if c.Phone != "" {
		c.PhoneToken = x.Token(TokenPhone, c.Phone)
	}
	for _, tag := range c.Tags {
		c.TagTokens = append(c.TagTokens, x.Token(TokenTag, strings.ToLower(tag)))
	}
	return nil
}
