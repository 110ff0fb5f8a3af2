package vault_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/vault/transittest"
)

func newKey(t *testing.T, id uint64) *vault.DataKey {
	t.Helper()
	raw := make([]byte, vault.KeySize)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	k, err := vault.NewDataKey(id, raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSealOpen (ENC-2; ASVS v5.0.0-11.3.3): a sealed field opens only at
// its place under its key; a flipped byte, another row, field, table or
// key, a truncated or re-keyed value fail with ErrIntegrity, never give
// garbage.
func TestSealOpen(t *testing.T) {
	k := newKey(t, 7)
	at := vault.Where{Table: "contacts", ID: 42, Field: "email"}
	sealed, err := k.Seal(at, "ivan@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !vault.Sealed(sealed) || strings.Contains(sealed, "ivan") {
		t.Fatalf("sealed form %q", sealed)
	}
	if id, ok := vault.KeyOf(sealed); !ok || id != 7 {
		t.Errorf("KeyOf = %d %v", id, ok)
	}
	if got, err := k.Open(at, sealed); err != nil || got != "ivan@example.com" {
		t.Fatalf("Open = %q %v", got, err)
	}
	again, _ := k.Seal(at, "ivan@example.com")
	if again == sealed {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, vault.Prefix))
	for i := range raw {
		flipped := append([]byte(nil), raw...)
		flipped[i] ^= 0x01
		if _, err := k.Open(at, vault.Prefix+base64.RawURLEncoding.EncodeToString(flipped)); !errors.Is(err, vault.ErrIntegrity) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for name, w := range map[string]vault.Where{
		"another row":   {Table: "contacts", ID: 43, Field: "email"},
		"another field": {Table: "contacts", ID: 42, Field: "phone"},
		"another table": {Table: "companies", ID: 42, Field: "email"},
	} {
		if _, err := k.Open(w, sealed); !errors.Is(err, vault.ErrIntegrity) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := newKey(t, 7).Open(at, sealed); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("another key of the same id: %v", err)
	}
	if _, err := newKey(t, 8).Open(at, sealed); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("another key: %v", err)
	}
	for _, bad := range []string{sealed[:len(sealed)-4], vault.Prefix, vault.Prefix + "!!", "ivan@example.com"} {
		if _, err := k.Open(at, bad); !errors.Is(err, vault.ErrIntegrity) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if s, err := k.Seal(at, ""); s != "" || err != nil {
		t.Errorf("an empty value seals to %q %v", s, err)
	}
	if s, err := k.Open(at, ""); s != "" || err != nil {
		t.Errorf("an empty value opens to %q %v", s, err)
	}
}

// TestKeyFile (ENC-3): made at first use with mode 0600 in a 0700
// directory; refused when group or others may read it, or when it is not
// a key file; rotation adds a version that wraps from then on, older ones
// still unwrap, and it is saved.
func TestKeyFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "keys")
	path := filepath.Join(dir, "custos.kek")
	if _, err := vault.KeyFile(path, false); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file without create: %v", err)
	}
	kek, err := vault.KeyFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	dek := []byte("0123456789abcdef0123456789abcdef")
	w1, v1, err := kek.Wrap(ctx, dek, []byte("contact:7"))
	if err != nil || v1 != 1 {
		t.Fatalf("wrap: v%d %v", v1, err)
	}
	if _, err := kek.Unwrap(ctx, w1, v1, []byte("contact:8")); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("unwrap for another subject: %v", err)
	}
	if v2, err := kek.Rotate(ctx); err != nil || v2 != 2 {
		t.Fatalf("rotate: v%d %v", v2, err)
	}
	// A new process reads the rotated file.
	kek, err = vault.KeyFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kek.Unwrap(ctx, w1, 1, []byte("contact:7")); err != nil || string(got) != string(dek) {
		t.Errorf("version 1 after rotation: %q %v", got, err)
	}
	if _, v, _ := kek.Wrap(ctx, dek, []byte("contact:7")); v != 2 {
		t.Errorf("wraps with version %d after rotation, want 2", v)
	}
	vs, _ := kek.Versions(ctx)
	if len(vs) != 2 || vs[0].Current || !vs[1].Current || vs[1].Created.IsZero() {
		t.Errorf("versions %+v", vs)
	}
	// Readable by others: refused, and not rewritten.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if _, err := vault.KeyFile(path, true); !errors.Is(err, vault.ErrKeyFilePerm) {
		t.Errorf("a 0640 key file: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a refused key file was rewritten")
	}
	// Not a key file.
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte(`{"format":"something else"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.KeyFile(other, true); err == nil {
		t.Error("a file of another format was accepted")
	}
}

// TestParseKEK: a key from the environment, one version or several.
func TestParseKEK(t *testing.T) {
	ctx := context.Background()
	k1 := base64.StdEncoding.EncodeToString(make([]byte, 32))
	k2 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	one, err := vault.ParseKEK("CUSTOS_KEK", k1)
	if err != nil {
		t.Fatal(err)
	}
	w, v, err := one.Wrap(ctx, []byte("dek"), nil)
	if err != nil || v != 1 {
		t.Fatal(err)
	}
	two, err := vault.ParseKEK("CUSTOS_KEK", "2:"+k2+",1:"+k1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := two.Unwrap(ctx, w, 1, nil); err != nil || string(got) != "dek" {
		t.Errorf("version 1 of two: %q %v", got, err)
	}
	if _, v, _ := two.Wrap(ctx, []byte("dek"), nil); v != 2 {
		t.Errorf("wraps with %d, want the highest, 2", v)
	}
	if _, err := two.Rotate(ctx); err == nil {
		t.Error("a key from the environment rotated itself")
	}
	for _, bad := range []string{"", "short", "1:" + k1 + "," + k2, "x:" + k1, "1:" + k1 + ",1:" + k2} {
		if _, err := vault.ParseKEK("CUSTOS_KEK", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestTransit (ENC-3): the Vault transit KEK against a fake that follows
// Vault's documented API: wrap, unwrap with associated data, rotation,
// versions, and a wrong token.
func TestTransit(t *testing.T) {
	ctx := context.Background()
	srv := transittest.Start(t, "transit", "custos")
	kek, err := vault.NewTransit(srv.URL, "transit", "custos", srv.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	dek := []byte("0123456789abcdef0123456789abcdef")
	w, v, err := kek.Wrap(ctx, dek, []byte("contact:7"))
	if err != nil || v != 1 || !strings.HasPrefix(string(w), "vault:v1:") {
		t.Fatalf("wrap: %q v%d %v", w, v, err)
	}
	if got, err := kek.Unwrap(ctx, w, 1, []byte("contact:7")); err != nil || string(got) != string(dek) {
		t.Fatalf("unwrap: %q %v", got, err)
	}
	if _, err := kek.Unwrap(ctx, w, 1, []byte("contact:8")); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("unwrap for another subject: %v", err)
	}
	if _, err := kek.Unwrap(ctx, w, 2, []byte("contact:7")); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("unwrap naming another version: %v", err)
	}
	if n, err := kek.Rotate(ctx); err != nil || n != 2 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	if _, v, _ := kek.Wrap(ctx, dek, []byte("contact:7")); v != 2 {
		t.Errorf("after rotation wraps with v%d", v)
	}
	if got, err := kek.Unwrap(ctx, w, 1, []byte("contact:7")); err != nil || string(got) != string(dek) {
		t.Errorf("v1 after rotation: %v", err)
	}
	if vs, err := kek.Versions(ctx); err != nil || len(vs) != 2 || !vs[1].Current || vs[0].Created.IsZero() {
		t.Errorf("versions %+v %v", vs, err)
	}
	bad, _ := vault.NewTransit(srv.URL, "transit", "custos", "hvs.wrong", nil)
	if _, _, err := bad.Wrap(ctx, dek, nil); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a wrong token: %v", err)
	}
	if _, err := vault.NewTransit("ftp://x", "transit", "custos", "t", nil); err == nil {
		t.Error("a non-HTTP address was accepted")
	}
}

// TestIndex (ENC-4): tokens are equal exactly for equal values of one
// purpose, differ between purposes and keys, and an empty value has none.
func TestIndex(t *testing.T) {
	root := make([]byte, vault.KeySize)
	x, err := vault.NewIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	a, b := x.Token("email", "ivan@example.com"), x.Token("email", "ivan@example.com")
	if a != b || len(a) != 22 {
		t.Errorf("tokens %q %q", a, b)
	}
	if x.Token("email", "ivan@example.org") == a || x.Token("phone", "ivan@example.com") == a {
		t.Error("a token equals another value's or another purpose's")
	}
	other := make([]byte, vault.KeySize)
	other[0] = 1
	y, _ := vault.NewIndex(other)
	if y.Token("email", "ivan@example.com") == a {
		t.Error("two keys give one token")
	}
	if x.Token("email", "") != "" {
		t.Error("an empty value has a token")
	}
}

// TestCache: the hot tier is bounded, least recently used out first, and
// a key evicted from it has its bytes zeroed there but stays in the raw
// tier, from which it is made ready again.
func TestCache(t *testing.T) {
	c := vault.NewCache(2, 3)
	raws := make([][]byte, 3)
	for i := range raws {
		raws[i] = make([]byte, vault.KeySize)
		raws[i][0] = byte(i + 1)
		if _, err := c.Put(uint64(i+1), raws[i]); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			c.Get(1) // 1 is now more recent than 2
		}
	}
	if c.Len() != 2 || c.RawLen() != 3 {
		t.Errorf("after three puts: %d ready, %d raw; want 2 and 3", c.Len(), c.RawLen())
	}
	if raws[1][0] != 0 || raws[0][0] == 0 || raws[2][0] == 0 {
		t.Error("the hot tier zeroed the wrong key, or none")
	}
	k2 := c.Get(2) // from the raw tier; 1 leaves the hot tier now
	if k2 == nil || raws[0][0] != 0 {
		t.Fatal("a key evicted from the hot tier is not found in the raw one, or the next eviction did not zero")
	}
	// The key made again from the raw tier is the same key.
	w := vault.Where{Table: "contacts", ID: 7, Field: "email"}
	again := make([]byte, vault.KeySize)
	again[0] = 2
	want, err := vault.NewDataKey(2, again)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := want.Seal(w, "ivan@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Open(w, sealed); err != nil || got != "ivan@example.com" {
		t.Errorf("the key from the raw tier opens %q, %v", got, err)
	}
	c.Forget(3)
	if c.Get(3) != nil || raws[2][0] != 0 || c.RawLen() != 2 {
		t.Errorf("a forgotten key stays (raw %d), or was not zeroed", c.RawLen())
	}
}

// TestCacheClock: the raw tier evicts by the clock algorithm: a key read
// since the hand last passed gets a second chance, one not read goes.
func TestCacheClock(t *testing.T) {
	c := vault.NewCache(1, 3)
	put := func(id uint64) {
		t.Helper()
		raw := make([]byte, vault.KeySize)
		raw[0] = byte(id)
		if _, err := c.Put(id, raw); err != nil {
			t.Fatal(err)
		}
	}
	for id := range uint64(4) {
		put(id + 1) // 1, 2, 3, then 4 evicts 1, the oldest, once the hand has cleared every mark
	}
	if c.Get(1) != nil {
		t.Fatal("the raw tier holds more than its size")
	}
	if c.Get(3) == nil { // 3 is read: marked
		t.Fatal("key 3 is lost")
	}
	put(5) // the hand stands at 2's slot, unread since it passed: 2 goes
	if c.Get(2) != nil {
		t.Error("the unread key 2 stayed")
	}
	for _, id := range []uint64{3, 4, 5} {
		if c.Get(id) == nil {
			t.Errorf("key %d was evicted, 2 was not read since the hand passed", id)
		}
	}
	if c.RawLen() != 3 {
		t.Errorf("raw tier holds %d, want 3", c.RawLen())
	}
}
