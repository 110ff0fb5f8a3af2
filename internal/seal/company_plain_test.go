package seal_test

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/vault"
)

// TestCompanyNamesPlainSetting (ENC-2, issue 12 item 1): with the
// company-names setting plain, through the real service and store, a
// company's name, domain, phone and address rest in plain text and its
// notes stay sealed; companies sealed before the change are opened into
// plain text by the upgrade pass, and sealed again by it when the setting
// goes back. A plain value where the setting seals is refused once the
// pass is done, and so are plain notes in either setting.
func TestCompanyNamesPlainSetting(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	plain := seal.New(kek, 64, 64)
	plain.KeepCompanyNamesPlain()
	f := testkit.NewFixture(t, service.Options{Hooks: service.WithSealing(service.NoHooks{}, plain)}, identity.Options{})
	sealedSl := seal.New(kek, 64, 64)
	sealedSvc := service.New(f.Store, service.Options{Hooks: service.WithSealing(service.NoHooks{}, sealedSl)})
	alice := f.As("alice")

	in := func(name string) crm.CompanyInput {
		return crm.CompanyInput{Name: ptr(name), Domain: ptr(name + ".example"), Phone: ptr("+79165550101"),
			Address: ptr("1 " + name + " Street"), Notes: ptr("notes of " + name)}
	}
	stored := func(id int64) *crm.Company {
		t.Helper()
		var c *crm.Company
		if err := f.Store.Read(ctx, func(tx crm.Tx) (err error) {
			c, err = tx.CompanyByID(ctx, crm.Scope{All: true}, id, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// wantAtRest checks how each field rests: plain (true) or sealed.
	wantAtRest := func(what string, c *crm.Company, plainNames bool) {
		t.Helper()
		for field, v := range map[string]string{"name": c.Name, "domain": c.Domain, "phone": c.Phone, "address": c.Address} {
			if vault.Sealed(v) == plainNames {
				t.Errorf("%s: %s rests %q, want plain %v", what, field, v, plainNames)
			}
		}
		if !vault.Sealed(c.Notes) {
			t.Errorf("%s: notes rest in plain text %q", what, c.Notes)
		}
	}

	// Before the setting: a company written by a sealing instance.
	before, err := sealedSvc.CreateCompany(ctx, alice, in("Beforeco"))
	if err != nil {
		t.Fatal(err)
	}
	wantAtRest("written sealed", stored(before.ID), false)

	// With it: a new company's names rest plain, its notes sealed, and it
	// reads, searches and sorts as ever.
	after, err := f.Records.CreateCompany(ctx, alice, in("Afterco"))
	if err != nil {
		t.Fatal(err)
	}
	wantAtRest("written plain", stored(after.ID), true)
	if after.Name != "Afterco" || after.Notes != "notes of Afterco" {
		t.Errorf("created: %+v", after)
	}
	// The setting is about companies: a contact's phone and address (the
	// same column names) stay sealed.
	person, err := f.Records.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Person"), Phone: ptr("+79165550102"),
		Address: ptr("2 Home Street")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Store.Read(ctx, func(tx crm.Tx) error {
		c, err := tx.ContactByID(ctx, crm.Scope{All: true}, person.ID, false)
		if err == nil && (!vault.Sealed(c.Phone) || !vault.Sealed(c.Address) || !vault.Sealed(c.LastName)) {
			t.Errorf("with company names plain, a contact rests %q, %q, %q", c.LastName, c.Phone, c.Address)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pg, err := f.Records.FindCompanies(ctx, alice, crm.CompanyFilter{Q: "afterc"}, crm.ListOptions{})
	if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != after.ID || pg.Items[0].Domain != "afterco.example" {
		t.Fatalf("q=afterc: %+v %v", pg.Items, err)
	}

	// The upgrade pass opens the older company's names into plain text,
	// leaves its notes sealed, and records the setting.
	if _, err := plain.Upgrade(ctx, f.Store, nil); err != nil {
		t.Fatal(err)
	}
	wantAtRest("after the pass to plain", stored(before.ID), true)
	var version string
	if err := f.Store.Read(ctx, func(tx crm.Tx) (err error) { version, err = tx.Setting(ctx, seal.SettingSealed); return err }); err != nil {
		t.Fatal(err)
	}
	if version != plain.Version() || !seal.KeepsCompanyNamesPlain(version) || version == sealedSl.Version() {
		t.Errorf("the pass recorded %q (plain %q, sealed %q)", version, plain.Version(), sealedSl.Version())
	}
	got, err := f.Records.FindCompanyByID(ctx, alice, before.ID)
	if err != nil || got.Name != "Beforeco" || got.Notes != "notes of Beforeco" || got.Address != "1 Beforeco Street" {
		t.Fatalf("after the pass: %+v %v", got, err)
	}
	// Strict now: plain notes are tampering; a plain name is the setting.
	tampered := stored(before.ID)
	tampered.Notes = "put back in plain text"
	if err := f.Store.Read(ctx, func(tx crm.Tx) error { return plain.Open(ctx, tx, "company", tampered) }); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("plain notes with names plain: %v, want an integrity error", err)
	}

	// A name typed to look sealed is sealed all the same, and reads back
	// as typed.
	lookalike := "e1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	odd, err := f.Records.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr(lookalike)})
	if err != nil {
		t.Fatal(err)
	}
	if raw := stored(odd.ID); raw.Name == lookalike || !vault.Sealed(raw.Name) {
		t.Errorf("a name that looks sealed rests as %q", raw.Name)
	}
	if got, err := f.Records.FindCompanyByID(ctx, alice, odd.ID); err != nil || got.Name != lookalike {
		t.Errorf("the look-alike name reads %+v %v", got, err)
	}

	// While the setting changes back, strict stays on: the companies'
	// four columns read either way, every other field refuses plain text.
	sealedSl.Strict(true)
	sealedSl.AcceptCompanyNamesEither(true)
	if !sealedSl.OnlyCompanyNamesChanged(version) || plain.OnlyCompanyNamesChanged(version) || sealedSl.OnlyCompanyNamesChanged("6") {
		t.Errorf("OnlyCompanyNamesChanged(%q) is wrong", version)
	}
	if err := f.Store.Read(ctx, func(tx crm.Tx) error { return sealedSl.Open(ctx, tx, "company", stored(after.ID)) }); err != nil {
		t.Errorf("a plain name during the change: %v", err)
	}
	if err := f.Store.Read(ctx, func(tx crm.Tx) error { return sealedSl.Open(ctx, tx, "company", tampered) }); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("plain notes during the change: %v, want an integrity error", err)
	}
	plainContact := &crm.Contact{ID: person.ID, LastName: "Person", Phone: "+79165550102"}
	if err := f.Store.Read(ctx, func(tx crm.Tx) error { return sealedSl.Open(ctx, tx, "contact", plainContact) }); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("a contact's plain phone during the change: %v, want an integrity error", err)
	}

	// Back to sealed: the pass seals every name again, and from then on a
	// plain name is refused.
	if _, err := sealedSl.Upgrade(ctx, f.Store, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{before.ID, after.ID} {
		wantAtRest("after the pass back to sealed", stored(id), false)
		c, err := sealedSvc.FindCompanyByID(ctx, alice, id)
		if err != nil || (c.Name != "Beforeco" && c.Name != "Afterco") {
			t.Fatalf("sealed again: %+v %v", c, err)
		}
	}
	named := stored(after.ID)
	named.Name = "Afterco"
	if err := f.Store.Read(ctx, func(tx crm.Tx) error { return sealedSl.Open(ctx, tx, "company", named) }); crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("a plain name with names sealed: %v, want an integrity error", err)
	}
}
