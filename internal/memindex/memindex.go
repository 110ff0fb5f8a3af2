// Package memindex sorts and searches records by values the store holds
// only encrypted (ENC-4). With field encryption, the database keeps a
// contact's names and email as ciphertexts: it can neither order by them
// nor match a prefix of them. Each instance of Custos therefore keeps, per
// entity, an index in memory of every record's decrypted sort keys and
// search terms, with what scopes and filters need (owner, team, assignee,
// shares, links, tags, deletion); the service keeps it current from the
// store's change sequence (docs/encryption.md). A list page is answered
// here as ids in order; the rows are then read by id, in scope, from the
// store.
//
// A page costs the same whatever the caller's scope (PRF-3): as the SQL
// lists do (sqlstore's merge), a scope is a union of parts — the owner's
// records, each team's, the tasks assigned to the owner, the records
// shared with the user and with each of their teams — and each part has
// its own ordered tree per sort, so a page is the first limit+1 entries
// after the cursor of each part's tree, merged. A search takes the
// matching records from the terms index when they are few, and otherwise
// walks the parts' order testing each record, which then finds a page
// quickly because matches are many.
//
// The index holds few pointers, because the garbage collector marks every
// one of them at every cycle, and every request of the process pays for
// it: a record is a fixed-size entry of one slice, its variable data
// (sort keys, terms, attributes, tags) one byte string of its own, and the
// trees and maps hold the entry's position (a slot), not a pointer.
//
// What memory holds is plaintext: the index lives in the server's process
// only, is never written to disk, and is rebuilt from the store at start.
package memindex

