// Package testkit holds the fixtures that tests of several packages share:
// a migrated embedded store, a cheap password hasher, a log buffer safe for
// concurrent writers. It is for tests only; production code never imports
// it (the PostgreSQL twin of SQLite is postgrestest.New).
package testkit

import (
	"bytes"
	"sync"
	"testing"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/sqlite"
)

// SQLite returns an embedded store in a fresh temporary directory,
// migrated, and closed when the test ends.
func SQLite(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), tb.TempDir())
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return db
}

// Hasher is an argon2id hasher with test-sized parameters (8 MiB, one
// pass): real hashing, a thousandth of the production cost.
func Hasher() *auth.Hasher {
	return auth.NewHasher(auth.Params{Memory: 8 * 1024, Time: 1, Threads: 1}, 4)
}

// Buffer is a bytes.Buffer safe for concurrent writers: a log that the
// server's goroutines write while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what has been written so far.
func (b *Buffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }
