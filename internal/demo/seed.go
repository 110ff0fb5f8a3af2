package demo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
)

// Sizes of the data set.
const (
	numCompanies       = 100
	numContacts        = 500
	numPrivateContacts = 50 // contacts without a company
	numDeals           = 180
	numFollowUps       = 120 // contact tasks besides the deal tasks
	numTickets         = 25  // support tasks
)

// The records made so far, with what later steps need to know of them.
type companyRec struct {
	id            int64
	short, domain string
	lang, country string // country: RU, UK or US
	owner         int64
	weight        int // how many contacts it tends to have
	contacts      []*contactRec
}

type contactRec struct {
	id      int64
	p       person
	country string
	company *companyRec
	owner   int64
	deals   []*dealRec
}

type dealRec struct {
	id      int64
	company *companyRec
	contact *contactRec
	owner   int64
	stage   *crm.Stage
}

// seeder writes the data set through the service, one call at a time.
type seeder struct {
	ctx      context.Context
	svc      *service.Service
	idn      *identity.Service
	sys      *crm.Principal
	g        *generator
	pipeline *crm.Pipeline
	res      *Result

	manager int64
	sales   []int64
	support int64
	intern  int64

	companies []*companyRec
	contacts  []*contactRec
	deals     []*dealRec
}

func ptr[T any](v T) *T { return &v }

func hasString(list []string, s string) bool { return slices.Contains(list, s) }

// zone is the local time of a country, for working hours.
func zone(country string) *time.Location {
	switch country {
	case countryUK:
		return zoneLondon
	case countryUS:
		return zoneUSEast
	}
	return zoneMSK
}

// recordOwner picks the owner of a company: mostly the sales reps, some the
// manager.
func (s *seeder) recordOwner() int64 {
	i := s.g.weighted([]int{28, 28, 28, 16})
	if i < len(s.sales) {
		return s.sales[i]
	}
	return s.manager
}

// worker returns who does the work on a record owned by owner: the owner
// when it is a sales rep or the support agent, otherwise a sales rep.
func (s *seeder) worker(owner int64) int64 {
	if owner == s.support || slices.Contains(s.sales, owner) {
		return owner
	}
	return pick(s.g, s.sales)
}

var (
	ruCompanyNotes = []string{"Работают с нами с 2019 года.", "Оплата только по факту поставки.", "Ключевой клиент в регионе.", "Закупки через тендерную площадку."}
	enCompanyNotes = []string{"Customer since 2019.", "Pays on delivery only.", "Key account in the region.", "Buys through formal tenders."}
	personalDomain = []string{"mail.example", "post.example", "inbox.example"}
)

