package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// Teams (ACL-2): the team rows, membership, what a manager sees, and the
// team part of a scope on every record kind.

func insertTeam(t *testing.T, st crm.Store, name string, parent *int64) *crm.Team {
	t.Helper()
	tm := &crm.Team{Name: name, ParentID: parent, Version: 1, CreatedAt: base, UpdatedAt: base}
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertTeam(ctx, tm) })
	return tm
}

func testTeams(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	sales := insertTeam(t, f.st, "Sales", nil)
	moscow := insertTeam(t, f.st, "Moscow", &sales.ID)

	// A name is unique in any case.
	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertTeam(ctx, &crm.Team{Name: "SALES", Version: 1, CreatedAt: base, UpdatedAt: base})
	})
	wantCode(t, "duplicate team name", err, crm.ECONFLICT)

	// Membership is the user's team_id; TeamByID and Teams list members.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserTeam(ctx, f.alice, nil, &moscow.ID) })
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserTeam(ctx, f.bob, nil, &moscow.ID) })
	got := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Team, error) { return tx.TeamByID(ctx, moscow.ID) })
	wantEqual(t, "Moscow's members", got.Members, []int64{f.alice, f.bob})
	wantEqual(t, "Moscow's parent", *got.ParentID, sales.ID)
	teams := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Team, error) { return tx.Teams(ctx) })
	if len(teams) != 2 || teams[0].ID != sales.ID || len(teams[0].Members) != 0 || len(teams[1].Members) != 2 {
		t.Fatalf("Teams() = %+v %+v", deref(teams[0]), deref(teams[1]))
	}
	u := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByID(ctx, f.alice) })
	if u.TeamID == nil || *u.TeamID != moscow.ID {
		t.Fatalf("alice's team = %v, want %d", u.TeamID, moscow.ID)
	}

	// What a manager sees round-trips through the user row.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.SetSeesTeams(ctx, f.bob, []int64{sales.ID, moscow.ID})
	})
	u = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByID(ctx, f.bob) })
	wantEqual(t, "bob sees", u.SeesTeams, []int64{sales.ID, moscow.ID})
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetSeesTeams(ctx, f.bob, nil) })
	u = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByID(ctx, f.bob) })
	if len(u.SeesTeams) != 0 {
		t.Fatalf("bob sees %v after clearing", u.SeesTeams)
	}

	// An update with a stale version changes nothing; a current one does.
	stale := *got
	stale.Name, stale.Version = "Stale", got.Version // expects version 0 stored
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateTeam(ctx, &stale) })
	wantCode(t, "stale team update", err, crm.EPRECONDITION)
	next := *got
	next.Name, next.ParentID, next.Version = "Moscow City", nil, got.Version+1
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateTeam(ctx, &next) })
	got = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Team, error) { return tx.TeamByID(ctx, moscow.ID) })
	if got.Name != "Moscow City" || got.ParentID != nil || got.Version != 2 {
		t.Fatalf("after update: %+v", deref(got))
	}
	gone := crm.Team{ID: 999999, Name: "Gone", Version: 2}
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateTeam(ctx, &gone) })
	wantCode(t, "update of a missing team", err, crm.ENOTFOUND)

	// Deleting a team leaves its records without a team, owners unchanged.
	c := contactKind.make(f, f.alice, 0)
	c.TeamID = &sales.ID
	contactKind.mustInsert(t, f, c)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteTeam(ctx, sales.ID) })
	back, err := contactKind.get(t, f, all, c.ID, false)
	if err != nil || back.TeamID != nil || back.OwnerID != f.alice {
		t.Fatalf("contact of a deleted team: %v %+v", err, back)
	}
	_, err = read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Team, error) { return tx.TeamByID(ctx, sales.ID) })
	wantCode(t, "deleted team", err, crm.ENOTFOUND)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteTeam(ctx, sales.ID) })
	wantCode(t, "second delete", err, crm.ENOTFOUND)
}

