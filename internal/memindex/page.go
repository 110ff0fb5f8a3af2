package memindex

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/btree"
)

// Scope is what a caller may see, as the index tests it: everything, or
// the records of an owner, of teams, assigned to the owner (tasks), and
// the records shared with the caller (the store names them: shares and
// their expiry live there).
type Scope struct {
	All      bool
	Owner    int64
	Teams    []int64
	Assignee bool
	Shared   []int64
}

// Cursor is the position after a page's last record.
type Cursor struct {
	Key string
	ID  int64
}

// Word is one word of a search: a record matches when a term of a field
// the search may look at starts with Text or, when Attr is an attribute's
// position, when the record's value of it is one of In (a contact whose
// company's name matches). Attr is -1 when unused.
type Word struct {
	Text string
	Attr int
	In   []int64
}

// Eq is an attribute filter: the attribute at position Attr equals Value.
type Eq struct {
	Attr  int
	Value int64
}

// Query is the request of one page.
type Query struct {
	Sort  string
	Desc  bool
	After *Cursor
	Limit int
	// Words must each match the record (AND).
	Words []Word
	// Skip are the fields the words must not match: those the caller may
	// not read (ACL-3).
	Skip []uint8
	// Exact are terms the record must hold as they are (an email filter).
	Exact   []Term
	Deleted bool // the deleted records (the bin) instead of the live ones
	Owner   int64
	Eq      []Eq
	IDs     []int64 // only these records, when not nil
	Tag     string
}

// Hit is one record of a page: its id and its sort key.
type Hit struct {
	ID  int64
	Key string
}

// smallSet is the number of candidates below which a page is made by
// filtering and sorting them rather than by walking ordered trees.
const smallSet = 2048

// walkBudget bounds the records a page's walk of the trees tests before
// it falls back to ordering every candidate.
const walkBudget = 4 * smallSet

// match is a query made ready to test records.
type match struct {
	q      Query
	sort   int
	shared map[int64]bool
	ids    map[int64]bool
	in     []map[int64]bool // per word: the attribute values that match
}

// Page returns up to q.Limit records in scope s matching q, in the order
// of q.Sort after q.After, and whether more follow.
func (x *Index) Page(s Scope, q Query) ([]Hit, bool, error) {
	m := match{q: q, sort: x.Sort(q.Sort), shared: set(s.Shared)}
	if m.sort < 0 {
		return nil, false, fmt.Errorf("memindex: no sort %q", q.Sort)
	}
	if q.Limit <= 0 {
		return nil, false, fmt.Errorf("memindex: a page needs a limit")
	}
	for _, e := range q.Eq {
		if e.Attr < 0 || e.Attr >= len(x.schema.Attrs) {
			return nil, false, fmt.Errorf("memindex: no attribute %d", e.Attr)
		}
	}
	for _, w := range q.Words {
		if w.Attr >= len(x.schema.Attrs) {
			return nil, false, fmt.Errorf("memindex: no attribute %d", w.Attr)
		}
		m.in = append(m.in, set(w.In))
	}
	if q.IDs != nil {
		m.ids = set(q.IDs)
	}
	keep := func(r *Rec) bool { return m.keeps(r) && s.holds(r, m.shared) }
	x.mu.RLock()
	defer x.mu.RUnlock()
	if c := x.candidates(&m, smallSet); c != nil || !x.tree[m.sort] {
		if c == nil {
			c = values(x.recs)
		}
		return pageOf(c, keep, m.sort, q)
	}
	hits, complete := x.walk(s, q, m.sort, keep)
	if !complete {
		// Matches are too rare for the walk to find a page within its
		// budget: order every candidate instead.
		c := x.candidates(&m, -1)
		if c == nil {
			c = values(x.recs)
		}
		return pageOf(c, keep, m.sort, q)
	}
	if len(hits) > q.Limit {
		return hits[:q.Limit], true, nil
	}
	return hits, false, nil
}

