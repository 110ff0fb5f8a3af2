package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

func TestMigrateIdempotent(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	for i := range 2 {
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+2, err)
		}
	}
	cur, latest, err := db.SchemaVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || latest != sqlite.LatestVersion() || latest < 1 {
		t.Errorf("SchemaVersion() = %d, %d; want %d, %d", cur, latest, sqlite.LatestVersion(), sqlite.LatestVersion())
	}
	raw := rawDB(t, dir)
	var rows, pipelines int
	if err := raw.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRow(`SELECT count(*) FROM pipelines`).Scan(&pipelines); err != nil {
		t.Fatal(err)
	}
	if rows != latest || pipelines != 1 {
		t.Errorf("after three migrations: %d schema_migrations rows, %d pipelines; want %d, 1", rows, pipelines, latest)
	}
}

func TestSchemaVersionOfNewDatabase(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cur, latest, err := db.SchemaVersion(t.Context())
	if err != nil || cur != 0 || latest != sqlite.LatestVersion() {
		t.Errorf("SchemaVersion() = %d, %d, %v; want 0, %d, nil", cur, latest, err, sqlite.LatestVersion())
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	newer := sqlite.LatestVersion() + 4
	raw := rawDB(t, dir)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, newer); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context()); !errors.Is(err, sqlite.ErrSchemaNewer) {
		t.Errorf("Migrate() of a newer schema = %v, want ErrSchemaNewer", err)
	}
	db.Close()

	_, err := sqlite.Open(t.Context(), dir)
	var se *sqlite.SchemaError
	if !errors.As(err, &se) || !errors.Is(err, sqlite.ErrSchemaNewer) {
		t.Fatalf("Open() of a newer schema = %v, want a *SchemaError", err)
	}
	if se.Current != newer || se.Latest != sqlite.LatestVersion() {
		t.Errorf("SchemaError = %+v, want Current %d, Latest %d", *se, newer, sqlite.LatestVersion())
	}
	want := fmt.Sprintf("database schema version %d is newer than this binary's %d; upgrade custos", newer, sqlite.LatestVersion())
	if err.Error() != want {
		t.Errorf("error text = %q, want %q", err.Error(), want)
	}
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

// TestReadDuringWrite checks that reads go on beside an open write, and see
// only what is committed.
func TestReadDuringWrite(t *testing.T) {
	db := open(t, t.TempDir())
	ctx := t.Context()
	inWrite, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.Write(ctx, func(tx crm.Tx) error {
			if err := tx.SetSetting(ctx, "k", "v"); err != nil {
				return err
			}
			close(inWrite)
			<-release
			return nil
		})
	}()
	get := func() string {
		t.Helper()
		var v string
		if err := db.Read(ctx, func(tx crm.Tx) (err error) { v, err = tx.Setting(ctx, "k"); return err }); err != nil {
			t.Fatal(err)
		}
		return v
	}
	<-inWrite
	if v := get(); v != "" {
		t.Errorf("Read during the Write = %q, want the committed \"\"", v)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := get(); v != "v" {
		t.Errorf("Read after the Write = %q, want v", v)
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

// seed opens a database in a temporary directory with n contacts.
func seed(b *testing.B, n int) (*sqlite.DB, int64) {
	b.Helper()
	db := open(b, b.TempDir())
	ctx := context.Background()
	owner := &crm.User{Email: "owner@example.com", Role: crm.RoleSales, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	err := db.Write(ctx, func(tx crm.Tx) error { return tx.InsertUser(ctx, owner) })
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"Ivanov", "Smith", "Müller", "Петров", "García", "Nakamura", "O'Brien", "Kowalski"}
	for start := 0; start < n; start += 1000 {
		err := db.Write(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				now := tx.Now()
				c := &crm.Contact{
					FirstName: fmt.Sprint("First", i%97), LastName: fmt.Sprint(names[i%len(names)], i%1013),
					Email: fmt.Sprintf("person%d@example.com", i), Phone: fmt.Sprintf("+4420%08d", i),
					Tags: []string{"lead"}, OwnerID: owner.ID, Version: 1, CreatedAt: now, UpdatedAt: now,
				}
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return db, owner.ID
}

func BenchmarkContactByID(b *testing.B) {
	const n = 10000
	db, _ := seed(b, n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := int64(1)
		for pb.Next() {
			err := db.Read(ctx, func(tx crm.Tx) error {
				_, err := tx.ContactByID(ctx, crm.Scope{All: true}, id, false)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
			id = id%n + 1
		}
	})
}

func BenchmarkContacts(b *testing.B) {
	db, owner := seed(b, 10000)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		scope crm.Scope
	}{{"All", crm.Scope{All: true}}, {"Owner", crm.Scope{OwnerID: owner}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var after *crm.Cursor
			for b.Loop() {
				err := db.Read(ctx, func(tx crm.Tx) error {
					rows, next, err := tx.Contacts(ctx, bc.scope, crm.ContactFilter{},
						crm.ListQuery{Limit: 50, Sort: "last_name", After: after})
					if err != nil {
						return err
					}
					if len(rows) != 50 && next != "" {
						return fmt.Errorf("%d rows", len(rows))
					}
					// Walk the pages, starting over at the end.
					after = nil
					if next != "" {
						after, err = crm.DecodeCursor(next, "last_name")
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkContactSearch(b *testing.B) {
	db, _ := seed(b, 10000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := db.Read(ctx, func(tx crm.Tx) error {
			_, _, err := tx.Contacts(ctx, crm.Scope{All: true}, crm.ContactFilter{Q: "петров1"},
				crm.ListQuery{Limit: 50, Sort: "last_name"})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// seedOwners opens a database filled by storetest.SeedOwners, reopened as
// a server opens it (fresh planner statistics).
func seedOwners(b testing.TB, n, owners int) (*sqlite.DB, []int64) {
	b.Helper()
	db := open(b, b.TempDir())
	ids := storetest.SeedOwners(b, db, n, owners)
	db.Close()
	return open(b, filepath.Dir(db.Path())), ids
}

// BenchmarkOwnerSearch is the bench's prefix scenario: a sales user's
// name-prefix search, sorted by last name, 50 a page, over 20,000 contacts
// of 20 owners.
func BenchmarkOwnerSearch(b *testing.B) {
	db, owners := seedOwners(b, 20000, 20)
	ctx := context.Background()
	for _, q := range []string{"s", "iv", "smi", "петр", "company 1", "+44200", "anna smith"} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				err := db.Read(ctx, func(tx crm.Tx) error {
					_, _, err := tx.Contacts(ctx, crm.Scope{OwnerID: owners[i%len(owners)]}, crm.ContactFilter{Q: q},
						crm.ListQuery{Limit: 50})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
