package seal

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/vault"
)

// The server's own secrets wrapped by the key-encryption key (issue 12,
// item 1): each user's TOTP seed and the cursor-sealing key. A stolen
// database then holds neither a seed that would mint a user's second
// factor nor the key that opens the cursors clients hold. Secrets wraps
// them on their way into the store and unwraps them on their way out, as a
// decorator of the store (Store), so that no code that uses them changes.
//
// A wrapped secret is "w1:<KEK version>:<base64 of the wrapped bytes>",
// bound by the wrap's associated data to what it is ("totp:7" for user 7's
// seed, "setting:cursor_key"): a seed copied to another user does not
// open. Secrets stored in plain text by a version before this one are
// wrapped at start (Upgrade); from then on a plain value is refused as
// tampering.

// wrappedPrefix starts a wrapped secret.
const wrappedPrefix = "w1:"

// secretSettings are the settings that hold secrets.
var secretSettings = map[string]bool{"cursor_key": true}

// Secrets wraps and unwraps the server's secrets with a KEK.
type Secrets struct {
	kek    vault.KEK
	strict atomic.Bool // plain secrets are refused (after Upgrade)
}

// NewSecrets returns Secrets over kek.
func NewSecrets(kek vault.KEK) *Secrets { return &Secrets{kek: kek} }

// Wrap wraps plain as the secret named aad ("totp:7").
func (s *Secrets) Wrap(ctx context.Context, aad, plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	w, v, err := s.kek.Wrap(ctx, []byte(plain), []byte("secret:"+aad))
	if err != nil {
		return "", fmt.Errorf("seal: wrapping the %s secret: %w", what(aad), err)
	}
	return wrappedPrefix + strconv.Itoa(v) + ":" + base64.RawStdEncoding.EncodeToString(w), nil
}

// Unwrap returns the secret named aad from its stored form: EINTEGRITY
// when it does not open (altered, moved to another user, or a plain value
// once every secret is wrapped). A plain value before then is returned as
// it is.
func (s *Secrets) Unwrap(ctx context.Context, aad, stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	bad := &crm.Error{Code: crm.EINTEGRITY, Message: fmt.Sprintf("the stored %s does not open: it was altered or moved", what(aad))}
	rest, ok := strings.CutPrefix(stored, wrappedPrefix)
	if !ok {
		if s.strict.Load() {
			return "", bad
		}
		return stored, nil
	}
	vs, b64, ok := strings.Cut(rest, ":")
	v, err := strconv.Atoi(vs)
	if !ok || err != nil || v <= 0 {
		return "", bad
	}
	w, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", bad
	}
	raw, err := s.kek.Unwrap(ctx, w, v, []byte("secret:"+aad))
	if errors.Is(err, vault.ErrIntegrity) {
		return "", bad
	} else if err != nil {
		return "", err
	}
	return string(raw), nil
}

// versionOf is the KEK version a stored secret is wrapped under: 0 for a
// plain one (or one of no known form).
func versionOf(stored string) int {
	rest, ok := strings.CutPrefix(stored, wrappedPrefix)
	if !ok {
		return 0
	}
	vs, _, _ := strings.Cut(rest, ":")
	v, _ := strconv.Atoi(vs)
	return v
}

// rewrap opens a stored secret (plain or wrapped) and wraps it under the
// current version.
func (s *Secrets) rewrap(ctx context.Context, aad, stored string) (string, error) {
	plain, err := s.Unwrap(ctx, aad, stored)
	if err != nil {
		return "", err
	}
	return s.Wrap(ctx, aad, plain)
}

// what names a secret for messages, without its owner's id.
func what(aad string) string {
	kind, _, _ := strings.Cut(aad, ":")
	if kind == "totp" {
		return "authenticator seed"
	}
	return "server secret"
}

func totpAAD(userID int64) string { return "totp:" + strconv.FormatInt(userID, 10) }

