package service_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// recorder is an event sink that keeps what it is given, or refuses.
type recorder struct {
	mu     sync.Mutex
	events []crm.Event
	fail   bool
}

func (r *recorder) Emit(_ context.Context, _ crm.Tx, e crm.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("the sink is down")
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Type)
	}
	return out
}

func contactIDs(t *testing.T, f *fixture, p *crm.Principal, flt crm.ContactFilter) []int64 {
	t.Helper()
	pg, err := f.svc.FindContacts(context.Background(), p, flt, crm.ListOptions{Limit: 200})
	if err != nil {
		t.Fatalf("list contacts: %v", err)
	}
	var ids []int64
	for _, c := range pg.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestShareRecord (ACL-2, ACL-4; ASVS v5.0.0-8.2.2): a share gives its
// grantee exactly the access it names, on exactly one record, until it is
// revoked or expires; only whoever controls the record shares it, with a
// recent step-up; and each change is an event in its transaction.
func TestShareRecord(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, service.Options{Events: rec})
	ctx := context.Background()
	alice, bob := f.as("alice"), f.as("bob")
	co, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Acme")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Shared"), CompanyID: crm.Value(co.ID)})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Colleague"), CompanyID: crm.Value(co.ID)})
	if err != nil {
		t.Fatal(err)
	}
	note, err := f.svc.CreateActivity(ctx, alice, crm.ActivityInput{Type: ptr("note"), Subject: ptr("first call"), ContactID: crm.Value(c.ID)})
	if err != nil {
		t.Fatal(err)
	}

	// Before: bob sees nothing of it.
	_, err = f.svc.FindContactByID(ctx, bob, c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	_, err = f.svc.FindShares(ctx, bob, "contact", c.ID)
	wantCode(t, err, crm.ENOTFOUND)

	// Bob cannot share what he cannot see, nor grant himself access.
	_, _, err = f.svc.ShareRecord(ctx, bob, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID})
	wantCode(t, err, crm.ENOTFOUND)

	sh, created, err := f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID})
	if err != nil || !created || sh.Access != crm.ShareRead || sh.ID == 0 {
		t.Fatalf("share: %+v %v %v", sh, created, err)
	}
	got, err := f.svc.FindContactByID(ctx, bob, c.ID)
	if err != nil || got.LastName != "Shared" {
		t.Fatalf("bob reads the shared contact: %v %v", got, err)
	}
	// Its timeline (alice's note) and consents come with it.
	tl, err := f.svc.FindTimeline(ctx, bob, c.ID, crm.ListOptions{})
	if err != nil || len(tl.Items) != 1 || tl.Items[0].ID != note.ID {
		t.Fatalf("bob's timeline of the shared contact: %v %v", tl, err)
	}
	if _, err := f.svc.FindConsents(ctx, bob, c.ID); err != nil {
		t.Fatalf("consents of the shared contact: %v", err)
	}
	// Lists hold it (filtered in the query), not the other contact of its company.
	if ids := contactIDs(t, f, bob, crm.ContactFilter{}); !slices.Equal(ids, []int64{c.ID}) {
		t.Errorf("bob's list: %v, want only %d", ids, c.ID)
	}
	if ids := contactIDs(t, f, bob, crm.ContactFilter{CompanyID: co.ID}); !slices.Equal(ids, []int64{c.ID}) {
		t.Errorf("bob's list of the company's contacts: %v, want only %d", ids, c.ID)
	}
	if ids := contactIDs(t, f, bob, crm.ContactFilter{Q: "sha"}); !slices.Equal(ids, []int64{c.ID}) {
		t.Errorf("bob's search: %v", ids)
	}
	if ids := contactIDs(t, f, bob, crm.ContactFilter{Q: "coll"}); len(ids) != 0 {
		t.Errorf("bob's search found the unshared contact: %v", ids)
	}
	_, err = f.svc.FindContactByID(ctx, bob, other.ID)
	wantCode(t, err, crm.ENOTFOUND)
	// A read share changes nothing: bob sees, so 403.
	_, err = f.svc.UpdateContact(ctx, bob, c.ID, crm.ContactInput{Title: ptr("CEO")}, 0)
	wantCode(t, err, crm.EFORBIDDEN)

	// Write: bob changes it, but never deletes, gives away or shares it.
	if _, created, err = f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID, Access: ptr("write")}); err != nil || created {
		t.Fatalf("re-share for write: created %v, %v", created, err)
	}
	if _, err := f.svc.UpdateContact(ctx, bob, c.ID, crm.ContactInput{Title: ptr("CEO")}, 0); err != nil {
		t.Fatalf("bob's write through a write share: %v", err)
	}
	wantCode(t, f.svc.DeleteContact(ctx, bob, c.ID), crm.EFORBIDDEN)
	_, _, err = f.svc.ShareRecord(ctx, bob, "contact", c.ID, crm.ShareInput{UserID: &f.users["support"].ID})
	wantCode(t, err, crm.EFORBIDDEN)
	// Who else has access is the owner's to know, not the sharee's.
	_, err = f.svc.FindShares(ctx, bob, "contact", c.ID)
	wantCode(t, err, crm.EFORBIDDEN)
	shares, err := f.svc.FindShares(ctx, alice, "contact", c.ID)
	if err != nil || len(shares) != 1 || shares[0].Access != crm.ShareWrite {
		t.Fatalf("alice lists the shares: %+v %v", shares, err)
	}
	// A manager through a write share cannot transfer it either.
	mgr := f.as("manager")
	if _, _, err := f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["manager"].ID, Access: ptr("write")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateContact(ctx, mgr, c.ID, crm.ContactInput{OwnerID: &f.users["manager"].ID}, 0)
	wantCode(t, err, crm.EFORBIDDEN)
	if crm.ErrorFields(err)["owner_id"] == "" {
		t.Errorf("the refused transfer does not name owner_id: %v", err)
	}

	// Revoked: gone from the next request.
	if err := f.svc.RevokeShare(ctx, alice, "contact", c.ID, sh.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FindContactByID(ctx, bob, c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if ids := contactIDs(t, f, bob, crm.ContactFilter{}); len(ids) != 0 {
		t.Errorf("bob's list after the revocation: %v", ids)
	}
	wantCode(t, f.svc.RevokeShare(ctx, alice, "contact", c.ID, sh.ID), crm.ENOTFOUND)

	if want := []string{"share.create", "share.update", "share.create", "share.revoke"}; !slices.Equal(rec.types(), want) {
		t.Errorf("events %v, want %v", rec.types(), want)
	}
	for _, e := range rec.events {
		if e.Entity != "contact" || e.RecordID != c.ID || e.ActorID != f.users["alice"].ID {
			t.Errorf("event %+v does not name the record and the actor", e)
		}
	}

	// A sink that fails rolls the share back.
	rec.fail = true
	_, _, err = f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID})
	if err == nil {
		t.Fatal("a share committed without its event")
	}
	rec.fail = false
	_, err = f.svc.FindContactByID(ctx, bob, c.ID)
	wantCode(t, err, crm.ENOTFOUND)
}

