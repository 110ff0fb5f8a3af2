package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// testDuplicateContacts: DuplicateContacts groups the live contacts in
// scope by a token column, two or more a group, in token order after the
// cursor, with the count and the first ids; only the two token columns.
func testDuplicateContacts(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	ctx := context.Background()
	mk := func(owner int64, email, phone string) int64 {
		return newContact(t, f, owner, func(c *crm.Contact) { c.EmailToken, c.PhoneToken = email, phone }).ID
	}
	a1, a2, a3 := mk(f.alice, "tok-a", "ph-1"), mk(f.alice, "tok-a", "ph-1"), mk(f.alice, "tok-a", "")
	b1 := mk(f.bob, "tok-a", "")
	mk(f.alice, "tok-single", "")
	c1, c2 := mk(f.bob, "tok-b", ""), mk(f.bob, "tok-b", "")
	mk(f.alice, "", "") // no token: never a group
	mk(f.alice, "", "")
	gone := mk(f.alice, "tok-c", "")
	mk(f.alice, "tok-c", "")
	if err := f.st.Write(ctx, func(tx crm.Tx) error {
		c, err := tx.ContactByID(ctx, all, gone, false)
		if err != nil {
			return err
		}
		now := time.Now()
		c.DeletedAt, c.Version = &now, c.Version+1
		return tx.UpdateContact(ctx, c)
	}); err != nil {
		t.Fatal(err)
	}
	dups := func(s crm.Scope, col, after string, limit, per int) []crm.Duplicates {
		t.Helper()
		var out []crm.Duplicates
		if err := f.st.Read(ctx, func(tx crm.Tx) (err error) {
			out, err = tx.DuplicateContacts(ctx, s, col, after, limit, per)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := dups(all, "email_token", "", 10, 3)
	if len(got) != 2 || got[0].Token != "tok-a" || got[0].Count != 4 || !slices.Equal(got[0].IDs, []int64{a1, a2, a3}) ||
		got[1].Token != "tok-b" || got[1].Count != 2 || !slices.Equal(got[1].IDs, []int64{c1, c2}) {
		t.Fatalf("every scope: %+v", got)
	}
	if got := dups(crm.Scope{OwnerID: f.alice}, "email_token", "", 10, 10); len(got) != 1 || got[0].Count != 3 || slices.Contains(got[0].IDs, b1) {
		t.Errorf("alice's scope: %+v", got)
	}
	if got := dups(all, "email_token", "tok-a", 1, 3); len(got) != 1 || got[0].Token != "tok-b" {
		t.Errorf("after tok-a, one: %+v", got)
	}
	if got := dups(all, "phone_token", "", 10, 3); len(got) != 1 || got[0].Token != "ph-1" || got[0].Count != 2 {
		t.Errorf("by phone: %+v", got)
	}
	if got := dups(crm.Scope{}, "email_token", "", 10, 3); len(got) != 0 {
		t.Errorf("the zero scope: %+v", got)
	}
	err := f.st.Read(ctx, func(tx crm.Tx) error {
		_, err := tx.DuplicateContacts(ctx, all, "last_name", "", 10, 3)
		return err
	})
	if crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("by last_name: %v, want invalid", err)
	}
}