// createCompanies creates the companies, about half Russian and half
// British or American.
func (s *seeder) createCompanies() error {
	g := s.g
	used := map[string]bool{}
	for len(s.companies) < numCompanies {
		c := &companyRec{owner: s.recordOwner(), weight: g.between(1, 8)}
		var name, industry, phone, address string
		switch r := g.rng.Float64(); {
		case r < 0.55:
			root, b := pick(g, ruCompanyRoots), pick(g, ruBusinesses)
			if used[root+b.suffix] {
				continue
			}
			used[root+b.suffix] = true
			c.lang, c.country = "ru", "RU"
			if g.chance(0.5) {
				c.short = "«" + root + "-" + b.suffix + "»"
			} else {
				c.short = "«" + root + b.suffix + "»"
			}
			name = pick(g, ruLegalForms) + " " + c.short
			c.domain = slug(root) + "-" + slug(b.suffix) + ".example"
			industry = b.industry
			city := pick(g, ruCities)
			phone = g.ruLandline(city)
			address = fmt.Sprintf("г. %s, %s, д. %d, офис %d", city.name, pick(g, city.streets), g.between(1, 120), g.between(101, 950))
		default:
			root, b := pick(g, enCompanyRoots), pick(g, enBusinesses)
			if used[root+b.suffix] {
				continue
			}
			used[root+b.suffix] = true
			c.lang = "en"
			c.short = root + " " + b.suffix
			c.domain = slug(c.short) + ".example"
			industry = b.industry
			if r < 0.8 {
				c.country = countryUK
				i := g.rng.IntN(len(ukRanges))
				name = c.short + " " + pick(g, []string{"Ltd", "Ltd", "Ltd", "plc"})
				phone = g.ukNumber(i)
				address = fmt.Sprintf("%d %s, %s", g.between(1, 250), pick(g, ukStreets), ukRanges[i].city)
			} else {
				c.country = countryUS
				i := g.rng.IntN(len(usAreas))
				a := usAreas[i]
				name = c.short + " " + pick(g, []string{"Inc.", "Inc.", "LLC"})
				phone = g.usNumber(i)
				address = fmt.Sprintf("%d %s, Suite %d, %s, %s %s", g.between(10, 2500), pick(g, usStreets), g.between(1, 30)*100, a.city, a.state, a.zip)
			}
		}
		in := crm.CompanyInput{Name: &name, Industry: &industry, OwnerID: &c.owner,
			Tags: ptr(sample(g, companyTags, g.weighted([]int{30, 50, 20})))}
		if g.chance(0.92) {
			in.Domain = &c.domain
		}
		if g.chance(0.95) {
			in.Phone = &phone
		}
		if g.chance(0.85) {
			in.Address = &address
		}
		if g.chance(0.2) {
			if c.lang == "ru" {
				in.Notes = ptr(pick(g, ruCompanyNotes))
			} else {
				in.Notes = ptr(pick(g, enCompanyNotes))
			}
		}
		created, err := s.svc.CreateCompany(s.ctx, s.sys, in)
		if err != nil {
			return fmt.Errorf("demo: create company %d: %w", len(s.companies)+1, err)
		}
		c.id = created.ID
		s.companies = append(s.companies, c)
		s.res.Companies++
	}
	return nil
}

// contactCompany chooses the company of the i-th contact: one each first,
// then by weight, and none for the last few.
func (s *seeder) contactCompany(i int) *companyRec {
	switch {
	case i < len(s.companies):
		return s.companies[i]
	case i >= numContacts-numPrivateContacts:
		return nil
	}
	weights := make([]int, len(s.companies))
	for j, c := range s.companies {
		weights[j] = c.weight
	}
	return s.companies[s.g.weighted(weights)]
}

// phone returns a valid number for country.
func (g *generator) phone(country string) string {
	switch country {
	case countryUK:
		return g.ukNumber(g.rng.IntN(len(ukRanges)))
	case countryUS:
		return g.usNumber(g.rng.IntN(len(usAreas)))
	}
	return g.ruMobile()
}

// homeAddress returns a private address in country.
func (g *generator) homeAddress(country string) string {
	switch country {
	case countryUK:
		r := pick(g, ukRanges)
		return fmt.Sprintf("%d %s, %s", g.between(1, 180), pick(g, ukStreets), r.city)
	case countryUS:
		a := pick(g, usAreas)
		return fmt.Sprintf("%d %s, Apt %d, %s, %s %s", g.between(10, 900), pick(g, usStreets), g.between(1, 40), a.city, a.state, a.zip)
	}
	c := pick(g, ruCities)
	return fmt.Sprintf("г. %s, %s, д. %d, кв. %d", c.name, pick(g, c.streets), g.between(1, 150), g.between(1, 300))
}

