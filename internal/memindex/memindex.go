// Package memindex sorts and searches records by values the store holds
// only encrypted (ENC-4). With field encryption on, the database keeps a
// contact's names and email as ciphertexts: it can neither order by them
// nor match a prefix of them. Each instance of Custos therefore keeps, per
// entity, an index in memory of every record's decrypted sort keys and
// search terms, with what scopes and filters need (owner, team, assignee,
// company, tags, deletion); the store keeps it current (a change sequence,
// docs/encryption.md). A list page is answered here as ids in order; the
// rows are then read by id.
//
// A page costs the same whatever the caller's scope (PRF-3): as the SQL
// lists do (sqlstore's merge), a scope is a union of parts — the owner's
// records, each team's, the tasks assigned to the owner, the records
// shared with them — and each part has its own ordered tree per sort, so a
// page is the first limit+1 entries after the cursor of each part's tree,
// merged. A search of a prefix takes the matching records from the terms
// index when they are few, and otherwise walks the parts' order testing
// each record, which then finds a page quickly because matches are many.
//
// What memory holds is plaintext: the index lives in the server's process
// only, is never written to disk, and is rebuilt from the store at start.
package memindex

import (
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"
)

// Rec is one record as the index holds it.
type Rec struct {
	ID       int64
	Owner    int64
	Team     int64 // 0: none
	Assignee int64 // tasks; 0: none
	Company  int64 // 0: none
	Tags     []string
	Deleted  bool
	// Keys are the record's sort keys, in the order of Schema.Sorts; a
	// key compares as a string (timestamps and numbers are encoded so that
	// their strings order as they do, by the caller).
	Keys []string
	// Terms are the normalised search terms (words of names, an email, a
	// phone's digits) a prefix of which finds the record.
	Terms []string
}

// Schema says which sort keys an index holds and which of them have
// ordered trees (the others order only the few records a filter or search
// leaves).
type Schema struct {
	Sorts []string // the sort fields, in the order of Rec.Keys
	Trees []string // those served by ordered trees
}

// Index is one entity's index. It is safe for concurrent use.
type Index struct {
	schema Schema
	tree   map[int]bool // sort index → has trees

	mu       sync.RWMutex
	recs     map[int64]*Rec
	all      []*btree.BTreeG[*Rec]           // per sort: live records
	gone     []*btree.BTreeG[*Rec]           // per sort: deleted records
	owner    []map[int64]*btree.BTreeG[*Rec] // per sort, per owner: live
	team     []map[int64]*btree.BTreeG[*Rec]
	assignee []map[int64]*btree.BTreeG[*Rec]
	company  map[int64]map[int64]*Rec
	tag      map[string]map[int64]*Rec
	terms    *btree.BTreeG[term]
}

// term is one entry of the terms index.
type term struct {
	text string
	rec  *Rec
}

func lessTerm(a, b term) bool {
	if a.text != b.text {
		return a.text < b.text
	}
	return a.rec.ID < b.rec.ID
}

const degree = 32

// New returns an empty index of schema.
func New(schema Schema) *Index {
	x := &Index{schema: schema, tree: map[int]bool{}, recs: map[int64]*Rec{},
		company: map[int64]map[int64]*Rec{}, tag: map[string]map[int64]*Rec{}, terms: btree.NewG(degree, lessTerm)}
	n := len(schema.Sorts)
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

// sortIndex is the position of sort field name, -1 if unknown.
func (x *Index) sortIndex(name string) int { return slices.Index(x.schema.Sorts, name) }

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

// Put adds r, or replaces the record of its id.
func (x *Index) Put(r Rec) {
	if len(r.Keys) != len(x.schema.Sorts) {
		panic("memindex: a record's keys do not match the schema")
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
	if r.Company != 0 {
		if x.company[r.Company] == nil {
			x.company[r.Company] = map[int64]*Rec{}
		}
		x.company[r.Company][r.ID] = r
	}
	for _, t := range r.Tags {
		if x.tag[t] == nil {
			x.tag[t] = map[int64]*Rec{}
		}
		x.tag[t][r.ID] = r
	}
	for _, t := range r.Terms {
		if t != "" {
			x.terms.ReplaceOrInsert(term{t, r})
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
	if m := x.company[r.Company]; m != nil {
		delete(m, r.ID)
		if len(m) == 0 {
			delete(x.company, r.Company)
		}
	}
	for _, t := range r.Tags {
		if m := x.tag[t]; m != nil {
			delete(m, r.ID)
			if len(m) == 0 {
				delete(x.tag, t)
			}
		}
	}
	for _, t := range r.Terms {
		x.terms.Delete(term{t, r})
	}
}

// hasPrefix reports whether a term of r starts with p.
func hasPrefix(r *Rec, p string) bool {
	for _, t := range r.Terms {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
