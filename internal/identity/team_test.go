package identity_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// viaToken is the principal of a write token of the fixture user, as
// AuthenticateToken makes it from the user row: with the team and the
// teams the user manages, as a request would carry them.
func (f *fixture) viaToken(t *testing.T, name string) *crm.Principal {
	t.Helper()
	return tokenPrincipal(t, f.svc, f.users[name].ID)
}

// tokenPrincipal mints a write token for the user and authenticates it.
func tokenPrincipal(t *testing.T, idn *identity.Service, userID int64) *crm.Principal {
	t.Helper()
	ctx := context.Background()
	nt, err := idn.CreateToken(ctx, crm.SystemPrincipal(), userID, "test", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := idn.AuthenticateToken(ctx, nt.Secret, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustTeam(t *testing.T, f *fixture, name string, parent, manager *int64) *crm.Team {
	t.Helper()
	return createTeam(t, f.svc, f.as("admin"), name, parent, manager)
}

// createTeam creates a team as p, failing the test if it cannot.
func createTeam(t *testing.T, idn *identity.Service, p *crm.Principal, name string, parent, manager *int64) *crm.Team {
	t.Helper()
	in := crm.TeamInput{Name: &name}
	if parent != nil {
		in.ParentID = crm.Value(*parent)
	}
	if manager != nil {
		in.ManagerID = crm.Value(*manager)
	}
	tm, err := idn.CreateTeam(context.Background(), p, in)
	if err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return tm
}

func mustJoin(t *testing.T, f *fixture, team *crm.Team, user string) {
	t.Helper()
	if _, err := f.svc.AddTeamMember(context.Background(), f.as("admin"), team.ID, f.users[user].ID); err != nil {
		t.Fatalf("%s joins %s: %v", user, team.Name, err)
	}
}

// TestTeamsAdministration (ACL-2, AUTH-4): who may change teams, with
// which errors, and the events of each change in its transaction.
func TestTeamsAdministration(t *testing.T) {
	events := &eventLog{}
	f := newFixture(t, identity.Options{Events: events})
	ctx := context.Background()
	admin := f.as("admin")
	name := "Sales"

	// Only administrators, and only with a recent step-up.
	for _, who := range []string{"manager", "alice", "support", "auditor", "reader"} {
		_, err := f.svc.CreateTeam(ctx, f.as(who), crm.TeamInput{Name: &name})
		wantCode(t, err, crm.EFORBIDDEN)
	}
	stale := f.as("admin")
	stale.SteppedUpAt = f.now().Add(-time.Hour)
	_, err := f.svc.CreateTeam(ctx, stale, crm.TeamInput{Name: &name})
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	token := f.viaToken(t, "admin")
	_, err = f.svc.CreateTeam(ctx, token, crm.TeamInput{Name: &name})
	wantCode(t, err, crm.EFORBIDDEN)
	if teams, _ := f.svc.FindTeams(ctx, admin); len(teams) != 0 {
		t.Fatalf("refused creates left teams: %+v", teams)
	}

	sales := mustTeam(t, f, "Sales", nil, &f.users["manager"].ID)
	moscow := mustTeam(t, f, "Moscow", &sales.ID, nil)
	kazan := mustTeam(t, f, "Kazan", &moscow.ID, nil)

	// Bad input names its field and changes nothing.
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{})
	wantField(t, err, "name")
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("sales")})
	wantCode(t, err, crm.ECONFLICT)
	// One spelling of what looks the same: NFC, no invisible characters.
	if _, err := f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("Caf\u00e9")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("Cafe\u0301")})
	wantCode(t, err, crm.ECONFLICT)
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("Sales\u200b")})
	wantField(t, err, "name")
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("Orphans"), ParentID: crm.Value[int64](999999)})
	wantField(t, err, "parent_id")
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("Ghosts"), ManagerID: crm.Value[int64](999999)})
	wantField(t, err, "manager_id")
	// No cycles: not below itself, not below a team below it.
	_, err = f.svc.UpdateTeam(ctx, admin, sales.ID, crm.TeamInput{ParentID: crm.Value(sales.ID)}, 0)
	wantField(t, err, "parent_id")
	_, err = f.svc.UpdateTeam(ctx, admin, sales.ID, crm.TeamInput{ParentID: crm.Value(kazan.ID)}, 0)
	wantField(t, err, "parent_id")
	// A stale If-Match is refused.
	_, err = f.svc.UpdateTeam(ctx, admin, moscow.ID, crm.TeamInput{Name: ptr("Moskva")}, moscow.Version+1)
	wantCode(t, err, crm.EPRECONDITION)
	got, err := f.svc.FindTeam(ctx, f.as("alice"), moscow.ID)
	if err != nil || got.Name != "Moscow" || *got.ParentID != sales.ID || got.Version != 1 {
		t.Fatalf("Moscow after refused changes: %v %+v", err, got)
	}

	// Membership: one team at most; a second add moves the user.
	mustJoin(t, f, moscow, "alice")
	mustJoin(t, f, kazan, "alice")
	if got, _ := f.svc.FindTeam(ctx, admin, moscow.ID); len(got.Members) != 0 {
		t.Fatalf("Moscow still lists %v", got.Members)
	}
	if got, _ := f.svc.FindTeam(ctx, admin, kazan.ID); !slices.Equal(got.Members, []int64{f.users["alice"].ID}) {
		t.Fatalf("Kazan's members = %v", got.Members)
	}
	_, err = f.svc.RemoveTeamMember(ctx, admin, moscow.ID, f.users["alice"].ID)
	wantCode(t, err, crm.ENOTFOUND)
	_, err = f.svc.AddTeamMember(ctx, admin, moscow.ID, 999999)
	wantField(t, err, "user_id")
	_, err = f.svc.AddTeamMember(ctx, f.as("manager"), moscow.ID, f.users["bob"].ID)
	wantCode(t, err, crm.EFORBIDDEN)

	// A team with members or sub-teams stays.
	wantCode(t, f.svc.DeleteTeam(ctx, admin, kazan.ID), crm.ECONFLICT)
	wantCode(t, f.svc.DeleteTeam(ctx, admin, sales.ID), crm.ECONFLICT)
	if _, err := f.svc.RemoveTeamMember(ctx, admin, kazan.ID, f.users["alice"].ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteTeam(ctx, admin, kazan.ID); err != nil {
		t.Fatal(err)
	}

	for _, want := range []struct{ typ, detail string }{
		{"team.create", "Sales"}, {"team.create", "Kazan"}, {"team.member.add", "Moscow"},
		{"team.member.add", "Kazan"}, {"team.member.remove", "Kazan"}, {"team.delete", "Kazan"},
	} {
		if !events.has(want.typ, want.detail) {
			t.Errorf("no %s event for %s", want.typ, want.detail)
		}
	}
	for _, e := range events.all() {
		if e.Type == "team.update" {
			t.Errorf("a refused update was recorded: %+v", e)
		}
	}
	// A failing event sink fails the change: nothing is written.
	events.failOn("team.create")
	_, err = f.svc.CreateTeam(ctx, admin, crm.TeamInput{Name: ptr("Unrecorded")})
	if err == nil {
		t.Fatal("a team was created while its event could not be recorded")
	}
	teams, _ := f.svc.FindTeams(ctx, admin)
	if slices.ContainsFunc(teams, func(x *crm.Team) bool { return x.Name == "Unrecorded" }) {
		t.Fatal("the unrecorded team was written")
	}
}

