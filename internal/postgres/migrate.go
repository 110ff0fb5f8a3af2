package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/custos-crm/custos/internal/schema"
	"github.com/custos-crm/custos/internal/sqlstore"
)

// migrations are the embedded migration files, in order (schema.MustLoad).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations = schema.MustLoad(migrationFiles, "migrations", "postgres")

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
)

// SchemaVersion returns the database's schema version (0 for a new
// database) and the latest one this binary knows.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int, err error) {
	return schema.Versions(ctx, migrator{db}, migrationQuerier{db.writer}, migrations)
}

// Migrate applies the migrations the database lacks (schema.Migrate).
// Several processes may migrate at once: each migration's transaction
// first takes a transaction-scoped advisory lock, which serialises them.
func (db *DB) Migrate(ctx context.Context) error {
	return schema.Migrate(ctx, migrator{db}, migrations)
}

// migrator is the store as schema's runner uses it.
type migrator struct{ db *DB }

func (migrator) Name() string { return "postgres" }

// Exists: to_regclass resolves the name through search_path, as the
// queries do.
func (migrator) Exists() string {
	return `SELECT (to_regclass('schema_migrations') IS NOT NULL)::int`
}

func (m migrator) Begin(ctx context.Context) (schema.Tx, error) {
	tx, err := m.db.writer.Begin(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, sqlMigrateLock, migrateLockKey); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock: %w", err)
	}
	// Created under the lock: two concurrent CREATE TABLE IF NOT EXISTS can
	// both find no table and one then fails.
	if _, err := tx.Exec(ctx, sqlCreateSchemaMigrations); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return nil, err
	}
	return migrationTx{migrationQuerier{tx}, tx}, nil
}

// migrationQuerier runs the runner's statements on a pool or a transaction, their
// placeholders rebound. Without arguments pgx sends the text as a simple
// query, which may hold several statements (a migration file).
type migrationQuerier struct {
	q interface {
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	}
}

func (q migrationQuerier) Int(ctx context.Context, query string) (n int, err error) {
	err = q.q.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (q migrationQuerier) Exec(ctx context.Context, query string, args ...any) error {
	_, err := q.q.Exec(ctx, sqlstore.Rebind(query), args...)
	return err
}

type migrationTx struct {
	migrationQuerier
	tx pgx.Tx
}

func (t migrationTx) Commit(ctx context.Context) error { return t.tx.Commit(ctx) }

func (t migrationTx) Rollback(ctx context.Context) { _ = t.tx.Rollback(ctx) }