// Upgrade wraps, under the current KEK version, every secret stored in
// plain text (by a version before this one) and, when version is not 0,
// every one wrapped under another version than version (a rotation, which
// names the new current one); then refuses plain values from then on. It
// returns how many secrets it wrote. It runs at start, before the server
// serves (version 0), and from `custos keys rotate`. st is the store
// itself, not Store's wrapper.
func (s *Secrets) Upgrade(ctx context.Context, st crm.Store, version int) (int, error) {
	// Stale: plain, or under another version than version.
	stale := func(stored string) bool {
		v := versionOf(stored)
		return stored != "" && (v == 0 || (version != 0 && v != version))
	}
	n := 0
	err := st.Write(ctx, func(tx crm.Tx) error {
		for key := range secretSettings {
			stored, err := tx.Setting(ctx, key)
			if err != nil {
				return err
			}
			if !stale(stored) {
				continue
			}
			w, err := s.rewrap(ctx, "setting:"+key, stored)
			if err != nil {
				return err
			}
			if err := tx.SetSetting(ctx, key, w); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	for after := int64(0); ; {
		var page []*crm.TOTP
		err := st.Write(ctx, func(tx crm.Tx) (err error) {
			if page, err = tx.TOTPsAfter(ctx, after, 200); err != nil {
				return err
			}
			for _, t := range page {
				if !stale(t.Secret) {
					continue
				}
				w, err := s.rewrap(ctx, totpAAD(t.UserID), t.Secret)
				if err != nil {
					return fmt.Errorf("user %d: %w", t.UserID, err)
				}
				ok, err := tx.ResealTOTP(ctx, t.UserID, t.Secret, w)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("seal: wrapping authenticator seeds: %w", err)
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].UserID
	}
	s.strict.Store(true)
	return n, nil
}

// Rotate wraps every secret under version, the KEK's new current one, in
// passes as Rewrap does the data keys: a server that has not read the new
// key file yet may wrap one under the old version meanwhile. It returns
// how many secrets it wrote.
func (s *Secrets) Rotate(ctx context.Context, st crm.Store, version int) (int, error) {
	return inPasses(ctx, "server secrets",
		func() (int, error) { return s.Upgrade(ctx, st, version) },
		func() (int64, error) {
			counts, err := Versions(ctx, st)
			var left int64
			for v, c := range counts {
				if v != version {
					left += int64(c)
				}
			}
			return left, err
		})
}

// Versions counts the stored secrets per KEK version they are wrapped
// under (0: plain), for keys status and to check a rotation; st is the
// store itself, not Store's wrapper.
func Versions(ctx context.Context, st crm.Store) (map[int]int, error) {
	out := map[int]int{}
	count := func(stored string) {
		if stored != "" {
			out[versionOf(stored)]++
		}
	}
	err := st.Read(ctx, func(tx crm.Tx) error {
		for key := range secretSettings {
			v, err := tx.Setting(ctx, key)
			if err != nil {
				return err
			}
			count(v)
		}
		for after := int64(0); ; {
			page, err := tx.TOTPsAfter(ctx, after, 500)
			if err != nil {
				return err
			}
			for _, t := range page {
				count(t.Secret)
			}
			if len(page) < 500 {
				return nil
			}
			after = page[len(page)-1].UserID
		}
	})
	return out, err
}

// Store returns st with the secrets wrapped on their way in and unwrapped
// on their way out: TOTP seeds (TOTPByUser, PutTOTP) and secret settings.
func (s *Secrets) Store(st crm.Store) crm.Store { return secretStore{st, s} }

type secretStore struct {
	crm.Store
	s *Secrets
}

func (ss secretStore) Read(ctx context.Context, fn func(crm.Tx) error) error {
	return ss.Store.Read(ctx, func(tx crm.Tx) error { return fn(secretTx{tx, ss.s}) })
}

func (ss secretStore) Write(ctx context.Context, fn func(crm.Tx) error) error {
	return ss.Store.Write(ctx, func(tx crm.Tx) error { return fn(secretTx{tx, ss.s}) })
}

type secretTx struct {
	crm.Tx
	s *Secrets
}

func (t secretTx) TOTPByUser(ctx context.Context, userID int64) (*crm.TOTP, error) {
	o, err := t.Tx.TOTPByUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if o.Secret, err = t.s.Unwrap(ctx, totpAAD(userID), o.Secret); err != nil {
		return nil, err
	}
	return o, nil
}

func (t secretTx) PutTOTP(ctx context.Context, o *crm.TOTP) error {
	w, err := t.s.Wrap(ctx, totpAAD(o.UserID), o.Secret)
	if err != nil {
		return err
	}
	c := *o
	c.Secret = w
	return t.Tx.PutTOTP(ctx, &c)
}

func (t secretTx) Setting(ctx context.Context, key string) (string, error) {
	v, err := t.Tx.Setting(ctx, key)
	if err != nil || !secretSettings[key] {
		return v, err
	}
	return t.s.Unwrap(ctx, "setting:"+key, v)
}

func (t secretTx) SetSetting(ctx context.Context, key, value string) error {
	if secretSettings[key] {
		w, err := t.s.Wrap(ctx, "setting:"+key, value)
		if err != nil {
			return err
		}
		value = w
	}
	return t.Tx.SetSetting(ctx, key, value)
}
