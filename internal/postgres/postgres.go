// Package postgres implements crm.Store on PostgreSQL (through pgx), the
// store of a Custos that runs on several servers or beside an existing
// database. It keeps the same schema, the same values and the same order as
// the sqlite package, so that the contract suite in storetest passes
// unchanged against both and a cursor means the same thing on either.
//
// # Connecting
//
// Open takes a DSN in either of libpq's forms, a URL
// (postgres://custos@db.example/custos?sslmode=verify-full&sslrootcert=/etc/custos/ca.pem)
// or keywords (host=db.example dbname=custos sslmode=verify-full
// sslrootcert=/etc/custos/ca.pem). pgx implements TLS itself:
// sslmode=verify-full checks the server's certificate against sslrootcert
// and its host name, which is what a server reached over a network should
// use; sslcert and sslkey add a client certificate. A password is better
// kept out of the DSN, in a passfile (passfile=, or ~/.pgpass). Any other
// parameter is sent as a run-time setting (search_path=custos, say).
//
// A DB holds two pools. Reads run on the first, whose connections are
// opened with default_transaction_read_only, so that a Read that tries to
// write fails as it does on SQLite; writes run on the second, each Write as
// one READ COMMITTED transaction. Between them they open at most MaxConns
// connections.
//
// # Concurrency
//
// Unlike SQLite's single writer, several Writes run at once, on this server
// and on others. What keeps their read-modify-write cycles safe:
//
//   - client records carry a version, and every update is conditional on
//     it (WHERE version = $n): of two transactions that read version 1, the
//     second's UPDATE waits for the first to commit, then finds version 2
//     and changes nothing, which the store reports as EPRECONDITION;
//   - users, settings and tokens have no version, so the reads of them by
//     key inside a Write lock the row (FOR NO KEY UPDATE / FOR UPDATE): a
//     second transaction reading the same user waits, then reads the first
//     one's result, so neither change is lost and a setup code is used once;
//   - a deadlock or serialisation failure that PostgreSQL breaks is ECONFLICT
//     (try again), not an internal error.
//
// # Schema
//
// The migrations are numbered SQL files under migrations/, applied in order
// by Migrate, each in its own transaction holding an advisory lock, so that
// servers starting together migrate once; Open refuses a schema newer than
// the binary. The tables, columns, keys and indexes are those of the sqlite
// package (equivalence_test.go compares them): timestamps are BIGINT unix
// microseconds in UTC, ids BIGINT identities (never reused), and every text
// column is COLLATE "C", SQLite's BINARY, so that text sorts by code point
// whatever the database's locale and the prefix searches, which are ranges,
// mean the same.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/schema"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxConns is the most connections a DB opens: three quarters for reads, a
// quarter for writes. A Write holds its connection while fn runs, and the
// service does no slow work inside one, so a few suffice; further Writes
// wait for a connection as SQLite's wait for the writer.
const MaxConns = 16

// DB is an open Custos database on PostgreSQL. It implements crm.Store.
type DB struct {
	reader *pgxpool.Pool
	writer *pgxpool.Pool
}

var _ crm.Store = (*DB)(nil)

// Open connects to the database named by dsn (see the package doc for its
// forms and TLS). It does not migrate: call Migrate. It fails with a
// *schema.NewerError (errors.Is schema.ErrNewer) when the database was migrated by
// a newer binary.
func Open(ctx context.Context, dsn string) (*DB, error) {
	rcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords from its message only as far as it can
		// recognise them, so none of it goes into the log.
		return nil, errors.New("postgres: cannot parse the DSN (not shown: it may hold a password)")
	}
	wcfg := rcfg.Copy()
	rcfg.MaxConns = MaxConns * 3 / 4
	wcfg.MaxConns = MaxConns - rcfg.MaxConns
	rcfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"

	db := &DB{}
	if db.writer, err = pgxpool.NewWithConfig(ctx, wcfg); err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if db.reader, err = pgxpool.NewWithConfig(ctx, rcfg); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := db.writer.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := schema.Refuse(db.SchemaVersion(ctx)); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Optimize refreshes the planner's statistics of every table of the
// schema, as is wise after a bulk import: until autovacuum gets round to a
// table that was never analysed, PostgreSQL plans its queries blind.
func (db *DB) Optimize(ctx context.Context) error {
	rows, err := db.writer.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		return fmt.Errorf("postgres: optimize: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("postgres: optimize: %w", err)
	}
	for _, t := range tables {
		if _, err := db.writer.Exec(ctx, "ANALYZE "+t); err != nil {
			return fmt.Errorf("postgres: analyze %s: %w", t, err)
		}
	}
	return nil
}

// Close closes both pools, waiting for the connections in use.
func (db *DB) Close() error {
	if db.reader != nil {
		db.reader.Close()
	}
	if db.writer != nil {
		db.writer.Close()
	}
	return nil
}

// Read runs fn on the read pool. Each statement sees the data committed
// when it starts; fn gets no transaction around several statements, and
// cannot write (the connections are read-only).
func (db *DB) Read(ctx context.Context, fn func(crm.Tx) error) error {
	return fn(newTx(&tx{q: db.reader, now: now()}))
}

// Write runs fn in one READ COMMITTED transaction, committed if fn returns
// nil and rolled back otherwise (also on panic). fn must not call Write
// itself: the pool is small, and nested Writes could wait for each other.
func (db *DB) Write(ctx context.Context, fn func(crm.Tx) error) error {
	pgTx, err := db.writer.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	done := false
	defer func() {
		if !done {
			// Roll back even when ctx is cancelled; pgx closes the
			// connection if it cannot.
			_ = pgTx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(newTx(&tx{q: pgTx, write: true, now: now()})); err != nil {
		return err
	}
	done = true
	if err := pgTx.Commit(ctx); err != nil {
		return dbError(err, "commit", "change", "")
	}
	return nil
}

// now is the time a Tx is fixed at: UTC, whole microseconds, which is what
// the columns store.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
