// Package memindex sorts and searches records by values the store holds
// only encrypted (ENC-4). With field encryption, the database keeps a
// contact's names and email as ciphertexts: it can neither order by them
// nor match a prefix of them. Each instance of Custos therefore keeps, per
// entity, an index in memory of every record's decrypted sort keys and
// search terms, with what scopes and filters need (owner, team, assignee,
// links, tags, deletion); the service keeps it current from the store's
// change sequence (docs/encryption.md). A list page is answered here as
// ids in order; the rows are then read by id, in scope, from the store.
//
// A page costs the same whatever the caller's scope (PRF-3): as the SQL
// lists do (sqlstore's merge), a scope is a union of parts — the owner's
// records, each team's, the tasks assigned to the owner, the records
// shared with them — and each part has its own ordered tree per sort, so a
// page is the first limit+1 entries after the cursor of each part's tree,
// merged. A search takes the matching records from the terms index when
// they are few, and otherwise walks the parts' order testing each record,
// which then finds a page quickly because matches are many.
//
// What memory holds is plaintext: the index lives in the server's process
// only, is never written to disk, and is rebuilt from the store at start.
package memindex

import (
	"slices"
	"sync"

	"github.com/google/btree"
)

// Term is one search term of a record: a normalised word of a field (a
// word of a name, an email, a phone's digits). Field is the position of
// the field in Schema.Fields, so that a search can leave out the fields a
// caller may not read.
type Term struct {
	Field uint8
	Text  string
}

// Rec is one record as the index holds it.
type Rec struct {
	ID       int64
	Owner    int64
	Team     int64 // 0: none
	Assignee int64 // tasks; 0: none
	Deleted  bool
	// Attrs are the values of the record's filter attributes (a company
	// id, a stage id, a status code), in the order of Schema.Attrs; 0 is
	// none.
	Attrs []int64
	Tags  []string
	// Keys are the record's sort keys, in the order of Schema.Sorts; a key
	// compares as a string (the caller encodes timestamps and numbers so
	// that their strings order as they do).
	Keys  []string
	Terms []Term
}

// Schema names an index's sort keys, filter attributes and search fields.
type Schema struct {
	Sorts []string // the sort fields, in the order of Rec.Keys
	// Trees are the sorts served by ordered trees; the others order only
	// the records a filter or search leaves.
	Trees []string
	Attrs []string // the filter attributes, in the order of Rec.Attrs
	// Lookup are the attributes whose records are found by value (a
	// company's contacts), so that a filter on them is a small set.
	Lookup []string
	Fields []string // the search fields a Term.Field names
}

// Index is one entity's index. It is safe for concurrent use.
type Index struct {
	schema Schema
	tree   []bool // per sort: has trees
	lookup []bool // per attribute: has a map

	mu       sync.RWMutex
	recs     map[int64]*Rec
	all      []*btree.BTreeG[*Rec]           // per sort: live records
	gone     []*btree.BTreeG[*Rec]           // per sort: deleted records
	owner    []map[int64]*btree.BTreeG[*Rec] // per sort, per owner: live
	team     []map[int64]*btree.BTreeG[*Rec]
	assignee []map[int64]*btree.BTreeG[*Rec]
	byAttr   []map[int64]map[int64]*Rec // per attribute with lookup, per value
	tag      map[string]map[int64]*Rec
	terms    *btree.BTreeG[termRef]
}

// termRef is one entry of the terms index.
type termRef struct {
	text string
	rec  *Rec
}

func lessTerm(a, b termRef) bool {
	if a.text != b.text {
		return a.text < b.text
	}
	return a.rec.ID < b.rec.ID
}

const degree = 32

// New returns an empty index of schema.
func New(schema Schema) *Index {
	x := &Index{schema: schema, recs: map[int64]*Rec{}, tag: map[string]map[int64]*Rec{}, terms: btree.NewG(degree, lessTerm)}
	n := len(schema.Sorts)
	x.tree = make([]bool, n)
	x.all, x.gone = make([]*btree.BTreeG[*Rec], n), make([]*btree.BTreeG[*Rec], n)
	x.owner, x.team, x.assignee = make([]map[int64]*btree.BTreeG[*Rec], n), make([]map[int64]*btree.BTreeG[*Rec], n), make([]map[int64]*btree.BTreeG[*Rec], n)
	for i, s := range schema.Sorts {
		if !slices.Contains(schema.Trees, s) {
			continue
		}
		x.tree[i] = true
		x.all[i], x.gone[i] = btree.NewG(degree, less(i)), btree.NewG(degree, less(i))
		x.owner[i], x.team[i], x.assignee[i] = map[int64]*btree.BTreeG[*Rec]{}, map[int64]*btree.BTreeG[*Rec]{}, map[int64]*btree.BTreeG[*Rec]{}
	}
	x.lookup = make([]bool, len(schema.Attrs))
	x.byAttr = make([]map[int64]map[int64]*Rec, len(schema.Attrs))
	for i, a := range schema.Attrs {
		if slices.Contains(schema.Lookup, a) {
			x.lookup[i] = true
			x.byAttr[i] = map[int64]map[int64]*Rec{}
		}
	}
	return x
}

