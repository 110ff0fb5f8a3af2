package storetest

import (
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testOtherSearch checks Q on deals (title), activities (subject) and
// tasks (title); a company's name and domain are sealed, and the
// service's index searches them (testCompanyFilters checks the store
// refuses to).
func testOtherSearch(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	renewal := newDeal(t, f, f.alice, func(d *crm.Deal) { d.Title = "Renewal 2026" }).ID
	novy := newDeal(t, f, f.alice, func(d *crm.Deal) { d.Title = "Новый договор" }).ID
	dq := func(s string) crm.DealFilter { return crm.DealFilter{Q: s} }
	checkFilters(t, f, dealKind, []filterCase[crm.DealFilter]{
		{all, dq("ren"), []int64{renewal}},
		{all, dq("НОВЫЙ Д"), []int64{novy}},
		{all, dq("договор"), nil},
	}, crm.Tx.Deals)

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

	send := taskKind.make(f, f.alice, 0)
	send.Title = "Send proposal"
	taskKind.mustInsert(t, f, send)
	ring := taskKind.make(f, f.alice, 1)
	ring.Title = "Сделать звонок"
	taskKind.mustInsert(t, f, ring)
	tq := func(s string) crm.TaskFilter { return crm.TaskFilter{Q: s} }
	checkFilters(t, f, taskKind, []filterCase[crm.TaskFilter]{
		{all, tq("send"), []int64{send.ID}},
		{all, tq("СДЕЛАТЬ"), []int64{ring.ID}},
		{all, tq("proposal"), nil},
	}, crm.Tx.Tasks)
}
