package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// SeedOwners fills db with n contacts spread over owners sales users (and a
// company per 10 contacts, of the same owner; one contact in 50 deleted),
// as custos bench spreads its data set, refreshes the planner's statistics
// where the store can, and returns the owners' ids.
func SeedOwners(tb testing.TB, db crm.Store, n, owners int) []int64 {
	tb.Helper()
	ctx := context.Background()
	ids := make([]int64, owners)
	companies := make([][]int64, owners)
	err := db.Write(ctx, func(tx crm.Tx) error {
		for i := range ids {
			u := &crm.User{Email: fmt.Sprintf("owner%d@example.com", i), Role: crm.RoleSales,
				CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			ids[i] = u.ID
		}
		for i := 0; i < n/10; i++ {
			now := tx.Now()
			o := i % owners
			c := &crm.Company{Name: fmt.Sprint("Company ", i), OwnerID: ids[o], Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertCompany(ctx, c); err != nil {
				return err
			}
			companies[o] = append(companies[o], c.ID)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	first := []string{"Ivan", "Anna", "Olga", "John", "Mary", "Sergey", "Peter", "Elena", "Dmitry", "Kate"}
	last := []string{"Ivanov", "Smith", "Müller", "Петров", "Иванова", "García", "Nakamura", "O'Brien",
		"Kowalski", "Smirnov", "Sokolova", "Brown", "Kuznetsov", "Popov", "Wilson", "Johnson"}
	for start := 0; start < n; start += 1000 {
		err := db.Write(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				now := tx.Now()
				o := (i * 7919) % owners
				c := &crm.Contact{
					FirstName: first[(i/3)%len(first)], LastName: fmt.Sprint(last[i%len(last)], i%101),
					Email: fmt.Sprintf("person%d@example.com", i), Phone: fmt.Sprintf("+4420%08d", i),
					Tags: []string{"lead"}, OwnerID: ids[o], Version: 1, CreatedAt: now, UpdatedAt: now,
				}
				if i%50 == 0 {
					c.DeletedAt = &now
				}
				if cs := companies[o]; i%4 != 0 && len(cs) > 0 {
					c.CompanyID = &cs[i%len(cs)]
				}
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if o, ok := db.(interface{ Optimize(context.Context) error }); ok {
		if err := o.Optimize(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

// testOwnerSearch checks the owner-scoped search (unions of owner-leading
// index ranges, sorted and limited per branch) against the general one
// (under an All scope filtered by owner): the same contacts, page after
// page, in every order, live and deleted.
func testOwnerSearch(t *testing.T, newStore func(t *testing.T) crm.Store) {
	db := newStore(t)
	owners := SeedOwners(t, db, 1000, 5)
	ctx := context.Background()
	all := func(s crm.Scope, f crm.ContactFilter, sort string, desc bool, limit int) []int64 {
		var ids []int64
		var after *crm.Cursor
		for {
			var next string
			err := db.Read(ctx, func(tx crm.Tx) error {
				rows, n, err := tx.Contacts(ctx, s, f, crm.ListQuery{Limit: limit, Sort: sort, Desc: desc, After: after})
				for _, r := range rows {
					ids = append(ids, r.ID)
				}
				next = n
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if next == "" {
				return ids
			}
			c, err := crm.DecodeCursor(next, sort)
			if err != nil {
				t.Fatal(err)
			}
			after = c
		}
	}
	for _, q := range []string{"s", "iv", "smi", "петр", "иван", "company 1", "+44200", "4420", "anna smith", "smith anna", "person1", "zzz", "o'b"} {
		for _, sort := range []string{"last_name", "email"} {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{7, 10} {
					for _, deleted := range []bool{false, true} {
						o := owners[1+limit%3]
						got := all(crm.Scope{OwnerID: o}, crm.ContactFilter{Q: q, Deleted: deleted}, sort, desc, limit)
						want := all(crm.Scope{All: true}, crm.ContactFilter{Q: q, OwnerID: o, Deleted: deleted}, sort, desc, limit)
						if !slices.Equal(got, want) {
							t.Errorf("q %q, sort %s, desc %v, limit %d, deleted %v: got %v, want %v",
								q, sort, desc, limit, deleted, got, want)
						}
						if len(want) == 0 && q != "zzz" && !deleted {
							t.Errorf("q %q matches nothing: the test proves nothing", q)
						}
					}
				}
			}
		}
	}
}

// testRepSharesSearch: a rep's search (their own contacts and those shared
// with them or their team; sqlstore reads it as the owner's index ranges
// plus the shared contacts by id) finds exactly the visible matches, by
// any field contactSearch matches, whatever the sort, and never a contact
// of another owner that is not shared, shared with someone else, or whose
// share expired; page by page by last name the same.
func testRepSharesSearch(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	red := insertTeam(t, f.st, "Red", nil)
	carol := insertUser(t, f.st, "carol@example.com").ID
	acme := newCompany(t, f, f.bob, "Ivory Works").ID
	mk := func(owner int64, first, last string, company *int64) int64 {
		return newContact(t, f, owner, func(c *crm.Contact) {
			c.FirstName, c.LastName, c.Email, c.Phone, c.CompanyID = first, last, strings.ToLower(first+"."+last)+"@x.test", "", company
		}).ID
	}
	own1 := mk(f.alice, "Ivan", "Petrov", nil)
	own2 := mk(f.alice, "Anna", "Ivanova", nil)
	mk(f.alice, "Zoe", "Quinn", nil)
	sharedUser := mk(f.bob, "Ivo", "Bauer", nil)
	sharedTeam := mk(f.bob, "Olga", "Ivleva", nil)
	sharedCompany := mk(f.bob, "Max", "Zorn", &acme)
	mk(f.bob, "Ivan", "Hidden", nil)
	expired := mk(f.bob, "Iva", "Late", nil)
	otherShare := mk(f.bob, "Ivy", "Carols", nil)
	share := func(id int64, user, team *int64, expires *time.Time) {
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
			_, err := tx.PutShare(ctx, &crm.Share{Entity: "contact", RecordID: id, UserID: user, TeamID: team,
				Access: crm.ShareRead, ExpiresAt: expires, CreatedBy: f.bob, CreatedAt: base})
			return err
		})
	}
	share(sharedUser, &f.alice, nil, nil)
	share(sharedTeam, nil, &red.ID, nil)
	share(sharedCompany, &f.alice, nil, nil)
	share(expired, &f.alice, nil, ptr(time.Now().Add(-time.Second)))
	share(otherShare, &carol, nil, nil)
	rep := crm.Scope{OwnerID: f.alice, Shared: true, ShareTeams: []int64{red.ID}}
	q := func(s string) crm.ContactFilter {
		return crm.ContactFilter{Q: s, CompanyScope: &crm.Scope{OwnerID: f.alice}}
	}
	checkFilters(t, f, contactKind, []filterCase[crm.ContactFilter]{
		{rep, q("iv"), []int64{own1, own2, sharedUser, sharedTeam}},
		{rep, q("ivan"), []int64{own1, own2}},
		{rep, q("olga.ivleva@"), []int64{sharedTeam}},
		{rep, q("max zorn"), []int64{sharedCompany}},
		{rep, q("late"), nil},
		{rep, q("carols"), nil},
		{rep, q("hidden"), nil},
		// The name of a company the rep may not see matches nothing.
		{rep, q("ivory"), nil},
	}, crm.Tx.Contacts)
	// By last name, a page at a time: the merged branches keep the order.
	var got []int64
	var after *crm.Cursor
	for range 10 {
		var next string
		rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (rows []*crm.Contact, err error) {
			rows, next, err = tx.Contacts(ctx, rep, q("iv"), crm.ListQuery{Limit: 1, Sort: "last_name", After: after})
			return rows, err
		})
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if next == "" {
			break
		}
		c, err := crm.DecodeCursor(next, "last_name")
		if err != nil {
			t.Fatal(err)
		}
		after = c
	}
	wantEqual(t, "a rep's search by last name, a page at a time", got, []int64{sharedUser, own2, sharedTeam, own1})
}
