package service_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/testkit"
)

// fixture is the record service (svc) over a fresh embedded store with one
// user per role (testkit.Fixture), and the identity service beside it.
type fixture struct {
	svc   *service.Service
	idn   *identity.Service
	store *sqlite.DB
	users map[string]*crm.User // by short name
	kit   *testkit.Fixture
}

var wantCode, wantField = testkit.WantCode, testkit.WantField

func newFixture(t *testing.T, o service.Options) *fixture {
	t.Helper()
	k := testkit.NewFixture(t, o, identity.Options{})
	return &fixture{svc: k.Records, idn: k.Identity, store: k.Store, users: k.Users, kit: k}
}

// as returns a fully signed-in session principal of a fixture user.
func (f *fixture) as(name string) *crm.Principal { return f.kit.As(name) }

func ptr[T any](v T) *T { return &v }

func TestContactValidation(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	long := strings.Repeat("я", 101)
	cases := []struct {
		name  string
		in    crm.ContactInput
		field string
	}{
		{"no name", crm.ContactInput{Email: ptr("a@example.com")}, "last_name"},
		{"over-long name", crm.ContactInput{FirstName: &long}, "first_name"},
		{"bad email", crm.ContactInput{LastName: ptr("X"), Email: ptr("not-an-email")}, "email"},
		{"email with display name", crm.ContactInput{LastName: ptr("X"), Email: ptr("Eve <eve@example.com>")}, "email"},
		{"bad phone", crm.ContactInput{LastName: ptr("X"), Phone: ptr("12345")}, "phone"},
		{"phone letters", crm.ContactInput{LastName: ptr("X"), Phone: ptr("+7 abc")}, "phone"},
		{"bad birthday", crm.ContactInput{LastName: ptr("X"), Birthday: ptr("2024-02-30")}, "birthday"},
		{"invalid utf-8", crm.ContactInput{LastName: ptr("X\xff")}, "last_name"},
		{"control char", crm.ContactInput{LastName: ptr("X\x00Y")}, "last_name"},
		{"unknown company", crm.ContactInput{LastName: ptr("X"), CompanyID: crm.Value[int64](999)}, "company_id"},
		{"negative company", crm.ContactInput{LastName: ptr("X"), CompanyID: crm.Value[int64](-1)}, "company_id"},
		{"bad channel", crm.ContactInput{LastName: ptr("X"), Preferences: &crm.PreferencesInput{Channel: ptr("pigeon")}}, "preferences.channel"},
		{"too many tags", crm.ContactInput{LastName: ptr("X"), Tags: ptr(strings.Split(strings.Repeat("t,", 21)+"t", ","))}, "tags"},
		{"someone else's owner", crm.ContactInput{LastName: ptr("X"), OwnerID: ptr(f.users["bob"].ID)}, "owner_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.CreateContact(ctx, p, c.in)
			if c.field == "owner_id" {
				wantCode(t, err, crm.EFORBIDDEN)
				return
			}
			wantField(t, err, c.field)
		})
	}
	// Nothing of the failed attempts was written.
	pg, err := f.svc.FindContacts(ctx, f.as("admin"), crm.ContactFilter{}, crm.ListOptions{})
	if err != nil || len(pg.Items) != 0 {
		t.Fatalf("contacts after failures: %d, %v; want none", len(pg.Items), err)
	}
}