// TestShareRules: the bad inputs and the principals that may not share
// (ACL-1, AUTH-4).
func TestShareRules(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice := f.as("alice")
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("X")})
	if err != nil {
		t.Fatal(err)
	}
	bob := f.users["bob"].ID
	for _, tc := range []struct {
		name  string
		in    crm.ShareInput
		field string
	}{
		{"no grantee", crm.ShareInput{}, "user_id"},
		{"both grantees", crm.ShareInput{UserID: &bob, TeamID: ptr[int64](1)}, "team_id"},
		{"the owner", crm.ShareInput{UserID: &f.users["alice"].ID}, "user_id"},
		{"unknown user", crm.ShareInput{UserID: ptr[int64](9999)}, "user_id"},
		{"unknown team", crm.ShareInput{TeamID: ptr[int64](9999)}, "team_id"},
		{"bad access", crm.ShareInput{UserID: &bob, Access: ptr("admin")}, "access"},
		{"past expiry", crm.ShareInput{UserID: &bob, ExpiresAt: crm.Value(time.Now().Add(-time.Minute))}, "expires_at"},
	} {
		_, _, err := f.svc.ShareRecord(ctx, alice, "contact", c.ID, tc.in)
		wantField(t, err, tc.field)
	}
	// A stale step-up, an API token, a role without the share verb.
	stale := f.as("alice")
	stale.SteppedUpAt = time.Now().Add(-time.Hour)
	_, _, err = f.svc.ShareRecord(ctx, stale, "contact", c.ID, crm.ShareInput{UserID: &bob})
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	tok := f.as("alice")
	tok.Kind, tok.Scope = crm.KindToken, crm.ScopeWrite
	_, _, err = f.svc.ShareRecord(ctx, tok, "contact", c.ID, crm.ShareInput{UserID: &bob})
	wantCode(t, err, crm.EFORBIDDEN)
	sup, err := f.svc.CreateContact(ctx, f.as("support"), crm.ContactInput{LastName: ptr("Mine")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = f.svc.ShareRecord(ctx, f.as("support"), "contact", sup.ID, crm.ShareInput{UserID: &bob})
	wantCode(t, err, crm.EFORBIDDEN)
	if shares, _ := f.svc.FindShares(ctx, alice, "contact", c.ID); len(shares) != 0 {
		t.Errorf("a refused share was written: %+v", shares)
	}
}

// TestShareExpiry: a share that expired a second ago grants nothing, in
// a read, a list and a write (ACL-2). It is written to the store directly
// with a past expiry, which the service refuses to make.
func TestShareExpiry(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob := f.as("alice"), f.as("bob")
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Expiring")})
	if err != nil {
		t.Fatal(err)
	}
	put := func(expires time.Time) {
		err := f.store.Write(ctx, func(tx crm.Tx) error {
			_, err := tx.PutShare(ctx, &crm.Share{Entity: "contact", RecordID: c.ID, UserID: &f.users["bob"].ID,
				Access: crm.ShareWrite, ExpiresAt: &expires, CreatedBy: f.users["alice"].ID, CreatedAt: tx.Now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(time.Now().Add(-time.Second))
	_, err = f.svc.FindContactByID(ctx, bob, c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if ids := contactIDs(t, f, bob, crm.ContactFilter{}); len(ids) != 0 {
		t.Errorf("bob lists %v through an expired share", ids)
	}
	_, err = f.svc.UpdateContact(ctx, bob, c.ID, crm.ContactInput{Title: ptr("x")}, 0)
	wantCode(t, err, crm.ENOTFOUND)
	shares, err := f.svc.FindShares(ctx, alice, "contact", c.ID)
	if err != nil || len(shares) != 1 || !shares[0].Expired {
		t.Fatalf("the expired share is listed as expired: %+v %v", shares, err)
	}
	// The same share a minute into the future works, for writing too.
	put(time.Now().Add(time.Minute))
	if _, err := f.svc.UpdateContact(ctx, bob, c.ID, crm.ContactInput{Title: ptr("x")}, 0); err != nil {
		t.Fatalf("a live write share: %v", err)
	}
	if ids := contactIDs(t, f, bob, crm.ContactFilter{}); !slices.Equal(ids, []int64{c.ID}) {
		t.Errorf("bob's list through the live share: %v", ids)
	}
}

// TestShareWithTeam: a share with a team reaches its members and the
// managers above it, and nobody else (ACL-2).
func TestShareWithTeam(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	sys := crm.SystemPrincipal()
	top, err := f.idn.CreateTeam(ctx, sys, crm.TeamInput{Name: ptr("Sales"), ManagerID: crm.Value(f.users["manager"].ID)})
	if err != nil {
		t.Fatal(err)
	}
	kazan, err := f.idn.CreateTeam(ctx, sys, crm.TeamInput{Name: ptr("Kazan"), ParentID: crm.Value(top.ID)})
	if err != nil {
		t.Fatal(err)
	}
	moscow, err := f.idn.CreateTeam(ctx, sys, crm.TeamInput{Name: ptr("Moscow"), ParentID: crm.Value(top.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.idn.AddTeamMember(ctx, sys, kazan.ID, f.users["bob"].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.idn.AddTeamMember(ctx, sys, moscow.ID, f.users["support"].ID); err != nil {
		t.Fatal(err)
	}
	alice := f.as("alice") // in no team
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("For Kazan")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{TeamID: &kazan.ID}); err != nil {
		t.Fatal(err)
	}
	for email, sees := range map[string]bool{
		"bob@example.com":     true,  // a member of Kazan
		"manager@example.com": true,  // manages Sales, above Kazan
		"support@example.com": false, // a member of Moscow, a sibling
		"reader@example.com":  true,  // reads everything anyway
	} {
		p := f.kit.Principal(t, email)
		_, err := f.svc.FindContactByID(ctx, p, c.ID)
		if (err == nil) != sees {
			t.Errorf("%s: %v, want seen %v", email, err, sees)
		}
		if ids := contactIDs(t, f, p, crm.ContactFilter{Q: "for k"}); slices.Contains(ids, c.ID) != sees {
			t.Errorf("%s: search %v, want seen %v", email, ids, sees)
		}
	}
}

// TestShareIsNotPassedOn (ACL-2): a write sharee of a task cannot give it
// to someone else (which would let them read it) nor to themselves (to
// keep it after the share ends); the task's owner can.
func TestShareIsNotPassedOn(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice := f.as("alice")
	tk, err := f.svc.CreateTask(ctx, alice, crm.TaskInput{Title: ptr("Call back"), Description: ptr("about the contract")})
	if err != nil {
		t.Fatal(err)
	}
	sh, _, err := f.svc.ShareRecord(ctx, alice, "task", tk.ID, crm.ShareInput{UserID: &f.users["support"].ID, Access: ptr("write")})
	if err != nil {
		t.Fatal(err)
	}
	sup := f.as("support")
	for _, to := range []int64{f.users["bob"].ID, f.users["support"].ID} {
		_, err := f.svc.UpdateTask(ctx, sup, tk.ID, crm.TaskInput{AssigneeID: &to}, 0)
		wantCode(t, err, crm.EFORBIDDEN)
		if crm.ErrorFields(err)["assignee_id"] == "" {
			t.Errorf("the refusal names no field: %v", err)
		}
	}
	if _, err := f.svc.UpdateTask(ctx, sup, tk.ID, crm.TaskInput{Status: ptr(crm.TaskDone)}, 0); err != nil {
		t.Errorf("the sharee's status change: %v", err)
	}
	_, err = f.svc.FindTaskByID(ctx, f.as("bob"), tk.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if err := f.svc.RevokeShare(ctx, alice, "task", tk.ID, sh.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FindTaskByID(ctx, sup, tk.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if _, err := f.svc.UpdateTask(ctx, alice, tk.ID, crm.TaskInput{AssigneeID: &f.users["bob"].ID}, 0); err != nil {
		t.Errorf("the owner assigns the task: %v", err)
	}
}

// TestHiddenLinkKept (ACL-2, ACL-4): a write sharee of a contact cannot
// unlink it from a company they cannot see, nor tell by the answer whether
// that company exists; other changes go through and keep the link.
func TestHiddenLinkKept(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob := f.as("alice"), f.as("bob")
	co, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Secret Holdings")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Linked"), CompanyID: crm.Value(co.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID, Access: ptr("write")}); err != nil {
		t.Fatal(err)
	}
	mine, err := f.svc.CreateCompany(ctx, bob, crm.CompanyInput{Name: ptr("Bob's")})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []crm.ContactInput{{CompanyID: crm.Null[int64]()}, {CompanyID: crm.Value(mine.ID)}} {
		_, err := f.svc.UpdateContact(ctx, bob, c.ID, in, 0)
		wantCode(t, err, crm.EFORBIDDEN)
		if crm.ErrorFields(err)["company_id"] == "" {
			t.Errorf("the refusal names no field: %v", err)
		}
	}
	if _, err := f.svc.UpdateContact(ctx, bob, c.ID, crm.ContactInput{Title: ptr("CFO"), CompanyID: crm.Value(co.ID)}, 0); err != nil {
		t.Errorf("a change that keeps the link: %v", err)
	}
	got, err := f.svc.FindContactByID(ctx, alice, c.ID)
	if err != nil || got.CompanyID == nil || *got.CompanyID != co.ID || got.Title != "CFO" {
		t.Errorf("after bob's changes: %+v %v", got, err)
	}
}
