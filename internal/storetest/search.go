package storetest

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testOtherSearch checks Q on activities (subject); a company's name and
// domain and the titles of deals and tasks are sealed, and the service's
// index searches them (the store refuses to).
func testOtherSearch(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	// A deal's title is sealed: the store refuses to search it rather
	// than answer every deal (the service's index searches it).
	err := f.st.Read(context.Background(), func(tx crm.Tx) error {
		_, _, err := tx.Deals(context.Background(), all, crm.DealFilter{Q: "ren"}, crm.ListQuery{})
		return err
	})
	if crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("deals q: %v, want EINVALID", err)
	}

	call := activityKind.make(f, f.alice, 0)
	call.Subject = "Call with Иван"
	activityKind.mustInsert(t, f, call)
	meeting := activityKind.make(f, f.alice, 1)
	meeting.Subject = "Встреча"
	activityKind.mustInsert(t, f, meeting)
	aq := func(s string) crm.ActivityFilter { return crm.ActivityFilter{Q: s} }
	checkFilters(t, f, activityKind, []filterCase[crm.ActivityFilter]{
		{all, aq("CALL W"), []int64{call.ID}},
		{all, aq("встр"), []int64{meeting.ID}},
		{all, aq("иван"), nil},
	}, crm.Tx.Activities)

	// A task's title is sealed too.
	err = f.st.Read(context.Background(), func(tx crm.Tx) error {
		_, _, err := tx.Tasks(context.Background(), all, crm.TaskFilter{Q: "send"}, crm.ListQuery{})
		return err
	})
	if crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("tasks q: %v, want EINVALID", err)
	}
}
