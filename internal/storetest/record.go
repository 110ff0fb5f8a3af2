package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// kind describes one client record type to the generic tests: how to make,
// store, read and list it, and its sort keys.
type kind[T any] struct {
	list string // the list's key in crm.SortFields
	what string // the entity's name in messages
	// make returns a new record owned by owner; i varies the sort fields so
	// that rows 0..6 have several equal keys for every sort field.
	make   func(f *fixture, owner int64, i int) T
	meta   func(T) meta
	change func(f *fixture, r T) // edits client fields for an update
	// key returns r's sort key for field: a string or an int64.
	key    func(r T, field string) any
	insert func(context.Context, crm.Tx, T) error
	update func(context.Context, crm.Tx, T) error
	byID   func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (T, error)
	// all lists with the filter that only selects deleted or live rows.
	all func(ctx context.Context, tx crm.Tx, s crm.Scope, deleted bool, q crm.ListQuery) ([]T, string, error)
}

// meta points at the fields every client record has.
type meta struct {
	ID, Version, OwnerID *int64
	UpdatedAt            *time.Time
	DeletedAt            **time.Time
	TeamID               **int64
}

// recordSuite returns the generic tests of one record kind.
func recordSuite[T any](k kind[T]) func(t *testing.T, newStore func(t *testing.T) crm.Store) {
	return func(t *testing.T, newStore func(t *testing.T) crm.Store) {
		t.Run("Lifecycle", func(t *testing.T) { t.Parallel(); testLifecycle(t, newFixture(t, newStore), k) })
		t.Run("TeamScope", func(t *testing.T) { t.Parallel(); testTeamScope(t, newFixture(t, newStore), k) }) // team.go
		t.Run("Precondition", func(t *testing.T) { t.Parallel(); testPrecondition(t, newFixture(t, newStore), k) })
		t.Run("Scope", func(t *testing.T) { t.Parallel(); testScope(t, newFixture(t, newStore), k) })
		t.Run("Sort", func(t *testing.T) { t.Parallel(); testSort(t, newFixture(t, newStore), k) })
		t.Run("ScopedSort", func(t *testing.T) { t.Parallel(); testScopedSort(t, newFixture(t, newStore), k) }) // scoped.go
		t.Run("InvalidCursor", func(t *testing.T) { t.Parallel(); testInvalidCursor(t, newFixture(t, newStore), k) })
	}
}

func (k kind[T]) mustInsert(t *testing.T, f *fixture, r T) T {
	t.Helper()
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return k.insert(ctx, tx, r) })
	if *k.meta(r).ID <= 0 {
		t.Fatalf("insert %s: ID = %d, want > 0", k.what, *k.meta(r).ID)
	}
	return r
}

// save stores r as its next version, changed at minute n.
func (k kind[T]) save(t *testing.T, f *fixture, r T, n int) {
	t.Helper()
	m := k.meta(r)
	*m.Version++
	*m.UpdatedAt = at(n)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return k.update(ctx, tx, r) })
}

func (k kind[T]) get(t *testing.T, f *fixture, s crm.Scope, id int64, deleted bool) (T, error) {
	t.Helper()
	return read(t, f.st, func(ctx context.Context, tx crm.Tx) (T, error) { return k.byID(ctx, tx, s, id, deleted) })
}

func (k kind[T]) ids(t *testing.T, f *fixture, s crm.Scope, deleted bool) []int64 {
	t.Helper()
	rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]T, error) {
		rows, _, err := k.all(ctx, tx, s, deleted, crm.ListQuery{Limit: crm.MaxLimit})
		return rows, err
	})
	ids := []int64{}
	for _, r := range rows {
		ids = append(ids, *k.meta(r).ID)
	}
	slices.Sort(ids)
	return ids
}

var all = crm.Scope{All: true}

