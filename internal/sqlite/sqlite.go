// Package sqlite implements crm.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go), the default store of a single-server Custos.
//
// A DB holds two pools on one file: a writer with a single connection, in
// which every Write runs in a BEGIN IMMEDIATE transaction, so writers queue
// in Go instead of failing with SQLITE_BUSY (writes queued behind one another
// share one transaction and one commit: write.go); and a pool of read-only
// connections that serve Read concurrently, which WAL mode lets run beside the
// writer. A third connection checkpoints the WAL in the background
// (checkpoint.go). Every connection is opened with explicit pragmas (WAL,
// foreign keys, a busy timeout, synchronous NORMAL).
//
// The schema lives in numbered SQL files under migrations/, applied in order
// by Migrate, each in its own transaction; Open refuses a database whose
// schema is newer than the binary. Timestamps are stored as INTEGER unix
// microseconds in UTC. Access is a query predicate: every read of client
// records takes a crm.Scope and builds it into the WHERE clause.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/schema"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the name of the database file inside the data directory.
const FileName = "custos.db"

// readers is how many Read functions run at once: twice the CPUs, at
// least 4. Reads are CPU-bound on a warm cache, so more would only share
// the CPUs; the others wait their turn in order (see Read). The read pool
// has twice as many connections, so that a function never waits for one.
func readers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// writerCacheKiB is the page cache of the writer connection (PRF-1): 16 MiB,
// eight times SQLite's default, which the readers keep.
const writerCacheKiB = 16 << 10

// DB is an open Custos database. It implements crm.Store.
type DB struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	wstmts *stmtCache
	rstmts *stmtCache

	// The turn on the writer connection (group commit, write.go): a token
	// in a one-slot channel, the number of writers waiting for it, and the
	// state only the holder of the turn touches.
	turn     chan struct{}
	waiting  atomic.Int64
	ws       writeState
	commits  atomic.Int64  // write transactions committed
	readGate chan struct{} // the turns of Read, a FIFO semaphore
	readWait atomic.Int64  // Reads waiting for a turn (tests watch it)

	// The background checkpointer (checkpoint.go): its connection, and the
	// channels that stop it and report it stopped.
	ckpt     *sql.DB
	ckptStop chan struct{}
	ckptDone chan struct{}
}

var _ crm.Store = (*DB)(nil)

// Open opens (creating if needed) dir/custos.db with the directory at mode
// 0700 and the file at 0600. It does not migrate: call Migrate. It fails with
// a *schema.NewerError (errors.Is schema.ErrNewer) when the database was migrated by
// a newer binary.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: database path: %w", err)
	}
	// Create the file ourselves so that it is private from the start; SQLite
	// gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: create database file: %w", err)
	}

	db := &DB{path: path, wstmts: newStmtCache(), rstmts: newStmtCache(), turn: make(chan struct{}, 1)}
	db.turn <- struct{}{}
	db.readGate = make(chan struct{}, readers())
	if db.writer, err = sql.Open("sqlite", dsn(path, roleWriter)); err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)
	// The writer connects first: it switches the file to WAL mode before any
	// reader opens it.
	if err := db.writer.PingContext(ctx); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if db.reader, err = sql.Open("sqlite", dsn(path, roleReader)); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	db.reader.SetMaxOpenConns(2 * cap(db.readGate))
	db.reader.SetMaxIdleConns(2 * cap(db.readGate))
	db.reader.SetConnMaxLifetime(0)
	db.reader.SetConnMaxIdleTime(0)
	if err := db.startCheckpoints(); err != nil {
		db.Close()
		return nil, err
	}

	current, latest, err := db.SchemaVersion(ctx)
	if err := schema.Refuse(current, latest, err); err != nil {
		db.Close()
		return nil, err
	}
	if current == latest {
		db.ready(ctx)
	}
	return db, nil
}

