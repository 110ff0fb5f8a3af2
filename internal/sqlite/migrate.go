package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The migrations are forward-only SQL files named NNNN_what.sql, numbered
// from 1 without gaps. Each runs in its own transaction together with the
// row that records it in schema_migrations.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded migration file.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are the embedded migrations in order; loading them checks
// the numbering, so a bad file fails every test at once.
var migrations = mustLoadMigrations(migrationFiles)

func mustLoadMigrations(fsys fs.FS) []migration {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var list []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic(fmt.Sprintf("sqlite: migration %s is not named NNNN_name.sql", base))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		list = append(list, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })
	for i, m := range list {
		if m.version != i+1 {
			panic(fmt.Sprintf("sqlite: migration %s: want version %d", m.name, i+1))
		}
	}
	return list
}

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int { return len(migrations) }

// ErrSchemaNewer is matched (errors.Is) by the *SchemaError of a database
// that a newer binary has migrated.
var ErrSchemaNewer = errors.New("database schema is newer than this binary")

// SchemaError reports a database schema newer than the binary's latest
// migration. Open and Migrate refuse such a database: an older binary could
// corrupt data it does not understand.
type SchemaError struct {
	Current int // the database's version
	Latest  int // this binary's latest migration
}

// Error implements the error interface.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this binary's %d; upgrade custos", e.Current, e.Latest)
}

// Is reports whether target is ErrSchemaNewer.
func (e *SchemaError) Is(target error) bool { return target == ErrSchemaNewer }

const (
	sqlCreateSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`
	sqlSchemaMigrationsExists = `SELECT count(*) FROM sqlite_schema
		WHERE type = 'table' AND name = 'schema_migrations'`
	sqlSchemaVersion   = `SELECT coalesce(max(version), 0) FROM schema_migrations`
	sqlRecordMigration = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
)

// SchemaVersion returns the database's schema version (0 for a new
// database) and the latest one this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	current, err = schemaVersion(ctx, db.writer)
	return current, LatestVersion(), err
}

// queryRower is a *sql.DB or a *sql.Tx.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q queryRower) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, sqlSchemaMigrationsExists).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	} else if n == 0 {
		return 0, nil
	}
	var v int
	if err := q.QueryRowContext(ctx, sqlSchemaVersion).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}

// Migrate applies the migrations the database lacks, in order, each in its
// own transaction; running it again does nothing. It refuses (*SchemaError)
// a database newer than the binary. Several processes may migrate at once:
// BEGIN IMMEDIATE serialises them and each re-reads the version inside its
// transaction.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.writer.ExecContext(ctx, sqlCreateSchemaMigrations); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	for _, m := range migrations {
		if err := db.migrate(ctx, m); err != nil {
			return err
		}
	}
	db.ready(ctx)
	return nil
}

// migrate applies m unless the database has it already.
func (db *DB) migrate(ctx context.Context, m migration) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
	}
	defer tx.Rollback()
	current, err := schemaVersion(ctx, tx)
	switch {
	case err != nil:
		return err
	case current > LatestVersion():
		return &SchemaError{Current: current, Latest: LatestVersion()}
	case current >= m.version:
		return nil
	case current != m.version-1:
		return fmt.Errorf("sqlite: migrate %s: database is at version %d", m.name, current)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, sqlRecordMigration, m.version, micros(now())); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.name, err)
	}
	return nil
}
