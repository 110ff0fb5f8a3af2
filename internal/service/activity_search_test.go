package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// Activity search (ENC-2, issue 12): an activity's subject is sealed, and
// a search opens the subjects of a bounded run of the list in its order.
// Through the real service and store: what a search finds, that pages of
// a search go on after the last activity read whatever the budget, and
// that a search never reads past the caller's scope.

// activitySearch pages through the activities p finds with flt, in the
// order sort, and returns their ids and how many pages it took.
func activitySearch(t *testing.T, f *fixture, p *crm.Principal, flt crm.ActivityFilter, sort string, limit int) ([]int64, int) {
	t.Helper()
	got := []int64{}
	cursor := ""
	for pages := 1; pages < 200; pages++ {
		pg, err := f.svc.FindActivities(context.Background(), p, flt, crm.ListOptions{Limit: limit, Sort: sort, Cursor: cursor})
		if err != nil {
			t.Fatalf("activities %+v: %v", flt, err)
		}
		if len(pg.Items) > limit {
			t.Fatalf("a page of %d activities, limit %d", len(pg.Items), limit)
		}
		for _, a := range pg.Items {
			got = append(got, a.ID)
		}
		if cursor = pg.NextCursor; cursor == "" {
			return got, pages
		}
	}
	t.Fatal("activities: more than 200 pages")
	return nil, 0
}

func TestActivitySearch(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob := f.as("alice"), f.as("bob")
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Ivanov")})
	if err != nil {
		t.Fatal(err)
	}
	subjects := []string{"Call with Иван", "Встреча", "O'Brien", "Obrien", "a-b", "A_b", "a%b", "Ärger", "Élan", "éa", "follow-up call"}
	byName := map[string]int64{}
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i, subj := range subjects {
		a, err := f.svc.CreateActivity(ctx, alice, crm.ActivityInput{Type: ptr("call"), Subject: ptr(subj),
			OccurredAt: ptr(base.Add(time.Duration(i) * time.Hour)), ContactID: crm.Value(c.ID)})
		if err != nil {
			t.Fatalf("%s: %v", subj, err)
		}
		byName[subj] = a.ID
	}
	bc, err := f.svc.CreateContact(ctx, bob, crm.ContactInput{LastName: ptr("Petrov")})
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := f.svc.CreateActivity(ctx, bob, crm.ActivityInput{Type: ptr("note"), Subject: ptr("Call bob's client"), OccurredAt: ptr(base),
		ContactID: crm.Value(bc.ID)})
	if err != nil {
		t.Fatal(err)
	}
	// Changed since: the first activity is the last by update, so that
	// the orders by creation and by update differ.
	time.Sleep(2 * time.Millisecond)
	if _, err := f.svc.UpdateActivity(ctx, alice, byName["Call with Иван"], crm.ActivityInput{Body: ptr("moved to Friday")}, 0); err != nil {
		t.Fatal(err)
	}
	ids := func(names ...string) []int64 {
		out := []int64{}
		for _, n := range names {
			out = append(out, byName[n])
		}
		slices.Sort(out)
		return out
	}
	for _, budget := range []int{2000, 3, 1} {
		service.SetScanBudget(t, budget)
		for _, c := range []struct {
			p    *crm.Principal
			flt  crm.ActivityFilter
			want []int64
		}{
			{alice, crm.ActivityFilter{Q: "call"}, ids("Call with Иван", "follow-up call")}, // a word inside
			{alice, crm.ActivityFilter{Q: "CALL W"}, ids("Call with Иван")},
			{alice, crm.ActivityFilter{Q: "иван"}, ids("Call with Иван")},
			{alice, crm.ActivityFilter{Q: "встр"}, ids("Встреча")},
			{alice, crm.ActivityFilter{Q: "o'"}, ids("O'Brien")},
			{alice, crm.ActivityFilter{Q: "ob"}, ids("Obrien")},
			{alice, crm.ActivityFilter{Q: "a-"}, ids("a-b")},
			{alice, crm.ActivityFilter{Q: "a_"}, ids("A_b")},
			{alice, crm.ActivityFilter{Q: "a%"}, ids("a%b")},
			{alice, crm.ActivityFilter{Q: "é"}, ids("Élan", "éa")},
			{alice, crm.ActivityFilter{Q: "ä"}, ids("Ärger")},
			{alice, crm.ActivityFilter{Q: "zzz"}, ids()},
			{alice, crm.ActivityFilter{Q: "call", Type: "note"}, ids()},
			{alice, crm.ActivityFilter{Q: "call", ContactID: c.ID}, ids("Call with Иван", "follow-up call")},
			// Bob's own call, and nothing of alice's.
			{bob, crm.ActivityFilter{Q: "call"}, []int64{bobs.ID}},
		} {
			for _, sort := range []string{"", "occurred_at", "-created_at", "created_at", "updated_at", "-updated_at"} {
				for _, limit := range []int{1, 2, 50} {
					got, _ := activitySearch(t, f, c.p, c.flt, sort, limit)
					slices.Sort(got)
					if !slices.Equal(got, c.want) {
						t.Errorf("budget %d q=%q sort=%q limit=%d: %v, want %v", budget, c.flt.Q, sort, limit, got, c.want)
					}
				}
			}
		}
	}
	// A page reads at most the budget: with a budget of 1, a search of
	// alice's 11 activities takes a page per activity read (and one to
	// learn the list has ended at most), whatever it finds.
	service.SetScanBudget(t, 1)
	if _, pages := activitySearch(t, f, alice, crm.ActivityFilter{Q: "zzz"}, "", 50); pages < len(subjects) || pages > len(subjects)+1 {
		t.Errorf("a search of %d activities with a budget of 1 took %d pages", len(subjects), pages)
	}
	service.SetScanBudget(t, 2000)
	if _, pages := activitySearch(t, f, alice, crm.ActivityFilter{Q: "zzz"}, "", 50); pages != 1 {
		t.Errorf("a search within the budget took %d pages", pages)
	}
	// Bad input.
	words := "a b c d e f g h i"
	if _, err := f.svc.FindActivities(ctx, alice, crm.ActivityFilter{Q: words}, crm.ListOptions{}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("q of 9 words: %v, want invalid", err)
	}
}