import (
	"bytes"
	"encoding/binary"
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

// Rec is one record as the index is given it.
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

// Share is a grant of one record to a user or a team (exactly one of User
// and Team), for reading or also writing, until Expires (Unix
// microseconds; 0: no end). The index keeps the shares of its entity's
// records so that a page finds the records shared with the caller in
// order, as it finds their own (ACL-2).
type Share struct {
	ID     int64
	Record int64
	User   int64
	Team   int64
	Write  bool
	// Expires is when the share ends, in Unix microseconds; 0: never.
	Expires int64
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

// slot is a record's position in Index.recs.
type slot = uint32

// entry is one record as the index holds it; data is its encoded sort
// keys, terms, attributes and tags (see encode), the only pointer.
type entry struct {
	id, owner, team, assignee int64
	deleted                   bool
	data                      []byte
}

// tree is an ordered set of records by one sort key.
type tree = *btree.BTreeG[slot]

// Index is one entity's index. It is safe for concurrent use.
type Index struct {
	schema Schema
	tree   []bool // per sort: has trees
	lookup []bool // per attribute: has a map

	mu       sync.RWMutex
	recs     []entry // by slot; the first pivotSlots+1 are the pivots
	slots    map[int64]slot
	free     []slot
	pivots   chan slot
	all      []tree           // per sort: live records
	gone     []tree           // per sort: deleted records
	owner    []map[int64]tree // per sort, per owner: live
	team     []map[int64]tree
	assignee []map[int64]tree
	// Per sort, per user and per team: the live records shared with them,
	// expired shares included (a page tests the expiry).
	shareUser []map[int64]tree
	shareTeam []map[int64]tree
	byAttr    []map[int64]map[slot]struct{} // per attribute with lookup, per value
	tag       map[string]map[slot]struct{}
	terms     *btree.BTreeG[termRef]
	shares    map[int64]Share   // by id
	grants    map[int64][]int64 // per record id: its shares' ids
}

// termRef is one entry of the terms index: the term of the record in
// slot that starts at off of its data, and the term's first eight bytes
// (zero-padded, big-endian), which order the entries and match a short
// prefix without reading the record's data, wherever it is in memory.
type termRef struct {
	head      uint64
	slot, off uint32
}

// headOf returns the first eight bytes of t as termRef.head.
func headOf[T string | []byte](t T) uint64 {
	var b [8]byte
	copy(b[:], t)
	return binary.BigEndian.Uint64(b[:])
}

const (
	degree = 32
	// pivotSlots are slots kept for the pivots of the pages being read at
	// once (a cursor's position, a search's first term): a tree compares
	// slots, so a position that is no record needs one. spareSlot, after
	// them, is the pivot of a page that finds them all in use and runs
	// under the write lock.
	pivotSlots = 64
	spareSlot  = pivotSlots
)

// New returns an empty index of schema.
func New(schema Schema) *Index {
	x := &Index{schema: schema, slots: map[int64]slot{}, tag: map[string]map[slot]struct{}{},
		shares: map[int64]Share{}, grants: map[int64][]int64{}, pivots: make(chan slot, pivotSlots)}
	x.terms = btree.NewG(degree, x.lessTerm)
	x.recs = make([]entry, pivotSlots+1)
	for i := range slot(pivotSlots) {
		x.pivots <- i
	}
	n := len(schema.Sorts)
	x.tree = make([]bool, n)
	x.all, x.gone = make([]tree, n), make([]tree, n)
	x.owner, x.team, x.assignee = make([]map[int64]tree, n), make([]map[int64]tree, n), make([]map[int64]tree, n)
	x.shareUser, x.shareTeam = make([]map[int64]tree, n), make([]map[int64]tree, n)
	for i, s := range schema.Sorts {
		if !slices.Contains(schema.Trees, s) {
			continue
		}
		x.tree[i] = true
		x.all[i], x.gone[i] = x.newTree(i), x.newTree(i)
		x.owner[i], x.team[i], x.assignee[i] = map[int64]tree{}, map[int64]tree{}, map[int64]tree{}
		x.shareUser[i], x.shareTeam[i] = map[int64]tree{}, map[int64]tree{}
	}
	x.lookup = make([]bool, len(schema.Attrs))
	x.byAttr = make([]map[int64]map[slot]struct{}, len(schema.Attrs))
	for i, a := range schema.Attrs {
		if slices.Contains(schema.Lookup, a) {
			x.lookup[i] = true
			x.byAttr[i] = map[int64]map[slot]struct{}{}
		}
	}
	return x
}

func (x *Index) newTree(i int) tree {
	return btree.NewG(degree, func(a, b slot) bool { return x.before(a, b, i, false) })
}

// before reports whether the record in slot a comes before b in the order
// of sort i (keys, then ids) and direction desc.
func (x *Index) before(a, b slot, i int, desc bool) bool {
	if c := bytes.Compare(x.key(a, i), x.key(b, i)); c != 0 {
		return (c < 0) != desc
	}
	return (x.recs[a].id < x.recs[b].id) != desc
}

func (x *Index) lessTerm(a, b termRef) bool {
	if a.head != b.head {
		return a.head < b.head
	}
	if c := bytes.Compare(termAt(x.recs[a.slot].data, a.off), termAt(x.recs[b.slot].data, b.off)); c != 0 {
		return c < 0
	}
	return x.recs[a.slot].id < x.recs[b.slot].id
}

// The encoding of a record's data: a header of len(Sorts)+3 little-endian
// uint32 ends — of each sort key, of the terms, of the attributes, of the
// tags — then those sections. A term is its field's byte, its length as a
// uvarint and its text; an attribute eight bytes; a tag its length and
// text.

func (x *Index) encode(r *Rec) []byte {
	ns := len(x.schema.Sorts)
	hdr := 4 * (ns + 3)
	size := hdr + 8*len(r.Attrs)
	for _, k := range r.Keys {
		size += len(k)
	}
	for _, t := range r.Terms {
		size += 1 + binary.MaxVarintLen32 + len(t.Text)
	}
	for _, t := range r.Tags {
		size += binary.MaxVarintLen32 + len(t)
	}
	b := make([]byte, hdr, size)
	end := func(j int) { binary.LittleEndian.PutUint32(b[4*j:], uint32(len(b))) }
	for j, k := range r.Keys {
		b = append(b, k...)
		end(j)
	}
	for _, t := range r.Terms {
		if t.Text == "" {
			continue
		}
		b = append(b, t.Field)
		b = binary.AppendUvarint(b, uint64(len(t.Text)))
		b = append(b, t.Text...)
	}
	end(ns)
	for _, a := range r.Attrs {
		b = binary.LittleEndian.AppendUint64(b, uint64(a))
	}
	end(ns + 1)
	for _, t := range r.Tags {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	end(ns + 2)
	return slices.Clip(b)
}

// key returns the record in slot s's sort key i.
func (x *Index) key(s slot, i int) []byte {
	return x.sec(x.recs[s].data, i)
}

// sec returns section j of a record's data.
func (x *Index) sec(data []byte, j int) []byte {
	if data == nil {
		return nil
	}
	start := 4 * (len(x.schema.Sorts) + 3)
	if j > 0 {
		start = int(binary.LittleEndian.Uint32(data[4*(j-1):]))
	}
	return data[start:binary.LittleEndian.Uint32(data[4*j:])]
}

// termAt returns the text of the term that starts at off of data.
func termAt(data []byte, off uint32) []byte {
	n, w := uvarint(data[off+1:])
	start := off + 1 + w
	return data[start : start+n]
}

// uvarint is binary.Uvarint for a length, with the one-byte case (every
// term under 128 bytes) inline: the terms index reads one per entry it
// passes.
func uvarint(b []byte) (n, w uint32) {
	if b[0] < 0x80 {
		return uint32(b[0]), 1
	}
	v, k := binary.Uvarint(b)
	return uint32(v), uint32(k)
}

// eachTerm calls fn with each term of data (its field, its text and the
// offset it starts at) until fn returns false.
func (x *Index) eachTerm(data []byte, fn func(field uint8, text []byte, off uint32) bool) {
	if data == nil {
		return
	}
	ns := len(x.schema.Sorts)
	p := uint32(4 * (ns + 3))
	if ns > 0 {
		p = binary.LittleEndian.Uint32(data[4*(ns-1):])
	}
	for end := binary.LittleEndian.Uint32(data[4*ns:]); p < end; {
		n, w := uvarint(data[p+1:])
		t := p + 1 + w
		if !fn(data[p], data[t:t+n], p) {
			return
		}
		p = t + n
	}
}

// attr returns the record's value of attribute a.
func (x *Index) attr(data []byte, a int) int64 {
	return int64(binary.LittleEndian.Uint64(x.sec(data, len(x.schema.Sorts)+1)[8*a:]))
}

// eachTag calls fn with each tag of data until fn returns false.
func (x *Index) eachTag(data []byte, fn func(tag []byte) bool) {
	sec := x.sec(data, len(x.schema.Sorts)+2)
	for p := uint32(0); p < uint32(len(sec)); {
		n, w := uvarint(sec[p:])
		if !fn(sec[p+w : p+w+n]) {
			return
		}
		p += w + n
	}
}

// hasTag reports whether the record has the tag t.
func (x *Index) hasTag(data []byte, t string) bool {
	found := false
	x.eachTag(data, func(tag []byte) bool { found = string(tag) == t; return !found })
	return found
}

// rec decodes the record in slot s.
func (x *Index) rec(s slot) Rec {
	e := &x.recs[s]
	r := Rec{ID: e.id, Owner: e.owner, Team: e.team, Assignee: e.assignee, Deleted: e.deleted}
	for i := range x.schema.Sorts {
		r.Keys = append(r.Keys, string(x.key(s, i)))
	}
	x.eachTerm(e.data, func(f uint8, text []byte, _ uint32) bool {
		r.Terms = append(r.Terms, Term{f, string(text)})
		return true
	})
	r.Attrs = make([]int64, len(x.schema.Attrs))
	for a := range r.Attrs {
		r.Attrs[a] = x.attr(e.data, a)
	}
	x.eachTag(e.data, func(tag []byte) bool { r.Tags = append(r.Tags, string(tag)); return true })
	return r
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
	return len(x.slots)
}

// Get returns a copy of the record id.
func (x *Index) Get(id int64) (Rec, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.slots[id]
	if !ok {
		return Rec{}, false
	}
	return x.rec(s), true
}

// Put adds r, or replaces the record of its id. It panics on a record
// whose keys or attributes do not match the schema: a programming error.
func (x *Index) Put(r Rec) {
	if len(r.Keys) != len(x.schema.Sorts) || len(r.Attrs) != len(x.schema.Attrs) {
		panic("memindex: a record does not match the schema")
	}
	data := x.encode(&r)
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.slots[r.ID]
	switch {
	case ok:
		x.relink(s, false)
	case len(x.free) > 0:
		s, x.free = x.free[len(x.free)-1], x.free[:len(x.free)-1]
	default:
		s = slot(len(x.recs))
		x.recs = append(x.recs, entry{})
	}
	x.recs[s] = entry{id: r.ID, owner: r.Owner, team: r.Team, assignee: r.Assignee, deleted: r.Deleted, data: data}
	x.slots[r.ID] = s
	x.relink(s, true)
}

// Delete removes the record id (a purged or erased one). Its shares stay
// until they are deleted: they are the store's rows.
func (x *Index) Delete(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if s, ok := x.slots[id]; ok {
		x.relink(s, false)
		delete(x.slots, id)
		x.recs[s] = entry{}
		x.free = append(x.free, s)
	}
}

// PutShare adds sh, or replaces the share of its id.
func (x *Index) PutShare(sh Share) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropShare(sh.ID)
	x.shares[sh.ID] = sh
	x.grants[sh.Record] = append(x.grants[sh.Record], sh.ID)
	if s, ok := x.slots[sh.Record]; ok && !x.recs[s].deleted {
		x.linkShare(s, sh, true)
	}
}

// DeleteShare removes the share id.
func (x *Index) DeleteShare(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.dropShare(id)
}

// Shares is the number of shares held.
func (x *Index) Shares() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.shares)
}

