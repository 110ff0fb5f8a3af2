package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// testScopedSort pages, by every sort field in both directions and with
// several page sizes, through the records of a scope of every part: own
// records, two managed teams, assigned tasks and records shared with the
// user or one of their teams (ACL-2, ACL-4). Such a list is a merge of
// one ordered branch per part (sqlstore's buildList), so every page must be
// the next page of the whole scope: nothing twice, nothing skipped, nothing
// from a third team, an expired share or a deleted record.
func testScopedSort[T any](t *testing.T, f *fixture, k kind[T]) {
	red := insertTeam(t, f.st, "Red", nil)
	blue := insertTeam(t, f.st, "Blue", nil)
	green := insertTeam(t, f.st, "Green", nil)
	carol := insertUser(t, f.st, "carol@example.com").ID
	owners := []int64{f.alice, f.bob, carol}
	teams := []*int64{&red.ID, &blue.ID, &green.ID, nil}
	var rows []T
	for i := range 24 {
		r := k.make(f, owners[i%3], i%7)
		*k.meta(r).TeamID = teams[i%4]
		rows = append(rows, k.mustInsert(t, f, r))
	}
	// A deleted record of a visible team never shows.
	gone := k.make(f, f.alice, 2)
	*k.meta(gone).TeamID = &red.ID
	k.mustInsert(t, f, gone)
	*k.meta(gone).DeletedAt = ptr(at(1))
	k.save(t, f, gone, 1)

	share := func(r T, user, team *int64, expires *time.Time) {
		sh := &crm.Share{Entity: entityOf(k), RecordID: *k.meta(r).ID, UserID: user, TeamID: team,
			Access: crm.ShareRead, ExpiresAt: expires, CreatedBy: f.alice, CreatedAt: base}
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { _, err := tx.PutShare(ctx, sh); return err })
	}
	// Green, bob's and no one's: rows 2, 6 (green), 3, 7 (no team).
	share(rows[2], &carol, nil, nil)
	share(rows[7], nil, &blue.ID, nil) // carol's teams are Red and Blue
	share(rows[6], &carol, nil, ptr(time.Now().Add(-time.Second)))
	scope := crm.Scope{OwnerID: carol, Teams: []int64{red.ID, blue.ID}, Shared: true, ShareTeams: []int64{blue.ID}}

	var visible []T
	for i, r := range rows {
		m := k.meta(r)
		team := *m.TeamID
		if *m.OwnerID == carol || (team != nil && (*team == red.ID || *team == blue.ID)) || i == 2 || i == 7 {
			visible = append(visible, r)
		}
	}
	if len(visible) < 10 {
		t.Fatalf("fixture: %d visible rows", len(visible))
	}
	for _, field := range storeSorts(k.list) {
		for _, desc := range []bool{false, true} {
			sorted := slices.Clone(visible)
			slices.SortFunc(sorted, func(a, b T) int {
				c := cmp.Or(cmpKey(k.key(a, field), k.key(b, field)), cmp.Compare(*k.meta(a).ID, *k.meta(b).ID))
				if desc {
					c = -c
				}
				return c
			})
			want := make([]int64, 0, len(sorted))
			for _, r := range sorted {
				want = append(want, *k.meta(r).ID)
			}
			for _, limit := range []int{1, 3, 7, 50} {
				got := pageAllIn(t, f, k, scope, field, desc, limit)
				wantEqual(t, fmt.Sprintf("%s in a scope of every part by %s desc=%v limit=%d", k.what, field, desc, limit), got, want)
			}
		}
	}
}

// RunScopedSorts runs the scoped sorts of every record kind alone: a
// backend's test runs it again with its store reading every shared part
// the other way.
func RunScopedSorts(t *testing.T, newStore func(t *testing.T) crm.Store) {
	t.Run("Contacts", func(t *testing.T) { t.Parallel(); testScopedSort(t, newFixture(t, newStore), contactKind) })
	t.Run("Companies", func(t *testing.T) { t.Parallel(); testScopedSort(t, newFixture(t, newStore), companyKind) })
	t.Run("Deals", func(t *testing.T) { t.Parallel(); testScopedSort(t, newFixture(t, newStore), dealKind) })
	t.Run("Activities", func(t *testing.T) { t.Parallel(); testScopedSort(t, newFixture(t, newStore), activityKind) })
	t.Run("Tasks", func(t *testing.T) { t.Parallel(); testScopedSort(t, newFixture(t, newStore), taskKind) })
}

// entityOf is the entity name of kind k, as shares name it.
func entityOf[T any](k kind[T]) string {
	switch k.list {
	case "contacts":
		return "contact"
	case "companies":
		return "company"
	case "deals":
		return "deal"
	case "activities":
		return "activity"
	}
	return "task"
}
