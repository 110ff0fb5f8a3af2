package seal_test

import (
	"context"
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// TestDuplicateContacts (ENC-4; ACL-3): through the real service, store
// and blind index, contacts that share an email (whatever its case) or a
// phone (however written) are grouped, within the caller's read scope
// only (another rep's contact counts once it is shared); deleted ones are
// left out; pages follow their cursor; a field the caller may not read is
// refused, as is a cursor of the other match or bad input.
func TestDuplicateContacts(t *testing.T) {
	ctx := context.Background()
	f := testkit.NewFixture(t, service.Options{Hooks: service.WithSealing(service.NoHooks{}, seal.New(testKEK(t), 64, 64))}, identity.Options{})
	alice, bob := f.As("alice"), f.As("bob")
	add := func(p *crm.Principal, last, email, phone string) int64 {
		t.Helper()
		in := crm.ContactInput{LastName: ptr(last)}
		if email != "" {
			in.Email = ptr(email)
		}
		if phone != "" {
			in.Phone = ptr(phone)
		}
		c, err := f.Records.CreateContact(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	a1 := add(alice, "First", "Dup@Example.com", "+7 916 555-12-34")
	a2 := add(alice, "Second", "dup@example.com", "8 (916) 555-12-34")
	add(alice, "Single", "single@example.com", "+7 916 000-00-01")
	b1 := add(bob, "Bobs", "dup@example.com", "")
	gone := add(alice, "Gone", "dup@example.com", "")
	if err := f.Records.DeleteContact(ctx, alice, gone); err != nil {
		t.Fatal(err)
	}
	// Three more pairs of alice's, for paging.
	for _, e := range []string{"p1@example.com", "p2@example.com", "p3@example.com"} {
		add(alice, "Pair", e, "")
		add(alice, "Pair", e, "")
	}

	groups := func(p *crm.Principal, match string, o crm.ListOptions) (*crm.Page[*crm.DuplicateGroup], error) {
		return f.Records.FindDuplicateContacts(ctx, p, match, o)
	}
	find := func(pg *crm.Page[*crm.DuplicateGroup], id int64) *crm.DuplicateGroup {
		for _, g := range pg.Items {
			for _, c := range g.Contacts {
				if c.ID == id {
					return g
				}
			}
		}
		return nil
	}
	ids := func(g *crm.DuplicateGroup) []int64 {
		var out []int64
		for _, c := range g.Contacts {
			out = append(out, c.ID)
		}
		return out
	}

	pg, err := groups(alice, "email", crm.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) != 4 || pg.NextCursor != "" {
		t.Fatalf("alice's email groups: %d, next %q; want 4 on one page", len(pg.Items), pg.NextCursor)
	}
	g := find(pg, a1)
	if g == nil || g.Count != 2 || !slices.Equal(ids(g), []int64{a1, a2}) || g.Match != "email" || g.Contacts[0].LastName != "First" {
		t.Fatalf("alice's group of dup@: %+v", g)
	}
	// The manager sees bob's too; the deleted one is in no group.
	pg, err = groups(f.As("admin"), "email", crm.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g := find(pg, a1); g == nil || g.Count != 3 || !slices.Equal(ids(g), []int64{a1, a2, b1}) {
		t.Fatalf("the admin's group of dup@: %+v", g)
	}
	// Shared with alice, bob's contact joins her group.
	if _, _, err := f.Records.ShareRecord(ctx, bob, "contact", b1, crm.ShareInput{UserID: &f.Users["alice"].ID, Access: ptr("read")}); err != nil {
		t.Fatal(err)
	}
	pg, err = groups(alice, "email", crm.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if g := find(pg, a1); g == nil || g.Count != 3 {
		t.Fatalf("alice's group after bob shared his: %+v", g)
	}
	// Bob alone has no duplicates.
	if pg, err := groups(bob, "email", crm.ListOptions{}); err != nil || len(pg.Items) != 0 {
		t.Fatalf("bob's groups: %+v %v", pg, err)
	}

	// The phone, written two ways.
	pg, err = groups(alice, "phone", crm.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) != 1 || !slices.Equal(ids(pg.Items[0]), []int64{a1, a2}) || pg.Items[0].Match != "phone" {
		t.Fatalf("alice's phone groups: %+v", pg.Items)
	}

	// Pages of one group each: every group once, then the end.
	var seen []int64
	cursor := ""
	for range 10 {
		pg, err := groups(alice, "email", crm.ListOptions{Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) != 1 {
			t.Fatalf("a page of %d groups", len(pg.Items))
		}
		seen = append(seen, pg.Items[0].Contacts[0].ID)
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
		if _, err := groups(alice, "phone", crm.ListOptions{Cursor: cursor}); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("an email cursor for the phone groups: %v", err)
		}
	}
	slices.Sort(seen)
	if len(seen) != 4 || len(slices.Compact(slices.Clone(seen))) != 4 {
		t.Errorf("paging one group at a time saw %v", seen)
	}

	// The reader sees emails masked: matching them would tell them.
	_, err = groups(f.As("reader"), "email", crm.ListOptions{})
	if fe, ok := err.(*crm.Error); !ok || fe.Code != crm.EINVALID || fe.Fields["email"] == "" {
		t.Errorf("the reader's email groups: %v, want 400 naming email", err)
	}
	if _, err := groups(f.As("support"), "phone", crm.ListOptions{}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("support (phone masked) by phone: %v", err)
	}
	for _, bad := range []struct {
		match string
		o     crm.ListOptions
	}{{"name", crm.ListOptions{}}, {"email", crm.ListOptions{Limit: 41}}, {"email", crm.ListOptions{Sort: "email"}},
		{"email", crm.ListOptions{Cursor: "garbage"}}} {
		if _, err := groups(alice, bad.match, bad.o); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("%q %+v: %v, want invalid", bad.match, bad.o, err)
		}
	}
	// A role without contacts.read is refused.
	if _, err := groups(f.As("auditor"), "email", crm.ListOptions{}); crm.ErrorCode(err) != crm.EFORBIDDEN {
		t.Errorf("the auditor: %v, want forbidden", err)
	}
}
