package service_test

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// TestEraseNeedsControlOfEverythingItDeletes (ENC-5, ACL-1; ASVS
// v5.0.0-8.2.2): erasing a contact deletes its activities and tasks,
// whoever owns them, so the erase permission alone is not enough: a role
// with clients.erase but without modify_all on contacts, activities and
// tasks cannot erase, even its own contact with another user's activity
// linked to it (which it could not delete one by one). With them, after a
// step-up, the erase takes it all, and emits its event.
func TestEraseNeedsControlOfEverythingItDeletes(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, service.Options{Events: rec})
	ctx := context.Background()
	alice, bob := f.as("alice"), f.as("bob")
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Doomed")})
	if err != nil {
		t.Fatal(err)
	}
	// Alice shares her contact with bob, who logs a note on it: the note
	// is bob's, and alice may not delete it.
	if _, _, err := f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID, Access: ptr("write")}); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.CreateActivity(ctx, bob, crm.ActivityInput{Type: ptr("note"), Subject: ptr("bob's own"), ContactID: crm.Value(c.ID), Body: ptr("bob's words")})
	if err != nil {
		t.Fatal(err)
	}
	bobContact, err := f.svc.CreateContact(ctx, bob, crm.ContactInput{LastName: ptr("Bob's")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteActivity(ctx, alice, a.ID); err == nil {
		t.Fatal("alice deleted bob's note")
	}

	erasers := map[string][]string{
		"erase only":             {"contacts.read", "contacts.delete", "activities.read", "activities.update", "clients.erase"},
		"erase and contacts all": {"contacts.read", "contacts.modify_all", "activities.read", "activities.update", "clients.erase"},
		"everything but erase":   {"contacts.read", "contacts.delete", "contacts.modify_all", "activities.delete", "activities.modify_all", "tasks.delete", "tasks.modify_all"},
		"no task deletion":       {"contacts.read", "contacts.delete", "contacts.modify_all", "activities.delete", "activities.modify_all", "tasks.modify_all", "clients.erase"},
	}
	for name, perms := range erasers {
		p := *alice
		p.Def = (&crm.RoleDef{Name: crm.Role(name), Permissions: perms}).Compile()
		_, err := f.svc.EraseClient(ctx, &p, "contact", c.ID)
		wantCode(t, err, crm.EFORBIDDEN)
	}
	if _, err := f.svc.FindActivityByID(ctx, bob, a.ID); err != nil {
		t.Fatalf("bob's activity after the refused erasures: %v", err)
	}

	dpo := *alice
	dpo.Def = (&crm.RoleDef{Name: "dpo", Permissions: []string{"contacts.read", "contacts.delete", "contacts.modify_all",
		"activities.delete", "activities.modify_all", "tasks.delete", "tasks.modify_all", "clients.erase"}}).Compile()
	stale := dpo
	stale.SteppedUpAt = stale.SteppedUpAt.Add(-24 * 60 * 60 * 1e9)
	_, err = f.svc.EraseClient(ctx, &stale, "contact", c.ID)
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	_, err = f.svc.EraseClient(ctx, &dpo, "deal", c.ID)
	wantCode(t, err, crm.EINVALID)
	e, err := f.svc.EraseClient(ctx, &dpo, "contact", c.ID)
	if err != nil || e.Records != 2 || e.ErasedBy != f.users["alice"].ID {
		t.Fatalf("erase as a data protection officer: %+v %v", e, err)
	}
	_, err = f.svc.FindActivityByID(ctx, bob, a.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if _, err := f.svc.FindContactByID(ctx, bob, bobContact.ID); err != nil {
		t.Errorf("bob's contact after the erasure: %v", err)
	}
	if types := rec.types(); len(types) == 0 || types[len(types)-1] != "client.erase" {
		t.Errorf("events: %v", types)
	}
	_, err = f.svc.EraseClient(ctx, &dpo, "contact", c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	list, err := f.svc.FindErasures(ctx, &dpo, 0, 0)
	wantCode(t, err, crm.EFORBIDDEN) // erasures.read is a permission of its own
	if list != nil {
		t.Errorf("ledger without the permission: %v", list)
	}
	list, err = f.svc.FindErasures(ctx, f.as("admin"), 0, 0)
	if err != nil || len(list) != 1 || list[0].RecordID != c.ID {
		t.Errorf("ledger: %+v %v", list, err)
	}
}
