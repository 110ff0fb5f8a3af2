package storetest

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testTags checks that tags round-trip in order and that the tag filter
// follows every update, for each tagged record type.
func testTags(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)

	c := newContact(t, f, f.alice, func(c *crm.Contact) { c.Tags = []string{"b", "a", "Ä"} })
	contactTagged := func(tag string) []int64 {
		t.Helper()
		var ids []int64
		for _, r := range mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Contact, error) {
			rows, _, err := tx.Contacts(ctx, all, crm.ContactFilter{TagToken: tok(tag)}, crm.ListQuery{Limit: 10})
			return rows, err
		}) {
			ids = append(ids, r.ID)
		}
		return ids
	}
	got, err := contactKind.get(t, f, all, c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "contact tags", got.Tags, []string{"b", "a", "Ä"})
	wantEqual(t, "contacts tagged Ä", contactTagged("Ä"), []int64{c.ID})

	c.Tags = []string{"c"}
	contactKind.save(t, f, c, 1)
	wantEqual(t, "contacts tagged a after retagging", contactTagged("a"), []int64(nil))
	wantEqual(t, "contacts tagged c after retagging", contactTagged("c"), []int64{c.ID})

	c.Tags = nil
	contactKind.save(t, f, c, 2)
	got, err = contactKind.get(t, f, all, c.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "contact tags after clearing", got.Tags, []string{})
	wantEqual(t, "contacts tagged c after clearing", contactTagged("c"), []int64(nil))

	co := companyKind.make(f, f.alice, 0)
	co.Tags = []string{"x", "y"}
	companyKind.mustInsert(t, f, co)
	co.Tags = []string{"y", "z"}
	companyKind.save(t, f, co, 1)
	checkFilters(t, f, companyKind, []filterCase[crm.CompanyFilter]{
		{all, crm.CompanyFilter{Tag: "x"}, nil},
		{all, crm.CompanyFilter{Tag: "z"}, []int64{co.ID}},
	}, crm.Tx.Companies)
	gotCo, err := companyKind.get(t, f, all, co.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "company tags", gotCo.Tags, []string{"y", "z"})

	d := newDeal(t, f, f.alice, func(d *crm.Deal) { d.Tags = []string{"hot"} })
	d.Tags = []string{"cold"}
	dealKind.save(t, f, d, 1)
	checkFilters(t, f, dealKind, []filterCase[crm.DealFilter]{
		{all, crm.DealFilter{Tag: "hot"}, nil},
		{all, crm.DealFilter{Tag: "cold"}, []int64{d.ID}},
	}, crm.Tx.Deals)
}

// testConsents checks that consents append and list newest first.
func testConsents(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	ann := newContact(t, f, f.alice, func(c *crm.Contact) {}).ID
	bob := newContact(t, f, f.alice, func(c *crm.Contact) {}).ID
	var want []*crm.Consent
	for i, n := range []int{1, 3, 2} {
		c := &crm.Consent{ContactID: ann, Purpose: "newsletter", Granted: i != 1, Source: "web form",
			RecordedBy: f.alice, RecordedAt: at(n)}
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertConsent(ctx, c) })
		if c.ID <= 0 {
			t.Fatalf("InsertConsent: ID = %d, want > 0", c.ID)
		}
		want = append(want, c)
	}
	other := &crm.Consent{ContactID: bob, Purpose: "calls", Granted: true, RecordedBy: f.bob, RecordedAt: at(9)}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertConsent(ctx, other) })

	got := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Consent, error) {
		return tx.ConsentsByContact(ctx, ann)
	})
	wantEqual(t, "consents newest first", got, []*crm.Consent{want[1], want[2], want[0]})

	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertConsent(ctx, &crm.Consent{ContactID: ann + bob + 100, Purpose: "x", RecordedBy: f.alice, RecordedAt: base})
	})
	wantCode(t, "consent for a missing contact", err, crm.EINVALID)
}

// testPipelines checks the default pipeline, new pipelines and stages, and
// that a deal's stage must belong to its pipeline.
func testPipelines(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	list := func() []*crm.Pipeline {
		t.Helper()
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Pipeline, error) { return tx.Pipelines(ctx) })
	}
	ps := list()
	if len(ps) != 1 || ps[0].Name != "Sales" {
		t.Fatalf("Pipelines() = %+v, want only the default Sales", ps)
	}
	type stage struct {
		Name        string
		Probability int
		Kind        string
	}
	var stages []stage
	for i, s := range ps[0].Stages {
		stages = append(stages, stage{s.Name, s.Probability, s.Kind})
		if s.PipelineID != ps[0].ID || (i > 0 && s.Position <= ps[0].Stages[i-1].Position) {
			t.Errorf("stage %d = %+v: wrong pipeline or position", i, *s)
		}
	}
	wantEqual(t, "default stages", stages, []stage{
		{"Lead", 10, "open"}, {"Qualified", 25, "open"}, {"Proposal", 50, "open"},
		{"Negotiation", 75, "open"}, {"Won", 100, "won"}, {"Lost", 0, "lost"},
	})

	p := &crm.Pipeline{Name: "Renewals", Stages: []*crm.Stage{
		{Name: "Due", Position: 1, Probability: 40, Kind: crm.StageOpen},
		{Name: "Renewed", Position: 2, Probability: 100, Kind: crm.StageWon},
	}}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertPipeline(ctx, p) })
	if p.ID <= 0 || p.Stages[0].ID <= 0 || p.Stages[1].PipelineID != p.ID {
		t.Fatalf("InsertPipeline did not set the ids: %+v %+v", *p, *p.Stages[1])
	}
	ps = list()
	if len(ps) != 2 {
		t.Fatalf("Pipelines() has %d pipelines, want 2", len(ps))
	}
	wantEqual(t, "new pipeline", ps[1], p)

	s, err := read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Stage, error) { return tx.StageByID(ctx, p.Stages[1].ID) })
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "StageByID", s, p.Stages[1])
	_, err = read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Stage, error) { return tx.StageByID(ctx, p.Stages[1].ID+100) })
	wantCode(t, "StageByID of a missing stage", err, crm.ENOTFOUND)

	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertPipeline(ctx, &crm.Pipeline{Name: "Sales"})
	})
	wantField(t, "InsertPipeline with a taken name", err, crm.ECONFLICT, "name")

	d := dealKind.make(f, f.alice, 0)
	d.StageID = p.Stages[0].ID // of Renewals, while PipelineID is Sales
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertDeal(ctx, d) })
	wantCode(t, "deal with a stage of another pipeline", err, crm.EINVALID)
}

