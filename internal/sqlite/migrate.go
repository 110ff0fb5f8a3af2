package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/custos-crm/custos/internal/schema"
)

// migrations are the embedded migration files, in order (schema.MustLoad).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations = schema.MustLoad(migrationFiles, "migrations", "sqlite")

const sqlCreateSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`

// SchemaVersion returns the database's schema version (0 for a new
// database) and the latest one this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	return schema.Versions(ctx, migrator{db}, migrationQuerier{db.writer}, migrations)
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