// less orders records by sort key i, then id.
func less(i int) btree.LessFunc[*Rec] {
	return func(a, b *Rec) bool {
		if a.Keys[i] != b.Keys[i] {
			return a.Keys[i] < b.Keys[i]
		}
		return a.ID < b.ID
	}
}

// Schema returns the index's schema.
func (x *Index) Schema() Schema { return x.schema }

// Sort returns the position of sort field name, -1 if unknown.
func (x *Index) Sort(name string) int { return slices.Index(x.schema.Sorts, name) }

// Attr returns the position of attribute name, -1 if unknown.
func (x *Index) Attr(name string) int { return slices.Index(x.schema.Attrs, name) }

// Field returns the position of search field name, -1 if unknown.
func (x *Index) Field(name string) int { return slices.Index(x.schema.Fields, name) }

// Len is the number of records held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.recs)
}

// Get returns a copy of the record id.
func (x *Index) Get(id int64) (Rec, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r, ok := x.recs[id]
	if !ok {
		return Rec{}, false
	}
	return *r, true
}

// Put adds r, or replaces the record of its id. It panics on a record
// whose keys or attributes do not match the schema: a programming error.
func (x *Index) Put(r Rec) {
	if len(r.Keys) != len(x.schema.Sorts) || len(r.Attrs) != len(x.schema.Attrs) {
		panic("memindex: a record does not match the schema")
	}
	rec := &r
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.recs[r.ID]; ok {
		x.unlink(old)
	}
	x.recs[r.ID] = rec
	x.link(rec)
}

// Delete removes the record id (a purged or erased one).
func (x *Index) Delete(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.recs[id]; ok {
		x.unlink(old)
		delete(x.recs, id)
	}
}

func treeOf(m map[int64]*btree.BTreeG[*Rec], key int64, i int, create bool) *btree.BTreeG[*Rec] {
	t := m[key]
	if t == nil && create {
		t = btree.NewG(degree, less(i))
		m[key] = t
	}
	return t
}

func addTo[K comparable](m map[K]map[int64]*Rec, k K, r *Rec) {
	if m[k] == nil {
		m[k] = map[int64]*Rec{}
	}
	m[k][r.ID] = r
}

func dropFrom[K comparable](m map[K]map[int64]*Rec, k K, r *Rec) {
	if s := m[k]; s != nil {
		delete(s, r.ID)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// link adds r to every structure. x.mu is held.
func (x *Index) link(r *Rec) {
	for i := range x.schema.Sorts {
		if !x.tree[i] {
			continue
		}
		if r.Deleted {
			x.gone[i].ReplaceOrInsert(r)
			continue
		}
		x.all[i].ReplaceOrInsert(r)
		treeOf(x.owner[i], r.Owner, i, true).ReplaceOrInsert(r)
		if r.Team != 0 {
			treeOf(x.team[i], r.Team, i, true).ReplaceOrInsert(r)
		}
		if r.Assignee != 0 {
			treeOf(x.assignee[i], r.Assignee, i, true).ReplaceOrInsert(r)
		}
	}
	for i, v := range r.Attrs {
		if x.lookup[i] && v != 0 {
			addTo(x.byAttr[i], v, r)
		}
	}
	for _, t := range r.Tags {
		addTo(x.tag, t, r)
	}
	for _, t := range r.Terms {
		if t.Text != "" {
			x.terms.ReplaceOrInsert(termRef{t.Text, r})
		}
	}
}

// unlink removes r from every structure. x.mu is held.
func (x *Index) unlink(r *Rec) {
	drop := func(m map[int64]*btree.BTreeG[*Rec], key int64) {
		if t := m[key]; t != nil {
			t.Delete(r)
			if t.Len() == 0 {
				delete(m, key)
			}
		}
	}
	for i := range x.schema.Sorts {
		if !x.tree[i] {
			continue
		}
		if r.Deleted {
			x.gone[i].Delete(r)
			continue
		}
		x.all[i].Delete(r)
		drop(x.owner[i], r.Owner)
		if r.Team != 0 {
			drop(x.team[i], r.Team)
		}
		if r.Assignee != 0 {
			drop(x.assignee[i], r.Assignee)
		}
	}
	for i, v := range r.Attrs {
		if x.lookup[i] && v != 0 {
			dropFrom(x.byAttr[i], v, r)
		}
	}
	for _, t := range r.Tags {
		dropFrom(x.tag, t, r)
	}
	for _, t := range r.Terms {
		x.terms.Delete(termRef{t.Text, r})
	}
}
