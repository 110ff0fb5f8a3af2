package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlstore"
)

// conn is the tx as the shared statements of sqlstore use it: through the
// prepared-statement cache, with SQLite's error mapping. SQLite runs one
// writer at a time, so a read needs no locking clause.
type conn struct{ t *tx }

func init() { statics = append(statics, sqlstore.Statements(conn{})...) }

// newTx returns a tx with its shared part wired to itself.
func newTx(t *tx) *tx {
	t.Tx = sqlstore.Tx{C: conn{t}}
	return t
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.t.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (c conn) Insert(ctx context.Context, query string, args ...any) (int64, error) {
	return c.t.insert(ctx, query, args...)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.t.queryRow(ctx, query, args...)
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	r, err := c.t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

// List runs a list query like any other: SQLite plans each statement when
// it is prepared, and the statement cache keeps the common ones.
func (c conn) List(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.Query(ctx, query, args...)
}

func (conn) Lock(string) string { return "" }

// Serialize needs nothing: SQLite runs one write transaction at a time.
func (conn) Serialize(context.Context, string) error { return nil }

// The dialect (sqlstore.Dialect).

func (conn) Bool(b bool) any { return boolInt(b) }

func (conn) InIDs(col string, ids []int64) (string, any) {
	return col + " IN (SELECT value FROM json_each(?))", jsonList(ids)
}

func (conn) InSelect(col, sub string) string { return col + " IN (" + sub + ")" }

func (conn) Values(vals []string) (string, any) { return "json_each(?)", jsonList(vals) }

func (conn) IndexedBy(index string) string { return " INDEXED BY " + index }

func (conn) NotIndexed() string { return " NOT INDEXED" }

// Seek's first, redundant condition is a plain range on the sort column,
// which SQLite uses on an index where it would not use the row value
// comparison alone (on expressions, notably).
func (conn) Seek(expr, op string, key any, id int64) (string, []any) {
	return expr + " " + op + "= ? AND (" + expr + ", id) " + op + " (?, ?)", []any{key, key, id}
}

func (conn) ReserveID(table string) (string, []any) {
	return "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0) + 1", []any{table}
}

func (conn) ChangedColumns() bool { return true }

// Changes: one writer commits in number order, so nothing is ever open.
func (conn) Changes(after crm.ChangeMark, head bool) (string, []any) {
	pruned := "SELECT 2, 0, '', through FROM changes_pruned"
	if head {
		return "SELECT 3, coalesce(max(seq), 0), '', 0 FROM changes UNION ALL " + pruned, nil
	}
	return "SELECT 0, seq, entity, record_id FROM changes WHERE seq > ? UNION ALL " + pruned + " ORDER BY 1, 2", []any{after.Seq}
}

func (c conn) Writing() bool { return c.t.sqlTx != nil }

func (c conn) Now() time.Time { return c.t.now }

func (conn) DBError(err error, op, what, field string) error { return dbError(err, op, what, field) }

func (conn) RowError(err error, op, what string) error { return rowError(err, op, what) }

// rows adapts *sql.Rows, whose Close returns an error nobody checks once
// Err is read.
type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() }
