package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// Plan is one list statement as the store ran it, for a backend's test to
// explain (ACL-4, issue 11: no list plan sorts the whole scope).
type Plan struct {
	Name  string // entity, scope, sort and page, for messages
	Table string // the entity's table
	Query string // with ? placeholders
	Args  []any
}

// Tracer returns a context under which the store passes every list
// statement to trace (sqlstore.WithListTrace).
type Tracer func(ctx context.Context, trace func(query string, args []any)) context.Context

// PlanRows is how many rows of each kind ListPlans seeds.
const PlanRows = 6000

// ListPlans seeds st with PlanRows records of every kind, most of them
// owned by one rep (a rep who imported a big list), the rest spread over
// nine users in six teams, a hundred of each kind shared with the rep, and
// returns the statements of the first page and of a later page of every
// list, by every sort field, in the scope of the rep alone, of the rep with
// shares, of a manager of all six teams, and of everyone. analyze is
// called after the seeding so that the planner knows the data.
func ListPlans(t *testing.T, st crm.Store, tracer Tracer, analyze func()) []Plan {
	t.Helper()
	f := newFixture(t, func(*testing.T) crm.Store { return st })
	var teams []int64
	for i := range 6 {
		teams = append(teams, insertTeam(t, st, fmt.Sprintf("Team %d", i), nil).ID)
	}
	rep := f.alice
	others := []int64{f.bob}
	for i := range 8 {
		others = append(others, insertUser(t, st, fmt.Sprintf("user%d@example.com", i)).ID)
	}
	manager := insertUser(t, st, "manager@example.com").ID

	var plans []Plan
	seedPlans(t, f, contactKind, rep, others, teams)
	seedPlans(t, f, companyKind, rep, others, teams)
	seedPlans(t, f, dealKind, rep, others, teams)
	seedPlans(t, f, activityKind, rep, others, teams)
	seedPlans(t, f, taskKind, rep, others, teams)
	analyze()
	scopes := []struct {
		name string
		s    crm.Scope
	}{
		{"rep", crm.Scope{OwnerID: rep, Assignee: true}},
		{"rep with shares", crm.Scope{OwnerID: rep, Assignee: true, Shared: true}},
		{"manager", crm.Scope{OwnerID: manager, Teams: teams, Shared: true, ShareTeams: teams[:1]}},
		{"all", crm.Scope{All: true}},
	}
	for _, sc := range scopes {
		plans = append(plans, kindPlans(t, f, tracer, contactKind, sc.name, sc.s)...)
		plans = append(plans, kindPlans(t, f, tracer, companyKind, sc.name, sc.s)...)
		plans = append(plans, kindPlans(t, f, tracer, dealKind, sc.name, sc.s)...)
		plans = append(plans, kindPlans(t, f, tracer, activityKind, sc.name, sc.s)...)
		plans = append(plans, kindPlans(t, f, tracer, taskKind, sc.name, sc.s)...)
	}
	return plans
}

// seedPlans inserts PlanRows records of k: four in five the rep's, in the
// first team, the others spread; a hundred shared with the rep.
func seedPlans[T any](t *testing.T, f *fixture, k kind[T], rep int64, others, teams []int64) {
	t.Helper()
	var shared []int64
	for start := 0; start < PlanRows; start += 500 {
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
			for i := start; i < start+500; i++ {
				owner, team := rep, teams[0]
				if i%5 == 0 {
					owner, team = others[i%len(others)], teams[i%len(teams)]
				}
				r := k.make(f, owner, i)
				m := k.meta(r)
				*m.TeamID = &team
				*m.UpdatedAt = at(i * 7 % PlanRows)
				if err := k.insert(ctx, tx, r); err != nil {
					return err
				}
				if i%5 == 0 && len(shared) < 100 {
					shared = append(shared, *m.ID)
				}
			}
			return nil
		})
	}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		for _, id := range shared {
			if _, err := tx.PutShare(ctx, &crm.Share{Entity: entityOf(k), RecordID: id, UserID: &rep,
				Access: crm.ShareRead, CreatedBy: rep, CreatedAt: base}); err != nil {
				return err
			}
		}
		return nil
	})
}

// kindPlans lists k in s by every sort field, a first page and the next,
// and returns the statements the store ran.
func kindPlans[T any](t *testing.T, f *fixture, tracer Tracer, k kind[T], scope string, s crm.Scope) []Plan {
	t.Helper()
	var plans []Plan
	for _, field := range storeSorts(k.list) {
		var after *crm.Cursor
		for page := range 2 {
			name := fmt.Sprintf("%s, %s, by %s, page %d", k.list, scope, field, page+1)
			var got []Plan
			ctx := tracer(t.Context(), func(query string, args []any) {
				got = append(got, Plan{Name: name, Table: k.list, Query: query, Args: args})
			})
			var next string
			err := f.st.Read(ctx, func(tx crm.Tx) error {
				var err error
				_, next, err = k.all(ctx, tx, s, false, crm.ListQuery{Sort: field, After: after})
				return err
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(got) != 1 {
				t.Fatalf("%s: %d list statements traced, want 1", name, len(got))
			}
			plans = append(plans, got...)
			if next == "" {
				break
			}
			c, err := crm.DecodeCursor(next, field)
			if err != nil {
				t.Fatal(err)
			}
			after = c
		}
	}
	return plans
}
