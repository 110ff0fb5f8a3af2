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
	"github.com/custos-crm/custos/internal/vault"
)

// TestContactTagsSealed (ENC-2, ENC-4): through the real service and
// store, a contact's tags rest as one sealed value and their rows in the
// tags table are blind-index tokens, never the tags; they read back as
// given, filter from the index, and a tag that looks sealed is an
// ordinary tag. Tags written in plain text by an older version are sealed
// by the upgrade pass, which turns their rows into tokens, and after it a
// plain value put back is refused.
func TestContactTagsSealed(t *testing.T) {
	ctx := context.Background()
	sl := seal.New(testKEK(t), 64, 64)
	f := testkit.NewFixture(t, service.Options{Hooks: service.WithSealing(service.NoHooks{}, sl)}, identity.Options{})
	alice := f.As("alice")
	lookalike := "e1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // a user's tag with the sealed format's prefix
	c, err := f.Records.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Tagged"), Tags: &[]string{"debtor", "VIP", lookalike}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"debtor", "vip", lookalike}
	if !slices.Equal(c.Tags, want) {
		t.Fatalf("created with tags %v, want %v", c.Tags, want)
	}
	stored := func(id int64) (*crm.Contact, []string) {
		t.Helper()
		var got *crm.Contact
		var rows []string
		err := f.Store.Read(ctx, func(tx crm.Tx) (err error) {
			got, err = tx.ContactByID(ctx, crm.Scope{All: true}, id, false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		// The tag rows, through the store's token filter: a row is found
		// by the token, never by the tag.
		for _, tag := range append(slices.Clone(want), "old", "plain") {
			err := f.Store.Read(ctx, func(tx crm.Tx) error {
				found, _, err := tx.Contacts(ctx, crm.Scope{All: true}, crm.ContactFilter{TagToken: tag}, crm.ListQuery{})
				if len(found) > 0 {
					rows = append(rows, tag)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return got, rows
	}
	raw, rows := stored(c.ID)
	if len(raw.Tags) != 1 || !vault.Sealed(raw.Tags[0]) {
		t.Fatalf("tags at rest: %v, want one sealed value", raw.Tags)
	}
	if len(rows) != 0 {
		t.Errorf("the tags table holds the tags %v in plain text", rows)
	}
	for _, tag := range want {
		pg, err := f.Records.FindContacts(ctx, alice, crm.ContactFilter{Tag: tag}, crm.ListOptions{})
		if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != c.ID {
			t.Errorf("tag=%q: %v %v", tag, pg, err)
		}
	}
	got, err := f.Records.FindContactByID(ctx, alice, c.ID)
	if err != nil || !slices.Equal(got.Tags, want) {
		t.Fatalf("read back %v %v", got, err)
	}
	// Retagged, the old tag no longer finds it.
	if _, err := f.Records.UpdateContact(ctx, alice, c.ID, crm.ContactInput{Tags: &[]string{"paid"}}, 0); err != nil {
		t.Fatal(err)
	}
	if pg, err := f.Records.FindContacts(ctx, alice, crm.ContactFilter{Tag: "debtor"}, crm.ListOptions{}); err != nil || len(pg.Items) != 0 {
		t.Errorf("the old tag still finds %v %v", pg, err)
	}

	// A contact as an older version wrote it: tags and their rows plain.
	old := &crm.Contact{LastName: "Old", Tags: []string{"old", "plain"}, TagTokens: []string{"old", "plain"},
		OwnerID: f.Users["alice"].ID, Version: 1, CreatedAt: f.Now(), UpdatedAt: f.Now()}
	if err := f.Store.Write(ctx, func(tx crm.Tx) error { return tx.InsertContact(ctx, old) }); err != nil {
		t.Fatal(err)
	}
	if _, rows := stored(old.ID); !slices.Equal(rows, []string{"old", "plain"}) {
		t.Fatalf("the older version's tag rows: %v", rows)
	}
	if _, err := sl.Upgrade(ctx, f.Store, nil); err != nil {
		t.Fatal(err)
	}
	raw, rows = stored(old.ID)
	if len(raw.Tags) != 1 || !vault.Sealed(raw.Tags[0]) || len(rows) != 0 {
		t.Fatalf("after the upgrade: tags %v, plain rows %v", raw.Tags, rows)
	}
	if got, err := f.Records.FindContactByID(ctx, alice, old.ID); err != nil || !slices.Equal(got.Tags, []string{"old", "plain"}) {
		t.Fatalf("after the upgrade the contact reads %v %v", got, err)
	}
	// Strict now: a plain list put back in the column is tampering, named.
	tampered := *raw
	tampered.Tags = []string{"old"}
	err = f.Store.Read(ctx, func(tx crm.Tx) error { return sl.Open(ctx, tx, "contact", &tampered) })
	if crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("plain tags after the upgrade: %v, want an integrity error", err)
	}
	// Another field's sealed value moved into the tags does not open.
	moved := *raw
	moved.Tags = []string{raw.LastName}
	err = f.Store.Read(ctx, func(tx crm.Tx) error { return sl.Open(ctx, tx, "contact", &moved) })
	if crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("the last name moved into the tags: %v, want an integrity error", err)
	}
}
