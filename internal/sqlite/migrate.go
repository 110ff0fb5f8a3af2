package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"github.com/custos-crm/custos/internal/sqlstore"

	"github.com/custos-crm/custos/internal/schema"
)

// The migrations are forward-only SQL files named NNNN_what.sql, numbered
// from 1 without gaps. Each runs in its own transaction together with the
// row that records it in schema_migrations.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded migration file.
type migration = schema.Migration

// migrations are the embedded migrations in order; loading them checks
// the numbering, so a bad file fails every test at once.
var migrations = schema.MustLoad(migrationFiles, "migrations", "sqlite")

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int { return len(migrations) }

// ErrSchemaNewer is matched (errors.Is) by the *SchemaError of a database
// that a newer binary has migrated.
var ErrSchemaNewer = schema.ErrNewer

// SchemaError reports a database schema newer than the binary's latest
// migration. Open and Migrate refuse such a database.
type SchemaError = schema.NewerError

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
		return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
	}
	defer tx.Rollback()
	current, err := schemaVersion(ctx, tx)
	switch {
	case err != nil:
		return err
	case current > LatestVersion():
		return &SchemaError{Current: current, Latest: LatestVersion()}
	case current >= m.Version:
		return nil
	case current != m.Version-1:
		return fmt.Errorf("sqlite: migrate %s: database is at version %d", m.Name, current)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, sqlRecordMigration, m.Version, sqlstore.Micros(now())); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
	}
	return nil
}
