package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// filterCase is one filter and the ids it must select, in any order.
type filterCase[F any] struct {
	scope  crm.Scope
	filter F
	want   []int64
}

// checkFilters lists with each case's filter and compares the ids.
func checkFilters[T, F any](t *testing.T, f *fixture, k kind[T], cases []filterCase[F],
	list func(crm.Tx, context.Context, crm.Scope, F, crm.ListQuery) ([]T, string, error)) {
	t.Helper()
	for _, c := range cases {
		rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]T, error) {
			rows, _, err := list(tx, ctx, c.scope, c.filter, crm.ListQuery{Limit: crm.MaxLimit})
			return rows, err
		})
		got := []int64{}
		for _, r := range rows {
			got = append(got, *k.meta(r).ID)
		}
		slices.Sort(got)
		want := append([]int64{}, c.want...)
		slices.Sort(want)
		wantEqual(t, fmt.Sprintf("%s filter %+v scope %+v", k.list, c.filter, c.scope), got, want)
	}
}

func newCompany(t *testing.T, f *fixture, owner int64, name string) *crm.Company {
	t.Helper()
	c := companyKind.make(f, owner, 0)
	c.Name = name
	return companyKind.mustInsert(t, f, c)
}

func newContact(t *testing.T, f *fixture, owner int64, edit func(*crm.Contact)) *crm.Contact {
	t.Helper()
	c := contactKind.make(f, owner, 0)
	edit(c)
	return contactKind.mustInsert(t, f, c)
}

func newDeal(t *testing.T, f *fixture, owner int64, edit func(*crm.Deal)) *crm.Deal {
	t.Helper()
	d := dealKind.make(f, owner, 0)
	edit(d)
	return dealKind.mustInsert(t, f, d)
}

// tok stands for a blind-index token (the seal hook makes real ones): to
// the store a token is an opaque string it compares for equality.
func tok(v string) string { return "tok:" + v }

// tagTokens sets c's tag tokens from its tags, as the seal hook does: the
// store keeps the tokens as the contact's tag rows.
func tagTokens(c *crm.Contact) {
	c.TagTokens = []string{}
	for _, tag := range c.Tags {
		c.TagTokens = append(c.TagTokens, tok(tag))
	}
}

func testContactFilters(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme").ID
	c1 := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.Email, c.Phone, c.CompanyID, c.Tags = "ann@x.test", "+4411", &acme, []string{"vip"}
		c.EmailToken, c.PhoneToken = tok(c.Email), tok(c.Phone)
	}).ID
	c2 := newContact(t, f, f.bob, func(c *crm.Contact) {
		c.Email, c.Phone, c.CompanyID, c.Tags = "bob@x.test", "+4422", nil, []string{"lead", "vip"}
		c.EmailToken, c.PhoneToken = tok(c.Email), tok(c.Phone)
	}).ID
	c3 := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.Email, c.Phone, c.CompanyID, c.Tags = "cid@x.test", "+4433", &acme, []string{}
		c.EmailToken, c.PhoneToken = tok(c.Email), tok(c.Phone)
	}).ID
	alice := crm.Scope{OwnerID: f.alice}
	checkFilters(t, f, contactKind, []filterCase[crm.ContactFilter]{
		{all, crm.ContactFilter{}, []int64{c1, c2, c3}},
		{all, crm.ContactFilter{EmailToken: tok("bob@x.test")}, []int64{c2}},
		{all, crm.ContactFilter{EmailToken: tok("bob@x")}, nil},
		{all, crm.ContactFilter{PhoneToken: tok("+4422")}, []int64{c2}},
		{all, crm.ContactFilter{EmailToken: tok("+4422")}, nil},
		{alice, crm.ContactFilter{EmailToken: tok("bob@x.test")}, nil},
		{all, crm.ContactFilter{CompanyID: acme}, []int64{c1, c3}},
		{all, crm.ContactFilter{OwnerID: f.alice}, []int64{c1, c3}},
		{all, crm.ContactFilter{TagToken: tok("vip")}, []int64{c1, c2}},
		{all, crm.ContactFilter{TagToken: tok("lead")}, []int64{c2}},
		{all, crm.ContactFilter{TagToken: tok("VIP")}, nil},
		{all, crm.ContactFilter{CompanyID: acme, OwnerID: f.alice, TagToken: tok("vip")}, []int64{c1}},
		{alice, crm.ContactFilter{TagToken: tok("vip")}, []int64{c1}},
		{alice, crm.ContactFilter{OwnerID: f.bob}, nil},
		{all, crm.ContactFilter{Deleted: true}, nil},
	}, crm.Tx.Contacts)
	// The service's filters over sealed values are not the store's: it
	// refuses them rather than answer every contact.
	for _, flt := range []crm.ContactFilter{{Email: "bob@x.test"}, {Phone: "+4422"}, {Tag: "vip"}, {Q: "bob"}, {NoSearch: []string{"email"}}} {
		err := f.st.Read(context.Background(), func(tx crm.Tx) error {
			_, _, err := tx.Contacts(context.Background(), all, flt, crm.ListQuery{})
			return err
		})
		if crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("contacts filter %+v: %v, want EINVALID", flt, err)
		}
	}
}

