package postgres

import (
	"context"
	"embed"
	"fmt"
	"github.com/custos-crm/custos/internal/sqlstore"

	"github.com/jackc/pgx/v5"

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
var migrations = schema.MustLoad(migrationFiles, "migrations", "postgres")

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int { return len(migrations) }

// ErrSchemaNewer is matched (errors.Is) by the *SchemaError of a database
// that a newer binary has migrated.
var ErrSchemaNewer = schema.ErrNewer

// SchemaError reports a database schema newer than the binary's latest
// migration. Open and Migrate refuse such a database.
type SchemaError = schema.NewerError

// migrateLockKey is the first key of the advisory lock that Migrate holds;
// the second is a hash of the schema, so that databases in different
// schemas of one server (the tests' among them) migrate independently.
const migrateLockKey = 0x637573 // "cus"

const (
	sqlMigrateLock            = `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`
	sqlCreateSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`
	// to_regclass resolves the name through search_path, as the queries do.
	sqlSchemaMigrationsExists = `SELECT to_regclass('schema_migrations') IS NOT NULL`
	sqlSchemaVersion          = `SELECT coalesce(max(version), 0) FROM schema_migrations`
	sqlRecordMigration        = `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`
)

// SchemaVersion returns the database's schema version (0 for a new
// database) and the latest one this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	current, err = schemaVersion(ctx, db.writer)
	return current, LatestVersion(), err
}

// queryRower is a pool, a connection or a transaction.
type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func schemaVersion(ctx context.Context, q queryRower) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, sqlSchemaMigrationsExists).Scan(&exists); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	} else if !exists {
		return 0, nil
	}
	var v int
	if err := q.QueryRow(ctx, sqlSchemaVersion).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

// Migrate applies the migrations the database lacks, in order, each in its
// own transaction; running it again does nothing. It refuses (*SchemaError)
// a database newer than the binary. Several processes may migrate at once:
// each transaction first takes a transaction-scoped advisory lock, which
// serialises them, and then reads the version, so each migration runs
// once.
func (db *DB) Migrate(ctx context.Context) error {
	for _, m := range migrations {
		if err := db.migrate(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies m unless the database has it already.
func (db *DB) migrate(ctx context.Context, m migration) error {
	tx, err := db.writer.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, sqlMigrateLock, migrateLockKey); err != nil {
		return fmt.Errorf("postgres: migrate %s: lock: %w", m.Name, err)
	}
	// Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can
	// both find no table and one then fails.
	if _, err := tx.Exec(ctx, sqlCreateSchemaMigrations); err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
	}
	current, err := schemaVersion(ctx, tx)
	switch {
	case err != nil:
		return err
	case current > LatestVersion():
		return &SchemaError{Current: current, Latest: LatestVersion()}
	case current >= m.Version:
		return tx.Commit(ctx)
	case current != m.Version-1:
		return fmt.Errorf("postgres: migrate %s: database is at version %d", m.Name, current)
	}
	// Without arguments pgx sends the text as a simple query, which may
	// hold several statements.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, sqlRecordMigration, m.Version, sqlstore.Micros(now())); err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate %s: %w", m.Name, err)
	}
	return nil
}