func TestContactNormalisation(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	c, err := f.svc.CreateContact(ctx, f.as("alice"), crm.ContactInput{
		FirstName: ptr("  Иван "), LastName: ptr("Петров"), Email: ptr("Ivan.Petrov@Example.COM"),
		Phone: ptr("8 (916) 123-45-67"), Tags: ptr([]string{"VIP", "vip", " Partner "}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.FirstName != "Иван" || c.Email != "ivan.petrov@example.com" || c.Phone != "+79161234567" {
		t.Errorf("normalised: got %q %q %q", c.FirstName, c.Email, c.Phone)
	}
	if strings.Join(c.Tags, ",") != "vip,partner" {
		t.Errorf("tags: got %v, want [vip partner]", c.Tags)
	}
	if c.OwnerID != f.users["alice"].ID || c.Version != 1 {
		t.Errorf("owner %d version %d", c.OwnerID, c.Version)
	}
	// Exact filters find it by the normalised forms of other spellings.
	for _, flt := range []crm.ContactFilter{{Email: "IVAN.petrov@example.com"}, {Phone: "+7 916 123 45 67"}, {Tag: "VIP"}, {Q: "пет"}} {
		pg, err := f.svc.FindContacts(ctx, f.as("alice"), flt, crm.ListOptions{})
		if err != nil || len(pg.Items) != 1 {
			t.Errorf("filter %+v: got %d items, %v", flt, len(pg.Items), err)
		}
	}
}

// TestRecordAccess attacks record-level access: other owners, wrong roles
// and read-only tokens (ACL-2, ACL-4; attack 1 IDOR and 3 BFLA;
// ASVS v5.0.0-8.2.2).
func TestRecordAccess(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	c, err := f.svc.CreateContact(ctx, f.as("alice"), crm.ContactInput{LastName: ptr("Secret")})
	if err != nil {
		t.Fatal(err)
	}
	upd := crm.ContactInput{Notes: ptr("hijacked")}

	// Another sales rep: the record does not exist for them.
	_, err = f.svc.FindContactByID(ctx, f.as("bob"), c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	_, err = f.svc.UpdateContact(ctx, f.as("bob"), c.ID, upd, 0)
	wantCode(t, err, crm.ENOTFOUND)
	wantCode(t, f.svc.DeleteContact(ctx, f.as("bob"), c.ID), crm.ENOTFOUND)
	_, err = f.svc.FindTimeline(ctx, f.as("bob"), c.ID, crm.ListOptions{})
	wantCode(t, err, crm.ENOTFOUND)
	pg, _ := f.svc.FindContacts(ctx, f.as("bob"), crm.ContactFilter{Q: "secret"}, crm.ListOptions{})
	if len(pg.Items) != 0 {
		t.Errorf("bob's search found alice's contact")
	}
	// Nor can bob link his records to it.
	_, err = f.svc.CreateDeal(ctx, f.as("bob"), crm.DealInput{Title: ptr("x"), PipelineID: ptr(int64(1)), ContactID: crm.Value(c.ID)})
	wantField(t, err, "contact_id")

	// The auditor sees no client data at all.
	_, err = f.svc.FindContactByID(ctx, f.as("auditor"), c.ID)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.FindContacts(ctx, f.as("auditor"), crm.ContactFilter{}, crm.ListOptions{})
	wantCode(t, err, crm.EFORBIDDEN)

	// The read-only user reads but cannot change: forbidden, since it can see it.
	if _, err := f.svc.FindContactByID(ctx, f.as("reader"), c.ID); err != nil {
		t.Fatalf("reader: %v", err)
	}
	_, err = f.svc.UpdateContact(ctx, f.as("reader"), c.ID, upd, 0)
	wantCode(t, err, crm.EFORBIDDEN)

	// A read-scoped token of the owner cannot write.
	tok := f.as("alice")
	tok.Kind, tok.Scope = crm.KindToken, crm.ScopeRead
	_, err = f.svc.UpdateContact(ctx, tok, c.ID, upd, 0)
	wantCode(t, err, crm.EFORBIDDEN)

	// No principal: unauthenticated.
	_, err = f.svc.FindContactByID(ctx, nil, c.ID)
	wantCode(t, err, crm.EUNAUTHENTICATED)

	// A manager of no team sees only their own records (ACL-2: teams are
	// in internal/identity's team_test.go); an administrator sees and
	// changes everything, and may reassign.
	_, err = f.svc.UpdateContact(ctx, f.as("manager"), c.ID, crm.ContactInput{OwnerID: ptr(f.users["bob"].ID)}, 0)
	wantCode(t, err, crm.ENOTFOUND)
	got, err := f.svc.UpdateContact(ctx, f.as("admin"), c.ID, crm.ContactInput{OwnerID: ptr(f.users["bob"].ID)}, 0)
	if err != nil || got.OwnerID != f.users["bob"].ID {
		t.Fatalf("admin reassign: %v %+v", err, got)
	}
	if _, err := f.svc.FindContactByID(ctx, f.as("alice"), c.ID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("alice after reassignment: %v, want not found", err)
	}

	// With public-read visibility sales reads others' records but still
	// cannot change them.
	f.svc = service.New(f.store, service.Options{Policy: policy.Policy{Visibility: policy.PublicRead}, Logger: slog.New(slog.DiscardHandler)})
	if _, err := f.svc.FindContactByID(ctx, f.as("alice"), c.ID); err != nil {
		t.Fatalf("public-read: %v", err)
	}
	_, err = f.svc.UpdateContact(ctx, f.as("alice"), c.ID, upd, 0)
	wantCode(t, err, crm.EFORBIDDEN)
}

func TestOptimisticConcurrency(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	c, _ := f.svc.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("V")})
	c2, err := f.svc.UpdateContact(ctx, p, c.ID, crm.ContactInput{Title: ptr("CEO")}, c.Version)
	if err != nil || c2.Version != c.Version+1 {
		t.Fatalf("update with current version: %v, version %d", err, c2.Version)
	}
	_, err = f.svc.UpdateContact(ctx, p, c.ID, crm.ContactInput{Title: ptr("CTO")}, c.Version)
	wantCode(t, err, crm.EPRECONDITION)
	got, _ := f.svc.FindContactByID(ctx, p, c.ID)
	if got.Title != "CEO" {
		t.Errorf("stale update changed the record: title %q", got.Title)
	}
}

func TestSoftDeleteAndRestore(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	c, _ := f.svc.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("Gone")})
	if err := f.svc.DeleteContact(ctx, p, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.FindContactByID(ctx, p, c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	bin, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{Deleted: true}, crm.ListOptions{})
	if err != nil || len(bin.Items) != 1 {
		t.Fatalf("deleted list: %v %d", err, len(bin.Items))
	}
	// Support may not see the bin (no delete right).
	_, err = f.svc.FindContacts(ctx, f.as("support"), crm.ContactFilter{Deleted: true}, crm.ListOptions{})
	wantCode(t, err, crm.EFORBIDDEN)
	// Bob cannot restore alice's contact.
	_, err = f.svc.RestoreContact(ctx, f.as("bob"), c.ID)
	wantCode(t, err, crm.ENOTFOUND)
	if _, err := f.svc.RestoreContact(ctx, p, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FindContactByID(ctx, p, c.ID); err != nil {
		t.Fatalf("after restore: %v", err)
	}
}

func TestDealsAndPipelines(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	pls, err := f.svc.FindPipelines(ctx, p)
	if err != nil || len(pls) == 0 || len(pls[0].Stages) < 2 {
		t.Fatalf("pipelines: %v %v", err, pls)
	}
	first, second := pls[0].Stages[0], pls[0].Stages[1]
	d, err := f.svc.CreateDeal(ctx, p, crm.DealInput{Title: ptr("Big"), PipelineID: &pls[0].ID, Amount: ptr("1250.5"), Currency: ptr("eur")})
	if err != nil {
		t.Fatal(err)
	}
	if d.StageID != first.ID || d.Amount != "1250.50" || d.Currency != "EUR" {
		t.Errorf("deal: stage %d amount %q currency %q", d.StageID, d.Amount, d.Currency)
	}
	d, err = f.svc.UpdateDeal(ctx, p, d.ID, crm.DealInput{StageID: &second.ID}, 0)
	if err != nil || d.StageID != second.ID {
		t.Fatalf("move stage: %v", err)
	}
	for name, in := range map[string]crm.DealInput{
		"amount":   {Title: ptr("x"), StageID: &first.ID, Amount: ptr("12.345")},
		"currency": {Title: ptr("x"), StageID: &first.ID, Currency: ptr("EURO")},
		"stage_id": {Title: ptr("x"), StageID: ptr(int64(9999))},
		"title":    {StageID: &first.ID},
	} {
		_, err := f.svc.CreateDeal(ctx, p, in)
		wantField(t, err, name)
	}
	_, err = f.svc.CreatePipeline(ctx, p, crm.PipelineInput{Name: ptr("Mine"), Stages: []crm.StageInput{{Name: ptr("A")}}})
	wantCode(t, err, crm.EFORBIDDEN)
	pl, err := f.svc.CreatePipeline(ctx, f.as("manager"), crm.PipelineInput{Name: ptr("Support"), Stages: []crm.StageInput{{Name: ptr("New")}, {Name: ptr("Done"), Kind: ptr("won")}}})
	if err != nil || len(pl.Stages) != 2 || pl.Stages[1].ID == 0 {
		t.Fatalf("create pipeline: %v %+v", err, pl)
	}
	// A stage from another pipeline is refused.
	_, err = f.svc.CreateDeal(ctx, p, crm.DealInput{Title: ptr("x"), PipelineID: &pls[0].ID, StageID: &pl.Stages[0].ID})
	wantField(t, err, "stage_id")
}

func TestTimelineAndTasks(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	c, _ := f.svc.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("T")})
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i, typ := range []string{"call", "email", "meeting", "note"} {
		at := base.Add(time.Duration(i) * time.Hour)
		if _, err := f.svc.CreateActivity(ctx, p, crm.ActivityInput{Type: ptr(typ), Subject: ptr(typ), OccurredAt: &at, ContactID: crm.Value(c.ID)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.CreateActivity(ctx, p, crm.ActivityInput{Type: ptr("call"), Subject: ptr("orphan")})
	wantField(t, err, "contact_id")
	_, err = f.svc.CreateActivity(ctx, p, crm.ActivityInput{Type: ptr("fax"), Subject: ptr("x"), ContactID: crm.Value(c.ID)})
	wantField(t, err, "type")
	pg, err := f.svc.FindTimeline(ctx, p, c.ID, crm.ListOptions{Limit: 3})
	if err != nil || len(pg.Items) != 3 || pg.Items[0].Type != "note" || pg.NextCursor == "" {
		t.Fatalf("timeline page 1: %v %+v", err, pg)
	}
	pg2, err := f.svc.FindTimeline(ctx, p, c.ID, crm.ListOptions{Limit: 3, Cursor: pg.NextCursor})
	if err != nil || len(pg2.Items) != 1 || pg2.Items[0].Type != "call" || pg2.NextCursor != "" {
		t.Fatalf("timeline page 2: %v %+v", err, pg2)
	}

	// A task assigned to bob is visible to bob, not its linked contact.
	task, err := f.svc.CreateTask(ctx, p, crm.TaskInput{Title: ptr("Call back"), AssigneeID: &f.users["bob"].ID, ContactID: crm.Value(c.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FindTaskByID(ctx, f.as("bob"), task.ID); err != nil {
		t.Errorf("assignee cannot see task: %v", err)
	}
	if _, err := f.svc.FindContactByID(ctx, f.as("bob"), c.ID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("assignee sees the linked contact: %v", err)
	}
	_, err = f.svc.CreateTask(ctx, p, crm.TaskInput{Title: ptr("x"), Status: ptr("someday")})
	wantField(t, err, "status")
	_, err = f.svc.CreateTask(ctx, p, crm.TaskInput{Title: ptr("x"), AssigneeID: ptr(int64(4242))})
	wantField(t, err, "assignee_id")
}

func TestListOptions(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	for _, o := range []crm.ListOptions{{Sort: "password"}, {Sort: "last_name;DROP TABLE contacts"}, {Limit: 1000}, {Cursor: "not-a-cursor"}} {
		_, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, o)
		wantCode(t, err, crm.EINVALID)
	}
	for i := 0; i < 5; i++ {
		f.svc.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("Same")})
	}
	seen := map[int64]bool{}
	o := crm.ListOptions{Limit: 2, Sort: "-last_name"}
	for {
		pg, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range pg.Items {
			if seen[c.ID] {
				t.Fatalf("contact %d seen twice", c.ID)
			}
			seen[c.ID] = true
		}
		if pg.NextCursor == "" {
			break
		}
		o.Cursor = pg.NextCursor
	}
	if len(seen) != 5 {
		t.Errorf("paged through %d contacts, want 5", len(seen))
	}
	// A cursor made for another sort is refused.
	pg, _ := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Limit: 2})
	_, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Limit: 2, Sort: "created_at", Cursor: pg.NextCursor})
	wantField(t, err, "cursor")
}

