package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// The contact index (ENC-4): lists sorted by name or email and searches
// over names, email, phone and company are answered from memory, through
// the real service and store, and must behave as the plaintext indexes
// did, and better where users stumbled.

func names(t *testing.T, f *fixture, p *crm.Principal, flt crm.ContactFilter) []string {
	t.Helper()
	pg, err := f.svc.FindContacts(context.Background(), p, flt, crm.ListOptions{Limit: 200})
	if err != nil {
		t.Fatalf("list contacts %+v: %v", flt, err)
	}
	out := []string{}
	for _, c := range pg.Items {
		out = append(out, c.LastName)
	}
	return out
}

// pageIDs pages through every contact p sees in the order sort, limit a
// page, with the cursors the pages return.
func pageIDs(t *testing.T, f *fixture, p *crm.Principal, sort string, limit int) []int64 {
	t.Helper()
	return pagedIDs(t, f.svc.FindContacts, func(c *crm.Contact) int64 { return c.ID }, p, crm.ContactFilter{}, sort, limit)
}

func idsOf(cs []*crm.Contact) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func TestContactSearchWords(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice := f.as("alice")
	acme, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Acme Tools"), Domain: ptr("zeta.test")})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []crm.ContactInput{
		{FirstName: ptr("Anna-Maria"), LastName: ptr("Petrova-Vodkina"), Email: ptr("am@example.com")},
		{FirstName: ptr("Ivan"), LastName: ptr("Ivanov"), Phone: ptr("+79165551234"), Email: ptr("ivan@mail.example.org")},
		{FirstName: ptr("Olga"), LastName: ptr("Smirnova"), CompanyID: crm.Value(acme.ID)},
		{FirstName: ptr("Мария"), LastName: ptr("Ёлкина")},
	} {
		if _, err := f.svc.CreateContact(ctx, alice, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"maria", []string{"Petrova-Vodkina"}},        // a word inside the first name
		{"vodkina", []string{"Petrova-Vodkina"}},      // and inside the last name
		{"petrova vodk", []string{"Petrova-Vodkina"}}, // every word must match
		{"anna-m", []string{"Petrova-Vodkina"}},       // the name as typed
		{"ivan", []string{"Ivanov"}},                  // first name and last name both start so: once
		{"ivan smirn", []string{}},                    // words of two contacts: nobody
		{"916555", []string{"Ivanov"}},                // national number
		{"+7 916 555", []string{"Ivanov"}},            // with the country code, spaced
		{"7 (916) 555-12", []string{"Ivanov"}},        // punctuated
		{"5551234", []string{}},                       // a phone matches from its start only
		{"mail.example", []string{"Ivanov"}},          // the email's domain
		{"am@", []string{"Petrova-Vodkina"}},          // the email
		{"acme", []string{"Smirnova"}},                // the company's name
		{"tools", []string{"Smirnova"}},               // a word inside the company's name
		{"zeta", []string{}},                          // not the company's domain
		{"ёлк", []string{"Ёлкина"}},                   // Cyrillic, lower-cased
		{"МАРИЯ", []string{"Ёлкина"}},                 // in any case
		{"zzz", []string{}},
	} {
		got := names(t, f, alice, crm.ContactFilter{Q: c.q})
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("q=%q found %v, want %v", c.q, got, c.want)
		}
	}
	// The exact filters.
	if got := names(t, f, alice, crm.ContactFilter{Phone: "8 916 555-12-34"}); !slices.Equal(got, []string{"Ivanov"}) {
		t.Errorf("phone=8 916 555-12-34 found %v", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{Email: "AM@example.com"}); !slices.Equal(got, []string{"Petrova-Vodkina"}) {
		t.Errorf("email=AM@example.com found %v", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{Email: "am@example.co"}); len(got) != 0 {
		t.Errorf("email= a prefix found %v, want an exact match only", got)
	}
	for _, domain := range []string{"example.com", "mail.example.org"} {
		if got := names(t, f, alice, crm.ContactFilter{Email: domain}); len(got) != 0 {
			t.Errorf("email=%s (a domain) found %v, want whole emails only", domain, got)
		}
	}
	// Company names match words of two letters or more; a search has at
	// most eight words.
	if got := names(t, f, alice, crm.ContactFilter{Q: "t"}); len(got) != 0 {
		t.Errorf("q=t found %v, want none (one letter does not match company names)", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{Q: "to"}); !slices.Equal(got, []string{"Smirnova"}) {
		t.Errorf("q=to found %v", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{Q: "olga olga olga olga olga olga olga olga"}); !slices.Equal(got, []string{"Smirnova"}) {
		t.Errorf("eight words found %v", got)
	}
	_, err = f.svc.FindContacts(ctx, alice, crm.ContactFilter{Q: "a b c d e f g h i"}, crm.ListOptions{})
	if crm.ErrorCode(err) != crm.EINVALID || crm.ErrorFields(err)["q"] == "" {
		t.Errorf("nine words: %v, want invalid q", err)
	}
}

// TestContactSearchScope (ACL-4, ASVS v5.0.0-8.2.2): a search finds only
// what the caller may read — their own, what is shared with them — and a
// company name matches only for companies the caller may read.
func TestContactSearchScope(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob := f.as("alice"), f.as("bob")
	secret, err := f.svc.CreateCompany(ctx, bob, crm.CompanyInput{Name: ptr("Hidden Works")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Alicesown")}); err != nil {
		t.Fatal(err)
	}
	bobs, err := f.svc.CreateContact(ctx, bob, crm.ContactInput{LastName: ptr("Bobsown"), CompanyID: crm.Value(secret.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, alice, crm.ContactFilter{Q: "bobsown"}); len(got) != 0 {
		t.Fatalf("alice finds bob's contact: %v", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{Q: "a"}); !slices.Equal(got, []string{"Alicesown"}) {
		t.Fatalf("alice's search for a finds %v", got)
	}
	if got := names(t, f, f.as("admin"), crm.ContactFilter{Q: "hidden"}); !slices.Equal(got, []string{"Bobsown"}) {
		t.Fatalf("the admin's search by company finds %v", got)
	}
	// Shared with alice, bob's contact is found by its name, but not by
	// the name of bob's company, which alice cannot read.
	if _, _, err := f.svc.ShareRecord(ctx, stepped(bob), "contact", bobs.ID, crm.ShareInput{UserID: &f.users["alice"].ID, Access: ptr("read")}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, alice, crm.ContactFilter{Q: "bobs"}); !slices.Equal(got, []string{"Bobsown"}) {
		t.Fatalf("alice's search for a contact shared with her finds %v", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{Q: "hidden"}); len(got) != 0 {
		t.Fatalf("alice's search by the name of a company she cannot read finds %v", got)
	}
	if got := names(t, f, alice, crm.ContactFilter{}); !slices.Equal(got, []string{"Alicesown", "Bobsown"}) {
		t.Fatalf("alice's list = %v", got)
	}
}

// stepped is p with a step-up a moment ago (AUTH-4).
func stepped(p *crm.Principal) *crm.Principal {
	q := *p
	q.SteppedUpAt = time.Now()
	return &q
}

// TestContactIndexFollowsTheStore: a write that does not pass this
// service (another instance, a command, the upgrade pass) is in the next
// list; a contact erased or purged leaves it; after its change sequence
// is pruned past it, the index reads everything again.
func TestContactIndexFollowsTheStore(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	c, err := f.svc.CreateContact(ctx, admin, crm.ContactInput{FirstName: ptr("Pavel"), LastName: ptr("Before")})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "pavel"}); !slices.Equal(got, []string{"Before"}) {
		t.Fatalf("search = %v", got)
	}
	// Another instance's service over the same store writes.
	other := service.New(f.store, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if _, err := other.UpdateContact(ctx, admin, c.ID, crm.ContactInput{LastName: ptr("After")}, 0); err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "pavel"}); !slices.Equal(got, []string{"After"}) {
		t.Fatalf("after another instance renamed it, search = %v", got)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "before"}); len(got) != 0 {
		t.Fatalf("the old name still finds %v", got)
	}
	// Pruned past this instance: it reads everything again.
	err = f.store.Write(ctx, func(tx crm.Tx) error {
		_, err := tx.PruneChanges(ctx, time.Now().Add(time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateContact(ctx, admin, crm.ContactInput{FirstName: ptr("Pavel"), LastName: ptr("Second")}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "pavel"}); !slices.Equal(got, []string{"After", "Second"}) {
		t.Fatalf("after a prune, search = %v", got)
	}
	// A company renamed by the other instance: its contacts are found by
	// the new name, no longer by the old one.
	co, err := f.svc.CreateCompany(ctx, admin, crm.CompanyInput{Name: ptr("Oldname Ltd")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateContact(ctx, admin, c.ID, crm.ContactInput{CompanyID: crm.Value(co.ID)}, 0); err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "oldname"}); !slices.Equal(got, []string{"After"}) {
		t.Fatalf("search by the company's name = %v", got)
	}
	if _, err := other.UpdateCompany(ctx, admin, co.ID, crm.CompanyInput{Name: ptr("Newname Ltd")}, 0); err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "newname"}); !slices.Equal(got, []string{"After"}) {
		t.Fatalf("after another instance renamed the company, search = %v", got)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "oldname"}); len(got) != 0 {
		t.Fatalf("the company's old name still finds %v", got)
	}
	// Erased through the other instance: gone from this one's search.
	if _, err := other.EraseClient(ctx, stepped(admin), "contact", c.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(t, f, admin, crm.ContactFilter{Q: "pavel"}); !slices.Equal(got, []string{"Second"}) {
		t.Fatalf("after the erase, search = %v", got)
	}
}

// TestIndexFollowsShares (ACL-2): the index holds the shares of contacts
// and companies, followed through the change sequence like the records:
// a share made or revoked by another instance is in this one's next list
// and search, for the grantee only; a company shared with a user makes
// their contacts of that company found by its name.
func TestIndexFollowsShares(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob, support := f.as("alice"), f.as("bob"), f.as("support")
	other := service.New(f.store, service.Options{Logger: slog.New(slog.DiscardHandler)})
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Sharedone")})
	if err != nil {
		t.Fatal(err)
	}
	list := func(p *crm.Principal, q string) []int64 { return contactIDs(t, f, p, crm.ContactFilter{Q: q}) }
	if ids := list(bob, "sharedone"); len(ids) != 0 {
		t.Fatalf("bob finds %v before any share", ids)
	}
	sh, _, err := other.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &f.users["bob"].ID})
	if err != nil {
		t.Fatal(err)
	}
	if ids := list(bob, ""); !slices.Equal(ids, []int64{c.ID}) {
		t.Fatalf("bob's list after another instance shared = %v, want %d", ids, c.ID)
	}
	if ids := list(bob, "sharedone"); !slices.Equal(ids, []int64{c.ID}) {
		t.Fatalf("bob's search after another instance shared = %v", ids)
	}
	if ids := list(support, "sharedone"); len(ids) != 0 {
		t.Fatalf("support finds %v through bob's share", ids)
	}
	// Revoked: the index, not only the store's reading of the rows, no
	// longer gives it to bob (a first page of one is the next share's).
	later, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Sharedtwo")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.ShareRecord(ctx, alice, "contact", later.ID, crm.ShareInput{UserID: &f.users["bob"].ID}); err != nil {
		t.Fatal(err)
	}
	if err := other.RevokeShare(ctx, alice, "contact", c.ID, sh.ID); err != nil {
		t.Fatal(err)
	}
	// An expired share (written as it was, before it ended) of a contact
	// that sorts first gives nothing either.
	first, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Shareda")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Write(ctx, func(tx crm.Tx) error {
		_, err := tx.PutShare(ctx, &crm.Share{Entity: "contact", RecordID: first.ID, UserID: &f.users["bob"].ID, Access: crm.ShareRead,
			ExpiresAt: ptr(time.Now().Add(-time.Second)), CreatedBy: f.users["alice"].ID, CreatedAt: tx.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "shared"} {
		pg, err := f.svc.FindContacts(ctx, bob, crm.ContactFilter{Q: q}, crm.ListOptions{Limit: 1})
		if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != later.ID || pg.NextCursor != "" {
			t.Fatalf("bob's first page of one (q %q) = %+v %v, want only %d", q, pg, err, later.ID)
		}
	}

	co, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Zeppelinwerk")})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := f.svc.CreateContact(ctx, f.as("admin"), crm.ContactInput{LastName: ptr("Bobs"), CompanyID: crm.Value(co.ID), OwnerID: &f.users["bob"].ID})
	if err != nil {
		t.Fatal(err)
	}
	if ids := list(bob, "zeppelin"); len(ids) != 0 {
		t.Fatalf("bob's contacts are found by a company name bob may not read: %v", ids)
	}
	if _, _, err := other.ShareRecord(ctx, alice, "company", co.ID, crm.ShareInput{UserID: &f.users["bob"].ID}); err != nil {
		t.Fatal(err)
	}
	if ids := list(bob, "zeppelin"); !slices.Equal(ids, []int64{mine.ID}) {
		t.Fatalf("bob's search by the name of a company shared with him = %v, want %d", ids, mine.ID)
	}
}

// TestIndexFollowsInBackground: an instance that follows the change
// sequence in the background has read a change before the purge job
// prunes it, so its next list applies it without reading every record
// again (which it logs when it has to).
func TestIndexFollowsInBackground(t *testing.T) {
	for _, follow := range []bool{true, false} {
		var logs testkit.Buffer
		f := newFixture(t, service.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		admin := f.as("admin")
		names(t, f, admin, crm.ContactFilter{}) // built
		if follow {
			go f.svc.FollowChanges(ctx, 5*time.Millisecond)
		}
		other := service.New(f.store, service.Options{Logger: slog.New(slog.DiscardHandler)})
		if _, err := other.CreateContact(ctx, admin, crm.ContactInput{LastName: ptr("Meanwhile")}); err != nil {
			t.Fatal(err)
		}
		if follow {
			// Until the follower has read the sequence from after the
			// write (no fixed sleep: a busy machine may take longer).
			written, deadline := time.Now(), time.Now().Add(10*time.Second)
			for !f.svc.ContactIndexSynced().After(written) {
				if time.Now().After(deadline) {
					t.Fatal("the background follower did not read the change sequence within 10 s")
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
		err := f.store.Write(ctx, func(tx crm.Tx) error {
			_, err := tx.PruneChanges(ctx, time.Now().Add(time.Hour))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(t, f, admin, crm.ContactFilter{Q: "meanwhile"}); !slices.Equal(got, []string{"Meanwhile"}) {
			t.Errorf("follow=%v: search = %v", follow, got)
		}
		cancel()
		if rebuilt := strings.Contains(logs.String(), "pruned past this instance"); rebuilt == follow {
			t.Errorf("follow=%v: read every record again = %v; log:\n%s", follow, rebuilt, logs.String())
		}
	}
}

// TestContactPagesInEveryOrder: paging with the returned cursors through
// every sort, both ways, yields every contact once, in the order of the
// folded sort key then the id; a cursor from another sort is refused.
func TestContactPagesInEveryOrder(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	var all []*crm.Contact
	for i := range 23 {
		// Few distinct names: many ties, broken by id.
		c, err := f.svc.CreateContact(ctx, admin, crm.ContactInput{FirstName: ptr([]string{"b", "A", "c"}[i%3]),
			LastName: ptr([]string{"Zed", "alpha", "Émile", "beta"}[i%4]), Email: ptr(fmt.Sprintf("u%02d@example.com", 30-i))})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	key := map[string]func(c *crm.Contact) string{
		"last_name":  func(c *crm.Contact) string { return strings.ToLower(c.LastName) },
		"first_name": func(c *crm.Contact) string { return strings.ToLower(c.FirstName) },
		"email":      func(c *crm.Contact) string { return c.Email },
		"created_at": func(c *crm.Contact) string { return fmt.Sprintf("%020d", c.CreatedAt.UnixMicro()) },
		"updated_at": func(c *crm.Contact) string { return fmt.Sprintf("%020d", c.UpdatedAt.UnixMicro()) },
	}
	for sort, k := range key {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b *crm.Contact) int {
				r := strings.Compare(k(a), k(b))
				if r == 0 {
					r = int(a.ID - b.ID)
				}
				if desc {
					r = -r
				}
				return r
			})
			name := sort
			if desc {
				name = "-" + sort
			}
			if got, wantIDs := pageIDs(t, f, admin, name, 4), idsOf(want); !slices.Equal(got, wantIDs) {
				t.Errorf("sort %s pages %v, want %v", name, got, wantIDs)
			}
		}
	}
	pg, err := f.svc.FindContacts(ctx, admin, crm.ContactFilter{}, crm.ListOptions{Limit: 2, Sort: "email"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FindContacts(ctx, admin, crm.ContactFilter{}, crm.ListOptions{Limit: 2, Sort: "created_at", Cursor: pg.NextCursor})
	wantField(t, err, "cursor")
}

// TestContactTextOrder: names sort and match by code point (UTF-8 byte
// order) of their lower-case form, not by a locale's collation, which
// ignores punctuation and spaces and puts accented letters beside their
// base letters; small pages make the cursors carry such keys too.
func TestContactTextOrder(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	byName := map[string]int64{}
	var all []*crm.Contact
	for _, name := range []string{"O'Brien", "Obrien", "o brien", "Ärger", "Zed", "zz", "Élan", "Иванов", "ab",
		"a-b", "A_b", "a b", "Ab", "éa", "e", "ob"} {
		c, err := f.svc.CreateContact(ctx, admin, crm.ContactInput{FirstName: ptr("Quinn"), LastName: ptr(name)})
		if err != nil {
			t.Fatal(err)
		}
		byName[name] = c.ID
		all = append(all, c)
	}
	for _, desc := range []bool{false, true} {
		want := slices.Clone(all)
		slices.SortFunc(want, func(a, b *crm.Contact) int {
			c := strings.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName))
			if c == 0 {
				c = int(a.ID - b.ID)
			}
			if desc {
				c = -c
			}
			return c
		})
		sort := "last_name"
		if desc {
			sort = "-last_name"
		}
		if got, wantIDs := pageIDs(t, f, admin, sort, 5), idsOf(want); !slices.Equal(got, wantIDs) {
			t.Errorf("sort=%s: %v, want %v", sort, got, wantIDs)
		}
	}
	for q, want := range map[string][]string{
		"o'": {"O'Brien"},
		"ob": {"Obrien", "ob"},
		"a-": {"a-b"},
		"a_": {"A_b"},
		"ab": {"ab", "Ab"},
		"é":  {"Élan", "éa"},
		"e":  {"e"},
		"ä":  {"Ärger"},
		"a":  {"ab", "a-b", "A_b", "a b", "Ab"},
	} {
		got := names(t, f, admin, crm.ContactFilter{Q: q})
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("q=%q found %v, want %v", q, got, want)
		}
	}
}
