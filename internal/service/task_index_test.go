package service_test

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// The task index (ENC-4, issue 12): a task's title is sealed, so every
// task list is answered from memory, through the real service and store:
// each sort, both ways, through small pages; the title's words; the
// filters; the caller's scope, which holds the tasks assigned to them.

// taskIDs pages through the tasks p sees matching flt.
func taskIDs(t *testing.T, f *fixture, p *crm.Principal, flt crm.TaskFilter, sort string, limit int) []int64 {
	t.Helper()
	return pagedIDs(t, f.svc.FindTasks, func(tk *crm.Task) int64 { return tk.ID }, p, flt, sort, limit)
}

func TestTaskIndexOrderAndFilters(t *testing.T) {
	f := newFixture(t, service.Options{})
	ctx := context.Background()
	alice, bob, admin := f.as("alice"), f.as("bob"), f.as("admin")
	ivan, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Ivanov")})
	if err != nil {
		t.Fatal(err)
	}
	acme, err := f.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Acme")})
	if err != nil {
		t.Fatal(err)
	}
	pls, err := f.svc.FindPipelines(ctx, admin)
	if err != nil || len(pls) == 0 {
		t.Fatalf("pipelines %v %v", pls, err)
	}
	deal, err := f.svc.CreateDeal(ctx, alice, crm.DealInput{Title: ptr("Renewal"), PipelineID: &pls[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) crm.Nullable[time.Time] { return crm.Value(time.Date(2027, 1, d, 9, 0, 0, 0, time.UTC)) }
	bobID := f.users["bob"].ID
	specs := []struct {
		p     *crm.Principal
		in    crm.TaskInput
		links string
	}{
		{alice, crm.TaskInput{Title: ptr("Call Ivanov"), DueAt: day(3)}, "contact"},
		{alice, crm.TaskInput{Title: ptr("Сделать звонок"), Status: ptr("in_progress")}, "company"},
		{alice, crm.TaskInput{Title: ptr("send proposal"), DueAt: day(1), AssigneeID: &bobID}, "deal"},
		{bob, crm.TaskInput{Title: ptr("Demo"), DueAt: day(3), Status: ptr("done")}, ""},
		{alice, crm.TaskInput{Title: ptr("Ärger melden"), DueAt: day(2)}, "contact"},
		{alice, crm.TaskInput{Title: ptr("a-b check")}, ""},
		// Due before 1970: a negative time, which must sort and page too.
		{alice, crm.TaskInput{Title: ptr("Old reminder"), DueAt: crm.Value(time.Date(1950, 3, 1, 0, 0, 0, 0, time.UTC))}, ""},
		{alice, crm.TaskInput{Title: ptr("Older reminder"), DueAt: crm.Value(time.Date(1949, 3, 1, 0, 0, 0, 0, time.UTC))}, ""},
	}
	var tasks []*crm.Task
	for _, sp := range specs {
		in := sp.in
		switch sp.links {
		case "contact":
			in.ContactID = crm.Value(ivan.ID)
		case "company":
			in.CompanyID = crm.Value(acme.ID)
		case "deal":
			in.DealID = crm.Value(deal.ID)
		}
		tk, err := f.svc.CreateTask(ctx, sp.p, in)
		if err != nil {
			t.Fatalf("%s: %v", *sp.in.Title, err)
		}
		tasks = append(tasks, tk)
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	gone, err := f.svc.CreateTask(ctx, alice, crm.TaskInput{Title: ptr("Gone task")})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteTask(ctx, alice, gone.ID); err != nil {
		t.Fatal(err)
	}

	due := func(tk *crm.Task) int64 {
		if tk.DueAt == nil {
			return math.MaxInt64
		}
		return tk.DueAt.UnixMicro()
	}
	keys := map[string]func(a, b *crm.Task) int{
		"due_at":     func(a, b *crm.Task) int { return cmp.Compare(due(a), due(b)) },
		"created_at": func(a, b *crm.Task) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated_at": func(a, b *crm.Task) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		"title":      func(a, b *crm.Task) int { return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)) },
	}
	everySort(t, "tasks", tasks, func(r *crm.Task) int64 { return r.ID }, keys, func(sort string, limit int) []int64 {
		return taskIDs(t, f, admin, crm.TaskFilter{}, sort, limit)
	})

	id := func(i ...int) []int64 {
		out := []int64{}
		for _, n := range i {
			out = append(out, tasks[n].ID)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		who  string
		p    *crm.Principal
		flt  crm.TaskFilter
		want []int64
	}{
		{"admin", admin, crm.TaskFilter{Q: "call"}, id(0)},
		{"admin", admin, crm.TaskFilter{Q: "ivanov"}, id(0)}, // a word inside the title
		{"admin", admin, crm.TaskFilter{Q: "ЗВОНОК сдел"}, id(1)},
		{"admin", admin, crm.TaskFilter{Q: "prop"}, id(2)},
		{"admin", admin, crm.TaskFilter{Q: "äRGER"}, id(4)},
		{"admin", admin, crm.TaskFilter{Q: "roposal"}, id()},
		{"admin", admin, crm.TaskFilter{Status: "open"}, id(0, 2, 4, 5, 6, 7)},
		{"admin", admin, crm.TaskFilter{Status: "in_progress"}, id(1)},
		{"admin", admin, crm.TaskFilter{Status: "done", Q: "demo"}, id(3)},
		{"admin", admin, crm.TaskFilter{AssigneeID: bobID}, id(2, 3)},
		{"admin", admin, crm.TaskFilter{ContactID: ivan.ID}, id(0, 4)},
		{"admin", admin, crm.TaskFilter{CompanyID: acme.ID}, id(1)},
		{"admin", admin, crm.TaskFilter{DealID: deal.ID}, id(2)},
		{"admin", admin, crm.TaskFilter{OwnerID: bobID}, id(3)},
		{"admin", admin, crm.TaskFilter{IDs: []int64{tasks[1].ID, gone.ID}}, id(1)},
		{"admin", admin, crm.TaskFilter{Deleted: true}, []int64{gone.ID}},
		// Bob sees his own task and the one assigned to him, and nothing
		// else of alice's, whatever the search.
		{"bob", bob, crm.TaskFilter{}, id(2, 3)},
		{"bob", bob, crm.TaskFilter{Q: "send"}, id(2)},
		{"bob", bob, crm.TaskFilter{Q: "call"}, id()},
		{"bob", bob, crm.TaskFilter{ContactID: ivan.ID}, id()},
		{"bob", bob, crm.TaskFilter{Deleted: true}, id()},
		{"alice", alice, crm.TaskFilter{Q: "demo"}, id()},
	} {
		for _, sort := range []string{"title", "due_at", "-created_at"} {
			got := taskIDs(t, f, c.p, c.flt, sort, 2)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s %+v sort=%s: %v, want %v", c.who, c.flt, sort, got, c.want)
			}
		}
	}

	// Reassigned away from bob, a task leaves his lists at once; renamed,
	// it is found by its new title only.
	aliceID := f.users["alice"].ID
	if _, err := f.svc.UpdateTask(ctx, alice, tasks[2].ID, crm.TaskInput{Title: ptr("Write offer"), AssigneeID: &aliceID}, 0); err != nil {
		t.Fatal(err)
	}
	if got := taskIDs(t, f, bob, crm.TaskFilter{}, "", 50); !slices.Equal(got, id(3)) {
		t.Errorf("bob's tasks after the reassignment: %v", got)
	}
	if got := taskIDs(t, f, admin, crm.TaskFilter{Q: "send"}, "", 50); len(got) != 0 {
		t.Errorf("the old title still finds %v", got)
	}
	if got := taskIDs(t, f, admin, crm.TaskFilter{Q: "offer"}, "", 50); !slices.Equal(got, id(2)) {
		t.Errorf("the new title finds %v", got)
	}
	// Bad input.
	if _, err := f.svc.FindTasks(ctx, admin, crm.TaskFilter{Status: "sleeping"}, crm.ListOptions{}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("an unknown status: %v, want invalid", err)
	}
	if _, err := f.svc.FindTasks(ctx, admin, crm.TaskFilter{Q: strings.TrimSpace(strings.Repeat("a ", 9))}, crm.ListOptions{}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("q of 9 words: %v, want invalid", err)
	}
	pg, err := f.svc.FindTasks(ctx, admin, crm.TaskFilter{}, crm.ListOptions{Limit: 1, Sort: "due_at"})
	if err != nil || pg.NextCursor == "" {
		t.Fatalf("first page: %v", err)
	}
	if _, err := f.svc.FindTasks(ctx, admin, crm.TaskFilter{}, crm.ListOptions{Limit: 1, Sort: "title", Cursor: pg.NextCursor}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("a due_at cursor on the title sort: %v, want invalid", err)
	}
}