// TestReviewFindings covers access rules found in review: a task's assignee
// may change only its status; the timeline follows the activity read scope;
// search by company name does not see hidden companies; owners change only
// with the assign right (attack 1, 2; ASVS v5.0.0-8.2.2, 8.2.3).
func TestReviewFindings(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob, mgr := f.as("alice"), f.as("bob"), f.as("admin") // mgr: one who sees and reassigns every record

	task, err := f.svc.CreateTask(ctx, alice, crm.TaskInput{Title: ptr("Call"), AssigneeID: &bob.UserID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateTask(ctx, bob, task.ID, crm.TaskInput{OwnerID: &bob.UserID, AssigneeID: &bob.UserID}, 0)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.UpdateTask(ctx, bob, task.ID, crm.TaskInput{Title: ptr("mine now")}, 0)
	wantCode(t, err, crm.EFORBIDDEN)
	wantCode(t, f.svc.DeleteTask(ctx, bob, task.ID), crm.EFORBIDDEN)
	done, err := f.svc.UpdateTask(ctx, bob, task.ID, crm.TaskInput{Status: ptr("done")}, 0)
	if err != nil || done.Status != "done" || done.OwnerID != alice.UserID {
		t.Fatalf("assignee status change: %v %+v", err, done)
	}
	if _, err := f.svc.FindTaskByID(ctx, alice, task.ID); err != nil {
		t.Fatalf("owner lost the task: %v", err)
	}
	if err := f.svc.DeleteTask(ctx, alice, task.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RestoreTask(ctx, bob, task.ID)
	if code := crm.ErrorCode(err); code != crm.EFORBIDDEN && code != crm.ENOTFOUND {
		t.Fatalf("assignee restores: %v", err)
	}

	// Timeline (ACL-2): whoever sees a contact sees its whole timeline, so
	// after a reassignment the new owner reads the previous owner's notes;
	// the activity itself stays bob's, and bob loses the timeline with the
	// contact.
	c, _ := f.svc.CreateContact(ctx, bob, crm.ContactInput{LastName: ptr("Moved")})
	if _, err := f.svc.CreateActivity(ctx, bob, crm.ActivityInput{Type: ptr("note"), Subject: ptr("bob's secret note"), ContactID: crm.Value(c.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateContact(ctx, mgr, c.ID, crm.ContactInput{OwnerID: &alice.UserID}, 0); err != nil {
		t.Fatal(err)
	}
	tl, err := f.svc.FindTimeline(ctx, alice, c.ID, crm.ListOptions{})
	if err != nil || len(tl.Items) != 1 || tl.Items[0].Subject != "bob's secret note" || tl.Items[0].OwnerID != bob.UserID {
		t.Fatalf("alice's timeline of the moved contact: %v %+v", err, tl)
	}
	_, err = f.svc.FindTimeline(ctx, bob, c.ID, crm.ListOptions{})
	wantCode(t, err, crm.ENOTFOUND)
	_, err = f.svc.FindActivityByID(ctx, alice, tl.Items[0].ID)
	wantCode(t, err, crm.ENOTFOUND) // the activity list and reads keep the activity's own rules

	// Company-name search only sees visible companies.
	zeta, _ := f.svc.CreateCompany(ctx, bob, crm.CompanyInput{Name: ptr("Zeta Secret Holdings")})
	if _, err := f.svc.CreateContact(ctx, mgr, crm.ContactInput{LastName: ptr("Linked"), OwnerID: &alice.UserID, CompanyID: crm.Value(zeta.ID)}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"zeta s": 0, "zeta": 0, "link": 1} {
		pg, err := f.svc.FindContacts(ctx, alice, crm.ContactFilter{Q: q}, crm.ListOptions{})
		if err != nil || len(pg.Items) != want {
			t.Errorf("alice searches %q: %v, %d results, want %d", q, err, len(pg.Items), want)
		}
	}
	if pg, _ := f.svc.FindContacts(ctx, mgr, crm.ContactFilter{Q: "zeta"}, crm.ListOptions{}); len(pg.Items) != 1 {
		t.Errorf("an administrator's company-name search: %d results, want 1", len(pg.Items))
	}

	// Sessions are managed from a browser session, never with a token.
	tok := f.as("alice")
	tok.Kind, tok.Scope = crm.KindToken, crm.ScopeRead
	_, err = f.idn.FindSessions(ctx, tok)
	wantCode(t, err, crm.EFORBIDDEN)
	wantCode(t, f.idn.RevokeSession(ctx, tok, "x"), crm.EFORBIDDEN)
}

// TestCursorsAreSealed: cursors carry no readable sort keys (personal data
// in URLs, ASVS v5.0.0-14.2.1) and tampering is refused.
func TestCursorsAreSealed(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	p := f.as("alice")
	for _, n := range []string{"Zebrowski", "Yablonsky"} {
		f.svc.CreateContact(ctx, p, crm.ContactInput{LastName: ptr(n), Email: ptr(strings.ToLower(n) + "@example.com")})
	}
	for _, sort := range []string{"last_name", "email"} {
		pg, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Limit: 1, Sort: sort})
		if err != nil || pg.NextCursor == "" {
			t.Fatalf("%s: %v %+v", sort, err, pg)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(pg.NextCursor)
		if low := strings.ToLower(string(raw)); strings.Contains(low, "yablonsky") || strings.Contains(pg.NextCursor, "eWFibG9") {
			t.Errorf("%s cursor reveals the sort key: %q", sort, raw)
		}
		next, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Limit: 1, Sort: sort, Cursor: pg.NextCursor})
		if err != nil || len(next.Items) != 1 || next.Items[0].ID == pg.Items[0].ID {
			t.Fatalf("%s page 2: %v %+v", sort, err, next)
		}
		b := []byte(pg.NextCursor)
		b[len(b)/2] ^= 1
		_, err = f.svc.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Limit: 1, Sort: sort, Cursor: string(b)})
		wantField(t, err, "cursor")
	}
	// A plain store cursor, as an attacker would craft it, is refused.
	forged := crm.EncodeCursor(crm.Cursor{Sort: "last_name", Key: "a", ID: 1})
	_, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Sort: "last_name", Cursor: forged})
	wantField(t, err, "cursor")
}
