package service_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// The company index (ENC-4, issue 12): a company's name and domain are
// sealed, so its lists sort by name, search and filter by name and domain
// from memory, through the real service and store, as the plaintext
// indexes did before (the store's own tests of these cases moved here).

// pagedIDs pages through every record find returns to p for flt, in the
// order sort, limit a page, with the cursors the pages return, and
// returns their ids (id).
func pagedIDs[T, F any](t *testing.T, find func(context.Context, *crm.Principal, F, crm.ListOptions) (*crm.Page[T], error),
	id func(T) int64, p *crm.Principal, flt F, sort string, limit int) []int64 {
	t.Helper()
	got := []int64{}
	cursor := ""
	for range 100 {
		pg, err := find(context.Background(), p, flt, crm.ListOptions{Limit: limit, Sort: sort, Cursor: cursor})
		if err != nil {
			t.Fatalf("%+v sort %s: %v", flt, sort, err)
		}
		if len(pg.Items) > limit {
			t.Fatalf("a page of %d, limit %d", len(pg.Items), limit)
		}
		for _, r := range pg.Items {
			got = append(got, id(r))
		}
		if cursor = pg.NextCursor; cursor == "" {
			return got
		}
	}
	t.Fatalf("%+v sort %s: more than 100 pages", flt, sort)
	return nil
}

// everySort pages through all of a list (list pages the records p sees in
// one order, limit a page) in each of the list's sort fields, both ways,
// in pages of 1, 2 and 50, and checks it against recs ordered by the
// model's keys (ties broken by id), as the index must order them.
func everySort[T any](t *testing.T, name string, recs []T, id func(T) int64, keys map[string]func(a, b T) int,
	list func(sort string, limit int) []int64) {
	t.Helper()
	for _, field := range crm.SortFields[name] {
		for _, desc := range []bool{false, true} {
			sorted := slices.Clone(recs)
			slices.SortFunc(sorted, func(a, b T) int {
				c := cmp.Or(keys[field](a, b), cmp.Compare(id(a), id(b)))
				if desc {
					c = -c
				}
				return c
			})
			want := make([]int64, len(sorted))
			for i, r := range sorted {
				want[i] = id(r)
			}
			sort := field
			if desc {
				sort = "-" + field
			}
			for _, limit := range []int{1, 2, 50} {
				if got := list(sort, limit); !slices.Equal(got, want) {
					t.Errorf("%s sort=%s limit=%d: %v, want %v", name, sort, limit, got, want)
				}
			}
		}
	}
}

// companyIDs pages through the companies p sees matching flt.
func companyIDs(t *testing.T, f *fixture, p *crm.Principal, flt crm.CompanyFilter, sort string, limit int) []int64 {
	t.Helper()
	return pagedIDs(t, f.svc.FindCompanies, func(c *crm.Company) int64 { return c.ID }, p, flt, sort, limit)
}

// TestCompanyIndexOrder: names sort by code point of their lower-case
// form (not a locale's collation, which ignores punctuation and spaces),
// both ways, through small pages whose cursors carry such keys; a prefix
// search matches names as typed.
func TestCompanyIndexOrder(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice := f.as("alice")
	names := []string{"O'Brien", "Obrien", "o brien", "Ärger", "Zed", "zz", "Élan", "Иванов", "ab",
		"a-b", "A_b", "a b", "Ab", "éa", "e", "ob"}
	var rows []*crm.Company
	byName := map[string]int64{}
	for _, name := range names {
		c, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr(name)})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, c)
		byName[name] = c.ID
	}
	for _, desc := range []bool{false, true} {
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, func(a, b *crm.Company) int {
			c := cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
			if desc {
				c = -c
			}
			return c
		})
		want := make([]int64, len(sorted))
		for i, c := range sorted {
			want[i] = c.ID
		}
		sort := "name"
		if desc {
			sort = "-name"
		}
		for _, limit := range []int{2, 5, 50} {
			if got := companyIDs(t, f, alice, crm.CompanyFilter{}, sort, limit); !slices.Equal(got, want) {
				t.Errorf("sort=%s limit=%d: %v, want %v", sort, limit, got, want)
			}
		}
		// The default order is by name.
		if !desc {
			if got := companyIDs(t, f, alice, crm.CompanyFilter{}, "", 3); !slices.Equal(got, want) {
				t.Errorf("default order: %v, want %v", got, want)
			}
		}
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"o'", []string{"O'Brien"}},
		{"ob", []string{"Obrien", "ob"}}, // not "O'Brien": its words are "o'brien", "o" and "brien"
		{"a-", []string{"a-b"}},
		{"ab", []string{"ab", "Ab"}},
		{"é", []string{"Élan", "éa"}},
		{"ä", []string{"Ärger"}},
		{"иван", []string{"Иванов"}},
		{"ИВАНОВ", []string{"Иванов"}},
		{"brien", []string{"O'Brien", "o brien"}}, // a word inside a name
		{"zzz", nil},
	} {
		var want []int64
		for _, n := range c.want {
			want = append(want, byName[n])
		}
		slices.Sort(want)
		got := companyIDs(t, f, alice, crm.CompanyFilter{Q: c.q}, "", 50)
		slices.Sort(got)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("q=%q: %v, want %v (%v)", c.q, got, want, c.want)
		}
	}
}

