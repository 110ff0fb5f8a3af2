package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/schema"
)

// Migrating is a store that migrates its schema.
type Migrating interface {
	crm.Store
	Migrate(ctx context.Context) error
	SchemaVersion(ctx context.Context) (current, latest int, err error)
}

// Database is one empty database of a backend, for the migration tests.
type Database struct {
	Latest int // the backend's LatestVersion
	// Open opens the database (unmigrated, the first time), or returns
	// Open's error.
	Open func(t *testing.T) (Migrating, error)
	// Exec runs a statement with ? placeholders on the open database,
	// beside the store; Count runs a query of one integer.
	Exec  func(t *testing.T, db Migrating, query string, args ...any) error
	Count func(t *testing.T, db Migrating, query string) int
}

// RunMigrations checks the migrations of a backend: a new database is at
// version 0; migrating twice more changes nothing; a database a newer
// binary migrated is refused by Migrate and by Open, with the versions in
// the error. newDatabase returns a fresh empty database each call.
func RunMigrations(t *testing.T, newDatabase func(t *testing.T) Database) {
	open := func(t *testing.T, d Database) Migrating {
		t.Helper()
		db, err := d.Open(t)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("NewDatabase", func(t *testing.T) {
		d := newDatabase(t)
		cur, latest, err := open(t, d).SchemaVersion(t.Context())
		if err != nil || cur != 0 || latest != d.Latest || latest < 1 {
			t.Errorf("SchemaVersion() = %d, %d, %v; want 0, %d, nil", cur, latest, err, d.Latest)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		d := newDatabase(t)
		db := open(t, d)
		for i := range 3 {
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
		}
		cur, latest, err := db.SchemaVersion(t.Context())
		if err != nil || cur != latest || latest != d.Latest {
			t.Errorf("SchemaVersion() = %d, %d, %v; want %d, %d", cur, latest, err, d.Latest, d.Latest)
		}
		rows, pipelines := d.Count(t, db, `SELECT count(*) FROM schema_migrations`), d.Count(t, db, `SELECT count(*) FROM pipelines`)
		if rows != latest || pipelines != 1 {
			t.Errorf("after three migrations: %d schema_migrations rows, %d pipelines; want %d, 1", rows, pipelines, latest)
		}
	})
	t.Run("RefuseNewer", func(t *testing.T) {
		d := newDatabase(t)
		db := open(t, d)
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		newer := d.Latest + 4
		if err := d.Exec(t, db, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, newer); err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(t.Context()); !errors.Is(err, schema.ErrNewer) {
			t.Errorf("Migrate() of a newer schema = %v, want schema.ErrNewer", err)
		}
		db.Close()

		again, err := d.Open(t)
		if err == nil {
			again.Close()
		}
		var se *schema.NewerError
		if !errors.As(err, &se) {
			t.Fatalf("Open() of a newer schema = %v, want a *schema.NewerError", err)
		}
		if se.Current != newer || se.Latest != d.Latest {
			t.Errorf("NewerError = %+v, want Current %d, Latest %d", *se, newer, d.Latest)
		}
		want := fmt.Sprintf("database schema version %d is newer than this binary's %d; upgrade custos", newer, d.Latest)
		if err.Error() != want {
			t.Errorf("error text = %q, want %q", err.Error(), want)
		}
	})
}