// createContacts creates the contacts and their consent records.
func (s *seeder) createContacts() error {
	g := s.g
	for i := range numContacts {
		c := &contactRec{company: s.contactCompany(i)}
		lang := "ru"
		switch co := c.company; {
		case co == nil:
			if g.chance(0.4) {
				lang = "en"
				c.country = pick(g, []string{countryUK, countryUS})
			} else {
				c.country = "RU"
			}
			c.owner = pick(g, []int64{s.support, s.support, s.support, s.sales[0], s.sales[1], s.sales[2]})
		default:
			c.country, c.owner = co.country, co.owner
			if (co.lang == "ru") != g.chance(0.06) {
				lang = "ru"
			} else {
				lang = "en"
			}
		}
		c.p = g.person(lang)

		in := crm.ContactInput{FirstName: &c.p.first, LastName: &c.p.last, OwnerID: &c.owner}
		if c.company != nil {
			in.CompanyID = crm.Value(c.company.id)
		}
		if g.chance(0.92) {
			if c.company != nil {
				in.Email = ptr(g.email(c.p, c.company.domain, false))
			} else {
				in.Email = ptr(g.email(c.p, pick(g, personalDomain), true))
			}
		}
		if g.chance(0.88) {
			in.Phone = ptr(g.phone(c.country))
		}
		if c.company != nil && g.chance(0.95) {
			if c.company.lang == "ru" {
				in.Title = ptr(pick(g, ruTitles))
			} else {
				in.Title = ptr(pick(g, enTitles))
			}
		}
		if g.chance(0.08) || (c.company == nil && g.chance(0.3)) {
			in.Address = ptr(g.homeAddress(c.country))
		}
		if g.chance(0.2) {
			in.Birthday = ptr(g.birthday())
		}
		if g.chance(0.12) {
			if lang == "ru" {
				in.Notes = ptr(pick(g, ruContactNotes))
			} else {
				in.Notes = ptr(pick(g, enContactNotes))
			}
		}
		tags := sample(g, contactTags, g.weighted([]int{30, 40, 22, 8}))
		in.Tags = &tags
		dnc := g.chance(0.05)
		channel := crm.Channels[g.weighted([]int{40, 25, 10, 15, 5})] // email, phone, sms, messenger, mail
		if dnc {
			channel = "none"
		} else if in.Email == nil && channel == "email" {
			channel = "phone"
		}
		in.Preferences = &crm.PreferencesInput{Channel: &channel, Language: &lang, DoNotContact: &dnc}

		created, err := s.svc.CreateContact(s.ctx, s.sys, in)
		if err != nil {
			return fmt.Errorf("demo: create contact %d: %w", i+1, err)
		}
		c.id = created.ID
		s.contacts = append(s.contacts, c)
		if c.company != nil {
			c.company.contacts = append(c.company.contacts, c)
		}
		s.res.Contacts++
		if err := s.createConsents(c, tags, dnc); err != nil {
			return err
		}
	}
	return nil
}