func testCompanyFilters(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	insert := func(owner int64, name, domain string, tags []string) int64 {
		c := companyKind.make(f, owner, 0)
		c.Name, c.Domain, c.Tags = name, domain, tags
		return companyKind.mustInsert(t, f, c).ID
	}
	acme := insert(f.alice, "Acme", "Acme.test", []string{"supplier"})
	holdings := insert(f.bob, "Acme Holdings", "holdings.test", []string{"supplier", "big"})
	beta := insert(f.alice, "Beta", "beta.test", nil)
	checkFilters(t, f, companyKind, []filterCase[crm.CompanyFilter]{
		{all, crm.CompanyFilter{}, []int64{acme, holdings, beta}},
		{all, crm.CompanyFilter{OwnerID: f.alice}, []int64{acme, beta}},
		{all, crm.CompanyFilter{Tag: "supplier"}, []int64{acme, holdings}},
		{all, crm.CompanyFilter{Tag: "big", OwnerID: f.alice}, nil},
		{crm.Scope{OwnerID: f.bob}, crm.CompanyFilter{Tag: "supplier"}, []int64{holdings}},
	}, crm.Tx.Companies)
	// A company's name and domain are sealed: the store refuses to filter
	// or search them rather than answer every company.
	for _, flt := range []crm.CompanyFilter{{Name: "acme"}, {Domain: "acme.test"}, {Q: "acme"}, {NoSearch: []string{"domain"}}} {
		err := f.st.Read(context.Background(), func(tx crm.Tx) error {
			_, _, err := tx.Companies(context.Background(), all, flt, crm.ListQuery{})
			return err
		})
		if crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("companies filter %+v: %v, want EINVALID", flt, err)
		}
	}
}

