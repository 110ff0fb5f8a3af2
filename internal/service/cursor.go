package service

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"sync"

	"github.com/custos-crm/custos/internal/crm"
)

// A store's cursor holds the last row's sort key, which may be personal
// data (a last name, an email). Cursors travel in URLs, browser history and
// proxy logs, so the service seals them with AES-256-GCM under a key kept in
// the database (shared by every instance) before they leave it, and opens
// them when they come back (ASVS v5.0.0-14.2.1). A tampered cursor is
// "invalid cursor".

// cursorKeySetting names the setting that holds the cursor key (hex).
const cursorKeySetting = "cursor_key"

// cursorKeys caches the cursor AEAD.
type cursorKeys struct {
	mu   sync.Mutex
	aead cipher.AEAD
}

func badCursor() error {
	return &crm.Error{Code: crm.EINVALID, Message: "invalid cursor", Fields: map[string]string{"cursor": "invalid"}}
}

// cursorAEAD returns the cursor cipher, loading the key from the store or
// creating it on first use. reload forgets the cached key first (another
// instance may have created the key at the same moment).
func (s *Service) cursorAEAD(ctx context.Context, reload bool) (cipher.AEAD, error) {
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	if s.cursors.aead != nil && !reload {
		return s.cursors.aead, nil
	}
	// Read first: a reload (after a cursor that did not open, which anyone
	// can send) must cost a read, not a turn on the single writer.
	var keyHex string
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		keyHex, err = tx.Setting(ctx, cursorKeySetting)
		return err
	})
	if err != nil {
		return nil, err
	}
	if keyHex == "" {
		err = s.store.Write(ctx, func(tx crm.Tx) (err error) {
			if keyHex, err = tx.Setting(ctx, cursorKeySetting); err != nil || keyHex != "" {
				return err
			}
			key := make([]byte, 32)
			if _, err := rand.Read(key); err != nil {
				return err
			}
			keyHex = hex.EncodeToString(key)
			return tx.SetSetting(ctx, cursorKeySetting, keyHex)
		})
		if err != nil {
			return nil, err
		}
	}
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != 32 {
		return nil, crm.Errorf(crm.EINTERNAL, "the stored cursor key is malformed")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if s.cursors.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return s.cursors.aead, nil
}

// sealCursor encrypts a store cursor for the client; "" stays "".
func (s *Service) sealCursor(ctx context.Context, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	aead, err := s.cursorAEAD(ctx, false)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), nil)), nil
}

// openCursor decrypts a client's cursor into the store's form; "" stays "".
func (s *Service) openCursor(ctx context.Context, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if len(sealed) > 1024 {
		return "", badCursor()
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", badCursor()
	}
	for _, reload := range []bool{false, true} {
		aead, err := s.cursorAEAD(ctx, reload)
		if err != nil {
			return "", err
		}
		if len(b) < aead.NonceSize()+aead.Overhead() {
			return "", badCursor()
		}
		if plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], nil); err == nil {
			return string(plain), nil
		}
	}
	return "", badCursor()
}