// TestManagersSeeTheirTeams (ACL-2, ASVS v5.0.0-8.2.2): a manager sees and
// edits the records of the teams they manage and of every team below, and
// nothing of a sibling team; a record's team follows its owner, and moving
// a user moves what the managers see, on the next request.
func TestManagersSeeTheirTeams(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	head, lead := f.users["manager"].ID, f.users["support"].ID
	sales := mustTeam(t, f, "Sales", nil, &head)
	moscow := mustTeam(t, f, "Moscow", &sales.ID, &lead)
	kazan := mustTeam(t, f, "Kazan", &sales.ID, nil)
	mustJoin(t, f, moscow, "alice")
	mustJoin(t, f, kazan, "bob")

	alice, bob := f.viaToken(t, "alice"), f.viaToken(t, "bob")
	if alice.TeamID != moscow.ID || len(alice.Teams) != 0 {
		t.Fatalf("alice's principal: team %d, sees %v", alice.TeamID, alice.Teams)
	}
	aliceContact, err := f.records.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Anna"), LastName: ptr("Moscow")})
	if err != nil {
		t.Fatal(err)
	}
	if aliceContact.TeamID == nil || *aliceContact.TeamID != moscow.ID {
		t.Fatalf("alice's contact team = %v, want Moscow", aliceContact.TeamID)
	}
	bobContact, err := f.records.CreateContact(ctx, bob, crm.ContactInput{FirstName: ptr("Boris"), LastName: ptr("Kazan")})
	if err != nil {
		t.Fatal(err)
	}

	headP, leadP := f.viaToken(t, "manager"), f.viaToken(t, "support")
	if !slices.Equal(headP.Teams, []int64{sales.ID, moscow.ID, kazan.ID}) || !slices.Equal(leadP.Teams, []int64{moscow.ID}) {
		t.Fatalf("managers see %v and %v", headP.Teams, leadP.Teams)
	}
	visible := func(p *crm.Principal) []int64 {
		t.Helper()
		pg, err := f.records.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range pg.Items {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		return ids
	}
	both := []int64{aliceContact.ID, bobContact.ID}
	slices.Sort(both)
	if got := visible(headP); !slices.Equal(got, both) {
		t.Errorf("the head of sales sees %v, want %v", got, both)
	}
	if got := visible(leadP); !slices.Equal(got, []int64{aliceContact.ID}) {
		t.Errorf("Moscow's lead sees %v, want only alice's", got)
	}
	if got := visible(bob); !slices.Equal(got, []int64{bobContact.ID}) {
		t.Errorf("bob sees %v, want only his own", got)
	}
	// Moscow's lead edits alice's contact but not bob's, which is not found.
	if _, err := f.records.UpdateContact(ctx, leadP, aliceContact.ID, crm.ContactInput{Title: ptr("Buyer")}, 0); err != nil {
		t.Errorf("Moscow's lead edits alice's contact: %v", err)
	}
	_, err = f.records.FindContactByID(ctx, leadP, bobContact.ID)
	wantCode(t, err, crm.ENOTFOUND)
	_, err = f.records.UpdateContact(ctx, leadP, bobContact.ID, crm.ContactInput{Title: ptr("Hacked")}, 0)
	wantCode(t, err, crm.ENOTFOUND)
	// The company search of a contact search stays within the scope too.
	if _, err := f.records.CreateCompany(ctx, bob, crm.CompanyInput{Name: ptr("Kazan Steel")}); err != nil {
		t.Fatal(err)
	}
	if pg, err := f.records.FindContacts(ctx, leadP, crm.ContactFilter{Q: "kazan"}, crm.ListOptions{}); err != nil || len(pg.Items) != 0 {
		t.Errorf("Moscow's lead searching kazan: %v %d items", err, len(pg.Items))
	}
	// ...and finds a contact of the team by its company's name.
	volga, err := f.records.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Volga Trade")})
	if err != nil {
		t.Fatal(err)
	}
	linked, err := f.records.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Linked"), CompanyID: crm.Value(volga.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if pg, err := f.records.FindContacts(ctx, leadP, crm.ContactFilter{Q: "volga"}, crm.ListOptions{}); err != nil ||
		len(pg.Items) != 1 || pg.Items[0].ID != linked.ID {
		t.Errorf("Moscow's lead searching the team's company: %v %+v", err, pg)
	}

	if err := f.records.DeleteContact(ctx, alice, linked.ID); err != nil {
		t.Fatal(err)
	}

	// Alice moves to Kazan: her contact moves with her.
	mustJoin(t, f, kazan, "alice")
	leadP = f.viaToken(t, "support")
	if got := visible(leadP); len(got) != 0 {
		t.Errorf("Moscow's lead still sees %v after alice left", got)
	}
	moved, err := f.records.FindContactByID(ctx, headP, aliceContact.ID)
	if err != nil || moved.TeamID == nil || *moved.TeamID != kazan.ID {
		t.Fatalf("alice's contact after the move: %v %+v", err, moved)
	}
	// Kazan has no manager; giving it one takes effect on the next request.
	if _, err := f.svc.UpdateTeam(ctx, admin, kazan.ID, crm.TeamInput{ManagerID: crm.Value(lead)}, 0); err != nil {
		t.Fatal(err)
	}
	if got := visible(f.viaToken(t, "support")); !slices.Equal(got, both) {
		t.Errorf("Kazan's new manager sees %v, want %v", got, both)
	}
	// A team's manager changes the team's tasks too, not only reads them.
	task, err := f.records.CreateTask(ctx, bob, crm.TaskInput{Title: ptr("Call")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.records.UpdateTask(ctx, f.viaToken(t, "support"), task.ID, crm.TaskInput{Title: ptr("Call back")}, 0); err != nil {
		t.Errorf("Kazan's manager changes a Kazan task: %v", err)
	}
	// Reassigning to a user of another team moves the record there.
	moved, err = f.records.UpdateContact(ctx, headP, bobContact.ID, crm.ContactInput{OwnerID: &f.users["alice"].ID}, 0)
	if err != nil || moved.TeamID == nil || *moved.TeamID != kazan.ID {
		t.Fatalf("reassigned to alice (Kazan): %v %+v", err, moved)
	}
	// Reassigning gives the record the new owner's team.
	carolContact, err := f.records.UpdateContact(ctx, headP, aliceContact.ID, crm.ContactInput{OwnerID: &f.users["reader"].ID}, 0)
	if err != nil || carolContact.TeamID != nil {
		t.Fatalf("reassigned to a user without a team: %v %+v", err, carolContact)
	}
	// Removing the head's team leaves the head their own records only.
	if _, err := f.svc.UpdateTeam(ctx, admin, sales.ID, crm.TeamInput{ManagerID: crm.Null[int64]()}, 0); err != nil {
		t.Fatal(err)
	}
	if got := visible(f.viaToken(t, "manager")); len(got) != 0 {
		t.Errorf("the head of sales without a team sees %v", got)
	}
}

// TestTeamDefaults (ACL-2 item 2): with contacts team-read and deals
// team-write, the members of a record's team read its contacts and change
// its deals; companies stay private; a contact's team sees the contact's
// whole timeline; nobody outside the team sees more than before.
func TestTeamDefaults(t *testing.T) {
	pol, err := policy.ParseVisibility("private,contacts=team-read,deals=team-write")
	if err != nil {
		t.Fatal(err)
	}
	k := testkit.NewFixture(t, service.Options{Policy: pol}, identity.Options{})
	f := &fixture{svc: k.Identity, records: k.Records, store: k.Store, users: k.Users, now: k.Now, kit: k}
	ctx := context.Background()
	moscow := mustTeam(t, f, "Moscow", nil, nil)
	mustJoin(t, f, moscow, "alice")
	mustJoin(t, f, moscow, "bob")
	alice, bob, outsider := f.viaToken(t, "alice"), f.viaToken(t, "bob"), f.viaToken(t, "support")

	contact, err := f.records.CreateContact(ctx, bob, crm.ContactInput{LastName: ptr("Bob's client")})
	if err != nil {
		t.Fatal(err)
	}
	note, err := f.records.CreateActivity(ctx, bob, crm.ActivityInput{Type: ptr("note"), Subject: ptr("bob's note"), ContactID: crm.Value(contact.ID)})
	if err != nil {
		t.Fatal(err)
	}
	company, err := f.records.CreateCompany(ctx, bob, crm.CompanyInput{Name: ptr("Bob's Company")})
	if err != nil {
		t.Fatal(err)
	}
	pipelines, err := f.records.FindPipelines(ctx, bob)
	if err != nil || len(pipelines) == 0 || len(pipelines[0].Stages) == 0 {
		t.Fatalf("pipelines: %v %v", err, pipelines)
	}
	deal, err := f.records.CreateDeal(ctx, bob, crm.DealInput{Title: ptr("Bob's deal"), StageID: &pipelines[0].Stages[0].ID})
	if err != nil {
		t.Fatal(err)
	}

	// Contacts: team-read. Alice reads, may not change (403: she sees it).
	if _, err := f.records.FindContactByID(ctx, alice, contact.ID); err != nil {
		t.Errorf("alice reads her team's contact: %v", err)
	}
	_, err = f.records.UpdateContact(ctx, alice, contact.ID, crm.ContactInput{Title: ptr("x")}, 0)
	wantCode(t, err, crm.EFORBIDDEN)
	// Its whole timeline, bob's note included.
	tl, err := f.records.FindTimeline(ctx, alice, contact.ID, crm.ListOptions{})
	if err != nil || len(tl.Items) != 1 || tl.Items[0].ID != note.ID {
		t.Errorf("alice's timeline of her team's contact: %v %+v", err, tl)
	}
	// Deals: team-write. Alice changes bob's deal; it stays bob's.
	if d, err := f.records.UpdateDeal(ctx, alice, deal.ID, crm.DealInput{Title: ptr("Alice helped")}, 0); err != nil || d.OwnerID != bob.UserID {
		t.Errorf("alice changes her team's deal: %v %+v", err, d)
	}
	// Companies: private. Not found for alice, and a contact search by its
	// name does not reveal it.
	_, err = f.records.FindCompanyByID(ctx, alice, company.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if _, err := f.records.UpdateContact(ctx, bob, contact.ID, crm.ContactInput{CompanyID: crm.Value(company.ID)}, 0); err != nil {
		t.Fatal(err)
	}
	if pg, err := f.records.FindContacts(ctx, alice, crm.ContactFilter{Q: "bob's com"}, crm.ListOptions{}); err != nil || len(pg.Items) != 0 {
		t.Errorf("alice's search by a private company's name: %v %+v", err, pg)
	}
	if pg, err := f.records.FindContacts(ctx, bob, crm.ContactFilter{Q: "bob's com"}, crm.ListOptions{}); err != nil || len(pg.Items) != 1 {
		t.Errorf("bob's search by his company's name: %v %+v", err, pg)
	}
	// Outside the team nothing is visible.
	for name, read := range map[string]func() error{
		"contact": func() error { _, err := f.records.FindContactByID(ctx, outsider, contact.ID); return err },
		"deal":    func() error { _, err := f.records.FindDealByID(ctx, outsider, deal.ID); return err },
		"timeline": func() error {
			_, err := f.records.FindTimeline(ctx, outsider, contact.ID, crm.ListOptions{})
			return err
		},
	} {
		if err := read(); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("an outsider reads bob's %s: %v", name, err)
		}
	}
	// Leaving the team ends it at once.
	if _, err := f.svc.RemoveTeamMember(ctx, f.as("admin"), moscow.ID, f.users["alice"].ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.records.FindContactByID(ctx, f.viaToken(t, "alice"), contact.ID)
	wantCode(t, err, crm.ENOTFOUND)
}

// TestRecordTeamFromUserRow (ACL-2): a record made by a request
// authenticated before its user moved takes the user's new team, not the
// one the principal still names.
func TestRecordTeamFromUserRow(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	lead := f.users["support"].ID
	moscow := mustTeam(t, f, "Moscow", nil, &lead)
	kazan := mustTeam(t, f, "Kazan", nil, nil)
	mustJoin(t, f, moscow, "alice")
	alice := f.viaToken(t, "alice") // the request is authenticated...
	mustJoin(t, f, kazan, "alice")  // ...then an administrator moves alice
	c, err := f.records.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Late")})
	if err != nil {
		t.Fatal(err)
	}
	if c.TeamID == nil || *c.TeamID != kazan.ID {
		t.Fatalf("the new contact's team = %v, want Kazan (%d)", c.TeamID, kazan.ID)
	}
	_, err = f.records.FindContactByID(ctx, f.viaToken(t, "support"), c.ID)
	wantCode(t, err, crm.ENOTFOUND)
}