// dropShare removes the share id, if held. x.mu is held.
func (x *Index) dropShare(id int64) {
	sh, ok := x.shares[id]
	if !ok {
		return
	}
	delete(x.shares, id)
	g := slices.DeleteFunc(x.grants[sh.Record], func(v int64) bool { return v == id })
	if len(g) == 0 {
		delete(x.grants, sh.Record)
	} else {
		x.grants[sh.Record] = g
	}
	// Another share of the record with the same grantee (one replacing it,
	// applied first) keeps the record in the grantee's trees.
	for _, o := range g {
		if os := x.shares[o]; os.User == sh.User && os.Team == sh.Team {
			return
		}
	}
	if s, ok := x.slots[sh.Record]; ok && !x.recs[s].deleted {
		x.linkShare(s, sh, false)
	}
}

// linkShare adds the record in slot s to the trees of sh's grantee, or
// removes it. x.mu is held.
func (x *Index) linkShare(s slot, sh Share, add bool) {
	for i := range x.schema.Sorts {
		if !x.tree[i] {
			continue
		}
		m, key := x.shareUser[i], sh.User
		if sh.Team != 0 {
			m, key = x.shareTeam[i], sh.Team
		}
		if add {
			x.treeOf(m, key, i, true).ReplaceOrInsert(s)
		} else {
			drop(m, key, s)
		}
	}
}

