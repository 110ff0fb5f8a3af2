package storetest

import (
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testContactSearch checks Q on contacts: a case-insensitive prefix of the
// first or last name (Cyrillic too), the email, the phone with or without
// "+", or the company's name; two words match first and last name in
// either order. Nothing matches in the middle of a word.
func testContactSearch(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme Widgets").ID
	ivanov := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.FirstName, c.LastName, c.Email, c.Phone = "Пётр", "Иванов", "p.ivanov@mail.test", "+79161234567"
	}).ID
	anna := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.FirstName, c.LastName, c.Email, c.Phone, c.CompanyID = "Anna", "Smith", "anna@x.test", "+442071234567", &acme
	}).ID
	ivana := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.FirstName, c.LastName, c.Email, c.Phone = "Ivana", "Novak", "novak@x.test", "+420777000111"
	}).ID
	maria := newContact(t, f, f.bob, func(c *crm.Contact) {
		c.FirstName, c.LastName, c.Email, c.Phone = "Мария", "Иванова", "maria@x.test", "+79031112233"
	}).ID
	gone := newContact(t, f, f.alice, func(c *crm.Contact) {
		c.FirstName, c.LastName, c.Email, c.Phone = "Иван", "Удалов", "gone@x.test", "+79990000000"
		c.DeletedAt = ptr(at(1))
	}).ID

	alice := crm.Scope{OwnerID: f.alice}
	q := func(s string) crm.ContactFilter { return crm.ContactFilter{Q: s} }
	checkFilters(t, f, contactKind, []filterCase[crm.ContactFilter]{
		{all, q(""), []int64{ivanov, anna, ivana, maria}},
		{all, q("Иван"), []int64{ivanov, maria}},
		{all, q("иванов"), []int64{ivanov, maria}},
		{all, q("ИВАНОВА"), []int64{maria}},
		{all, q("  иван  "), []int64{ivanov, maria}},
		{alice, q("иван"), []int64{ivanov}},
		{all, q("пЁтр"), []int64{ivanov}},
		{all, q("p.ivanov"), []int64{ivanov}},
		{all, q("P.Ivanov@Mail.test"), []int64{ivanov}},
		{all, q("+7916"), []int64{ivanov}},
		{all, q("7916"), []int64{ivanov}},
		{all, q("+7"), []int64{ivanov, maria}},
		{all, q("916"), nil},
		{all, q("acme"), []int64{anna}},
		{all, q("ACME W"), []int64{anna}},
		{all, q("widgets"), nil},
		{all, q("Пётр Иван"), []int64{ivanov}},
		{all, q("иванов пётр"), []int64{ivanov}},
		{all, q("ann smi"), []int64{anna}},
		{all, q("smith anna"), []int64{anna}},
		{all, q("Пётр Smith"), nil},
		{all, q("ivan"), []int64{ivana}},
		{all, q("van"), nil},
		{all, q("ov"), nil},
		{all, q("zz"), nil},
		{all, crm.ContactFilter{Q: "иван", Deleted: true}, []int64{gone}},
	}, crm.Tx.Contacts)
}

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
