package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlstore"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// tx implements crm.Tx over the read pool (sqlTx nil) or inside one writer
// transaction.
type tx struct {
	sqlstore.Tx // the statements written once for both stores (conn.go)

	pool    *sql.DB
	sqlTx   *sql.Tx
	stmts   *stmtCache
	prepare bool // whether missing statements may be prepared on pool
	now     time.Time
}

var _ crm.Tx = (*tx)(nil)

// Now returns the time fixed when the Read or Write began.
func (t *tx) Now() time.Time { return t.now }

// stmt returns the prepared statement for query bound to the transaction, or
// nil when it is not prepared (the caller then runs the text).
func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	s, err := t.stmts.get(ctx, t.pool, query, t.prepare)
	if err != nil || s == nil {
		return nil // the unprepared path reports any error itself
	}
	if t.sqlTx != nil {
		return t.sqlTx.StmtContext(ctx, s)
	}
	return s
}

// detach returns ctx without its cancellation inside a write: interrupting
// a statement there would roll back a transaction shared with other writes
// (write.go). Reads keep it.
func (t *tx) detach(ctx context.Context) context.Context {
	if t.sqlTx != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.detach(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	if t.sqlTx != nil {
		return t.sqlTx.QueryContext(ctx, query, args...)
	}
	return t.pool.QueryContext(ctx, query, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.detach(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if t.sqlTx != nil {
		return t.sqlTx.QueryRowContext(ctx, query, args...)
	}
	return t.pool.QueryRowContext(ctx, query, args...)
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.detach(ctx)
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	if t.sqlTx != nil {
		return t.sqlTx.ExecContext(ctx, query, args...)
	}
	return t.pool.ExecContext(ctx, query, args...)
}

// insert runs an INSERT and returns the new row's id.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// dbError turns a driver error into the crm error the Tx contract names, by
// SQLite's extended result code, never by message text. what names the
// record ("contact"), field the input field of its unique value, if any.
func dbError(err error, op, what, field string) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			e := &crm.Error{Code: crm.ECONFLICT, Message: what + " already exists"}
			if field != "" {
				e.Fields = map[string]string{field: "already exists"}
			}
			return e
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &crm.Error{Code: crm.EINVALID, Message: what + " refers to a record that does not exist"}
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return &crm.Error{Code: crm.EINVALID, Message: what + " has an invalid value"}
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// rowError maps sql.ErrNoRows to crm.NotFound(what) and wraps the rest.
func rowError(err error, op, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return crm.NotFound(what)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonList encodes a list as a JSON array for json_each, so that a list of
// any length is one bound parameter.
func jsonList[T int64 | string](list []T) string {
	if list == nil {
		list = []T{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}
