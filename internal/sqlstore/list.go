package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// where collects the AND-ed conditions of a query and their arguments. Only
// constant SQL goes into the text, with ? placeholders; every value is a
// bound argument.
type where struct {
	conds []string
	args  []any
}

func (w *where) and(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
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
		w.and(col+" = ?", v)
	}
}

// eqText adds col = v unless v is empty, which does not filter.
func eqText(w *where, col, v string) {
	if v != "" {
		w.and(col+" = ?", v)
	}
}

// prefix returns an index-friendly condition matching the values of col
// that start with p, and its arguments (see sqlkit.PrefixEnd). The columns
// compare bytewise (SQLite's BINARY, PostgreSQL's COLLATE "C"), so that is
// exactly the values that start with p.
func prefix(col, p string) (string, []any) {
	if end, ok := sqlkit.PrefixEnd(p); ok {
		return "(" + col + " >= ? AND " + col + " < ?)", []any{p, end}
	}
	return col + " >= ?", []any{p}
}

// searchText normalises a search string (sqlkit.SearchText).
func searchText(q string) string { return sqlkit.SearchText(q) }

// anyOf ORs conditions made by prefix and friends into one.
type anyOf struct {
	conds []string
	args  []any
}

func (o *anyOf) or(cond string, args ...any) {
	o.conds = append(o.conds, cond)
	o.args = append(o.args, args...)
}

func (o *anyOf) prefix(col, p string) {
	cond, args := prefix(col, p)
	o.or(cond, args...)
}

func (o *anyOf) addTo(w *where) {
	if len(o.conds) > 0 {
		w.and("("+strings.Join(o.conds, " OR ")+")", o.args...)
	}
}

// validKey reports whether a cursor's text key is one the store can have
// made: valid UTF-8 without NUL (PostgreSQL refuses both as text, SQLite
// would compare them bytewise and page on garbage).
func validKey(key string) bool {
	return utf8.ValidString(key) && strings.IndexByte(key, 0) < 0
}

// listSQL is a list query ready to run: its text, arguments and paging.
type listSQL struct {
	text  string
	args  []any
	sort  string // the sort field as named in the request, without "-"
	limit int
}

// pageLimit is the page size of q: the default when unset, at most
// crm.MaxLimit.
func pageLimit(q crm.ListQuery) int {
	if q.Limit <= 0 {
		return crm.DefaultLimit
	}
	return min(q.Limit, crm.MaxLimit)
}

// order returns the comparison and the direction of q's sort.
func order(q crm.ListQuery) (op, dir string) {
	if q.Desc {
		return "<", "DESC"
	}
	return ">", "ASC"
}

// buildList completes a list query over table: it resolves the sort field,
// adds the cursor condition and the order, and selects the sort key as the
// last column so that the next cursor can be made from it.
func buildList(d Dialect, list, table, cols string, w *where, q crm.ListQuery) (*listSQL, error) {
	name := q.Sort
	if name == "" {
		name = crm.SortFields[list][0]
	}
	col, ok := sqlkit.SortCols[list][name]
	if !ok {
		return nil, &crm.Error{Code: crm.EINVALID, Message: "invalid sort", Fields: map[string]string{"sort": "invalid"}}
	}
	op, dir := order(q)
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
		} else if !validKey(c.Key) {
			return nil, bad
		}
		cond, args := d.Seek(col.Expr, op, key, c.ID)
		w.and(cond, args...)
	}
	limit := pageLimit(q)

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
	b.WriteString(" ORDER BY " + col.Expr + " " + dir + ", id " + dir + " LIMIT ?")
	return &listSQL{text: b.String(), args: append(w.args, limit+1), sort: name, limit: limit}, nil
}

// runList runs a list query, scanning each row with scan (which receives the
// sort key as its extra destination), and returns at most l.limit items and
// the next page's cursor.
func runList[T any](ctx context.Context, c Conn, l *listSQL, what string,
	scan func(sc Row, extra ...any) (T, error), id func(T) int64) ([]T, string, error) {
	rows, err := c.List(ctx, l.text, l.args...)
	if err != nil {
		return nil, "", c.DBError(err, "list "+what, what, "")
	}
	defer rows.Close()
	items := make([]T, 0, min(l.limit+1, 64))
	// The key is scanned as text whatever its type (both drivers format
	// integers in decimal), which is the cursor's form.
	var key, lastKey string
	for rows.Next() {
		item, err := scan(rows, &key)
		if err != nil {
			return nil, "", c.RowError(err, "scan "+what, what)
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
		return nil, "", c.RowError(err, "list "+what, what)
	}
	return items, "", nil
}
