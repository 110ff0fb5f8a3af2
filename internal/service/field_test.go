package service_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// fieldFixture is a fixture with one contact of alice's, full of personal
// data, shared with support and readable by the read-only role.
func fieldFixture(t *testing.T, o service.Options) (*fixture, *crm.Contact) {
	t.Helper()
	f := newFixture(t, o)
	ctx := context.Background()
	c, err := f.svc.CreateContact(ctx, f.as("alice"), crm.ContactInput{FirstName: ptr("Ivan"), LastName: ptr("Petrov"),
		Email: ptr("ivan.petrov@example.com"), Phone: ptr("+7 916 555-12-34"), Title: ptr("Head of Sales"),
		Address: ptr("г. Москва, ул. Ленина, д. 5, кв. 10"), Birthday: ptr("1985-05-14"), Notes: ptr("prefers calls after six")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ShareRecord(ctx, f.as("alice"), "contact", c.ID, crm.ShareInput{UserID: &f.users["support"].ID, Access: ptr("write")}); err != nil {
		t.Fatal(err)
	}
	return f, c
}

// TestFieldMasks (ACL-3; ASVS v5.0.0-8.2.3, 14.2.6): what each role is
// shown of one contact, in a read by id, a list page and a search.
func TestFieldMasks(t *testing.T) {
	f, c := fieldFixture(t, service.Options{})
	ctx := context.Background()
	type view struct{ email, phone, title, address, birthday, notes string }
	full := view{"ivan.petrov@example.com", "+79165551234", "Head of Sales", "г. Москва, ул. Ленина, д. 5, кв. 10", "1985-05-14", "prefers calls after six"}
	for _, tc := range []struct {
		who    string
		want   view
		masked []string
	}{
		{"alice", full, nil},
		{"admin", full, nil},
		{"support", view{full.email, "+7 *** ***-12-34", full.title, "***, г. Москва", "--05-14", full.notes}, []string{"phone", "address", "birthday"}},
		{"reader", view{"i***@example.com", "+7 *** ***-12-34", full.title, "***, г. Москва", "--05-14", ""}, []string{"email", "phone", "address", "birthday"}},
	} {
		p := f.as(tc.who)
		got, err := f.svc.FindContactByID(ctx, p, c.ID)
		if err != nil {
			t.Fatalf("%s: %v", tc.who, err)
		}
		pg, err := f.svc.FindContacts(ctx, p, crm.ContactFilter{Q: "petrov"}, crm.ListOptions{})
		if err != nil || len(pg.Items) != 1 {
			t.Fatalf("%s: search %v %v", tc.who, pg, err)
		}
		for _, r := range []*crm.Contact{got, pg.Items[0]} {
			if g := (view{r.Email, r.Phone, r.Title, r.Address, r.Birthday, r.Notes}); g != tc.want {
				t.Errorf("%s sees %+v, want %+v", tc.who, g, tc.want)
			}
			if !slices.Equal(sortedCopy(r.Masked), sortedCopy(tc.masked)) {
				t.Errorf("%s: masked %v, want %v", tc.who, r.Masked, tc.masked)
			}
		}
	}
	// The auditor sees no client data at all.
	_, err := f.svc.FindContactByID(ctx, f.as("auditor"), c.ID)
	wantCode(t, err, crm.EFORBIDDEN)
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestFieldQueries (ACL-3): a filter or sort on a field the caller may not
// read is refused, and a search never matches on it — so neither a page
// nor its boundaries tell the value.
func TestFieldQueries(t *testing.T) {
	f, c := fieldFixture(t, service.Options{})
	ctx := context.Background()
	sup, reader := f.as("support"), f.as("reader")
	_, err := f.svc.FindContacts(ctx, sup, crm.ContactFilter{Phone: "+79165551234"}, crm.ListOptions{})
	wantField(t, err, "phone")
	_, err = f.svc.FindContacts(ctx, reader, crm.ContactFilter{Email: "ivan.petrov@example.com"}, crm.ListOptions{})
	wantField(t, err, "email")
	for _, sort := range []string{"email", "-email"} {
		_, err = f.svc.FindContacts(ctx, reader, crm.ContactFilter{}, crm.ListOptions{Sort: sort})
		wantField(t, err, "sort")
	}
	// Support may sort and filter by email, which it reads.
	if _, err := f.svc.FindContacts(ctx, sup, crm.ContactFilter{Email: "ivan.petrov@example.com"}, crm.ListOptions{Sort: "email"}); err != nil {
		t.Errorf("support by email: %v", err)
	}
	// Prefix probing of the phone or email, digit by digit, finds nothing
	// for whoever sees them masked; the owner finds the contact.
	for _, q := range []string{"+7916", "7916555", "+79165551234"} {
		if ids := contactIDs(t, f, sup, crm.ContactFilter{Q: q}); len(ids) != 0 {
			t.Errorf("support's search %q matched %v through the masked phone", q, ids)
		}
		if ids := contactIDs(t, f, f.as("alice"), crm.ContactFilter{Q: q}); !slices.Equal(ids, []int64{c.ID}) {
			t.Errorf("the owner's search %q: %v", q, ids)
		}
	}
	for _, q := range []string{"ivan.", "ivan.petrov@"} {
		if ids := contactIDs(t, f, reader, crm.ContactFilter{Q: q}); len(ids) != 0 {
			t.Errorf("reader's search %q matched %v through the masked email", q, ids)
		}
	}
	// The name stays searchable for everyone who sees the contact.
	if ids := contactIDs(t, f, reader, crm.ContactFilter{Q: "petr"}); !slices.Equal(ids, []int64{c.ID}) {
		t.Errorf("reader's name search: %v", ids)
	}
}

// TestFieldWrites (ACL-3; ASVS v5.0.0-15.3.3): writing a field the caller
// may not edit is refused naming it, and nothing of the request is written.
func TestFieldWrites(t *testing.T) {
	f, c := fieldFixture(t, service.Options{})
	ctx := context.Background()
	sup := f.as("support")
	_, err := f.svc.UpdateContact(ctx, sup, c.ID, crm.ContactInput{Title: ptr("CEO"), Phone: ptr("+7 916 000-00-00"), Birthday: ptr("1990-01-01")}, 0)
	wantField(t, err, "phone")
	if fields := crm.ErrorFields(err); fields["birthday"] == "" || fields["title"] != "" {
		t.Errorf("refusal fields %v: want phone and birthday, not title", fields)
	}
	got, err := f.svc.FindContactByID(ctx, f.as("alice"), c.ID)
	if err != nil || got.Title != "Head of Sales" || got.Phone != "+79165551234" || got.Version != c.Version {
		t.Fatalf("a refused write changed the contact: %+v %v", got, err)
	}
	// The fields it edits go through.
	if _, err := f.svc.UpdateContact(ctx, sup, c.ID, crm.ContactInput{Title: ptr("CEO")}, 0); err != nil {
		t.Fatalf("support's title change: %v", err)
	}
	// A new contact with a masked field is refused too.
	_, err = f.svc.CreateContact(ctx, sup, crm.ContactInput{LastName: ptr("New"), Address: ptr("12 Baker Street, London")})
	wantField(t, err, "address")
	// The masked value read back cannot be written back either.
	masked, err := f.svc.FindContactByID(ctx, sup, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateContact(ctx, sup, c.ID, crm.ContactInput{Phone: &masked.Phone}, 0)
	wantField(t, err, "phone")
}

// TestReveal (ACL-3, AUTH-4; ASVS v5.0.0-7.5.3): one masked value, after
// a step-up, recorded as an event before it is returned.
func TestReveal(t *testing.T) {
	rec := &recorder{}
	f, c := fieldFixture(t, service.Options{Events: rec})
	ctx := context.Background()
	sup := f.as("support")
	v, err := f.svc.RevealField(ctx, sup, "contact", c.ID, "phone")
	if err != nil || v != "+79165551234" {
		t.Fatalf("reveal: %q %v", v, err)
	}
	last := rec.events[len(rec.events)-1]
	if last.Type != "field.reveal" || last.Field != "phone" || last.RecordID != c.ID || last.ActorID != f.users["support"].ID {
		t.Errorf("reveal event %+v", last)
	}
	stale := f.as("support")
	stale.SteppedUpAt = time.Now().Add(-10 * time.Minute)
	_, err = f.svc.RevealField(ctx, stale, "contact", c.ID, "phone")
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	tok := f.as("support")
	tok.Kind, tok.Scope = crm.KindToken, crm.ScopeRead
	_, err = f.svc.RevealField(ctx, tok, "contact", c.ID, "phone")
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.RevealField(ctx, sup, "contact", c.ID, "email") // not masked for support
	wantField(t, err, "field")
	_, err = f.svc.RevealField(ctx, sup, "contact", c.ID, "last_name") // never masked
	wantField(t, err, "field")
	_, err = f.svc.RevealField(ctx, f.as("reader"), "contact", c.ID, "notes") // hidden
	wantCode(t, err, crm.EFORBIDDEN)
	// Bob's contact: support cannot see it, so it does not exist.
	other, err := f.svc.CreateContact(ctx, f.as("bob"), crm.ContactInput{LastName: ptr("Other"), Phone: ptr("+7 916 111-22-33")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.RevealField(ctx, sup, "contact", other.ID, "phone")
	wantCode(t, err, crm.ENOTFOUND)
	// A sink that refuses the event refuses the reveal.
	rec.fail = true
	if v, err := f.svc.RevealField(ctx, sup, "contact", c.ID, "phone"); err == nil || strings.Contains(v, "5551234") {
		t.Errorf("a reveal without its event: %q %v", v, err)
	}
	rec.fail = false
	reveals := 0
	for _, e := range rec.events {
		if e.Type == "field.reveal" {
			reveals++
		}
	}
	if reveals != 1 {
		t.Errorf("%d reveal events, want 1 (refusals record none)", reveals)
	}
}
