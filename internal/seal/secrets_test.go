package seal_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/vault"
)

// TestSecretsWrapped (issue 12 item 1; ASVS v5.0.0-11.2.1, 13.3.1): the
// TOTP seeds and the cursor key rest wrapped by the key-encryption key,
// bound to their owner; a seed moved to another user, a flipped character
// and, once the start-up pass has wrapped the older plain values, a plain
// value put back are refused; a rotation re-wraps them under the new
// version.
func TestSecretsWrapped(t *testing.T) {
	ctx := context.Background()
	st := testkit.SQLite(t)
	kek, err := vault.KeyFile(filepath.Join(t.TempDir(), "custos.kek"), true)
	if err != nil {
		t.Fatal(err)
	}
	sec := seal.NewSecrets(kek)
	dec := sec.Store(st)
	var users []int64
	err = st.Write(ctx, func(tx crm.Tx) error {
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			u := &crm.User{Email: email, Role: crm.RoleSales, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			users = append(users, u.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const seed, otherSeed, legacySeed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	put := func(s crm.Store, user int64, secret string) {
		t.Helper()
		if err := s.Write(ctx, func(tx crm.Tx) error {
			return tx.PutTOTP(ctx, &crm.TOTP{UserID: user, Secret: secret, CreatedAt: time.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(s crm.Store, user int64) (string, error) {
		var secret string
		err := s.Read(ctx, func(tx crm.Tx) error {
			o, err := tx.TOTPByUser(ctx, user)
			if err == nil {
				secret = o.Secret
			}
			return err
		})
		return secret, err
	}
	setting := func(s crm.Store, key string) string {
		var v string
		if err := s.Read(ctx, func(tx crm.Tx) (err error) { v, err = tx.Setting(ctx, key); return err }); err != nil {
			t.Fatal(err)
		}
		return v
	}
	set := func(s crm.Store, key, v string) {
		if err := s.Write(ctx, func(tx crm.Tx) error { return tx.SetSetting(ctx, key, v) }); err != nil {
			t.Fatal(err)
		}
	}

	put(dec, users[0], seed)
	put(dec, users[1], otherSeed)
	set(dec, "cursor_key", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	set(dec, "marker", "plain setting")
	raw, _ := get(st, users[0])
	if !strings.HasPrefix(raw, "w1:1:") || strings.Contains(raw, seed) {
		t.Fatalf("the seed at rest: %q", raw)
	}
	if got, err := get(dec, users[0]); err != nil || got != seed {
		t.Fatalf("the seed read back: %q, %v", got, err)
	}
	if v := setting(st, "cursor_key"); !strings.HasPrefix(v, "w1:1:") || strings.Contains(v, "00112233") {
		t.Errorf("the cursor key at rest: %q", v)
	}
	if v := setting(dec, "cursor_key"); !strings.HasPrefix(v, "00112233") {
		t.Errorf("the cursor key read back: %q", v)
	}
	if v := setting(st, "marker"); v != "plain setting" {
		t.Errorf("a setting that is no secret is changed at rest: %q", v)
	}

	// User 1's wrapped seed copied to user 2, and a flipped character.
	other, _ := get(st, users[1])
	put(st, users[1], raw)
	if _, err := get(dec, users[1]); crm.ErrorCode(err) != crm.EINTEGRITY || strings.Contains(err.Error(), seed) {
		t.Errorf("another user's seed: %v", err)
	}
	flipped := []byte(raw)
	flipped[len(flipped)-3] ^= 1
	put(st, users[1], string(flipped))
	if _, err := get(dec, users[1]); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("a flipped seed: %v", err)
	}
	put(st, users[1], other)

	// A version before this one left a seed and the cursor key in plain
	// text: read as they are until the start-up pass wraps them.
	put(st, users[2], legacySeed)
	set(st, "cursor_key", "legacy-cursor-key")
	if got, err := get(dec, users[2]); err != nil || got != legacySeed {
		t.Fatalf("a plain seed before the pass: %q %v", got, err)
	}
	n, err := sec.Upgrade(ctx, st, 0)
	if err != nil || n != 2 {
		t.Fatalf("Upgrade = %d, %v; want the legacy seed and the cursor key", n, err)
	}
	if raw, _ := get(st, users[2]); !strings.HasPrefix(raw, "w1:1:") {
		t.Errorf("the legacy seed after the pass: %q", raw)
	}
	if got, err := get(dec, users[2]); err != nil || got != legacySeed {
		t.Errorf("the legacy seed read back: %q %v", got, err)
	}
	if v := setting(dec, "cursor_key"); v != "legacy-cursor-key" {
		t.Errorf("the legacy cursor key read back: %q", v)
	}
	// From now on a plain seed is tampering: someone who can write the
	// database must not choose a user's second factor.
	put(st, users[1], "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK")
	if _, err := get(dec, users[1]); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("a plain seed put back after the pass: %v", err)
	}
	put(st, users[1], other)

	// A rotation re-wraps every secret under the new version.
	v, err := kek.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := sec.Upgrade(ctx, st, v); err != nil || n != 4 {
		t.Fatalf("re-wrap = %d, %v; want three seeds and the cursor key", n, err)
	}
	prefix := "w1:" + string(rune('0'+v)) + ":"
	for i, u := range users {
		raw, _ := get(st, u)
		if !strings.HasPrefix(raw, prefix) {
			t.Errorf("seed %d after the rotation: %q", i, raw[:8])
		}
		if got, err := get(dec, u); err != nil || got != []string{seed, otherSeed, legacySeed}[i] {
			t.Errorf("seed %d read back after the rotation: %v", i, err)
		}
	}
	if v := setting(st, "cursor_key"); !strings.HasPrefix(v, prefix) {
		t.Errorf("the cursor key after the rotation: %q", v[:8])
	}
	// What keys status and the rotation's check count.
	put(st, users[1], "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK")
	counts, err := seal.Versions(ctx, st)
	if err != nil || counts[v] != 3 || counts[0] != 1 || len(counts) != 2 {
		t.Errorf("Versions = %v, %v; want 3 under version %d and 1 plain", counts, err, v)
	}
}
