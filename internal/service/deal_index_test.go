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

// The deal index (ENC-4, issue 12): a deal's title is sealed, so every
// deal list is answered from memory, through the real service and store:
// each sort, both ways, through small pages; the title's words; the
// filters and the caller's scope.

// dealIDs pages through the deals p sees matching flt.
func dealIDs(t *testing.T, f *fixture, p *crm.Principal, flt crm.DealFilter, sort string, limit int) []int64 {
	t.Helper()
	return pagedIDs(t, f.svc.FindDeals, func(d *crm.Deal) int64 { return d.ID }, p, flt, sort, limit)
}

func TestDealIndexOrderAndFilters(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob, admin := f.as("alice"), f.as("bob"), f.as("admin")
	pls, err := f.svc.FindPipelines(ctx, admin)
	if err != nil || len(pls) == 0 || len(pls[0].Stages) < 2 {
		t.Fatalf("pipelines %v %v", pls, err)
	}
	pipe, first, second := pls[0].ID, pls[0].Stages[0].ID, pls[0].Stages[1].ID
	acme, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Acme")})
	if err != nil {
		t.Fatal(err)
	}
	ivan, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Ivanov")})
	if err != nil {
		t.Fatal(err)
	}
	type spec struct {
		p       *crm.Principal
		title   string
		amount  string
		closing string
		stage   int64
		contact bool
		company bool
		tags    []string
	}
	specs := []spec{
		{alice, "Renewal 2026", "100", "2026-03-01", first, true, false, []string{"q1"}},
		{alice, "Новый договор", "2500.50", "", second, false, true, nil},
		{alice, "renewal Acme", "100", "2026-01-15", first, true, true, []string{"q1", "big"}},
		{bob, "Licences", "0", "2026-03-01", first, false, false, nil},
		{alice, "Ärger", "99.99", "", second, false, false, nil},
		{alice, "a-b", "7", "2025-12-31", first, false, false, []string{"big"}},
	}
	var deals []*crm.Deal
	for _, sp := range specs {
		in := crm.DealInput{Title: ptr(sp.title), PipelineID: &pipe, StageID: ptr(sp.stage), Amount: ptr(sp.amount), Tags: &sp.tags}
		if sp.closing != "" {
			in.ExpectedClose = ptr(sp.closing)
		}
		if sp.contact {
			in.ContactID = crm.Value(ivan.ID)
		}
		if sp.company {
			in.CompanyID = crm.Value(acme.ID)
		}
		d, err := f.svc.CreateDeal(ctx, sp.p, in)
		if err != nil {
			t.Fatalf("%s: %v", sp.title, err)
		}
		deals = append(deals, d)
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	gone, err := f.svc.CreateDeal(ctx, alice, crm.DealInput{Title: ptr("Gone deal"), PipelineID: &pipe})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteDeal(ctx, alice, gone.ID); err != nil {
		t.Fatal(err)
	}

	// Every sort, both ways, in pages of 1, 2 and 50, as the model orders.
	closing := func(d *crm.Deal) string { return cmp.Or(d.ExpectedClose, "9999-12-31") }
	keys := map[string]func(a, b *crm.Deal) int{
		"created_at":     func(a, b *crm.Deal) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated_at":     func(a, b *crm.Deal) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		"title":          func(a, b *crm.Deal) int { return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)) },
		"expected_close": func(a, b *crm.Deal) int { return strings.Compare(closing(a), closing(b)) },
		"amount":         func(a, b *crm.Deal) int { return cmp.Compare(a.AmountMinor, b.AmountMinor) },
	}
	everySort(t, "deals", deals, func(r *crm.Deal) int64 { return r.ID }, keys, func(sort string, limit int) []int64 {
		return dealIDs(t, f, admin, crm.DealFilter{}, sort, limit)
	})

	id := func(i ...int) []int64 {
		out := []int64{}
		for _, n := range i {
			out = append(out, deals[n].ID)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		who  string
		p    *crm.Principal
		flt  crm.DealFilter
		want []int64
	}{
		{"admin", admin, crm.DealFilter{Q: "ren"}, id(0, 2)},
		{"admin", admin, crm.DealFilter{Q: "RENEWAL acme"}, id(2)},
		{"admin", admin, crm.DealFilter{Q: "НОВЫЙ Д"}, id(1)},
		{"admin", admin, crm.DealFilter{Q: "договор"}, id(1)}, // a word inside the title
		{"admin", admin, crm.DealFilter{Q: "2026"}, id(0)},
		{"admin", admin, crm.DealFilter{Q: "enewal"}, id()},
		{"admin", admin, crm.DealFilter{StageID: second}, id(1, 4)},
		{"admin", admin, crm.DealFilter{PipelineID: pipe, StageID: first}, id(0, 2, 3, 5)},
		{"admin", admin, crm.DealFilter{ContactID: ivan.ID}, id(0, 2)},
		{"admin", admin, crm.DealFilter{CompanyID: acme.ID}, id(1, 2)},
		{"admin", admin, crm.DealFilter{ContactID: ivan.ID, CompanyID: acme.ID}, id(2)},
		{"admin", admin, crm.DealFilter{OwnerID: f.users["bob"].ID}, id(3)},
		{"admin", admin, crm.DealFilter{Tag: "BIG"}, id(2, 5)},
		{"admin", admin, crm.DealFilter{Tag: "q1", Q: "acme"}, id(2)},
		{"admin", admin, crm.DealFilter{IDs: []int64{deals[0].ID, gone.ID, deals[3].ID}}, id(0, 3)},
		{"admin", admin, crm.DealFilter{Deleted: true}, []int64{gone.ID}},
		{"admin", admin, crm.DealFilter{Deleted: true, Q: "gone"}, []int64{gone.ID}},
		{"bob", bob, crm.DealFilter{}, id(3)},
		{"bob", bob, crm.DealFilter{Q: "ren"}, id()},
		{"bob", bob, crm.DealFilter{Deleted: true}, id()},
		{"alice", alice, crm.DealFilter{Q: "licences"}, id()},
	} {
		for _, sort := range []string{"title", "-created_at", "amount"} {
			got := dealIDs(t, f, c.p, c.flt, sort, 2)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s %+v sort=%s: %v, want %v", c.who, c.flt, sort, got, c.want)
			}
		}
	}

	// A renamed deal is found by its new title only; a moved one in its
	// new stage.
	if _, err := f.svc.UpdateDeal(ctx, alice, deals[5].ID, crm.DealInput{Title: ptr("Zebra crossing"), StageID: ptr(second)}, 0); err != nil {
		t.Fatal(err)
	}
	if got := dealIDs(t, f, admin, crm.DealFilter{Q: "a-b"}, "", 50); len(got) != 0 {
		t.Errorf("the old title still finds %v", got)
	}
	if got := dealIDs(t, f, admin, crm.DealFilter{Q: "crossing", StageID: second}, "", 50); !slices.Equal(got, []int64{deals[5].ID}) {
		t.Errorf("the new title in the new stage finds %v", got)
	}
	// The amount is formatted on a list page, as on a read.
	pg, err := f.svc.FindDeals(ctx, admin, crm.DealFilter{Q: "новый"}, crm.ListOptions{})
	if err != nil || len(pg.Items) != 1 || pg.Items[0].Amount != "2500.50" {
		t.Errorf("a page's deal: %+v %v", pg, err)
	}
	// Bad input.
	if _, err := f.svc.FindDeals(ctx, admin, crm.DealFilter{Q: strings.TrimSpace(strings.Repeat("a ", 9))}, crm.ListOptions{}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("q of 9 words: %v, want invalid", err)
	}
	first2, err := f.svc.FindDeals(ctx, admin, crm.DealFilter{}, crm.ListOptions{Limit: 1, Sort: "amount"})
	if err != nil || first2.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	if _, err := f.svc.FindDeals(ctx, admin, crm.DealFilter{}, crm.ListOptions{Limit: 1, Sort: "title", Cursor: first2.NextCursor}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("an amount cursor on the title sort: %v, want invalid", err)
	}
}