func testDealFilters(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	p := &crm.Pipeline{Name: "Renewals", Stages: []*crm.Stage{
		{Name: "Due", Position: 1, Probability: 50, Kind: crm.StageOpen},
	}}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertPipeline(ctx, p) })
	acme := newCompany(t, f, f.alice, "Acme").ID
	ann := newContact(t, f, f.alice, func(c *crm.Contact) {}).ID
	d1 := newDeal(t, f, f.alice, func(d *crm.Deal) { d.ContactID, d.CompanyID, d.Tags = &ann, &acme, []string{"q1"} }).ID
	d2 := newDeal(t, f, f.bob, func(d *crm.Deal) { d.StageID, d.CompanyID, d.Tags = f.stages[1], &acme, nil }).ID
	d3 := newDeal(t, f, f.alice, func(d *crm.Deal) {
		d.PipelineID, d.StageID, d.Tags = p.ID, p.Stages[0].ID, []string{"q1", "renewal"}
	}).ID
	checkFilters(t, f, dealKind, []filterCase[crm.DealFilter]{
		{all, crm.DealFilter{}, []int64{d1, d2, d3}},
		{all, crm.DealFilter{PipelineID: f.pipeline}, []int64{d1, d2}},
		{all, crm.DealFilter{PipelineID: p.ID}, []int64{d3}},
		{all, crm.DealFilter{StageID: f.stages[1]}, []int64{d2}},
		{all, crm.DealFilter{ContactID: ann}, []int64{d1}},
		{all, crm.DealFilter{CompanyID: acme}, []int64{d1, d2}},
		{all, crm.DealFilter{OwnerID: f.bob}, []int64{d2}},
		{all, crm.DealFilter{Tag: "q1"}, []int64{d1, d3}},
		{all, crm.DealFilter{Tag: "renewal", PipelineID: f.pipeline}, nil},
		{crm.Scope{OwnerID: f.bob}, crm.DealFilter{CompanyID: acme}, []int64{d2}},
	}, crm.Tx.Deals)
}

func testActivityFilters(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme").ID
	ann := newContact(t, f, f.alice, func(c *crm.Contact) {}).ID
	deal := newDeal(t, f, f.alice, func(d *crm.Deal) {}).ID
	insert := func(owner int64, typ string, contact, company, deal *int64) int64 {
		a := activityKind.make(f, owner, 0)
		a.Type, a.ContactID, a.CompanyID, a.DealID = typ, contact, company, deal
		return activityKind.mustInsert(t, f, a).ID
	}
	a1 := insert(f.alice, crm.ActivityCall, &ann, &acme, nil)
	a2 := insert(f.bob, crm.ActivityMeeting, nil, &acme, &deal)
	a3 := insert(f.alice, crm.ActivityNote, &ann, nil, &deal)
	checkFilters(t, f, activityKind, []filterCase[crm.ActivityFilter]{
		{all, crm.ActivityFilter{}, []int64{a1, a2, a3}},
		{all, crm.ActivityFilter{Type: crm.ActivityCall}, []int64{a1}},
		{all, crm.ActivityFilter{ContactID: ann}, []int64{a1, a3}},
		{all, crm.ActivityFilter{CompanyID: acme}, []int64{a1, a2}},
		{all, crm.ActivityFilter{DealID: deal}, []int64{a2, a3}},
		{all, crm.ActivityFilter{OwnerID: f.alice}, []int64{a1, a3}},
		{all, crm.ActivityFilter{Type: crm.ActivityEmail}, nil},
		{crm.Scope{OwnerID: f.alice}, crm.ActivityFilter{DealID: deal}, []int64{a3}},
	}, crm.Tx.Activities)
}