// TestCompanyIndexFilters: the exact name and domain filters match the
// whole value in any case, a search word starts a word of the name or
// the domain, and the owner, tag, ids and bin filters and the caller's
// scope hold, on every sort.
func TestCompanyIndexFilters(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob, admin := f.as("alice"), f.as("bob"), f.as("admin")
	create := func(p *crm.Principal, name, domain string, tags ...string) int64 {
		t.Helper()
		in := crm.CompanyInput{Name: ptr(name), Tags: &tags}
		if domain != "" {
			in.Domain = ptr(domain)
		}
		c, err := f.svc.CreateCompany(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	acme := create(alice, "Acme", "Acme.test", "supplier")
	holdings := create(bob, "Acme Holdings", "holdings.test", "supplier", "big")
	beta := create(alice, "Beta", "acme-beta.test")
	widgets := create(alice, "Acme Widgets", "widgets.test")
	gone := create(alice, "Acme Gone", "")
	if err := f.svc.DeleteCompany(ctx, alice, gone); err != nil {
		t.Fatal(err)
	}
	ids := func(v ...int64) []int64 { slices.Sort(v); return v }
	for _, c := range []struct {
		p    *crm.Principal
		flt  crm.CompanyFilter
		want []int64
	}{
		{admin, crm.CompanyFilter{}, ids(acme, holdings, beta, widgets)},
		{admin, crm.CompanyFilter{Name: "acme"}, ids(acme)}, // not "Acme Holdings": the whole name
		{admin, crm.CompanyFilter{Name: " ACME HOLDINGS "}, ids(holdings)},
		{admin, crm.CompanyFilter{Name: "acme hold"}, nil},
		{admin, crm.CompanyFilter{Domain: "ACME.test"}, ids(acme)},
		{admin, crm.CompanyFilter{Domain: "acme"}, nil},
		{admin, crm.CompanyFilter{Q: "acme"}, ids(acme, holdings, beta, widgets)}, // beta by its domain
		{admin, crm.CompanyFilter{Q: "ACME W"}, ids(widgets)},
		{admin, crm.CompanyFilter{Q: "wid"}, ids(widgets)},
		{admin, crm.CompanyFilter{Q: "acme-b"}, ids(beta)},
		{admin, crm.CompanyFilter{Q: "eta"}, nil},
		{admin, crm.CompanyFilter{Q: "holdings"}, ids(holdings)},
		{admin, crm.CompanyFilter{OwnerID: f.users["alice"].ID}, ids(acme, beta, widgets)},
		{admin, crm.CompanyFilter{Tag: "Supplier"}, ids(acme, holdings)},
		{admin, crm.CompanyFilter{Tag: "big", OwnerID: f.users["alice"].ID}, nil},
		{admin, crm.CompanyFilter{IDs: []int64{acme, gone, beta}}, ids(acme, beta)},
		{admin, crm.CompanyFilter{Deleted: true}, ids(gone)},
		{admin, crm.CompanyFilter{Deleted: true, Q: "gone"}, ids(gone)},
		{bob, crm.CompanyFilter{Tag: "supplier"}, ids(holdings)},
		{bob, crm.CompanyFilter{Q: "acme"}, ids(holdings)},
		{bob, crm.CompanyFilter{Name: "acme"}, nil},
		{alice, crm.CompanyFilter{Deleted: true}, ids(gone)},
		{bob, crm.CompanyFilter{Deleted: true}, nil},
	} {
		for _, sort := range crm.SortFields["companies"] {
			got := companyIDs(t, f, c.p, c.flt, sort, 2)
			slices.Sort(got)
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("user %d %+v sort=%s: %v, want %v", c.p.UserID, c.flt, sort, got, c.want)
			}
		}
	}
	// A renamed company is found by its new name only, at once.
	if _, err := f.svc.UpdateCompany(ctx, alice, beta, crm.CompanyInput{Name: ptr("Gamma Rays")}, 0); err != nil {
		t.Fatal(err)
	}
	if got := companyIDs(t, f, admin, crm.CompanyFilter{Q: "beta"}, "", 50); len(got) != 0 {
		t.Errorf("the old name still finds %v", got)
	}
	if got := companyIDs(t, f, admin, crm.CompanyFilter{Q: "rays"}, "", 50); !slices.Equal(got, []int64{beta}) {
		t.Errorf("the new name finds %v", got)
	}
	// Bad input: too many words, a cursor of another sort.
	words := strings.TrimSpace(strings.Repeat("a ", 9))
	if _, err := f.svc.FindCompanies(ctx, admin, crm.CompanyFilter{Q: words}, crm.ListOptions{}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("q of 9 words: %v, want invalid", err)
	}
	pg, err := f.svc.FindCompanies(ctx, admin, crm.CompanyFilter{}, crm.ListOptions{Limit: 1})
	if err != nil || pg.NextCursor == "" {
		t.Fatalf("first page: %v %+v", err, pg)
	}
	if _, err := f.svc.FindCompanies(ctx, admin, crm.CompanyFilter{}, crm.ListOptions{Limit: 1, Sort: "created_at", Cursor: pg.NextCursor}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("a name cursor on the created_at sort: %v, want invalid", err)
	}
}

// TestCompanySearchSkipsHiddenDomain (ACL-3): a caller whose role hides
// a company's domain neither filters by it (400 naming the field) nor
// finds a company by a search word only the domain starts; the name still
// finds it.
func TestCompanySearchSkipsHiddenDomain(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	co, err := f.svc.CreateCompany(ctx, admin, crm.CompanyInput{Name: ptr("Plain Co"), Domain: ptr("secretdomain.test")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.idn.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("nodomain"), Label: ptr("No domains"),
		Permissions: &[]string{"companies.read", "companies.view_all"},
		Fields:      &map[string]crm.FieldLevel{"company.domain": crm.FieldHidden}}); err != nil {
		t.Fatal(err)
	}
	u := f.kit.AddUser(t, "nodomain1", crm.Role("nodomain"))
	tok, err := f.idn.CreateToken(ctx, crm.SystemPrincipal(), u.ID, "t", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := f.idn.AuthenticateToken(ctx, tok.Secret, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who   string
		p     *crm.Principal
		q     string
		found int
	}{
		{"admin", admin, "secretdom", 1},
		{"the domain hidden", hidden, "secretdom", 0},
		{"the domain hidden", hidden, "plain", 1},
	} {
		pg, err := f.svc.FindCompanies(ctx, c.p, crm.CompanyFilter{Q: c.q}, crm.ListOptions{})
		if err != nil {
			t.Fatalf("%s q=%s: %v", c.who, c.q, err)
		}
		if len(pg.Items) != c.found || (c.found == 1 && pg.Items[0].ID != co.ID) {
			t.Errorf("%s q=%s: found %d companies, want %d", c.who, c.q, len(pg.Items), c.found)
		}
	}
	_, err = f.svc.FindCompanies(ctx, hidden, crm.CompanyFilter{Domain: "secretdomain.test"}, crm.ListOptions{})
	if crm.ErrorCode(err) != crm.EINVALID && crm.ErrorCode(err) != crm.EFORBIDDEN {
		t.Errorf("a domain filter by a caller who may not read it: %v, want refused", err)
	}
}
