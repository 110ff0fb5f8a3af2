package sqlite_test

import (
	"context"
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestOwnerSearchSamePages checks the owner-scoped search (ownerSearch,
// unions of owner-leading index ranges, sorted and limited per branch)
// against the general one (contactSearch, under an All scope filtered by
// owner): the same contacts, page after page, in every order, live and
// deleted.
func TestOwnerSearchSamePages(t *testing.T) {
	db, owners := seedOwners(t, 1000, 5)
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
				for _, limit := range []int{10} {
					for _, deleted := range []bool{false, true} {
						o := owners[1]
						got := all(crm.Scope{OwnerID: o}, crm.ContactFilter{Q: q, Deleted: deleted}, sort, desc, limit)
						want := all(crm.Scope{All: true}, crm.ContactFilter{Q: q, OwnerID: o, Deleted: deleted}, sort, desc, limit)
						if !slices.Equal(got, want) {
							t.Errorf("q %q, sort %s, desc %v, limit %d, deleted %v: got %v, want %v",
								q, sort, desc, limit, deleted, got, want)
						}
					}
				}
			}
		}
	}
}
