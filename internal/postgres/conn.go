package postgres

import (
	"context"
	"math"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlstore"

	"github.com/jackc/pgx/v5"
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
	return c.t.insert(ctx, sqlstore.Rebind(query)+" RETURNING id", args...)
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return c.t.q.QueryRow(ctx, sqlstore.Rebind(query), args...)
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.t.q.Query(ctx, sqlstore.Rebind(query), args...)
}

// List runs a list query as an unnamed statement. A list's best plan
// depends on the values: how selective the owner, the search prefixes and
// the cursor are. A prepared statement's cached generic plan cannot see
// them, and for a search it walks the whole sort index; so lists run as
// unnamed statements, which PostgreSQL plans for the values given (pgx
// still caches the statement's description, so it is one round trip).
func (c conn) List(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return c.t.q.Query(ctx, sqlstore.Rebind(query), append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
}

func (c conn) Lock(clause string) string { return c.t.lock(clause) }

// Serialize takes a transaction-scoped advisory lock on name in this
// schema (several deployments, or tests, may share a database).
func (c conn) Serialize(ctx context.Context, name string) error {
	_, err := c.t.q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1), hashtext(current_schema()))`, name)
	return err
}

// The dialect (sqlstore.Dialect).

func (conn) Bool(b bool) any { return b }

func (conn) InIDs(col string, ids []int64) (string, any) { return col + " = ANY(?)", ids }

// InSelect is = ANY (ARRAY(...)) rather than IN (...): the array is
// computed once, and the condition is then an index condition that
// PostgreSQL can OR with the others (a bitmap scan of each index); an IN
// subquery inside an OR is a filter, which made it walk the whole sort
// index instead.
func (conn) InSelect(col, sub string) string { return col + " = ANY (ARRAY(" + sub + "))" }

func (conn) Values(vals []string) (string, any) { return "unnest(?::text[]) AS value", vals }

func (conn) IndexedBy(string) string { return "" }

func (conn) NotIndexed() string { return "" }

// Seek is the row comparison, which PostgreSQL turns into one index range
// on (sort column, id).
func (conn) Seek(expr, op string, key any, id int64) (string, []any) {
	return "(" + expr + ", id) " + op + " (?, ?)", []any{key, id}
}

func (conn) ReserveID(table string) (string, []any) {
	return "SELECT nextval(pg_get_serial_sequence(?, 'id'))", []any{table}
}

func (conn) ChangedColumns() bool { return false }

// Changes reads, besides the changes numbered after the mark, those of the
// transactions the mark saw running, and the transactions running now: a
// transaction that was not running when the mark was taken and commits
// later draws its numbers after every number the mark saw (the identity
// caches none). One statement: one snapshot.
func (conn) Changes(after crm.ChangeMark, head bool) (string, []any) {
	open := "SELECT 1, 0, '', x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS x" +
		" UNION ALL SELECT 4, 0, '', pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
	pruned := "SELECT 2, 0, '', through FROM changes_pruned"
	if head {
		return "SELECT 3, coalesce(max(seq), 0), '', 0 FROM changes UNION ALL " + open + " UNION ALL " + pruned, nil
	}
	openIDs := after.Open
	if openIDs == nil {
		openIDs = []int64{}
	}
	xmax := after.Xmax
	if xmax <= 0 {
		xmax = math.MaxInt64
	}
	// The changes after the mark's number, and those of the transactions
	// the mark's snapshot did not see finish: listed as running, or
	// numbered at or above its xmax (which it does not list).
	return "SELECT 0, seq, entity, record_id FROM changes WHERE seq > ? OR txid = ANY(?) OR txid >= ? UNION ALL " + open +
		" UNION ALL " + pruned + " ORDER BY 1, 2", []any{after.Seq, openIDs, xmax}
}

func (c conn) Writing() bool { return c.t.write }

func (c conn) Now() time.Time { return c.t.now }

func (conn) DBError(err error, op, what, field string) error { return dbError(err, op, what, field) }

func (conn) RowError(err error, op, what string) error { return rowError(err, op, what) }
