package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
)

// TestOwnerSearchSamePages checks the owner-scoped search (ownerSearch,
// unions of owner-leading index ranges, sorted and limited per branch)
// against the general one (contactSearch, under an All scope filtered by
// owner): the same contacts, page after page, in every order, live and
// deleted. As the sqlite package's test of the same name.
func TestOwnerSearchSamePages(t *testing.T) {
	db := postgrestest.New(t)
	ctx := context.Background()
	const n, owners = 1000, 5
	ids := make([]int64, owners)
	companies := make([][]int64, owners)
	err := db.Write(ctx, func(tx crm.Tx) error {
		for i := range ids {
			u := &crm.User{Email: fmt.Sprintf("owner%d@example.com", i), Role: crm.RoleSales, CreatedAt: time.Now(), UpdatedAt: time.Now()}
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
		t.Fatal(err)
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
					OwnerID: ids[o], Version: 1, CreatedAt: now, UpdatedAt: now,
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
			t.Fatal(err)
		}
	}
	if _, err := postgres.Writer(db).Exec(ctx, "VACUUM ANALYZE"); err != nil {
		t.Fatal(err)
	}
	all := func(s crm.Scope, f crm.ContactFilter, sort string, desc bool, limit int) []int64 {
		var out []int64
		var after *crm.Cursor
		for {
			var next string
			err := db.Read(ctx, func(tx crm.Tx) error {
				rows, nx, err := tx.Contacts(ctx, s, f, crm.ListQuery{Limit: limit, Sort: sort, Desc: desc, After: after})
				for _, r := range rows {
					out = append(out, r.ID)
				}
				next = nx
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if next == "" {
				return out
			}
			if after, err = crm.DecodeCursor(next, sort); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, q := range []string{"s", "iv", "smi", "петр", "company 1", "+44200", "anna smith", "smith anna", "zzz"} {
		for _, sort := range []string{"last_name", "email"} {
			for _, desc := range []bool{false, true} {
				for _, del := range []bool{false, true} {
					o := ids[3]
					got := all(crm.Scope{OwnerID: o}, crm.ContactFilter{Q: q, Deleted: del}, sort, desc, 7)
					want := all(crm.Scope{All: true}, crm.ContactFilter{Q: q, OwnerID: o, Deleted: del}, sort, desc, 7)
					if !slices.Equal(got, want) {
						t.Errorf("q %q, sort %s, desc %v, deleted %v: got %v, want %v", q, sort, desc, del, got, want)
					}
				}
			}
		}
	}
}
