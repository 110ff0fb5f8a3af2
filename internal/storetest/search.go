package storetest

import (
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testOtherSearch checks Q on companies (name or domain), deals (title),
// activities (subject) and tasks (title).
func testOtherSearch(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	widgets := companyKind.make(f, f.alice, 0)
	widgets.Name, widgets.Domain = "Acme Widgets", "widgets.test"
	companyKind.mustInsert(t, f, widgets)
	beta := companyKind.make(f, f.alice, 0)
	beta.Name, beta.Domain = "Beta", "Acme-Beta.test"
	companyKind.mustInsert(t, f, beta)
	cq := func(s string) crm.CompanyFilter { return crm.CompanyFilter{Q: s} }
	checkFilters(t, f, companyKind, []filterCase[crm.CompanyFilter]{
		{all, cq("acme"), []int64{widgets.ID, beta.ID}},
		{all, cq("ACME W"), []int64{widgets.ID}},
		{all, cq("wid"), []int64{widgets.ID}},
		{all, cq("acme-b"), []int64{beta.ID}},
		{all, cq("eta"), nil},
	}, crm.Tx.Companies)

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