// ready prepares a database whose schema is current for work: it refreshes
// the planner's statistics where they are stale (without them SQLite may
// scan a sort index rather than search a selective one) and prepares the
// writer's statements. Neither is needed for correctness, so failures are
// left to show where the statements are used.
func (db *DB) ready(ctx context.Context) {
	_ = db.Optimize(ctx)
	db.prepareWriter(ctx)
}

// Optimize refreshes the planner's statistics where they are stale, as is
// wise after a bulk import; Open does it for a database it opens (ready).
//
// It keeps the statistics of sqlite_stat1 and drops the samples of
// sqlite_stat4 (modernc.org/sqlite is built with SQLITE_ENABLE_STAT4):
// with samples, SQLite re-prepares a statement whenever a value bound to
// an indexed column changes, since the value may change the plan. Every
// request binds new values (a token's hash, a record's id), so every
// statement was prepared anew: a read by id and a search by email cost 70
// µs with the samples and 33 µs without, measured back to back on 20,000
// contacts (docs/performance.md). The lists' plans do not need them: the
// scope branches name their indexes by their order (sqlstore).
func (db *DB) Optimize(ctx context.Context) error {
	if _, err := db.writer.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("sqlite: optimize: %w", err)
	}
	return db.dropSamples(ctx)
}

// dropSamples empties sqlite_stat4 (when ANALYZE made it) and has every
// connection load the statistics anew: the writer at once, the readers
// as they are opened again (their idle connections are closed).
func (db *DB) dropSamples(ctx context.Context) error {
	if dropped, err := DropSamples(ctx, db.writer); err != nil || !dropped {
		return err
	}
	idle := 2 * cap(db.readGate)
	db.reader.SetMaxIdleConns(0)
	db.reader.SetMaxIdleConns(idle)
	return nil
}

// DropSamples empties sqlite_stat4, if ANALYZE made it, through w (a
// pool that writes the database) and has w's connection load the
// statistics anew; it reports whether there were samples to drop. Other
// connections load them when they next open. See Optimize for why the
// store keeps no samples; the bench's floor keeps none either.
func DropSamples(ctx context.Context, w *sql.DB) (bool, error) {
	var n int
	if err := w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&n); err != nil || n == 0 {
		return false, err
	}
	if _, err := w.ExecContext(ctx, `DELETE FROM sqlite_stat4`); err != nil {
		return false, fmt.Errorf("sqlite: optimize: %w", err)
	}
	if _, err := w.ExecContext(ctx, `ANALYZE sqlite_schema`); err != nil {
		return false, fmt.Errorf("sqlite: optimize: %w", err)
	}
	return true, nil
}

// dsn returns the data source name of one pool. The path is escaped as a
// file: URI so that no character of it can start the query string.
func dsn(path string, role connRole) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(5000)")
	v.Add("_pragma", "foreign_keys(ON)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(NORMAL)")
	switch role {
	case roleWriter:
		v.Set("_txlock", "immediate")
		// Checkpoints run in the background (checkpoint.go); the writer's
		// own automatic checkpoint is only a backstop that bounds the WAL
		// should they stall. After a checkpoint SQLite reuses the WAL from
		// its start and truncates it to this size.
		v.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walBackstopPages))
		v.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
		// A write changes a page in each of a table's indexes, at random;
		// with SQLite's default 2 MiB cache a group of writes re-reads
		// those pages and spills them to the WAL before its commit.
		v.Add("_pragma", fmt.Sprintf("cache_size(%d)", -writerCacheKiB))
		// What a write frees inside a page (an old value, a deleted row) is
		// overwritten with zeros, so that no plain text an older version
		// stored outlives its sealing (docs/encryption.md); FAST does it
		// without extra I/O.
		v.Add("_pragma", "secure_delete(FAST)")
	case roleReader:
		v.Set("_txlock", "deferred")
		v.Add("_pragma", "query_only(ON)")
	case roleCheckpointer:
		v.Set("_txlock", "deferred")
	}
	return u.String() + "?" + v.Encode()
}

// connRole is what a pool's connections are for.
type connRole int

