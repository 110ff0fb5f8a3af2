package postgres

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/sqlstore"
)

// conn is the tx as the shared statements of sqlstore use it: their ?
// placeholders rebound to $n, with PostgreSQL's error mapping and locking
// clauses. pgx prepares each statement once per connection.
type conn struct{ t *tx }

// newTx returns a tx with its shared part wired to itself.
func newTx(t *tx) *tx {
	t.Tx = sqlstore.Tx{C: conn{t}}
	return t
}

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.t.q.Exec(ctx, sqlstore.Rebind(query), args...)
	return tag.RowsAffected(), err
}

func (c conn) Insert(ctx context.Context, query string, args ...any) (int64, error) {
	return c.t.insert(ctx, sqlstore.Rebind(query+" RETURNING id"), args...)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.t.q.QueryRow(ctx, sqlstore.Rebind(query), args...)
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.t.q.Query(ctx, sqlstore.Rebind(query), args...)
}

func (c conn) Lock(clause string) string { return c.t.lock(clause) }

func (conn) Bool(b bool) any { return b }

func (c conn) Writing() bool { return c.t.write }

func (c conn) Now() time.Time { return c.t.now }

func (conn) DBError(err error, op, what, field string) error { return dbError(err, op, what, field) }

func (conn) RowError(err error, op, what string) error { return rowError(err, op, what) }