func testTaskFilters(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme").ID
	ann := newContact(t, f, f.alice, func(c *crm.Contact) {}).ID
	deal := newDeal(t, f, f.alice, func(d *crm.Deal) {}).ID
	insert := func(owner, assignee int64, status string, contact, company, deal *int64) int64 {
		task := taskKind.make(f, owner, 0)
		task.AssigneeID, task.Status = assignee, status
		task.ContactID, task.CompanyID, task.DealID = contact, company, deal
		return taskKind.mustInsert(t, f, task).ID
	}
	t1 := insert(f.alice, f.alice, crm.TaskOpen, &ann, nil, nil)
	t2 := insert(f.alice, f.bob, crm.TaskInProgress, nil, &acme, &deal)
	t3 := insert(f.bob, 0, crm.TaskDone, &ann, &acme, nil)
	checkFilters(t, f, taskKind, []filterCase[crm.TaskFilter]{
		{all, crm.TaskFilter{}, []int64{t1, t2, t3}},
		{all, crm.TaskFilter{Status: crm.TaskInProgress}, []int64{t2}},
		{all, crm.TaskFilter{AssigneeID: f.bob}, []int64{t2}},
		{all, crm.TaskFilter{ContactID: ann}, []int64{t1, t3}},
		{all, crm.TaskFilter{CompanyID: acme}, []int64{t2, t3}},
		{all, crm.TaskFilter{DealID: deal}, []int64{t2}},
		{all, crm.TaskFilter{OwnerID: f.alice}, []int64{t1, t2}},
		{all, crm.TaskFilter{Status: crm.TaskCancelled}, nil},
		{crm.Scope{OwnerID: f.bob, Assignee: true}, crm.TaskFilter{}, []int64{t2, t3}},
		{crm.Scope{OwnerID: f.bob, Assignee: true}, crm.TaskFilter{OwnerID: f.alice}, []int64{t2}},
		{crm.Scope{OwnerID: f.bob}, crm.TaskFilter{}, []int64{t3}},
	}, crm.Tx.Tasks)
}

// testTaskAssigneeScope checks that a task is visible to its assignee
// when the scope says so (Assignee: the read scope of tasks), and not
// otherwise (the write scope).
func testTaskAssigneeScope(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	task := taskKind.make(f, f.alice, 0)
	task.AssigneeID = f.bob
	id := taskKind.mustInsert(t, f, task).ID
	carol := insertUser(t, f.st, "carol@example.com").ID
	if _, err := taskKind.get(t, f, crm.Scope{OwnerID: f.bob}, id, false); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("TaskByID by the assignee without Assignee: %v, want not found", err)
	}
	for _, who := range []int64{f.alice, f.bob} {
		s := crm.Scope{OwnerID: who, Assignee: true}
		got, err := taskKind.get(t, f, s, id, false)
		if err != nil {
			t.Fatalf("TaskByID(scope %d): %v", who, err)
		}
		wantEqual(t, "task seen by owner or assignee", got, task)
		wantEqual(t, "tasks seen by owner or assignee", taskKind.ids(t, f, s, false), []int64{id})
	}
	_, err := taskKind.get(t, f, crm.Scope{OwnerID: carol, Assignee: true}, id, false)
	wantCode(t, "TaskByID by neither owner nor assignee", err, crm.ENOTFOUND)
	wantEqual(t, "tasks of neither owner nor assignee", taskKind.ids(t, f, crm.Scope{OwnerID: carol, Assignee: true}, false), []int64{})
}

