// Package sqlstore holds the SQL of the stores written once, for both
// backends (issue 10: "security logic once, persistence twice, but thin").
// A statement is written with ? placeholders; the PostgreSQL store rebinds
// them to $1, $2, … (Rebind), as Authelia's SQL provider does, and the
// SQLite store prepares them as they are (Statements).
//
// Tx implements a part of crm.Tx over a Conn, the small interface each
// store's transaction offers: run a statement, read rows, and the few
// things that truly differ between the backends (the id of an inserted
// row, a locking clause, the mapping of driver errors). Each store's tx
// embeds a Tx, so the methods here are its methods. The package knows no
// driver and opens nothing; what remains per backend (opening, pool and
// pragma settings, Read and Write, SQLite's group commit and read turns,
// migrations, and the statements not moved here yet) stays in
// internal/sqlite and internal/postgres.
package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Row is one result row of either driver.
type Row interface{ Scan(dest ...any) error }

// Rows is a result set of either driver.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Conn is what a store's transaction offers the shared statements: the
// statements run, and the dialect they are spelled in. Every query has ?
// placeholders; most are registered statements (Statement), lists are
// built per request (List).
type Conn interface {
	Dialect
	// Exec runs a statement and returns the number of rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Insert runs an INSERT and returns the id of the new row.
	Insert(ctx context.Context, query string, args ...any) (int64, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// List runs a list query, built for the request (buildList): planned
	// for the values given where the backend plans per value.
	List(ctx context.Context, query string, args ...any) (Rows, error)
	// Lock returns the locking clause for a read by key of a row the
	// caller will change, inside a write ("" where the backend serialises
	// writes anyway, or outside a write).
	Lock(clause string) string
	// Writing reports whether the statements run inside a write.
	Writing() bool
	// Serialize makes the transaction wait for, then exclude, every other
	// transaction that serialises on name, until it ends (a no-op where
	// writes run one at a time).
	Serialize(ctx context.Context, name string) error
	// Now is the time the transaction is fixed at.
	Now() time.Time
	// DBError maps a driver error to the crm error the Tx contract names;
	// RowError does the same and makes "no row" ENOTFOUND of what.
	DBError(err error, op, what, field string) error
	RowError(err error, op, what string) error
}

// Dialect is what the SQL of the two backends spells differently. The rest
// of every statement is written once.
type Dialect interface {
	// Bool is a boolean as the backend's columns take it (SQLite: 0 or 1).
	// Both drivers scan either form into a bool.
	Bool(b bool) any
	// InIDs returns the condition that col is one of ids, with its one
	// argument (a list of any length is one bound parameter).
	InIDs(col string, ids []int64) (cond string, arg any)
	// InSelect returns the condition that col is one of the values sub
	// selects, in the form the backend's planner turns into index reads
	// when it is one alternative of an OR.
	InSelect(col, sub string) string
	// Values returns a FROM item whose rows are vals, in a column named
	// value, and its one argument.
	Values(vals []string) (from string, arg any)
	// IndexedBy returns the clause after a table name that makes the
	// backend read it through index, "" where the planner needs no hint.
	IndexedBy(index string) string
	// NotIndexed returns the clause after a table name that makes the
	// backend read it by primary key only (SQLite: NOT INDEXED), "" where
	// the planner needs no hint.
	NotIndexed() string
	// Seek returns the condition of a keyset page after (key, id) in the
	// order of expr, then id; op is ">" (ascending) or "<".
	Seek(expr, op string, key any, id int64) (cond string, args []any)
	// ReserveID returns the query of one new id of table that no row has
	// had, and its arguments (SQLite: one past the AUTOINCREMENT sequence,
	// inside the one write transaction; PostgreSQL: the table's sequence).
	ReserveID(table string) (query string, args []any)
	// ChangedColumns reports whether an UPDATE should name only the
	// indexed columns whose values change (SQLite rewrites the index
	// entries of every column its SET list names; PostgreSQL compares).
	ChangedColumns() bool
	// Changes returns the query of the change sequence (changes.go) after
	// mark, or of its head, and its arguments. Its rows are (kind, seq,
	// entity, record_id): kind 0 a change, 1 a transaction still running
	// (record_id its id), 2 how far changes were pruned (record_id), 3 the
	// highest (head only). All come from one snapshot.
	Changes(after crm.ChangeMark, head bool) (query string, args []any)
}

// Tx is the part of crm.Tx written here, over C.
type Tx struct{ C Conn }

// Micros is a time as the columns keep it: unix microseconds.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// FromMicros is the UTC time of a microseconds column.
func FromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// NullMicros is Micros of t, or NULL for nil.
func NullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// NullZero is id, or NULL for 0 (no such record).
func NullZero(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// NullID is *id, or NULL for nil.
func NullID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

// NullText is s, or NULL for "".
func NullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TimePtr is FromMicros of a nullable column, nil for NULL.
func TimePtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := FromMicros(*v)
	return &t
}

var (
	statements []string
	rebound    = map[string]string{} // statement → its PostgreSQL form, written at init only
)

// Statement registers a statement of this package and returns its text.
// Only package initialisation registers statements.
func Statement(query string) string {
	statements = append(statements, query)
	rebound[query] = rebind(query)
	return query
}

// Statements are every fixed statement of this package and those d spells
// (the tag insert), for the SQLite store to prepare on its writer at start.
func Statements(d Dialect) []string {
	from, _ := d.Values(nil)
	return append(append(append([]string(nil), statements...), sqlInsertTags(from)), byIDStatements(d)...)
}

// Rebind returns query with its ? placeholders numbered $1, $2, … for
// PostgreSQL: from the table of registered statements, or rebound anew
// (a list built per request is not kept, so that no request can grow the
// table). The statements hold no ? inside string literals.
func Rebind(query string) string {
	if q, ok := rebound[query]; ok {
		return q
	}
	return rebind(query)
}

func rebind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// updateOne runs an UPDATE (or DELETE) of one row by key: ENOTFOUND of
// what when it changed none; field names the input of a unique value.
func (t Tx) updateOne(ctx context.Context, op, what, field, query string, args ...any) error {
	n, err := t.C.Exec(ctx, query, args...)
	if err != nil {
		return t.C.DBError(err, op, what, field)
	} else if n == 0 {
		return crm.NotFound(what)
	}
	return nil
}

// changed runs an UPDATE or DELETE and reports whether it changed a row.
func (t Tx) changed(ctx context.Context, query string, args ...any) (bool, error) {
	n, err := t.C.Exec(ctx, query, args...)
	return n > 0, err
}