func set(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// keeps reports whether r matches the query's filters and words.
func (m *match) keeps(r *Rec) bool {
	q := &m.q
	switch {
	case r.Deleted != q.Deleted,
		q.Owner != 0 && r.Owner != q.Owner,
		m.ids != nil && !m.ids[r.ID],
		q.Tag != "" && !slices.Contains(r.Tags, q.Tag):
		return false
	}
	for _, e := range q.Eq {
		if r.Attrs[e.Attr] != e.Value {
			return false
		}
	}
	for _, t := range q.Exact {
		if !slices.Contains(r.Terms, t) {
			return false
		}
	}
	for i, w := range q.Words {
		if !hasPrefix(r, w.Text, q.Skip) && (w.Attr < 0 || !m.in[i][r.Attrs[w.Attr]]) {
			return false
		}
	}
	return true
}

// hasPrefix reports whether a term of r outside the fields skip starts
// with p.
func hasPrefix(r *Rec, p string, skip []uint8) bool {
	for _, t := range r.Terms {
		if strings.HasPrefix(t.Text, p) && !slices.Contains(skip, t.Field) {
			return true
		}
	}
	return false
}

// holds reports whether r is in s (shared: the ids of s.Shared).
func (s Scope) holds(r *Rec, shared map[int64]bool) bool {
	switch {
	case s.All:
		return true
	case s.Owner == 0:
		return false
	case r.Owner == s.Owner, s.Assignee && r.Assignee == s.Owner, shared[r.ID]:
		return true
	}
	return r.Team != 0 && slices.Contains(s.Teams, r.Team)
}

// candidates returns the smallest set of records known to hold every
// record the query can return — the listed ids, an attribute's or a tag's
// records, an exact term's, a word's matches — provided it has at most
// max records (max < 0: any size); nil when there is none. x.mu is held.
func (x *Index) candidates(m *match, max int) []*Rec {
	var best []*Rec
	found := false
	consider := func(c []*Rec, ok bool) {
		if ok && (max < 0 || len(c) <= max) && (!found || len(c) < len(best)) {
			best, found = c, true
		}
	}
	q := &m.q
	if q.IDs != nil {
		var c []*Rec
		for id := range m.ids {
			if r := x.recs[id]; r != nil {
				c = append(c, r)
			}
		}
		consider(c, true)
	}
	for _, e := range q.Eq {
		if x.lookup[e.Attr] {
			consider(values(x.byAttr[e.Attr][e.Value]), true)
		}
	}
	for _, t := range q.Exact {
		consider(x.termSet(t.Text, true, nil, -1), true)
	}
	if q.Tag != "" {
		consider(values(x.tag[q.Tag]), true)
	}
	for i, w := range q.Words {
		limit := max
		if found && (limit < 0 || len(best) < limit) {
			limit = len(best) // a larger set would not be taken
		}
		c := x.termSet(w.Text, false, q.Skip, limit)
		if c == nil {
			continue
		}
		if w.Attr >= 0 && x.lookup[w.Attr] {
			seen := set(ids(c))
			for v := range m.in[i] {
				for _, r := range x.byAttr[w.Attr][v] {
					if !seen[r.ID] {
						seen[r.ID] = true
						c = append(c, r)
					}
				}
			}
		} else if w.Attr >= 0 && len(m.in[i]) > 0 {
			continue // no map to find the attribute's records by
		}
		consider(c, true)
	}
	if !found {
		return nil
	}
	if best == nil {
		best = []*Rec{}
	}
	return best
}

func ids(recs []*Rec) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func values(m map[int64]*Rec) []*Rec {
	out := make([]*Rec, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

// termSet returns the records with a term equal to p (exact) or starting
// with it, outside the fields skip, each once; nil when there are more
// than max (max < 0: no bound). x.mu is held.
func (x *Index) termSet(p string, exact bool, skip []uint8, max int) []*Rec {
	seen := map[int64]bool{}
	out := []*Rec{}
	over := false
	x.terms.AscendGreaterOrEqual(termRef{text: p, rec: &Rec{}}, func(t termRef) bool {
		if exact && t.text != p || !strings.HasPrefix(t.text, p) {
			return false
		}
		if seen[t.rec.ID] || len(skip) > 0 && !hasPrefix(t.rec, p, skip) {
			return true
		}
		seen[t.rec.ID] = true
		out = append(out, t.rec)
		if max >= 0 && len(out) > max {
			over = true
			return false
		}
		return true
	})
	if over {
		return nil
	}
	return out
}

// before reports whether a comes before b in the order of sort i and dir.
func before(a, b *Rec, i int, desc bool) bool {
	if a.Keys[i] != b.Keys[i] {
		return (a.Keys[i] < b.Keys[i]) != desc
	}
	return (a.ID < b.ID) != desc
}

func sortRecs(recs []*Rec, i int, desc bool) {
	slices.SortFunc(recs, func(a, b *Rec) int {
		if before(a, b, i, desc) {
			return -1
		}
		return 1
	})
}

// afterCursor reports whether r comes after the cursor c.
func afterCursor(r *Rec, c *Cursor, i int, desc bool) bool {
	if c == nil {
		return true
	}
	if r.Keys[i] != c.Key {
		return (r.Keys[i] > c.Key) != desc
	}
	return r.ID != c.ID && (r.ID > c.ID) != desc
}

// pageOf filters set, orders it and returns the page after the cursor.
func pageOf(set []*Rec, keep func(*Rec) bool, i int, q Query) ([]Hit, bool, error) {
	var out []*Rec
	for _, r := range set {
		if keep(r) && afterCursor(r, q.After, i, q.Desc) {
			out = append(out, r)
		}
	}
	sortRecs(out, i, q.Desc)
	more := len(out) > q.Limit
	return hits(out[:min(len(out), q.Limit)], i), more, nil
}

func hits(recs []*Rec, i int) []Hit {
	out := make([]Hit, len(recs))
	for j, r := range recs {
		out[j] = Hit{ID: r.ID, Key: r.Keys[i]}
	}
	return out
}

// walk merges the first limit+1 matches after the cursor of each part of
// the scope's trees, and reports whether it saw enough of them (false
// when it stopped at its budget first). x.mu is held.
func (x *Index) walk(s Scope, q Query, i int, keep func(*Rec) bool) ([]Hit, bool) {
	var parts []*btree.BTreeG[*Rec]
	var extra []*Rec // the shared records, not in a part's tree
	switch {
	case q.Deleted:
		parts = append(parts, x.gone[i])
	case q.Owner != 0:
		parts = append(parts, x.owner[i][q.Owner])
	case s.All:
		parts = append(parts, x.all[i])
	default:
		parts = append(parts, x.owner[i][s.Owner])
		for _, t := range s.Teams {
			parts = append(parts, x.team[i][t])
		}
		if s.Assignee {
			parts = append(parts, x.assignee[i][s.Owner])
		}
		for _, id := range s.Shared {
			if r := x.recs[id]; r != nil {
				extra = append(extra, r)
			}
		}
	}
	want := q.Limit + 1
	budget := walkBudget
	seen := map[int64]bool{}
	var found []*Rec
	for _, t := range parts {
		if t == nil {
			continue
		}
		n := 0
		visit := func(r *Rec) bool {
			if budget--; budget < 0 {
				return false
			}
			if !keep(r) {
				return true
			}
			if !seen[r.ID] {
				seen[r.ID] = true
				found = append(found, r)
			}
			n++
			return n < want
		}
		pivot := &Rec{Keys: make([]string, len(x.schema.Sorts))}
		switch {
		case q.After == nil && !q.Desc:
			t.Ascend(visit)
		case q.After == nil:
			t.Descend(visit)
		case !q.Desc:
			pivot.Keys[i], pivot.ID = q.After.Key, q.After.ID
			t.AscendGreaterOrEqual(pivot, func(r *Rec) bool { return r.ID == q.After.ID && r.Keys[i] == q.After.Key || visit(r) })
		default:
			pivot.Keys[i], pivot.ID = q.After.Key, q.After.ID
			t.DescendLessOrEqual(pivot, func(r *Rec) bool { return r.ID == q.After.ID && r.Keys[i] == q.After.Key || visit(r) })
		}
		if budget < 0 {
			return nil, false
		}
	}
	for _, r := range extra {
		if keep(r) && afterCursor(r, q.After, i, q.Desc) && !seen[r.ID] {
			seen[r.ID] = true
			found = append(found, r)
		}
	}
	sortRecs(found, i, q.Desc)
	return hits(found[:min(len(found), want)], i), true
}
