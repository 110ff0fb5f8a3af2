package seal_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// TestPurgeShredsClients (ENC-5): the purge of the recycle bin destroys
// the data key of a contact it removes, so that a copy of the contact's
// sealed fields (an older backup) no longer opens; the contact's
// activities and tasks that outlive it are sealed again first, under
// their company's key or their own, and read as before; another
// contact's records are untouched.
func TestPurgeShredsClients(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	sl := seal.New(kek, 64, 64)
	f := testkit.NewFixture(t, service.Options{Hooks: service.WithSealing(service.NoHooks{}, sl)}, identity.Options{})
	p := f.As("alice")
	ptr := func(s string) *string { return &s }
	co, err := f.Records.CreateCompany(ctx, p, crm.CompanyInput{Name: ptr("Acme"), Notes: ptr("company notes")})
	if err != nil {
		t.Fatal(err)
	}
	x, err := f.Records.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("Purged"), Notes: ptr("purged notes"), CompanyID: crm.Value(co.ID)})
	if err != nil {
		t.Fatal(err)
	}
	y, err := f.Records.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("Kept"), Notes: ptr("kept notes")})
	if err != nil {
		t.Fatal(err)
	}
	withCompany, err := f.Records.CreateActivity(ctx, p, crm.ActivityInput{Type: ptr("note"), Subject: ptr("s"), Body: ptr("body one"),
		ContactID: crm.Value(x.ID), CompanyID: crm.Value(co.ID)})
	if err != nil {
		t.Fatal(err)
	}
	alone, err := f.Records.CreateActivity(ctx, p, crm.ActivityInput{Type: ptr("note"), Subject: ptr("s"), Body: ptr("body two"), ContactID: crm.Value(x.ID)})
	if err != nil {
		t.Fatal(err)
	}
	task, err := f.Records.CreateTask(ctx, p, crm.TaskInput{Title: ptr("t"), Description: ptr("task words"), ContactID: crm.Value(x.ID)})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := f.Records.CreateActivity(ctx, p, crm.ActivityInput{Type: ptr("note"), Subject: ptr("s"), Body: ptr("kept body"), ContactID: crm.Value(y.ID)})
	if err != nil {
		t.Fatal(err)
	}
	all := crm.Scope{All: true}
	var notes, body, keptBody string
	if err := f.Store.Read(ctx, func(tx crm.Tx) error {
		c, err := tx.ContactByID(ctx, all, x.ID, false)
		if err != nil {
			return err
		}
		a, err := tx.ActivityByID(ctx, all, withCompany.ID, false)
		if err != nil {
			return err
		}
		k, err := tx.ActivityByID(ctx, all, kept.ID, false)
		notes, body, keptBody = c.Notes, a.Body, k.Body
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// X goes to the bin, and its 30 days pass.
	if err := f.Records.DeleteContact(ctx, p, x.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.Write(ctx, func(tx crm.Tx) error {
		c, err := tx.ContactByID(ctx, all, x.ID, true)
		if err != nil {
			return err
		}
		old := time.Now().Add(-crm.DeleteGracePeriod - time.Hour)
		c.DeletedAt, c.Version = &old, c.Version+1
		return tx.UpdateContact(ctx, c)
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Records.PurgeDeleted(ctx); err != nil || n != 1 {
		t.Fatalf("PurgeDeleted = %d, %v", n, err)
	}

	opens := func(entity string, rec any) error {
		return f.Store.Read(ctx, func(tx crm.Tx) error { return seal.New(kek, 4, 4).Open(ctx, tx, entity, rec) })
	}
	if err := opens("contact", &crm.Contact{ID: x.ID, Notes: notes}); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("the purged contact's saved notes: %v; want them not to open", err)
	}
	if err := opens("activity", &crm.Activity{ID: withCompany.ID, Body: body}); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("the surviving activity's saved body under the purged key: %v; want it not to open", err)
	}
	if err := opens("activity", &crm.Activity{ID: kept.ID, Body: keptBody}); err != nil {
		t.Errorf("another contact's activity: %v", err)
	}
	for id, want := range map[int64]string{withCompany.ID: "body one", alone.ID: "body two", kept.ID: "kept body"} {
		a, err := f.Records.FindActivityByID(ctx, p, id)
		if err != nil || a.Body != want {
			t.Errorf("activity %d after the purge: %v %v, want %q", id, a, err, want)
		}
	}
	if tk, err := f.Records.FindTaskByID(ctx, p, task.ID); err != nil || tk.Description != "task words" {
		t.Errorf("the task after the purge: %v %v", tk, err)
	}
	if c, err := f.Records.FindContactByID(ctx, p, y.ID); err != nil || c.Notes != "kept notes" {
		t.Errorf("the other contact after the purge: %v %v", c, err)
	}
	if err := f.Store.Read(ctx, func(tx crm.Tx) error { _, err := tx.DataKeyOf(ctx, fmt.Sprintf("contact:%d", x.ID)); return err }); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("the purged contact's key: %v; want it gone", err)
	}
}
