package postgres

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"

	"github.com/jackc/pgx/v5"
)

// where collects the AND-ed conditions of a query and their arguments. Only
// constant SQL goes into the text; every value is a bound argument, whose
// placeholder ($1, $2, ...) arg returns.
type where struct {
	conds []string
	args  []any
}

// arg binds v and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) and(cond string) { w.conds = append(w.conds, cond) }

// scope adds the visibility predicate and reports whether anything can be
// visible at all: the zero Scope sees nothing. cond has the placeholder %s
// wherever the owner's id goes; it is bound once.
func (w *where) scope(s crm.Scope, cond string) bool {
	switch {
	case s.All:
		return true
	case s.OwnerID == 0:
		return false
	}
	w.and(strings.ReplaceAll(cond, "%s", w.arg(s.OwnerID)))
	return true
}

// deleted selects live rows, or only the soft-deleted ones.
func (w *where) deleted(deleted bool) {
	if deleted {
		w.and("deleted_at IS NOT NULL")
	} else {
		w.and("deleted_at IS NULL")
	}
}

// eqInt adds col = v unless v is the zero value, which does not filter.
func eqInt(w *where, col string, v int64) {
	if v != 0 {
		w.and(col + " = " + w.arg(v))
	}
}

// eqText adds col = v unless v is empty, which does not filter.
func eqText(w *where, col, v string) {
	if v != "" {
		w.and(col + " = " + w.arg(v))
	}
}

// prefix returns an index-friendly condition matching the values of col
// that start with p, binding its arguments (see sqlkit.PrefixEnd). With
// COLLATE "C" that is exactly the values that start with p.
func prefix(w *where, col, p string) string {
	if end, ok := sqlkit.PrefixEnd(p); ok {
		return "(" + col + " >= " + w.arg(p) + " AND " + col + " < " + w.arg(end) + ")"
	}
	return col + " >= " + w.arg(p)
}

// searchText normalises a search string (sqlkit.SearchText).
func searchText(q string) string { return sqlkit.SearchText(q) }

// anyOf ORs conditions into one.
type anyOf []string

func (o *anyOf) or(cond string) { *o = append(*o, cond) }

func (o anyOf) addTo(w *where) {
	if len(o) > 0 {
		w.and("(" + strings.Join(o, " OR ") + ")")
	}
}

// listSQL is a list query ready to run: its text, arguments and paging.
type listSQL struct {
	text  string
	args  []any
	sort  string // the sort field as named in the request, without "-"
	limit int
}

// buildList completes a list query over table: it resolves the sort field,
// adds the cursor condition and the order, and selects the sort key as the
// last column so that the next cursor can be made from it.
func buildList(list, table, cols string, w *where, q crm.ListQuery) (*listSQL, error) {
	name := q.Sort
	if name == "" {
		name = crm.SortFields[list][0]
	}
	col, ok := sqlkit.SortCols[list][name]
	if !ok {
		return nil, &crm.Error{Code: crm.EINVALID, Message: "invalid sort", Fields: map[string]string{"sort": "invalid"}}
	}
	op, dir := ">", "ASC"
	if q.Desc {
		op, dir = "<", "DESC"
	}
	if c := q.After; c != nil {
		bad := &crm.Error{Code: crm.EINVALID, Message: "invalid cursor", Fields: map[string]string{"cursor": "invalid"}}
		if c.Sort != name || c.ID <= 0 {
			return nil, bad
		}
		var key any = c.Key
		if col.Kind == sqlkit.IntKey {
			n, err := strconv.ParseInt(c.Key, 10, 64)
			if err != nil {
				return nil, bad
			}
			key = n
		} else if !utf8.ValidString(c.Key) || strings.IndexByte(c.Key, 0) >= 0 {
			return nil, bad // the store never makes such a key
		}
		// The row comparison is what PostgreSQL turns into one index range
		// on (sort column, id); the key is bound once.
		k := w.arg(key)
		w.and("(" + col.Expr + ", id) " + op + " (" + k + ", " + w.arg(c.ID) + ")")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = crm.DefaultLimit
	}
	limit = min(limit, crm.MaxLimit)

	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(cols)
	b.WriteString(", ")
	b.WriteString(col.Expr)
	b.WriteString(" FROM ")
	b.WriteString(table)
	if len(w.conds) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(w.conds, " AND "))
	}
	b.WriteString(" ORDER BY " + col.Expr + " " + dir + ", id " + dir + " LIMIT " + w.arg(limit+1))
	return &listSQL{text: b.String(), args: w.args, sort: name, limit: limit}, nil
}

// runList runs a list query, scanning each row with scan (which receives the
// sort key as its extra destination), and returns at most l.limit items and
// the next page's cursor.
func runList[T any](ctx context.Context, t *tx, l *listSQL, what string,
	scan func(sc scanner, extra ...any) (T, error), id func(T) int64) ([]T, string, error) {
	// A list's best plan depends on the values: how selective the owner,
	// the search prefixes and the cursor are. A prepared statement's cached
	// generic plan cannot see them, and for a search it walks the whole sort
	// index; so lists run as unnamed statements, which PostgreSQL plans for
	// the values given (pgx still caches the statement's description, so it
	// is one round trip).
	args := append([]any{pgx.QueryExecModeCacheDescribe}, l.args...)
	rows, err := t.q.Query(ctx, l.text, args...)
	if err != nil {
		return nil, "", dbError(err, "list "+what, what, "")
	}
	defer rows.Close()
	items := make([]T, 0, min(l.limit+1, 64))
	// The key is scanned as text whatever its type (pgx formats integers
	// in decimal), which is the cursor's form.
	var key, lastKey string
	for rows.Next() {
		item, err := scan(rows, &key)
		if err != nil {
			return nil, "", rowError(err, "scan "+what, what)
		}
		if len(items) == l.limit {
			// A row beyond the page: there is a next page.
			next := crm.Cursor{Sort: l.sort, Key: lastKey, ID: id(items[len(items)-1])}
			return items, crm.EncodeCursor(next), nil
		}
		items = append(items, item)
		lastKey = key
	}
	if err := rows.Err(); err != nil {
		return nil, "", rowError(err, "list "+what, what)
	}
	return items, "", nil
}
