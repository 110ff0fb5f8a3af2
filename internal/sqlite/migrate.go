package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

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

const sqlCreateSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`

// SchemaVersion returns the database's schema version (0 for a new
// database) and the latest one this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	current, err = schema.Version(ctx, migrator{db}, migrationQuerier{db.writer})
	return current, LatestVersion(), err
}

// Migrate applies the migrations the database lacks (schema.Migrate) and
// readies the store. BEGIN IMMEDIATE (the writer's transactions)
// serialises concurrent migrators.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.writer.ExecContext(ctx, sqlCreateSchemaMigrations); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if err := schema.Migrate(ctx, migrator{db}, migrations); err != nil {
		return err
	}
	db.ready(ctx)
	return nil
}

// migrator is the store as schema's runner uses it.
type migrator struct{ db *DB }

func (migrator) Name() string { return "sqlite" }

func (migrator) Exists() string {
	return `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`
}

func (m migrator) Begin(ctx context.Context) (schema.Tx, error) {
	tx, err := m.db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return migrationTx{migrationQuerier{tx}, tx}, nil
}

// migrationQuerier runs the runner's statements on the writer or its transaction.
type migrationQuerier struct {
	q interface {
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	}
}

func (q migrationQuerier) Int(ctx context.Context, query string) (n int, err error) {
	err = q.q.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

func (q migrationQuerier) Exec(ctx context.Context, query string, args ...any) error {
	_, err := q.q.ExecContext(ctx, query, args...)
	return err
}

type migrationTx struct {
	migrationQuerier
	tx *sql.Tx
}

func (t migrationTx) Commit(context.Context) error { return t.tx.Commit() }

func (t migrationTx) Rollback(context.Context) { _ = t.tx.Rollback() }
