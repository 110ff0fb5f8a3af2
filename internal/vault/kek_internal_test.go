package vault

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestKeyFileRotationsDoNotCollide (ENC-3): two handles on one key file
// (a server and `custos keys rotate`, or two rotations) each rotate; the
// second rotation builds on the first instead of overwriting its version,
// and a key wrapped under either version still opens from the file.
func TestKeyFileRotationsDoNotCollide(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "custos.kek")
	a, err := KeyFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := KeyFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	va, err := a.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wa, _, err := a.Wrap(ctx, []byte("0123456789abcdef0123456789abcdef"), []byte("contact:1"))
	if err != nil {
		t.Fatal(err)
	}
	vb, err := b.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if va != 2 || vb != 3 {
		t.Fatalf("rotations gave versions %d and %d, want 2 and 3", va, vb)
	}
	fresh, err := KeyFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Unwrap(ctx, wa, va, []byte("contact:1")); err != nil {
		t.Fatalf("a key wrapped under the first rotation's version: %v", err)
	}
}

// TestKeyFileRefreshRefusesAnotherKey: a running process reads its key file
// again when it changes, but never takes one that drops a version or
// changes a key (another deployment's file copied over it): what it holds
// keeps opening.
func TestKeyFileRefreshRefusesAnotherKey(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "custos.kek"), filepath.Join(dir, "other.kek")
	l, err := KeyFile(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := KeyFile(other, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, v, err := l.Wrap(ctx, []byte("0123456789abcdef0123456789abcdef"), []byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(other)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Minute)
	os.Chtimes(path, future, future)
	l.refresh(true)
	if _, err := l.Unwrap(ctx, w, v, []byte("s")); err != nil {
		t.Fatalf("after another key file was copied over it: %v", err)
	}
}