// createConsents records one to three consents of a contact, some of them
// given and later withdrawn. A newsletter subscriber has consented to the
// newsletter; a do-not-contact client has withdrawn marketing consent.
func (s *seeder) createConsents(c *contactRec, tags []string, dnc bool) error {
	g := s.g
	purposes := sample(g, consentPurposes, g.between(1, 3))
	if hasString(tags, "newsletter") && !hasString(purposes, "newsletter") {
		purposes = append(purposes, "newsletter")
	}
	if dnc && !hasString(purposes, "marketing") {
		purposes = append(purposes, "marketing")
	}
	sources, withdrawals := ruSources, []string{"отзыв по электронной почте", "отзыв по телефону"}
	if c.p.lang == "en" {
		sources, withdrawals = enSources, []string{"withdrawn by email", "withdrawn by phone"}
	}
	for _, purpose := range purposes {
		var granted bool
		switch purpose {
		case "newsletter":
			granted = hasString(tags, "newsletter") || g.chance(0.5)
		case "marketing":
			granted = g.chance(0.7)
		default:
			granted = g.chance(0.45)
		}
		withdrawn := dnc || (granted && g.chance(0.12))
		if err := s.recordConsent(c, purpose, granted || withdrawn, pick(g, sources)); err != nil {
			return err
		}
		if withdrawn {
			if err := s.recordConsent(c, purpose, false, pick(g, withdrawals)); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordConsent appends one consent record: given, or refused or withdrawn.
func (s *seeder) recordConsent(c *contactRec, purpose string, granted bool, source string) error {
	// The system principal has no user id, and a consent names the user
	// who recorded it (recorded_by references users), so the consent is
	// recorded by the system on behalf of the contact's owner.
	p := crm.SystemPrincipal()
	p.UserID = c.owner
	if _, err := s.svc.RecordConsent(s.ctx, p, c.id, crm.ConsentInput{Purpose: &purpose, Granted: &granted, Source: &source}); err != nil {
		return fmt.Errorf("demo: record consent of contact %d: %w", c.id, err)
	}
	s.res.Consents++
	return nil
}

// createDeals creates deals on every stage of the default pipeline.
func (s *seeder) createDeals() error {
	g := s.g
	stages := slices.Clone(s.pipeline.Stages)
	slices.SortFunc(stages, func(a, b *crm.Stage) int { return cmp.Compare(a.Position, b.Position) })
	weights := make([]int, len(stages))
	open := 0
	for i, st := range stages {
		switch st.Kind {
		case crm.StageWon:
			weights[i] = 20
		case crm.StageLost:
			weights[i] = 14
		default:
			weights[i] = max(30-6*open, 8)
			open++
		}
	}
	for i := range numDeals {
		st := stages[i%len(stages)] // every stage first, then by weight
		if i >= len(stages) {
			st = stages[g.weighted(weights)]
		}
		co := pick(g, s.companies)
		d := &dealRec{company: co, contact: pick(g, co.contacts), owner: co.owner, stage: st}
		currency := "RUB"
		switch co.country {
		case "RU":
			currency = []string{"RUB", "EUR", "USD"}[g.weighted([]int{85, 10, 5})]
		case countryUK:
			currency = []string{"EUR", "USD"}[g.weighted([]int{60, 40})]
		case countryUS:
			currency = []string{"USD", "EUR"}[g.weighted([]int{90, 10})]
		}
		var title string
		var close time.Time
		if co.lang == "ru" {
			title = pick(g, ruDealTitles) + " — " + co.short
		} else {
			title = pick(g, enDealTitles) + " — " + co.short
		}
		if st.Kind == crm.StageOpen {
			close = g.now.AddDate(0, 0, g.between(7, 120))
		} else {
			close = g.now.AddDate(0, 0, -g.between(3, 300))
		}
		in := crm.DealInput{Title: &title, PipelineID: &s.pipeline.ID, StageID: &st.ID,
			Amount: ptr(g.amount(currency)), Currency: &currency, ExpectedClose: ptr(dateOnly(close)),
			ContactID: crm.Value(d.contact.id), CompanyID: crm.Value(co.id), OwnerID: &d.owner,
			Tags: ptr(sample(g, dealTags, g.weighted([]int{35, 50, 15})))}
		if g.chance(0.3) {
			if co.lang == "ru" {
				in.Notes = ptr(pick(g, ruDealNotes))
			} else {
				in.Notes = ptr(pick(g, enDealNotes))
			}
		}
		created, err := s.svc.CreateDeal(s.ctx, s.sys, in)
		if err != nil {
			return fmt.Errorf("demo: create deal %d: %w", i+1, err)
		}
		d.id = created.ID
		s.deals = append(s.deals, d)
		d.contact.deals = append(d.contact.deals, d)
		s.res.Deals++
	}
	return nil
}

// introTypes are the activity types of the intro templates, in order.
var introTypes = []string{crm.ActivityEmail, crm.ActivityMeeting, crm.ActivityNote}

// supportCall is the index of the support call among the call templates.
const supportCall = 5

// createActivities gives every contact an interaction history over the last
// twelve months, about three entries on average, oldest first.
func (s *seeder) createActivities() error {
	g := s.g
	types := []string{crm.ActivityCall, crm.ActivityEmail, crm.ActivityMeeting, crm.ActivityNote}
	for _, c := range s.contacts {
		n := g.weighted([]int{5, 12, 20, 25, 18, 12, 8}) // 0..6, mean about 3
		// Distinct days ago, 1..365, oldest first.
		days := g.rng.Perm(365)[:n]
		for j := range days {
			days[j]++
		}
		slices.Sort(days)
		slices.Reverse(days)
		tpl := activityTemplates[c.p.lang]
		for j, day := range days {
			var typ string
			var t template
			owner := c.owner
			if j == 0 {
				k := g.rng.IntN(len(tpl["intro"]))
				typ, t = introTypes[k], tpl["intro"][k]
			} else {
				typ = types[g.weighted([]int{35, 30, 15, 20})]
				k := g.rng.IntN(len(tpl[typ]))
				t = tpl[typ][k]
				if typ == crm.ActivityCall && k == supportCall {
					owner = s.support
				}
			}
			in := crm.ActivityInput{Type: &typ, Subject: &t.subject, Body: &t.body,
				OccurredAt: ptr(g.at(g.now.AddDate(0, 0, -day), zone(c.country), 9, 18)),
				ContactID:  crm.Value(c.id), OwnerID: &owner}
			switch typ {
			case crm.ActivityCall:
				in.DurationMin = ptr(g.between(3, 40))
			case crm.ActivityMeeting:
				in.DurationMin = ptr(30 + 15*g.rng.IntN(7))
			}
			if c.company != nil {
				in.CompanyID = crm.Value(c.company.id)
			}
			if len(c.deals) > 0 && j > 0 && g.chance(0.5) {
				in.DealID = crm.Value(pick(g, c.deals).id)
			}
			if _, err := s.svc.CreateActivity(s.ctx, s.sys, in); err != nil {
				return fmt.Errorf("demo: create activity of contact %d: %w", c.id, err)
			}
			s.res.Activities++
		}
	}
	return nil
}

// Indexes into taskTemplates.
var (
	dealTaskTemplates    = []int{0, 1, 2, 3}
	contactTaskTemplates = []int{1, 4, 6, 7}
)

const ticketTemplate = 5

// createTasks creates tasks for the open deals, follow-ups for some
// contacts and support tickets: some done, some overdue, most upcoming.
func (s *seeder) createTasks() error {
	g := s.g
	for _, d := range s.deals {
		if d.stage.Kind != crm.StageOpen {
			continue
		}
		t := taskTemplates[d.contact.p.lang][pick(g, dealTaskTemplates)]
		in := crm.TaskInput{DealID: crm.Value(d.id), ContactID: crm.Value(d.contact.id), CompanyID: crm.Value(d.company.id)}
		if err := s.createTask(in, t, d.company.short, s.worker(d.owner), d.contact.country); err != nil {
			return err
		}
	}
	for i, c := range sample(g, s.contacts, numFollowUps+numTickets) {
		var t template
		assignee := s.worker(c.owner)
		if i < numTickets || assignee == s.support {
			t, assignee = taskTemplates[c.p.lang][ticketTemplate], s.support
		} else {
			t = taskTemplates[c.p.lang][pick(g, contactTaskTemplates)]
		}
		in := crm.TaskInput{ContactID: crm.Value(c.id)}
		if c.company != nil {
			in.CompanyID = crm.Value(c.company.id)
		}
		if err := s.createTask(in, t, c.p.first+" "+c.p.last, assignee, c.country); err != nil {
			return err
		}
	}
	return nil
}

// createTask completes in with a title, status and due date and creates it.
func (s *seeder) createTask(in crm.TaskInput, t template, about string, assignee int64, country string) error {
	g := s.g
	owner := assignee
	if g.chance(0.25) {
		owner = s.manager // delegated by the manager
	}
	status := crm.TaskOpen
	var due time.Time
	switch r := g.rng.Float64(); {
	case r < 0.35:
		status, due = crm.TaskDone, g.now.AddDate(0, 0, -g.between(1, 120))
	case r < 0.5: // overdue
		status, due = pick(g, []string{crm.TaskOpen, crm.TaskInProgress}), g.now.AddDate(0, 0, -g.between(1, 21))
	case r < 0.55:
		status, due = crm.TaskCancelled, g.now.AddDate(0, 0, -g.between(1, 60))
	default:
		status, due = pick(g, []string{crm.TaskOpen, crm.TaskOpen, crm.TaskInProgress}), g.now.AddDate(0, 0, g.between(1, 30))
	}
	in.Title = ptr(t.subject + " — " + about)
	if t.body != "" {
		in.Description = &t.body
	}
	in.Status, in.AssigneeID, in.OwnerID = &status, &assignee, &owner
	in.DueAt = crm.Value(g.at(due, zone(country), 10, 17))
	if _, err := s.svc.CreateTask(s.ctx, s.sys, in); err != nil {
		return fmt.Errorf("demo: create task %d: %w", s.res.Tasks+1, err)
	}
	s.res.Tasks++
	return nil
}
