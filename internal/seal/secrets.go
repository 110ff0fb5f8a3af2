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

// wrapped reports whether stored is in the wrapped form under version
// (any version when version is 0).
func wrapped(stored string, version int) bool {
	rest, ok := strings.CutPrefix(stored, wrappedPrefix)
	if !ok {
		return false
	}
	vs, _, _ := strings.Cut(rest, ":")
	return version == 0 || vs == strconv.Itoa(version)
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
// plain text (by a version before this one) or, with rewrap, under an
// older version (a rotation); then refuses plain values from then on. It
// returns how many secrets it wrote. It runs at start, before the server
// serves, and from `custos keys rotate`.
func (s *Secrets) Upgrade(ctx context.Context, st crm.Store, rewrap bool) (int, error) {
	version := 0
	if rewrap {
		vs, err := s.kek.Versions(ctx)
		if err != nil {
			return 0, err
		}
		for _, v := range vs {
			if v.Current {
				version = v.N
			}
		}
	}
	stale := func(stored string) bool { return stored != "" && !wrapped(stored, version) }
	n := 0
	err := st.Write(ctx, func(tx crm.Tx) error {
		for key := range secretSettings {
			stored, err := tx.Setting(ctx, key)
			if err != nil || !stale(stored) {
				if err != nil {
					return err
				}
				continue
			}
			plain, err := s.Unwrap(ctx, "setting:"+key, stored)
			if err != nil {
				return err
			}
			w, err := s.Wrap(ctx, "setting:"+key, plain)
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
				plain, err := s.Unwrap(ctx, totpAAD(t.UserID), t.Secret)
				if err != nil {
					return fmt.Errorf("user %d: %w", t.UserID, err)
				}
				w, err := s.Wrap(ctx, totpAAD(t.UserID), plain)
				if err != nil {
					return err
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

// Versions counts the stored secrets per KEK version they are wrapped
// under (0: plain), for keys status and to check a rotation; st is the
// store itself, not Store's wrapper.
func Versions(ctx context.Context, st crm.Store) (map[int]int, error) {
	out := map[int]int{}
	count := func(stored string) {
		if stored == "" {
			return
		}
		v := 0
		if rest, ok := strings.CutPrefix(stored, wrappedPrefix); ok {
			vs, _, _ := strings.Cut(rest, ":")
			v, _ = strconv.Atoi(vs)
		}
		out[v]++
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