// testTeamScope: a scope with teams sees the owner's records and those of
// its teams, by id and in lists, and nothing of other teams; SetUserTeam
// moves an owner's records of the old team (only those) to the new one.
func testTeamScope[T any](t *testing.T, f *fixture, k kind[T]) {
	red := insertTeam(t, f.st, "Red", nil)
	blue := insertTeam(t, f.st, "Blue", nil)
	carol := insertUser(t, f.st, "carol@example.com").ID
	mk := func(owner int64, team *int64) int64 {
		r := k.make(f, owner, 0)
		*k.meta(r).TeamID = team
		return *k.meta(k.mustInsert(t, f, r)).ID
	}
	aliceRed := mk(f.alice, &red.ID)
	aliceBlue := mk(f.alice, &blue.ID)
	bobRed := mk(f.bob, &red.ID)
	bobNone := mk(f.bob, nil)
	carolOwn := mk(carol, nil)

	r, err := k.get(t, f, all, aliceRed, false)
	if err != nil || *k.meta(r).TeamID == nil || **k.meta(r).TeamID != red.ID {
		t.Fatalf("%s team: %v %v", k.what, err, k.meta(r).TeamID)
	}
	redManager := crm.Scope{OwnerID: carol, Teams: []int64{red.ID}}
	wantEqual(t, k.what+" seen by Red's manager", k.ids(t, f, redManager, false), sortedIDs(aliceRed, bobRed, carolOwn))
	both := crm.Scope{OwnerID: carol, Teams: []int64{red.ID, blue.ID}}
	wantEqual(t, k.what+" seen by both teams' manager", k.ids(t, f, both, false), sortedIDs(aliceRed, aliceBlue, bobRed, carolOwn))
	for _, id := range []int64{aliceRed, bobRed, carolOwn} {
		if _, err := k.get(t, f, redManager, id, false); err != nil {
			t.Errorf("%s %d by Red's manager: %v", k.what, id, err)
		}
	}
	for _, id := range []int64{aliceBlue, bobNone} {
		_, err := k.get(t, f, redManager, id, false)
		wantCode(t, k.what+" of another team by Red's manager", err, crm.ENOTFOUND)
	}
	// Teams without an owner see nothing: the zero scope stays closed.
	wantEqual(t, k.what+" of teams without an owner", k.ids(t, f, crm.Scope{Teams: []int64{red.ID}}, false), []int64{})

	// Bob moves from no team to Blue: his unteamed record moves, his Red
	// record stays Red's.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserTeam(ctx, f.bob, nil, &blue.ID) })
	blueManager := crm.Scope{OwnerID: carol, Teams: []int64{blue.ID}}
	wantEqual(t, k.what+" after bob joins Blue", k.ids(t, f, blueManager, false), sortedIDs(aliceBlue, bobNone, carolOwn))
	// Then from Blue to Red: his Blue records become Red's.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserTeam(ctx, f.bob, &blue.ID, &red.ID) })
	wantEqual(t, k.what+" after bob moves to Red", k.ids(t, f, redManager, false), sortedIDs(aliceRed, bobRed, bobNone, carolOwn))
	// Leaving Red: his Red records lose the team; Alice's stay.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserTeam(ctx, f.bob, &red.ID, nil) })
	wantEqual(t, k.what+" after bob leaves Red", k.ids(t, f, redManager, false), sortedIDs(aliceRed, carolOwn))

	// A manager's recycle bin (a list with a filter besides the scope: one
	// predicate, not the merge of buildList) holds their teams' deleted
	// records and no other team's.
	for _, id := range []int64{aliceRed, aliceBlue} {
		r, err := k.get(t, f, all, id, false)
		if err != nil {
			t.Fatal(err)
		}
		*k.meta(r).DeletedAt = ptr(at(9))
		k.save(t, f, r, 9)
	}
	wantEqual(t, k.what+" deleted, seen by Red's manager", k.ids(t, f, redManager, true), []int64{aliceRed})
}

func sortedIDs(ids ...int64) []int64 {
	out := append([]int64{}, ids...)
	slices.Sort(out)
	return out
}