// testContactFieldUpdates changes one field of a contact at a time and
// checks that the stored row and every lookup by that field follow: the
// new value finds the contact, the old one no longer does. A store that
// rewrites only the index entries of changed columns (PRF-1) must still
// keep every index in step with the row.
func testContactFieldUpdates(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme").ID
	beta := newCompany(t, f, f.alice, "Beta").ID
	c := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.FirstName, c.LastName, c.Email, c.Phone, c.CompanyID = "Olga", "Ivanova", "olga@x.test", "+4411", &acme
		c.EmailToken, c.PhoneToken = tok(c.Email), tok(c.Phone)
		c.Tags = []string{"vip"}
	})
	email := func(v string) func(c *crm.Contact) {
		return func(c *crm.Contact) { c.Email, c.EmailToken = v, tok(v) }
	}
	byEmail := func(v string) crm.ContactFilter { return crm.ContactFilter{EmailToken: tok(v)} }
	n := 10
	find := func(s crm.Scope, filter crm.ContactFilter) []int64 {
		t.Helper()
		rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Contact, error) {
			rows, _, err := tx.Contacts(ctx, s, filter, crm.ListQuery{Limit: crm.MaxLimit})
			return rows, err
		})
		ids := []int64{}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return ids
	}
	check := func(step string, s crm.Scope, now, before crm.ContactFilter) {
		t.Helper()
		if got := find(s, now); !slices.Equal(got, []int64{c.ID}) {
			t.Errorf("%s: lookup by the new value %+v = %v, want [%d]", step, now, got, c.ID)
		}
		if got := find(s, before); len(got) != 0 {
			t.Errorf("%s: lookup by the old value %+v = %v, want none", step, before, got)
		}
	}
	steps := []struct {
		name        string
		change      func(c *crm.Contact)
		now, before crm.ContactFilter
		scope       crm.Scope
	}{
		{"title only", func(c *crm.Contact) { c.Title = "Director" }, byEmail("olga@x.test"), crm.ContactFilter{PhoneToken: tok("+4499")}, all},
		{"last name", func(c *crm.Contact) { c.LastName = "Smirnova" }, byEmail("olga@x.test"), byEmail("anna@y.test"), all},
		{"email", email("anna@y.test"), byEmail("anna@y.test"), byEmail("olga@x.test"), all},
		{"email, owner scope", email("p.anna@y.test"), byEmail("p.anna@y.test"), byEmail("anna@y.test"), crm.Scope{OwnerID: f.alice}},
		{"first name", func(c *crm.Contact) { c.FirstName = "Anna" }, byEmail("p.anna@y.test"), crm.ContactFilter{PhoneToken: tok("+4499")}, crm.Scope{OwnerID: f.alice}},
		{"phone", func(c *crm.Contact) { c.Phone, c.PhoneToken = "+4499", tok("+4499") }, crm.ContactFilter{PhoneToken: tok("+4499")}, crm.ContactFilter{PhoneToken: tok("+4411")}, all},
		{"company", func(c *crm.Contact) { c.CompanyID = &beta }, crm.ContactFilter{CompanyID: beta}, crm.ContactFilter{CompanyID: acme}, all},
		{"company, owner scope", func(c *crm.Contact) { c.CompanyID = &acme }, crm.ContactFilter{CompanyID: acme}, crm.ContactFilter{CompanyID: beta}, crm.Scope{OwnerID: f.alice}},
		{"tags", func(c *crm.Contact) { c.Tags = []string{"lead"} }, crm.ContactFilter{TagToken: tok("lead")}, crm.ContactFilter{TagToken: tok("vip")}, all},
		{"owner", func(c *crm.Contact) { c.OwnerID = f.bob }, crm.ContactFilter{OwnerID: f.bob}, crm.ContactFilter{OwnerID: f.alice}, all},
	}
	for _, st := range steps {
		st.change(c)
		contactKind.save(t, f, c, n)
		n++
		got, err := contactKind.get(t, f, all, c.ID, false)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		wantEqual(t, st.name, got, c)
		check(st.name, st.scope, st.now, st.before)
	}
	if got := find(crm.Scope{OwnerID: f.alice}, crm.ContactFilter{}); len(got) != 0 {
		t.Errorf("the old owner still sees the contact: %v", got)
	}
	if got := find(crm.Scope{OwnerID: f.bob}, byEmail("p.anna@y.test")); !slices.Equal(got, []int64{c.ID}) {
		t.Errorf("the new owner's lookup = %v, want [%d]", got, c.ID)
	}
	// Soft delete and restore are updates of deleted_at.
	del := at(n)
	c.DeletedAt = &del
	contactKind.save(t, f, c, n)
	if got := find(all, byEmail("p.anna@y.test")); len(got) != 0 {
		t.Errorf("a deleted contact is found: %v", got)
	}
	if got := find(all, crm.ContactFilter{Deleted: true}); !slices.Equal(got, []int64{c.ID}) {
		t.Errorf("deleted contacts = %v, want [%d]", got, c.ID)
	}
	c.DeletedAt = nil
	contactKind.save(t, f, c, n+1)
	check("restore", crm.Scope{OwnerID: f.bob}, byEmail("p.anna@y.test"), crm.ContactFilter{Deleted: true})
}
