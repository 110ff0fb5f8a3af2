package sqlstore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// where collects the AND-ed conditions of a query and their arguments. Only
// constant SQL goes into the text, with ? placeholders; every value is a
// bound argument.
//
// The scope's predicate (see scope) is kept apart from the rest: a list
// puts it first, or, when it has several parts and nothing else filters,
// reads each part on its own (buildList).
type where struct {
	conds []string
	args  []any

	scoped    bool        // a scope predicate is set
	scopeCond string      // the scope as one condition
	scopeArgs []any       // its arguments
	parts     []scopePart // the scope as alternatives
	live      bool        // only live rows
	filtered  bool        // a condition other than the scope and liveness

	// The shared part read along the sort index, for a principal with
	// many shares: parts[shareFrom:] are the shared parts by id (0: none);
	// manyShares counts the shares when a merge asks (Tx.scoped).
	shareWalk  scopePart
	shareFrom  int
	manyShares func() bool
}

func (w *where) and(cond string, args ...any) {
	w.filtered = true
	w.add(cond, args...)
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// all returns every condition, the scope's first, and their arguments.
func (w *where) all() ([]string, []any) {
	if !w.scoped {
		return w.conds, w.args
	}
	return append([]string{w.scopeCond}, w.conds...), append(slices.Clip(w.scopeArgs), w.args...)
}

// deleted selects live rows, or only the soft-deleted ones.
func (w *where) deleted(deleted bool) {
	w.live = !deleted
	if deleted {
		w.add("deleted_at IS NOT NULL")
	} else {
		w.add("deleted_at IS NULL")
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
//
// A list of live records in a scope of several parts (the user's own, each
// team they manage, the tasks assigned to them, the records shared with
// them) that nothing else filters is a merge (ACL-4, issue 11): each part's
// first page after the cursor, read along an index that starts with the
// part's column and continues in sort order (migration 0014), then the
// first page of their union. Its cost is the page size times the number of
// parts, whatever the number of records the parts hold; a single predicate
// ORed over the parts would read and sort every record of the scope. A
// filtered list keeps the single predicate: its filter's index (an email,
// a company, a name prefix) finds the few rows the scope then checks.
func buildList(d Dialect, list, table, cols string, w *where, q crm.ListQuery) (*listSQL, error) {
	name := q.Sort
	if name == "" {
		name = crm.SortFields[list][0]
		if crm.MemorySorts[list][name] {
			name = "created_at"
		}
	}
	col, ok := sqlkit.SortCols[list][name]
	if !ok {
		return nil, &crm.Error{Code: crm.EINVALID, Message: "invalid sort", Fields: map[string]string{"sort": "invalid"}}
	}
	op, dir := order(q)
	var seek string
	var seekArgs []any
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
		seek, seekArgs = d.Seek(col.Expr, op, key, c.ID)
	}
	limit := pageLimit(q)
	tail := " ORDER BY " + col.Expr + " " + dir + ", id " + dir + " LIMIT ?"

	var b strings.Builder
	b.WriteString("SELECT " + cols + ", " + col.Expr + " FROM " + table)
	var args []any
	if w.scoped && len(w.parts) > 1 && w.live && !w.filtered {
		parts := w.parts
		if w.shareFrom > 0 && w.manyShares != nil && w.manyShares() {
			parts = append(slices.Clip(parts[:w.shareFrom]), w.shareWalk)
		}
		rest, restArgs := w.conds, w.args
		if seek != "" {
			rest = append(slices.Clip(rest), seek)
			restArgs = append(slices.Clip(restArgs), seekArgs...)
		}
		tailRest := ""
		if len(rest) > 0 {
			tailRest = " AND " + strings.Join(rest, " AND ")
		}
		var m strings.Builder
		m.WriteString("SELECT id FROM (")
		for i, p := range parts {
			if i > 0 {
				m.WriteString(" UNION ")
			}
			hint := ""
			if index := scopeIndexes[table][p.lead][name]; index != "" {
				hint = d.IndexedBy(index)
			}
			m.WriteString("SELECT * FROM (SELECT id, " + col.Expr + " AS k FROM " + table + hint + " WHERE " + p.cond + tailRest + tail + ") AS b" + strconv.Itoa(i))
			args = append(append(append(args, p.args...), restArgs...), limit+1)
		}
		m.WriteString(") AS m ORDER BY k " + dir + ", id " + dir + " LIMIT ?")
		args = append(args, limit+1)
		// The page's rows by primary key (PostgreSQL: = ANY (ARRAY(…)),
		// which it never answers by scanning the table).
		b.WriteString(" WHERE " + d.InSelect("id", m.String()))
	} else {
		conds, cargs := w.all()
		if seek != "" {
			conds = append(slices.Clip(conds), seek)
			cargs = append(slices.Clip(cargs), seekArgs...)
		}
		if len(conds) > 0 {
			b.WriteString(" WHERE " + strings.Join(conds, " AND "))
		}
		args = cargs
	}
	b.WriteString(tail)
	return &listSQL{text: b.String(), args: append(args, limit+1), sort: name, limit: limit}, nil
}

// runList runs a list query, scanning each row with scan (which receives the
// sort key as its extra destination), and returns at most l.limit items and
// the next page's cursor.
func runList[T any](ctx context.Context, c Conn, l *listSQL, what string,
	scan func(sc Row, extra ...any) (T, error), id func(T) int64) ([]T, string, error) {
	if trace, ok := ctx.Value(traceKey{}).(func(string, []any)); ok {
		trace(l.text, l.args)
	}
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

type traceKey struct{}

// WithListTrace returns a context under which every list statement is
// passed to trace (with ? placeholders) before it runs: the tests of query
// plans explain what the store really ran.
func WithListTrace(ctx context.Context, trace func(query string, args []any)) context.Context {
	return context.WithValue(ctx, traceKey{}, trace)
}