// testLifecycle inserts, reads, updates, soft-deletes, restores and purges.
func testLifecycle[T any](t *testing.T, f *fixture, k kind[T]) {
	r := k.mustInsert(t, f, k.make(f, f.alice, 0))
	m := k.meta(r)
	id := *m.ID
	got, err := k.get(t, f, all, id, false)
	if err != nil {
		t.Fatalf("%sByID after insert: %v", k.what, err)
	}
	wantEqual(t, k.what+" after insert", got, r)

	k.change(f, r)
	k.save(t, f, r, 10)
	got, err = k.get(t, f, all, id, false)
	if err != nil {
		t.Fatalf("%sByID after update: %v", k.what, err)
	}
	wantEqual(t, k.what+" after update", got, r)

	*m.DeletedAt = ptr(at(20))
	k.save(t, f, r, 20)
	_, err = k.get(t, f, all, id, false)
	wantCode(t, k.what+"ByID of a deleted record", err, crm.ENOTFOUND)
	got, err = k.get(t, f, all, id, true)
	if err != nil {
		t.Fatalf("%sByID(deleted) after delete: %v", k.what, err)
	}
	wantEqual(t, k.what+" after delete", got, r)
	wantEqual(t, "live list after delete", k.ids(t, f, all, false), []int64{})
	wantEqual(t, "deleted list after delete", k.ids(t, f, all, true), []int64{id})

	*m.DeletedAt = nil
	k.save(t, f, r, 30)
	got, err = k.get(t, f, all, id, false)
	if err != nil {
		t.Fatalf("%sByID after restore: %v", k.what, err)
	}
	wantEqual(t, k.what+" after restore", got, r)
	_, err = k.get(t, f, all, id, true)
	wantCode(t, k.what+"ByID(deleted) of a live record", err, crm.ENOTFOUND)
	wantEqual(t, "deleted list after restore", k.ids(t, f, all, true), []int64{})

	// Purge removes what was deleted before the time, and nothing else.
	*m.DeletedAt = ptr(at(40))
	k.save(t, f, r, 40)
	later := k.mustInsert(t, f, k.make(f, f.alice, 1))
	*k.meta(later).DeletedAt = ptr(at(50))
	k.save(t, f, later, 50)
	live := k.mustInsert(t, f, k.make(f, f.alice, 2))
	purge := func(before time.Time) int64 {
		t.Helper()
		var n int64
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
			n, err = tx.PurgeDeleted(ctx, before)
			return err
		})
		return n
	}
	if n := purge(at(40)); n != 0 {
		t.Errorf("PurgeDeleted(at deletion time) = %d, want 0", n)
	}
	if n := purge(at(41)); n != 1 {
		t.Errorf("PurgeDeleted(after deletion) = %d, want 1", n)
	}
	_, err = k.get(t, f, all, id, true)
	wantCode(t, k.what+"ByID(deleted) after purge", err, crm.ENOTFOUND)
	wantEqual(t, "deleted list after purge", k.ids(t, f, all, true), []int64{*k.meta(later).ID})
	wantEqual(t, "live list after purge", k.ids(t, f, all, false), []int64{*k.meta(live).ID})
}

// testPrecondition checks that a stale version fails and changes nothing.
func testPrecondition[T any](t *testing.T, f *fixture, k kind[T]) {
	r := k.mustInsert(t, f, k.make(f, f.alice, 0))
	stale := clone(r)
	k.change(f, r)
	k.save(t, f, r, 10) // version 2

	// stale still says version 1: its update expects 1 stored, finds 2.
	*k.meta(stale).Version = 2
	*k.meta(stale).UpdatedAt = at(11)
	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return k.update(ctx, tx, stale) })
	wantCode(t, "update with a stale version", err, crm.EPRECONDITION)
	got, err := k.get(t, f, all, *k.meta(r).ID, false)
	if err != nil {
		t.Fatalf("%sByID: %v", k.what, err)
	}
	wantEqual(t, k.what+" after a stale update", got, r)

	missing := clone(r)
	*k.meta(missing).ID = *k.meta(r).ID + 1000
	*k.meta(missing).Version = 3
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return k.update(ctx, tx, missing) })
	wantCode(t, "update of a missing record", err, crm.EPRECONDITION)
}

// testScope checks the visibility predicate on ByID and lists.
func testScope[T any](t *testing.T, f *fixture, k kind[T]) {
	a := k.mustInsert(t, f, k.make(f, f.alice, 0))
	b := k.mustInsert(t, f, k.make(f, f.bob, 1))
	ida, idb := *k.meta(a).ID, *k.meta(b).ID
	alice := crm.Scope{OwnerID: f.alice}

	_, err := k.get(t, f, crm.Scope{}, ida, false)
	wantCode(t, "ByID with the zero scope", err, crm.ENOTFOUND)
	wantEqual(t, "list with the zero scope", k.ids(t, f, crm.Scope{}, false), []int64{})

	if _, err := k.get(t, f, alice, ida, false); err != nil {
		t.Fatalf("ByID of an own record: %v", err)
	}
	_, err = k.get(t, f, alice, idb, false)
	wantCode(t, "ByID of another owner's record", err, crm.ENOTFOUND)
	wantEqual(t, "list with an owner scope", k.ids(t, f, alice, false), []int64{ida})
	wantEqual(t, "list with the all scope", k.ids(t, f, all, false), []int64{ida, idb})

	*k.meta(b).DeletedAt = ptr(at(5))
	k.save(t, f, b, 5)
	_, err = k.get(t, f, alice, idb, true)
	wantCode(t, "ByID(deleted) of another owner's record", err, crm.ENOTFOUND)
	wantEqual(t, "deleted list with an owner scope", k.ids(t, f, alice, true), []int64{})
	wantEqual(t, "deleted list with the all scope", k.ids(t, f, all, true), []int64{idb})
}

