package storetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// testLeases checks AcquireLease: one holder at a time, renewal by the
// holder, takeover after expiry.
func testLeases(t *testing.T, newStore func(t *testing.T) crm.Store) {
	s := newStore(t)
	ctx := context.Background()
	acquire := func(name, holder string, until time.Duration) bool {
		t.Helper()
		var ok bool
		err := s.Write(ctx, func(tx crm.Tx) (err error) {
			ok, err = tx.AcquireLease(ctx, name, holder, tx.Now().Add(until))
			return err
		})
		if err != nil {
			t.Fatalf("AcquireLease(%s, %s): %v", name, holder, err)
		}
		return ok
	}
	if !acquire("purge", "a", time.Hour) {
		t.Fatal("a could not take a free lease")
	}
	if acquire("purge", "b", time.Hour) {
		t.Fatal("b took a lease that a holds")
	}
	if !acquire("purge", "a", time.Hour) {
		t.Fatal("a could not renew its lease")
	}
	if !acquire("other", "b", time.Hour) {
		t.Fatal("leases of different names interfere")
	}
	// a's lease runs out: b may take it, and then a may not.
	if !acquire("purge", "a", -time.Second) {
		t.Fatal("a could not shorten its lease")
	}
	if !acquire("purge", "b", time.Hour) {
		t.Fatal("b could not take an expired lease")
	}
	if acquire("purge", "a", time.Hour) {
		t.Fatal("a took the lease back from b")
	}
}

// testCompanyIDs checks the IDs filter of Companies.
func testCompanyIDs(t *testing.T, newStore func(t *testing.T) crm.Store) {
	s := newStore(t)
	ctx := context.Background()
	var ids []int64
	err := s.Write(ctx, func(tx crm.Tx) error {
		owner := &crm.User{Email: "ids@example.com", Name: "ids", Role: crm.RoleSales, Language: "en", PasswordHash: "x", CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		if err := tx.InsertUser(ctx, owner); err != nil {
			return err
		}
		for _, n := range []string{"A", "B", "C"} {
			c := &crm.Company{Name: n, Tags: []string{}, OwnerID: owner.ID, Version: 1, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
			if err := tx.InsertCompany(ctx, c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []*crm.Company
	err = s.Read(ctx, func(tx crm.Tx) (err error) {
		got, _, err = tx.Companies(ctx, crm.Scope{All: true}, crm.CompanyFilter{IDs: []int64{ids[0], ids[2], 999999}}, crm.ListQuery{Limit: 10, Sort: "created_at"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// With ids, the store returns those in scope in no order.
	slices.SortFunc(got, func(a, b *crm.Company) int { return cmp.Compare(a.ID, b.ID) })
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[2] {
		t.Fatalf("IDs filter: got %d companies %v", len(got), got)
	}
}