func (x *Index) treeOf(m map[int64]tree, key int64, i int, create bool) tree {
	t := m[key]
	if t == nil && create {
		t = x.newTree(i)
		m[key] = t
	}
	return t
}

func drop(m map[int64]tree, key int64, s slot) {
	if t := m[key]; t != nil {
		t.Delete(s)
		if t.Len() == 0 {
			delete(m, key)
		}
	}
}

func addTo[K comparable](m map[K]map[slot]struct{}, k K, s slot) {
	if m[k] == nil {
		m[k] = map[slot]struct{}{}
	}
	m[k][s] = struct{}{}
}

func dropFrom[K comparable](m map[K]map[slot]struct{}, k K, s slot) {
	if set := m[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// relink adds the record in slot s to every structure (add) or removes it
// from them. x.mu is held.
func (x *Index) relink(s slot, add bool) {
	e := &x.recs[s]
	put := func(m map[int64]tree, key int64, i int) {
		if add {
			x.treeOf(m, key, i, true).ReplaceOrInsert(s)
		} else {
			drop(m, key, s)
		}
	}
	for i := range x.schema.Sorts {
		if !x.tree[i] {
			continue
		}
		if e.deleted {
			if add {
				x.gone[i].ReplaceOrInsert(s)
			} else {
				x.gone[i].Delete(s)
			}
			continue
		}
		if add {
			x.all[i].ReplaceOrInsert(s)
		} else {
			x.all[i].Delete(s)
		}
		put(x.owner[i], e.owner, i)
		if e.team != 0 {
			put(x.team[i], e.team, i)
		}
		if e.assignee != 0 {
			put(x.assignee[i], e.assignee, i)
		}
	}
	if !e.deleted {
		for _, id := range x.grants[e.id] {
			x.linkShare(s, x.shares[id], add)
		}
	}
	for a := range x.schema.Attrs {
		if v := x.attr(e.data, a); x.lookup[a] && v != 0 {
			if add {
				addTo(x.byAttr[a], v, s)
			} else {
				dropFrom(x.byAttr[a], v, s)
			}
		}
	}
	x.eachTag(e.data, func(tag []byte) bool {
		if add {
			addTo(x.tag, string(tag), s)
		} else {
			dropFrom(x.tag, string(tag), s)
		}
		return true
	})
	x.eachTerm(e.data, func(_ uint8, text []byte, off uint32) bool {
		if add {
			x.terms.ReplaceOrInsert(termRef{headOf(text), s, off})
		} else {
			x.terms.Delete(termRef{headOf(text), s, off})
		}
		return true
	})
}
