package storetest

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// Crypto-shredding (crm.EraseTx, ENC-5): erasing a client deletes what
// its data key seals, the shares of those records and the key, and adds
// a ledger entry; nothing of any other client is touched.

func testErasure(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme")
	ann := newContact(t, f, f.alice, func(c *crm.Contact) { c.CompanyID, c.Tags = &acme.ID, []string{"vip"} })
	bea := newContact(t, f, f.bob, func(c *crm.Contact) { c.CompanyID, c.Tags = &acme.ID, []string{"vip"} })
	deal := newDeal(t, f, f.alice, func(d *crm.Deal) { d.ContactID, d.CompanyID = &ann.ID, &acme.ID })
	activity := func(contact, company *int64) *crm.Activity {
		a := activityKind.make(f, f.alice, 0)
		a.ContactID, a.CompanyID = contact, company
		return activityKind.mustInsert(t, f, a)
	}
	task := func(contact, company *int64) *crm.Task {
		x := taskKind.make(f, f.alice, 0)
		x.ContactID, x.CompanyID = contact, company
		return taskKind.mustInsert(t, f, x)
	}
	annAct, acmeAct, beaAct := activity(&ann.ID, &acme.ID), activity(nil, &acme.ID), activity(&bea.ID, &acme.ID)
	annTask, acmeTask := task(&ann.ID, nil), task(nil, &acme.ID)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		for i, c := range []*crm.Consent{{ContactID: ann.ID, Purpose: "newsletter"}, {ContactID: ann.ID, Purpose: "calls"}, {ContactID: bea.ID, Purpose: "calls"}} {
			c.Granted, c.RecordedBy, c.RecordedAt = true, f.alice, at(i)
			if err := tx.InsertConsent(ctx, c); err != nil {
				return err
			}
		}
		for _, sh := range []*crm.Share{{Entity: "contact", RecordID: ann.ID}, {Entity: "activity", RecordID: annAct.ID},
			{Entity: "contact", RecordID: bea.ID}, {Entity: "activity", RecordID: acmeAct.ID}} {
			sh.UserID, sh.Access, sh.CreatedBy, sh.CreatedAt = &f.bob, crm.ShareRead, f.alice, base
			if _, err := tx.PutShare(ctx, sh); err != nil {
				return err
			}
		}
		for i, subject := range []string{"contact:" + itoa(ann.ID), "contact:" + itoa(bea.ID), "company:" + itoa(acme.ID)} {
			if err := tx.InsertDataKey(ctx, &crm.DataKey{ID: int64(5000 + i), Subject: subject, KEKVersion: 1, Wrapped: []byte{1}, CreatedAt: base}); err != nil {
				return err
			}
		}
		return nil
	})

	// Ann is in the recycle bin: an erasure takes her all the same.
	ann.DeletedAt = ptr(at(1))
	contactKind.save(t, f, ann, 1)
	erase := func(entity string, id int64) (*crm.Erasure, int64, error) {
		e := &crm.Erasure{Entity: entity, RecordID: id, ErasedBy: f.alice}
		var key int64
		err := write(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
			key, err = tx.EraseClient(ctx, e)
			return err
		})
		return e, key, err
	}
	e, key, err := erase("contact", ann.ID)
	if err != nil {
		t.Fatalf("EraseClient(contact): %v", err)
	}
	// Ann, her activity, her task and her two consents.
	if key != 5000 || e.Records != 5 || e.ID <= 0 || e.ErasedAt.IsZero() {
		t.Errorf("erasure of ann = %+v, key %d; want key 5000 and 5 records", e, key)
	}
	for _, deleted := range []bool{false, true} {
		_, err := contactKind.get(t, f, all, ann.ID, deleted)
		wantCode(t, "an erased contact", err, crm.ENOTFOUND)
	}
	_, err = activityKind.get(t, f, all, annAct.ID, false)
	wantCode(t, "the erased contact's activity", err, crm.ENOTFOUND)
	_, err = taskKind.get(t, f, all, annTask.ID, false)
	wantCode(t, "the erased contact's task", err, crm.ENOTFOUND)
	consents := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Consent, error) { return tx.ConsentsByContact(ctx, ann.ID) })
	wantEqual(t, "the erased contact's consents", len(consents), 0)
	// What is not hers stays: her company, deal, colleague and their records.
	wantEqual(t, "activities left", activityKind.ids(t, f, all, false), []int64{acmeAct.ID, beaAct.ID})
	wantEqual(t, "tasks left", taskKind.ids(t, f, all, false), []int64{acmeTask.ID})
	wantEqual(t, "contacts left", contactKind.ids(t, f, all, false), []int64{bea.ID})
	if d, err := dealKind.get(t, f, all, deal.ID, false); err != nil || d.ContactID != nil || d.CompanyID == nil {
		t.Errorf("the erased contact's deal = %+v, %v; want kept, without the contact", d, err)
	}
	consents = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Consent, error) { return tx.ConsentsByContact(ctx, bea.ID) })
	wantEqual(t, "another contact's consents", len(consents), 1)
	shared := func(entity string, id int64) int {
		return len(mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Share, error) { return tx.SharesOf(ctx, entity, id) }))
	}
	wantEqual(t, "shares of the erased records", shared("contact", ann.ID)+shared("activity", annAct.ID), 0)
	wantEqual(t, "shares of other records", shared("contact", bea.ID)+shared("activity", acmeAct.ID), 2)
	subjects := func() []string {
		ks := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.DataKey, error) {
			return tx.DataKeysByID(ctx, []int64{5000, 5001, 5002})
		})
		var out []string
		for _, k := range ks {
			out = append(out, k.Subject)
		}
		slices.Sort(out)
		return out
	}
	wantEqual(t, "data keys left", subjects(), []string{"company:" + itoa(acme.ID), "contact:" + itoa(bea.ID)})
	checkFilters(t, f, contactKind, []filterCase[crm.ContactFilter]{
		{all, crm.ContactFilter{TagToken: tok("vip")}, []int64{bea.ID}},
		{all, crm.ContactFilter{TagToken: tok("vip"), Deleted: true}, nil},
	}, crm.Tx.Contacts)

	// A second erasure of the same record finds nothing, and writes no
	// second ledger entry; nor does an entity that is not a client.
	_, _, err = erase("contact", ann.ID)
	wantCode(t, "a second erasure", err, crm.ENOTFOUND)
	_, _, err = erase("deal", deal.ID)
	wantCode(t, "erasing a deal", err, crm.EINVALID)
	_, _, err = erase("contact", 987654)
	wantCode(t, "erasing a contact that never was", err, crm.ENOTFOUND)

	// The company: its own activity and task go; the contact's activity
	// that names it stays (it is sealed under Bea's key), without the link.
	e2, key, err := erase("company", acme.ID)
	if err != nil {
		t.Fatalf("EraseClient(company): %v", err)
	}
	if key != 5002 || e2.Records != 3 {
		t.Errorf("erasure of acme = %+v, key %d; want key 5002 and 3 records", e2, key)
	}
	wantEqual(t, "activities left after the company", activityKind.ids(t, f, all, false), []int64{beaAct.ID})
	wantEqual(t, "tasks left after the company", taskKind.ids(t, f, all, false), []int64{})
	if c, err := contactKind.get(t, f, all, bea.ID, false); err != nil || c.CompanyID != nil {
		t.Errorf("a contact of the erased company = %+v, %v; want kept, without the company", c, err)
	}
	wantEqual(t, "data keys left after the company", subjects(), []string{"contact:" + itoa(bea.ID)})

	ledger := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Erasure, error) { return tx.Erasures(ctx, 0, 10) })
	if len(ledger) != 2 || ledger[0].Entity != "contact" || ledger[0].RecordID != ann.ID || ledger[0].ErasedBy != f.alice ||
		ledger[1].Entity != "company" || ledger[1].RecordID != acme.ID || ledger[1].ID <= ledger[0].ID || !ledger[0].ErasedAt.Equal(e.ErasedAt) {
		t.Errorf("ledger = %+v", ledger)
	}
	page := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Erasure, error) {
		return tx.Erasures(ctx, ledger[0].ID, 10)
	})
	if len(page) != 1 || page[0].ID != ledger[1].ID {
		t.Errorf("ledger after the first entry = %+v", page)
	}
	for entity, id := range map[string]int64{"contact": ann.ID, "company": acme.ID} {
		if ok := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (bool, error) { return tx.Erased(ctx, entity, id) }); !ok {
			t.Errorf("Erased(%s %d) = false", entity, id)
		}
	}
	if mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (bool, error) { return tx.Erased(ctx, "contact", bea.ID) }) {
		t.Error("Erased(a live contact) = true")
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
