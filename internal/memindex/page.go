package memindex

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
)

// Scope is what a caller may see, as the index tests it: everything, or
// the records of an owner, of teams, assigned to the owner (tasks), and
// the records shared with the owner or one of ShareTeams by a share
// unexpired at Now (Unix microseconds; with ShareWrite, a share that
// allows changes), as crm.Scope says.
type Scope struct {
	All        bool
	Owner      int64
	Teams      []int64
	Assignee   bool
	Shared     bool
	ShareTeams []int64
	ShareWrite bool
	Now        int64
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
	q     Query
	scope Scope
	sort  int
	ids   map[int64]bool
	in    []map[int64]bool // per word: the attribute values that match
	piv   slot             // this page's pivot
}

// Page returns up to q.Limit records in scope s matching q, in the order
// of q.Sort after q.After, and whether more follow.
func (x *Index) Page(s Scope, q Query) ([]Hit, bool, error) {
	m := match{q: q, scope: s, sort: x.Sort(q.Sort)}
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
	for _, t := range q.Exact {
		if t.Text == "" {
			return nil, false, fmt.Errorf("memindex: an empty exact term")
		}
	}
	for _, w := range q.Words {
		if w.Attr >= len(x.schema.Attrs) {
			return nil, false, fmt.Errorf("memindex: no attribute %d", w.Attr)
		}
		if w.Text == "" {
			return nil, false, fmt.Errorf("memindex: an empty search word")
		}
		m.in = append(m.in, set(w.In))
	}
	if q.IDs != nil {
		m.ids = set(q.IDs)
	}
	defer x.acquire(&m)()
	keep := func(r slot) bool { return x.keeps(&m, r) && x.holds(s, r) }
	if c := x.candidates(&m, smallSet); c != nil || !x.tree[m.sort] {
		if c == nil {
			c = x.every()
		}
		return x.pageOf(c, keep, m.sort, q)
	}
	hits, complete := x.walk(s, &m, keep)
	if !complete {
		// Matches are too rare for the walk to find a page within its
		// budget: order every candidate instead.
		c := x.candidates(&m, -1)
		if c == nil {
			c = x.every()
		}
		return x.pageOf(c, keep, m.sort, q)
	}
	if len(hits) > q.Limit {
		return hits[:q.Limit], true, nil
	}
	return hits, false, nil
}

// acquire takes a pivot slot for m and the read lock, and returns what
// gives them back. With every pivot in use it takes the write lock and the
// spare pivot instead: the page then runs alone rather than wait for a
// slot.
func (x *Index) acquire(m *match) (release func()) {
	select {
	case m.piv = <-x.pivots:
		x.mu.RLock()
		return func() { x.mu.RUnlock(); x.pivots <- m.piv }
	default:
		x.mu.Lock()
		m.piv = spareSlot
		return x.mu.Unlock
	}
}

