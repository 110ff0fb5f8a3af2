package memindex

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/btree"
)

// Scope is what a caller may see, as the index tests it: everything, or
// the records of an owner, of teams, assigned to the owner (tasks), and
// the live records shared with the caller (the store names them: shares
// and their expiry live there).
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

// Query is the request of one page.
type Query struct {
	Sort    string
	Desc    bool
	After   *Cursor
	Limit   int
	Prefix  string // a normalised search prefix; "" for none
	Deleted bool   // the deleted records (the bin) instead of the live ones
	Owner   int64  // only this owner's records
	Company int64  // only this company's
	Tag     string // only those with this tag
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
// it falls back to the candidates of its search.
const walkBudget = 4 * smallSet

// Page returns the ids of up to q.Limit records in scope s matching q, in
// the order of q.Sort after q.After, and whether more follow.
func (x *Index) Page(s Scope, q Query) ([]Hit, bool, error) {
	i := x.sortIndex(q.Sort)
	if i < 0 {
		return nil, false, fmt.Errorf("memindex: no sort %q", q.Sort)
	}
	if q.Limit <= 0 {
		return nil, false, fmt.Errorf("memindex: a page needs a limit")
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	shared := map[int64]bool{}
	for _, id := range s.Shared {
		shared[id] = true
	}
	keep := func(r *Rec) bool {
		switch {
		case r.Deleted != q.Deleted,
			q.Owner != 0 && r.Owner != q.Owner,
			q.Company != 0 && r.Company != q.Company,
			q.Tag != "" && !slices.Contains(r.Tags, q.Tag),
			q.Prefix != "" && !hasPrefix(r, q.Prefix):
			return false
		}
		return s.holds(r, shared)
	}
	if set := x.candidates(q, i); set != nil {
		return x.pageOf(set, keep, i, q), more(set, keep, i, q), nil
	}
	hits, complete := x.walk(s, q, i, keep)
	if !complete {
		// The walk met too few matches within its budget: the matches are
		// rare, so take every candidate and order those.
		set := x.fallback(q)
		return x.pageOf(set, keep, i, q), more(set, keep, i, q), nil
	}
	if len(hits) > q.Limit {
		return hits[:q.Limit], true, nil
	}
	return hits, false, nil
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

// candidates returns a small set that holds every record the query can
// return, or nil when there is none and the trees must be walked: the
// company's records, the matches of a prefix or the records of a tag when
// they are few, or all records for a sort without trees. x.mu is held.
func (x *Index) candidates(q Query, i int) []*Rec {
	switch {
	case q.Company != 0:
		return values(x.company[q.Company])
	case q.Prefix != "":
		if set := x.prefixSet(q.Prefix, smallSet); set != nil {
			return set
		}
	}
	if q.Tag != "" && len(x.tag[q.Tag]) <= smallSet {
		return values(x.tag[q.Tag])
	}
	if !x.tree[i] {
		return values(x.recs)
	}
	return nil
}

// fallback returns every candidate of q, however many: a prefix's
// matches, a tag's records, or every record. x.mu is held.
func (x *Index) fallback(q Query) []*Rec {
	switch {
	case q.Prefix != "":
		return x.prefixSet(q.Prefix, -1)
	case q.Tag != "":
		return values(x.tag[q.Tag])
	}
	return values(x.recs)
}

func values(m map[int64]*Rec) []*Rec {
	out := make([]*Rec, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

// prefixSet returns the records with a term starting with p, each once,
// or nil when there are more than max (max < 0: no bound). x.mu is held.
func (x *Index) prefixSet(p string, max int) []*Rec {
	seen := map[int64]bool{}
	out := []*Rec{}
	over := false
	x.terms.AscendGreaterOrEqual(term{text: p, rec: &Rec{}}, func(t term) bool {
		if !strings.HasPrefix(t.text, p) {
			return false
		}
		if !seen[t.rec.ID] {
			seen[t.rec.ID] = true
			out = append(out, t.rec)
			if max >= 0 && len(out) > max {
				over = true
				return false
			}
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

// pageOf filters set, sorts it and returns the page after the cursor.
func (x *Index) pageOf(set []*Rec, keep func(*Rec) bool, i int, q Query) []Hit {
	var out []*Rec
	for _, r := range set {
		if keep(r) && afterCursor(r, q.After, i, q.Desc) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Rec) int {
		if before(a, b, i, q.Desc) {
			return -1
		}
		return 1
	})
	return hits(out[:min(len(out), q.Limit)], i)
}

// more reports whether set holds more than a page after the cursor.
func more(set []*Rec, keep func(*Rec) bool, i int, q Query) bool {
	n := 0
	for _, r := range set {
		if keep(r) && afterCursor(r, q.After, i, q.Desc) {
			if n++; n > q.Limit {
				return true
			}
		}
	}
	return false
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
	complete := true
	for _, t := range parts {
		if t == nil {
			continue
		}
		n := 0
		visit := func(r *Rec) bool {
			if budget--; budget < 0 {
				complete = false
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
		pivot := &Rec{ID: 0, Keys: make([]string, len(x.schema.Sorts))}
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
		if !complete {
			return nil, false
		}
	}
	for _, r := range extra {
		if keep(r) && afterCursor(r, q.After, i, q.Desc) && !seen[r.ID] {
			seen[r.ID] = true
			found = append(found, r)
		}
	}
	slices.SortFunc(found, func(a, b *Rec) int {
		if before(a, b, i, q.Desc) {
			return -1
		}
		return 1
	})
	return hits(found[:min(len(found), want)], i), true
}
