package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/storetest"
)

// open opens and migrates a database in dir, closed when the test ends.
func open(tb testing.TB, dir string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(tb.Context(), dir)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(tb.Context()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store { return open(t, t.TempDir()) })
}

func TestMigrations(t *testing.T) {
	storetest.RunMigrations(t, func(t *testing.T) storetest.Database {
		dir := t.TempDir()
		return storetest.Database{
			Latest: sqlite.LatestVersion(),
			Open:   func(t *testing.T) (storetest.Migrating, error) { return sqlite.Open(t.Context(), dir) },
			Exec: func(t *testing.T, _ storetest.Migrating, query string, args ...any) error {
				_, err := rawDB(t, dir).Exec(query, args...)
				return err
			},
			Count: func(t *testing.T, _ storetest.Migrating, query string) (n int) {
				if err := rawDB(t, dir).QueryRow(query).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			},
		}
	})
}

func TestPragmasAndFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data dir?#%")
	db := open(t, dir)
	var fk int
	var mode string
	err := db.Read(t.Context(), func(crm.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for name, pool := range map[string]*sql.DB{"writer": sqlite.Writer(db), "reader": sqlite.Reader(db)} {
		if err := pool.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		var timeout, sync int
		if err := pool.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || mode != "wal" || timeout != 5000 || sync != 1 {
			t.Errorf("%s: foreign_keys=%d journal_mode=%s busy_timeout=%d synchronous=%d; want 1 wal 5000 1",
				name, fk, mode, timeout, sync)
		}
	}
	if _, err := sqlite.Reader(db).Exec(`INSERT INTO settings (key, value) VALUES ('x', 'y')`); err == nil {
		t.Error("the read pool accepted a write")
	}
	err = db.Read(t.Context(), func(tx crm.Tx) error { return tx.SetSetting(t.Context(), "x", "y") })
	if err == nil {
		t.Error("a write inside Read succeeded")
	}

	for path, want := range map[string]os.FileMode{dir: 0o700, db.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
}

// TestConcurrentWrites checks that writers queue rather than fail busy.
func TestConcurrentWrites(t *testing.T) {
	db := open(t, t.TempDir())
	errs := make(chan error, 20)
	for i := range cap(errs) {
		go func() {
			errs <- db.Write(t.Context(), func(tx crm.Tx) error {
				return tx.SetSetting(t.Context(), fmt.Sprint("k", i), "v")
			})
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("Write: %v", err)
		}
	}
}

func TestConsentsAppendOnly(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	ctx := t.Context()
	err := db.Write(ctx, func(tx crm.Tx) error {
		u := &crm.User{Email: "a@example.com", Role: crm.RoleAdmin}
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		c := &crm.Contact{FirstName: "A", OwnerID: u.ID, Version: 1}
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		return tx.InsertConsent(ctx, &crm.Consent{ContactID: c.ID, Purpose: "p", RecordedBy: u.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, dir)
	if _, err := raw.Exec(`UPDATE consents SET granted = 1`); err == nil {
		t.Error("a consent was updated")
	}
	if _, err := raw.Exec(`DELETE FROM consents`); err == nil {
		t.Error("a consent of a live contact was deleted")
	}
}

// TestErasuresAppendOnly: the erasure ledger (ENC-5) cannot be changed or
// shortened, even by SQL written past the store: an erased client's entry
// is what re-applies the erasure to an older backup.
func TestErasuresAppendOnly(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	ctx := t.Context()
	err := db.Write(ctx, func(tx crm.Tx) error {
		u := &crm.User{Email: "a@example.com", Role: crm.RoleAdmin}
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		c := &crm.Contact{FirstName: "A", OwnerID: u.ID, Version: 1}
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		_, err := tx.EraseClient(ctx, &crm.Erasure{Entity: "contact", RecordID: c.ID, ErasedBy: u.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := rawDB(t, dir)
	for _, stmt := range []string{`UPDATE erasures SET record_id = record_id + 1`, `DELETE FROM erasures`} {
		if _, err := raw.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s on the erasure ledger: %v, want the trigger's refusal", stmt, err)
		}
	}
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM erasures`).Scan(&n); err != nil || n != 1 {
		t.Errorf("ledger rows = %d, %v; want 1", n, err)
	}
}

// rawDB opens the database file directly, for what the store does not offer.
func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName)+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(ON)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// BenchmarkStore runs the store benchmarks (storetest.Bench).
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) crm.Store { return open(tb, tb.TempDir()) })
}

// TestOptimizeDropsSamples: Optimize keeps the statistics (sqlite_stat1)
// and drops STAT4's samples, with which SQLite re-prepares a statement for
// every new value bound to an indexed column (PRF-1, docs/performance.md).
func TestOptimizeDropsSamples(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	owner := &crm.User{Email: "o@example.com", Role: crm.RoleSales, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	err := db.Write(ctx, func(tx crm.Tx) error {
		if err := tx.InsertUser(ctx, owner); err != nil {
			return err
		}
		for i := range 500 {
			c := &crm.Contact{LastName: fmt.Sprint("N", i%7), Email: fmt.Sprintf("p%d@x.com", i), OwnerID: owner.ID,
				Version: 1, CreatedAt: tx.Now(), UpdatedAt: tx.Now(), Tags: []string{}}
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("ANALYZE"); err != nil {
		t.Fatal(err)
	}
	count := func(table string) (n int) {
		if err := raw.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if count("sqlite_stat4") == 0 {
		t.Skip("this SQLite keeps no STAT4 samples")
	}
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if n, m := count("sqlite_stat4"), count("sqlite_stat1"); n != 0 || m == 0 {
		t.Errorf("after Optimize: %d samples, %d statistics rows; want 0 and some", n, m)
	}
}
