package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/custos-crm/custos/internal/sqlstore"
)

// conn is the tx as the shared statements of sqlstore use it: through the
// prepared-statement cache, with SQLite's error mapping. SQLite runs one
// writer at a time, so a read needs no locking clause.
type conn struct{ t *tx }

func init() { statics = append(statics, sqlstore.Statements()...) }

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

func (conn) Lock(string) string { return "" }

func (conn) Bool(b bool) any { return boolInt(b) }

func (c conn) Writing() bool { return c.t.sqlTx != nil }

func (c conn) Now() time.Time { return c.t.now }

func (conn) DBError(err error, op, what, field string) error { return dbError(err, op, what, field) }

func (conn) RowError(err error, op, what string) error { return rowError(err, op, what) }

// rows adapts *sql.Rows, whose Close returns an error nobody checks once
// Err is read.
type rows struct{ *sql.Rows }

func (r rows) Close() { _ = r.Rows.Close() }