const (
	roleWriter connRole = iota
	roleReader
	roleCheckpointer
)

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close closes both pools and their prepared statements.
func (db *DB) Close() error {
	db.closeWrites()
	db.stopCheckpoints()
	db.wstmts.close()
	var errs []error
	if db.writer != nil {
		// Let SQLite update its statistics for the next run, as it advises.
		_, _ = db.writer.Exec("PRAGMA optimize")
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Read runs fn on the read pool. Each statement sees a consistent snapshot;
// fn gets no transaction around several statements, and cannot write (the
// connections are query_only).
//
// At most readers() functions run at once; the others wait in the order
// they came (goroutines blocked on a channel are served first in, first
// out). database/sql hands a freed connection to a waiter picked at random,
// so without this turn a few unlucky requests waited many times longer than
// the rest: under 32 clients the p99 latency of a list page fell from 30 to
// 21 ms with it, at the same throughput (PRF-1). A caller whose context ends
// while it waits gets the context's error. fn must not call Read itself.
func (db *DB) Read(ctx context.Context, fn func(crm.Tx) error) error {
	select {
	case db.readGate <- struct{}{}:
	default:
		// All turns are taken: wait, counted.
		db.readWait.Add(1)
		select {
		case db.readGate <- struct{}{}:
			db.readWait.Add(-1)
		case <-ctx.Done():
			db.readWait.Add(-1)
			return fmt.Errorf("sqlite: read: %w", ctx.Err())
		}
	}
	defer func() { <-db.readGate }()
	return fn(newTx(&tx{pool: db.reader, stmts: db.rstmts, prepare: true, now: now()}))
}

// now is the time a Tx is fixed at: UTC, whole microseconds, which is what
// the columns store.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// stmtCache keeps prepared statements by their SQL text. database/sql then
// keeps one prepared copy per connection, and modernc keeps the compiled
// SQLite statement, so a hot query is parsed once per connection.
type stmtCache struct {
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: list queries are built from filters, and
// the combinations, though finite, are many, while each is kept prepared on
// every connection of the pool.
const maxCachedStmts = 256

func newStmtCache() *stmtCache { return &stmtCache{stmts: make(map[string]*sql.Stmt)} }

// get returns the cached statement for query, preparing it on pool when
// prepare is true and there is room. It returns nil when the caller should
// run the query unprepared.
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string, prepare bool) (*sql.Stmt, error) {
	c.mu.RLock()
	s, ok := c.stmts[query]
	n := len(c.stmts)
	c.mu.RUnlock()
	if ok || !prepare || n >= maxCachedStmts {
		return s, nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		s.Close()
		return old, nil
	}
	c.stmts[query] = s
	return s, nil
}

// statics are the fixed statements of the package, registered by static.
var statics []string

// static registers a fixed statement to be prepared on the writer, and
// returns it. The writer's only connection is busy inside a transaction, so
// statements cannot be prepared lazily there; they are prepared up front
// once the schema is current.
func static(query string) string {
	statics = append(statics, query)
	return query
}

// prepareWriter prepares the static statements on the writer. A statement
// that fails to prepare is left out: it then runs unprepared, and fails
// where it is used, with context.
func (db *DB) prepareWriter(ctx context.Context) {
	for _, q := range statics {
		_, _ = db.wstmts.get(ctx, db.writer, q, true)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}

// OpenPools opens the file at path as Open does, with the same driver and
// pragmas: one writer connection and a pool of readers, without the
// store's group commit, read turns or checkpoints. It is for the bench's
// no-security floor, which measures what the product's own work costs.
func OpenPools(ctx context.Context, path string) (reader, writer *sql.DB, err error) {
	if writer, err = sql.Open("sqlite", dsn(path, roleWriter)); err != nil {
		return nil, nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if reader, err = sql.Open("sqlite", dsn(path, roleReader)); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	reader.SetMaxOpenConns(2 * readers())
	reader.SetMaxIdleConns(2 * readers())
	return reader, writer, nil
}
