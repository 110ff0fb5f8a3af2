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

// update runs an UPDATE and reports whether it changed a row.
func (t *tx) update(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := t.exec(ctx, query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
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

// stale is the error of an update whose expected version is not stored.
func stale(what string) error {
	return &crm.Error{Code: crm.EPRECONDITION, Message: what + " was changed by someone else; reload and try again"}
}

// micros and the functions below convert between Go values and columns.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func nullID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

// nullZero stores 0 as NULL, for references where 0 means none.
func nullZero(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func idPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	id := v.Int64
	return &id
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// sqlPurge removes soft-deleted records, children first: activities and
// tasks refer to deals, contacts and companies; deals to contacts and
// companies; contacts to companies. Live records that refer to a purged one
// lose the reference (ON DELETE SET NULL); a purged contact's consents go
// with it (ON DELETE CASCADE), and triggers drop the tag rows.
var sqlPurge = []struct{ what, query string }{
	{"activities", static(`DELETE FROM activities WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"tasks", static(`DELETE FROM tasks WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"deals", static(`DELETE FROM deals WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"contacts", static(`DELETE FROM contacts WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"companies", static(`DELETE FROM companies WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
}

// PurgeDeleted hard-deletes the records soft-deleted before the given time
// and returns how many it removed (consents and tags not counted).
func (t *tx) PurgeDeleted(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, p := range sqlPurge {
		res, err := t.exec(ctx, p.query, micros(before))
		if err != nil {
			return total, dbError(err, "purge "+p.what, p.what, "")
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, dbError(err, "purge "+p.what, p.what, "")
		}
		total += n
	}
	return total, nil
}

// idList encodes ids as a JSON array for json_each, so that a list of any
// length is one bound parameter.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}