func set(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// keeps reports whether the record in slot r matches the query's filters
// and words. x.mu is held.
func (x *Index) keeps(m *match, r slot) bool {
	q, e := &m.q, &x.recs[r]
	switch {
	case e.deleted != q.Deleted,
		q.Owner != 0 && e.owner != q.Owner,
		m.ids != nil && !m.ids[e.id],
		q.Tag != "" && !x.hasTag(e.data, q.Tag):
		return false
	}
	for _, eq := range q.Eq {
		if x.attr(e.data, eq.Attr) != eq.Value {
			return false
		}
	}
	for _, t := range q.Exact {
		if !x.hasTerm(e.data, t) {
			return false
		}
	}
	for i, w := range q.Words {
		if !x.hasPrefix(e.data, w.Text, q.Skip) && (w.Attr < 0 || !m.in[i][x.attr(e.data, w.Attr)]) {
			return false
		}
	}
	return true
}

// hasTerm reports whether the record's data holds the term t.
func (x *Index) hasTerm(data []byte, t Term) bool {
	found := false
	x.eachTerm(data, func(f uint8, text []byte, _ uint32) bool {
		found = f == t.Field && string(text) == t.Text
		return !found
	})
	return found
}

// hasPrefix reports whether a term of the record's data outside the
// fields skip starts with p.
func (x *Index) hasPrefix(data []byte, p string, skip []uint8) bool {
	found := false
	x.eachTerm(data, func(f uint8, text []byte, _ uint32) bool {
		found = len(text) >= len(p) && string(text[:len(p)]) == p && !slices.Contains(skip, f)
		return !found
	})
	return found
}

// holds reports whether the record in slot r is in s. x.mu is held.
func (x *Index) holds(s Scope, r slot) bool {
	e := &x.recs[r]
	switch {
	case s.All:
		return true
	case s.Owner == 0:
		return false
	case e.owner == s.Owner, s.Assignee && e.assignee == s.Owner,
		e.team != 0 && slices.Contains(s.Teams, e.team):
		return true
	}
	return s.Shared && x.sharedWith(s, e.id)
}

// sharedWith reports whether a share of the record id lets s see it (or,
// with s.ShareWrite, change it) at s.Now. x.mu is held.
func (x *Index) sharedWith(s Scope, id int64) bool {
	for _, sid := range x.grants[id] {
		sh := x.shares[sid]
		if (sh.User == s.Owner || sh.Team != 0 && slices.Contains(s.ShareTeams, sh.Team)) &&
			(sh.Expires == 0 || sh.Expires > s.Now) && (!s.ShareWrite || sh.Write) {
			return true
		}
	}
	return false
}

// candidates returns the smallest set of records known to hold every
// record the query can return — the listed ids, an attribute's or a tag's
// records, an exact term's, a word's matches — provided it has at most
// max records (max < 0: any size); nil when there is none. x.mu is held.
func (x *Index) candidates(m *match, max int) []slot {
	var best []slot
	found := false
	consider := func(c []slot, ok bool) {
		if ok && (max < 0 || len(c) <= max) && (!found || len(c) < len(best)) {
			best, found = c, true
		}
	}
	q := &m.q
	if q.IDs != nil {
		var c []slot
		for id := range m.ids {
			if r, ok := x.slots[id]; ok {
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
		consider(x.termSet(m, t.Text, true, -1), true)
	}
	if q.Tag != "" {
		consider(values(x.tag[q.Tag]), true)
	}
	for i, w := range q.Words {
		limit := max
		if found && (limit < 0 || len(best) < limit) {
			limit = len(best) // a larger set would not be taken
		}
		c := x.termSet(m, w.Text, false, limit)
		if c == nil {
			continue
		}
		if w.Attr >= 0 && x.lookup[w.Attr] {
			seen := make(map[slot]bool, len(c))
			for _, r := range c {
				seen[r] = true
			}
			for v := range m.in[i] {
				for r := range x.byAttr[w.Attr][v] {
					if !seen[r] {
						seen[r] = true
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
		best = []slot{}
	}
	return best
}

func values(m map[slot]struct{}) []slot {
	out := make([]slot, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	return out
}

// every returns the slots of every record. x.mu is held.
func (x *Index) every() []slot {
	out := make([]slot, 0, len(x.slots))
	for _, r := range x.slots {
		out = append(out, r)
	}
	return out
}

// termSet returns the records in the query's scope with a term equal to
// p (exact) or starting with it, outside the fields the query skips, each
// once; nil when there are more than max (max < 0: no bound), or when it
// has passed walkBudget terms without knowing (the terms outside the
// scope count too: a caller who sees few records must not make it walk
// every match of the organisation; the walk of their own trees is then
// the cheaper way). x.mu is held (read).
func (x *Index) termSet(m *match, p string, exact bool, max int) []slot {
	skip := m.q.Skip
	x.recs[m.piv] = entry{data: x.encode(&Rec{Keys: make([]string, len(x.schema.Sorts)),
		Attrs: make([]int64, len(x.schema.Attrs)), Terms: []Term{{Text: p}}})}
	var off uint32
	x.eachTerm(x.recs[m.piv].data, func(_ uint8, _ []byte, o uint32) bool { off = o; return false })
	out := []slot{}
	over := false
	// A record with several terms starting with p is passed as many
	// times: the slots are made distinct when they seem too many, and at
	// the end.
	distinct := func() {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	// A prefix of up to eight bytes matches on the entries' heads alone,
	// an exact term of under eight bytes too (a zero byte ends it).
	head := headOf(p)
	prefixByHead, exactByHead := len(p) <= 8, len(p) < 8
	mask := ^uint64(0)
	if prefixByHead {
		mask <<= 8 * (8 - len(p))
	}
	passed := 0
	x.terms.AscendGreaterOrEqual(termRef{head, m.piv, off}, func(t termRef) bool {
		if t.head&mask != head || exact && exactByHead && t.head != head {
			return false
		}
		var data []byte
		if exact && !exactByHead || !exact && !prefixByHead {
			data = x.recs[t.slot].data
			text := termAt(data, t.off)
			if exact && string(text) != p || len(text) < len(p) || string(text[:len(p)]) != p {
				return false
			}
		}
		if passed++; max >= 0 && passed > walkBudget {
			over = true
			return false
		}
		if !x.holds(m.scope, t.slot) {
			return true
		}
		if len(skip) > 0 {
			if data == nil {
				data = x.recs[t.slot].data
			}
			if !x.hasPrefix(data, p, skip) {
				return true
			}
		}
		out = append(out, t.slot)
		if max >= 0 && len(out) > max {
			if distinct(); len(out) > max {
				over = true
				return false
			}
		}
		return true
	})
	if over {
		return nil
	}
	distinct()
	return out
}

// afterCursor reports whether the record in slot r comes after the cursor
// c in the order of sort i and direction desc.
func (x *Index) afterCursor(r slot, c *Cursor, i int, desc bool) bool {
	if c == nil {
		return true
	}
	k, id := string(x.key(r, i)), x.recs[r].id
	if k != c.Key {
		return (k > c.Key) != desc
	}
	return id != c.ID && (id > c.ID) != desc
}

func (x *Index) sortSlots(recs []slot, i int, desc bool) {
	slices.SortFunc(recs, func(a, b slot) int {
		if x.before(a, b, i, desc) {
			return -1
		}
		return 1
	})
}

// pageOf filters set, orders it and returns the page after the cursor.
// Each record's key is decoded once, before the sort.
func (x *Index) pageOf(set []slot, keep func(slot) bool, i int, q Query) ([]Hit, bool, error) {
	type keyed struct {
		key []byte
		id  int64
	}
	var out []keyed
	for _, r := range set {
		if keep(r) && x.afterCursor(r, q.After, i, q.Desc) {
			out = append(out, keyed{x.key(r, i), x.recs[r].id})
		}
	}
	slices.SortFunc(out, func(a, b keyed) int {
		c := bytes.Compare(a.key, b.key)
		if c == 0 {
			c = cmp.Compare(a.id, b.id)
		}
		if q.Desc {
			return -c
		}
		return c
	})
	more := len(out) > q.Limit
	hits := make([]Hit, min(len(out), q.Limit))
	for j := range hits {
		hits[j] = Hit{ID: out[j].id, Key: string(out[j].key)}
	}
	return hits, more, nil
}

func (x *Index) hits(recs []slot, i int) []Hit {
	out := make([]Hit, len(recs))
	for j, r := range recs {
		out[j] = Hit{ID: x.recs[r].id, Key: string(x.key(r, i))}
	}
	return out
}

// walk merges the first limit+1 matches after the cursor of each part of
// the scope's trees, and reports whether it saw enough of them (false
// when it stopped at its budget first). x.mu is held (read).
func (x *Index) walk(s Scope, m *match, keep func(slot) bool) ([]Hit, bool) {
	q, i := &m.q, m.sort
	var parts []tree
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
		if s.Shared {
			parts = append(parts, x.shareUser[i][s.Owner])
			for _, t := range s.ShareTeams {
				parts = append(parts, x.shareTeam[i][t])
			}
		}
	}
	if q.After != nil {
		keys := make([]string, len(x.schema.Sorts))
		keys[i] = q.After.Key
		x.recs[m.piv] = entry{id: q.After.ID, data: x.encode(&Rec{Keys: keys, Attrs: make([]int64, len(x.schema.Attrs))})}
	}
	atCursor := func(r slot) bool {
		return x.recs[r].id == q.After.ID && string(x.key(r, i)) == q.After.Key
	}
	want := q.Limit + 1
	budget := walkBudget
	seen := map[slot]bool{}
	var found []slot
	for _, t := range parts {
		if t == nil {
			continue
		}
		n := 0
		visit := func(r slot) bool {
			if budget--; budget < 0 {
				return false
			}
			if !keep(r) {
				return true
			}
			if !seen[r] {
				seen[r] = true
				found = append(found, r)
			}
			n++
			return n < want
		}
		switch {
		case q.After == nil && !q.Desc:
			t.Ascend(visit)
		case q.After == nil:
			t.Descend(visit)
		case !q.Desc:
			t.AscendGreaterOrEqual(m.piv, func(r slot) bool { return atCursor(r) || visit(r) })
		default:
			t.DescendLessOrEqual(m.piv, func(r slot) bool { return atCursor(r) || visit(r) })
		}
		if budget < 0 {
			return nil, false
		}
	}
	x.sortSlots(found, i, q.Desc)
	return x.hits(found[:min(len(found), want)], i), true
}