// testPurgeReferences checks what purging takes along (consents, tags) and
// what it leaves (records referring to the purged ones lose the reference),
// and that ids are never reused.
func testPurgeReferences(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme")
	ann := newContact(t, f, f.alice, func(c *crm.Contact) { c.CompanyID, c.Tags = &acme.ID, []string{"purged"} })
	deal := newDeal(t, f, f.alice, func(d *crm.Deal) { d.ContactID, d.CompanyID = &ann.ID, &acme.ID })
	act := activityKind.make(f, f.alice, 0)
	act.ContactID, act.CompanyID, act.DealID = &ann.ID, &acme.ID, &deal.ID
	activityKind.mustInsert(t, f, act)
	task := taskKind.make(f, f.alice, 0)
	task.ContactID, task.CompanyID, task.DealID = &ann.ID, &acme.ID, &deal.ID
	taskKind.mustInsert(t, f, task)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertConsent(ctx, &crm.Consent{ContactID: ann.ID, Purpose: "newsletter", Granted: true,
			RecordedBy: f.alice, RecordedAt: base})
	})

	ann.DeletedAt = ptr(at(1))
	contactKind.save(t, f, ann, 1)
	acme.DeletedAt = ptr(at(1))
	companyKind.save(t, f, acme, 1)
	for entity, want := range map[string][]int64{"contact": {ann.ID}, "company": {acme.ID}, "deal": nil} {
		ids := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]int64, error) { return tx.DeletedBefore(ctx, entity, at(2)) })
		wantEqual(t, "DeletedBefore("+entity+")", ids, want)
		ids = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]int64, error) { return tx.DeletedBefore(ctx, entity, at(1)) })
		wantEqual(t, "DeletedBefore("+entity+") at the deletion", ids, []int64(nil))
	}
	var n int64
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
		n, err = tx.PurgeDeleted(ctx, at(2))
		return err
	})
	if n != 2 {
		t.Errorf("PurgeDeleted() = %d, want 2", n)
	}

	gotDeal, err := dealKind.get(t, f, all, deal.ID, false)
	if err != nil {
		t.Fatalf("deal of a purged contact: %v", err)
	}
	if gotDeal.ContactID != nil || gotDeal.CompanyID != nil {
		t.Errorf("deal refers to purged records: contact %v company %v", gotDeal.ContactID, gotDeal.CompanyID)
	}
	gotAct, err := activityKind.get(t, f, all, act.ID, false)
	if err != nil {
		t.Fatalf("activity of a purged contact: %v", err)
	}
	if gotAct.ContactID != nil || gotAct.CompanyID != nil || gotAct.DealID == nil {
		t.Errorf("activity references = %v %v %v, want nil nil %d", gotAct.ContactID, gotAct.CompanyID, gotAct.DealID, deal.ID)
	}
	gotTask, err := taskKind.get(t, f, all, task.ID, false)
	if err != nil {
		t.Fatalf("task of a purged contact: %v", err)
	}
	if gotTask.ContactID != nil || gotTask.CompanyID != nil || gotTask.DealID == nil {
		t.Errorf("task references = %v %v %v, want nil nil %d", gotTask.ContactID, gotTask.CompanyID, gotTask.DealID, deal.ID)
	}

	consents := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Consent, error) {
		return tx.ConsentsByContact(ctx, ann.ID)
	})
	wantEqual(t, "consents of a purged contact", consents, []*crm.Consent{})

	// A new record gets a new id, and none of the purged one's tags.
	next := newContact(t, f, f.alice, func(c *crm.Contact) { c.Tags = nil })
	if next.ID <= ann.ID {
		t.Errorf("new contact id %d, want > purged id %d", next.ID, ann.ID)
	}
	checkFilters(t, f, contactKind, []filterCase[crm.ContactFilter]{
		{all, crm.ContactFilter{TagToken: tok("purged")}, nil},
		{all, crm.ContactFilter{TagToken: tok("purged"), Deleted: true}, nil},
	}, crm.Tx.Contacts)
}