// testSort pages through seven rows with equal keys, by every sort field in
// both directions and with several page sizes.
func testSort[T any](t *testing.T, f *fixture, k kind[T]) {
	var rows []T
	for i := range 7 {
		rows = append(rows, k.mustInsert(t, f, k.make(f, []int64{f.alice, f.bob}[i%2], i)))
	}
	// A deleted row never shows in the live list.
	gone := k.mustInsert(t, f, k.make(f, f.alice, 3))
	*k.meta(gone).DeletedAt = ptr(at(1))
	k.save(t, f, gone, 1)

	for _, field := range storeSorts(k.list) {
		for _, desc := range []bool{false, true} {
			want := make([]int64, 0, len(rows))
			sorted := slices.Clone(rows)
			slices.SortFunc(sorted, func(a, b T) int {
				c := cmpKey(k.key(a, field), k.key(b, field))
				if c == 0 {
					c = cmp.Compare(*k.meta(a).ID, *k.meta(b).ID)
				}
				if desc {
					c = -c
				}
				return c
			})
			for _, r := range sorted {
				want = append(want, *k.meta(r).ID)
			}
			for _, limit := range []int{1, 2, 3, 7, 50} {
				name := fmt.Sprintf("%s desc=%v limit=%d", field, desc, limit)
				got := pageAll(t, f, k, field, desc, limit)
				wantEqual(t, name, got, want)
			}
		}
	}
}

// storeSorts are the sorts of a list the store orders: the whitelisted
// ones but those the service orders in memory (a contact's sealed names
// and email).
func storeSorts(list string) []string {
	var out []string
	for _, f := range crm.SortFields[list] {
		if !crm.MemorySorts[list][f] {
			out = append(out, f)
		}
	}
	return out
}

// pageAll lists every live row through the cursors, checking the pages.
func pageAll[T any](t *testing.T, f *fixture, k kind[T], field string, desc bool, limit int) []int64 {
	t.Helper()
	return pageAllIn(t, f, k, all, field, desc, limit)
}

// pageAllIn lists every live row of scope s through the cursors.
func pageAllIn[T any](t *testing.T, f *fixture, k kind[T], s crm.Scope, field string, desc bool, limit int) []int64 {
	t.Helper()
	var ids []int64
	var after *crm.Cursor
	for page := 0; ; page++ {
		if page > 30 {
			t.Fatalf("sort %s: more than 30 pages", field)
		}
		q := crm.ListQuery{Limit: limit, Sort: field, Desc: desc, After: after}
		var next string
		rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (rows []T, err error) {
			rows, next, err = k.all(ctx, tx, s, false, q)
			return rows, err
		})
		if len(rows) > limit || len(rows) == 0 {
			t.Fatalf("sort %s limit %d page %d: %d rows", field, limit, page, len(rows))
		}
		for _, r := range rows {
			ids = append(ids, *k.meta(r).ID)
		}
		if next == "" {
			return ids
		}
		c, err := crm.DecodeCursor(next, field)
		if err != nil {
			t.Fatalf("sort %s: DecodeCursor(%q): %v", field, next, err)
		}
		after = c
	}
}

// cmpKey compares two sort keys of the same field.
func cmpKey(a, b any) int {
	switch a := a.(type) {
	case string:
		return cmp.Compare(a, b.(string))
	case int64:
		return cmp.Compare(a, b.(int64))
	}
	panic(fmt.Sprintf("storetest: sort key %T", a))
}

// testInvalidCursor checks that a cursor key the store cannot have made is
// EINVALID on "cursor", and an unknown sort field EINVALID.
func testInvalidCursor[T any](t *testing.T, f *fixture, k kind[T]) {
	k.mustInsert(t, f, k.make(f, f.alice, 0))
	for _, c := range []*crm.Cursor{
		{Sort: "created_at", Key: "not a time!", ID: 1},
		{Sort: "created_at", Key: "", ID: 1},
		{Sort: "updated_at", Key: "1", ID: 1}, // made for another sort
	} {
		_, err := read(t, f.st, func(ctx context.Context, tx crm.Tx) ([]T, error) {
			rows, _, err := k.all(ctx, tx, all, false, crm.ListQuery{Limit: 10, Sort: "created_at", After: c})
			return rows, err
		})
		wantField(t, fmt.Sprintf("cursor %+v", *c), err, crm.EINVALID, "cursor")
	}
	// The service whitelists sort fields; the store refuses others too.
	_, err := read(t, f.st, func(ctx context.Context, tx crm.Tx) ([]T, error) {
		rows, _, err := k.all(ctx, tx, all, false, crm.ListQuery{Limit: 10, Sort: "owner_id; --"})
		return rows, err
	})
	wantCode(t, "unknown sort field", err, crm.EINVALID)
}
