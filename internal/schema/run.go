package schema

import (
	"context"
	"fmt"
	"time"
)

// Querier runs the few statements of the runner on a store's connection,
// pool or transaction. Its statements have ? placeholders (a PostgreSQL
// Querier rebinds them).
type Querier interface {
	// Int runs a query of one integer result.
	Int(ctx context.Context, query string) (int, error)
	// Exec runs a statement; without arguments it may hold several.
	Exec(ctx context.Context, query string, args ...any) error
}

// Tx is the transaction of one migration.
type Tx interface {
	Querier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context)
}

// Backend is what a store offers the runner.
type Backend interface {
	// Name names the store in errors ("sqlite").
	Name() string
	// Exists is the backend's query of whether the table schema_migrations
	// exists: 1 or 0.
	Exists() string
	// Begin starts the transaction of one migration, serialised against
	// every other process migrating the same database, with the table
	// schema_migrations in place.
	Begin(ctx context.Context) (Tx, error)
}

const (
	sqlSchemaVersion   = `SELECT coalesce(max(version), 0) FROM schema_migrations`
	sqlRecordMigration = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
)

// Version returns the version a database is at: 0 for a new one.
func Version(ctx context.Context, b Backend, q Querier) (int, error) {
	if n, err := q.Int(ctx, b.Exists()); err != nil {
		return 0, fmt.Errorf("%s: schema version: %w", b.Name(), err)
	} else if n == 0 {
		return 0, nil
	}
	v, err := q.Int(ctx, sqlSchemaVersion)
	if err != nil {
		return 0, fmt.Errorf("%s: schema version: %w", b.Name(), err)
	}
	return v, nil
}

// Versions returns the version a database is at (0 for a new one) and the
// latest of list.
func Versions(ctx context.Context, b Backend, q Querier, list []Migration) (current, latest int, err error) {
	current, err = Version(ctx, b, q)
	return current, len(list), err
}

// Refuse returns err, or refuses (*NewerError) a database at a version
// newer than latest: the arguments are what Versions returns.
func Refuse(current, latest int, err error) error {
	if err == nil && current > latest {
		return &NewerError{Current: current, Latest: latest}
	}
	return err
}

// Migrate applies the migrations of list the database lacks, in order,
// each in its own transaction together with the row that records it;
// running it again does nothing. It refuses (*NewerError) a database newer
// than the binary. Several processes may migrate at once: Begin serialises
// their transactions and each re-reads the version inside its own, so each
// migration runs once.
func Migrate(ctx context.Context, b Backend, list []Migration) error {
	for _, m := range list {
		if err := migrate(ctx, b, list, m); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies m unless the database has it already.
func migrate(ctx context.Context, b Backend, list []Migration, m Migration) error {
	tx, err := b.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: migrate %s: %w", b.Name(), m.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	current, err := Version(ctx, b, tx)
	switch {
	case err != nil:
		return err
	case current > len(list):
		return &NewerError{Current: current, Latest: len(list)}
	case current >= m.Version:
		return nil
	case current != m.Version-1:
		return fmt.Errorf("%s: migrate %s: database is at version %d", b.Name(), m.Name, current)
	}
	if err := tx.Exec(ctx, m.SQL); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", b.Name(), m.Name, err)
	}
	if err := tx.Exec(ctx, sqlRecordMigration, m.Version, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", b.Name(), m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: migrate %s: %w", b.Name(), m.Name, err)
	}
	return nil
}
