package demo

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

const testLoginURL = "http://127.0.0.1:8080/login"

// newServices returns the record and identity services over a fresh
// SQLite store in a temp dir, with cheap password hashing, and the buffer
// their log goes to.
func newServices(t *testing.T) (*service.Service, *identity.Service, *bytes.Buffer) {
	t.Helper()
	db := testkit.SQLite(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return service.New(db, service.Options{Logger: log}), identity.New(db, identity.Options{Hasher: testkit.Hasher(), Logger: log}), &logs
}

// account is one row of the printed table.
type account struct{ email, role, password string }

// parseAccounts reads the demo accounts from Seed's output.
func parseAccounts(t *testing.T, out string) []account {
	t.Helper()
	var list []account
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && strings.HasSuffix(f[0], "@"+DemoDomain) {
			list = append(list, account{f[0], f[1], f[2]})
		}
	}
	return list
}

func isCyrillic(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) {
			return true
		}
	}
	return false
}

// all pages through a list.
func all[T any](t *testing.T, list func(o crm.ListOptions) (*crm.Page[T], error)) []T {
	t.Helper()
	var items []T
	o := crm.ListOptions{Limit: crm.MaxLimit}
	for {
		pg, err := list(o)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, pg.Items...)
		if pg.NextCursor == "" {
			return items
		}
		o.Cursor = pg.NextCursor
	}
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	svc, idn, logs := newServices(t)
	sys := crm.SystemPrincipal()

	var out bytes.Buffer
	start := time.Now()
	res, err := Seed(ctx, svc, idn, &out, testLoginURL)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("Seed: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("seeded in %v: %+v", elapsed, *res)
	t.Logf("output:\n%s", redact(out.String(), parseAccounts(t, out.String())))

	// Counts.
	if res.Skipped {
		t.Fatal("first Seed reported Skipped")
	}
	if res.Users != len(demoUsers) || res.Companies < 100 || res.Contacts < 500 || res.Deals == 0 || res.Tasks == 0 {
		t.Errorf("counts = %+v", *res)
	}
	if per := float64(res.Activities) / float64(res.Contacts); per < 2.5 || per > 3.5 {
		t.Errorf("%.2f activities per contact, want about 3", per)
	}
	if res.Consents < res.Contacts {
		t.Errorf("%d consents for %d contacts, want at least one each", res.Consents, res.Contacts)
	}

	// Users: at least 8, every role.
	users, err := idn.FindUsers(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[crm.Role]int{}
	for _, u := range users {
		if !strings.HasSuffix(u.Email, "@"+DemoDomain) {
			t.Errorf("user %q is not at %s", u.Email, DemoDomain)
		}
		roles[u.Role]++
	}
	if len(users) < 8 {
		t.Errorf("%d users, want at least 8", len(users))
	}
	for _, r := range crm.Roles {
		if roles[r] == 0 {
			t.Errorf("no user with role %s", r)
		}
	}

	// The printed accounts: every demo email, the login URL, and passwords
	// that work.
	text := out.String()
	accounts := parseAccounts(t, text)
	if len(accounts) != len(users) {
		t.Fatalf("printed %d accounts, want %d", len(accounts), len(users))
	}
	for _, u := range users {
		if !strings.Contains(text, u.Email) {
			t.Errorf("output lacks %s", u.Email)
		}
	}
	if !strings.Contains(text, testLoginURL) || !strings.Contains(text, "shown only now") {
		t.Errorf("output lacks the login URL or the shown-once warning")
	}
	for _, a := range accounts {
		if len(a.password) < 20 || auth.CheckPassword(a.password) != nil {
			t.Errorf("weak password for %s", a.email)
		}
		u, _, _, err := idn.Login(ctx, a.email, a.password, "127.0.0.1", "demo test")
		if err != nil {
			t.Errorf("login %s: %v", a.email, err)
			continue
		}
		if string(u.Role) != a.role {
			t.Errorf("%s: printed role %s, has %s", a.email, a.role, u.Role)
		}
		if strings.Contains(logs.String(), a.password) {
			t.Errorf("the password of %s was logged", a.email)
		}
		// Roles that require a second factor get a printed enrolment link
		// that works with the printed password (issue 9 item 4).
		if mfa, err := idn.RoleRequiresMFA(ctx, u.Role); err != nil || !mfa {
			continue
		}
		i := strings.Index(text, a.email+"\n    ")
		if i < 0 {
			t.Errorf("no enrolment link printed for %s", a.email)
			continue
		}
		link := strings.Fields(text[i+len(a.email):])[0]
		token := link[strings.LastIndex(link, "/")+1:]
		if _, _, _, err := idn.StartEnrolment(ctx, token, a.password, "127.0.0.1", "demo test"); err != nil {
			t.Errorf("the printed enrolment link of %s: %v", a.email, err)
		}
	}

	// Companies and contacts, with Cyrillic names.
	companies := all(t, func(o crm.ListOptions) (*crm.Page[*crm.Company], error) {
		return svc.FindCompanies(ctx, sys, crm.CompanyFilter{}, o)
	})
	if len(companies) < 100 {
		t.Errorf("%d companies, want at least 100", len(companies))
	}
	ruCompanies := 0
	for _, c := range companies {
		if isCyrillic(c.Name) {
			ruCompanies++
		}
		if c.Domain != "" && !strings.HasSuffix(c.Domain, ".example") {
			t.Errorf("company domain %q is not reserved", c.Domain)
		}
	}
	if ruCompanies == 0 || ruCompanies == len(companies) {
		t.Errorf("%d of %d company names are Russian, want a mix", ruCompanies, len(companies))
	}

	contacts := all(t, func(o crm.ListOptions) (*crm.Page[*crm.Contact], error) {
		return svc.FindContacts(ctx, sys, crm.ContactFilter{}, o)
	})
	if len(contacts) < 500 {
		t.Errorf("%d contacts, want at least 500", len(contacts))
	}
	var ru, en, linked, tagged, dnc int
	owners := map[int64]bool{}
	for _, c := range contacts {
		owners[c.OwnerID] = true
		if c.CompanyID != nil {
			linked++
		}
		if len(c.Tags) > 0 {
			tagged++
		}
		if c.Preferences.DoNotContact {
			dnc++
		}
		if c.Email != "" && !strings.HasSuffix(c.Email, ".example") {
			t.Errorf("contact email %q is not at a reserved domain", c.Email)
		}
		if isCyrillic(c.FirstName) {
			ru++
			if !isCyrillic(c.LastName) || c.Preferences.Language != "ru" {
				t.Errorf("Russian contact %s %s has language %q", c.FirstName, c.LastName, c.Preferences.Language)
			}
			if hasString(ruFemaleFirst, c.FirstName) {
				for _, masc := range []string{"ов", "ев", "ёв", "ин", "ын", "ий", "ой"} {
					if strings.HasSuffix(c.LastName, masc) {
						t.Errorf("woman %s %s has a masculine surname", c.FirstName, c.LastName)
					}
				}
			}
		} else {
			en++
		}
	}
	if ru < 200 || en < 100 {
		t.Errorf("%d Russian and %d English contacts, want both", ru, en)
	}
	if linked < 400 || tagged == 0 || dnc == 0 || len(owners) < 4 {
		t.Errorf("contacts: %d linked to companies, %d tagged, %d do-not-contact, %d owners", linked, tagged, dnc, len(owners))
	}

	// Every stage of the default pipeline has a deal.
	pl, err := defaultPipeline(ctx, svc, sys)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range pl.Stages {
		pg, err := svc.FindDeals(ctx, sys, crm.DealFilter{StageID: st.ID}, crm.ListOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) == 0 {
			t.Errorf("no deal on stage %q", st.Name)
		}
	}
	deals := all(t, func(o crm.ListOptions) (*crm.Page[*crm.Deal], error) {
		return svc.FindDeals(ctx, sys, crm.DealFilter{}, o)
	})
	currencies := map[string]bool{}
	for _, d := range deals {
		currencies[d.Currency] = true
		if d.ContactID == nil || d.CompanyID == nil || d.ExpectedClose == "" {
			t.Errorf("deal %d lacks a contact, company or close date", d.ID)
		}
	}
	if len(currencies) != 3 {
		t.Errorf("deal currencies %v, want RUB, EUR and USD", currencies)
	}

	// Tasks: some done, some overdue, assigned to sales and support.
	tasks := all(t, func(o crm.ListOptions) (*crm.Page[*crm.Task], error) {
		return svc.FindTasks(ctx, sys, crm.TaskFilter{}, o)
	})
	role := func(id int64) crm.Role {
		for _, u := range users {
			if u.ID == id {
				return u.Role
			}
		}
		return ""
	}
	var done, overdue int
	for _, tk := range tasks {
		if tk.Status == crm.TaskDone {
			done++
		}
		if (tk.Status == crm.TaskOpen || tk.Status == crm.TaskInProgress) && tk.DueAt != nil && tk.DueAt.Before(time.Now()) {
			overdue++
		}
		if r := role(tk.AssigneeID); r != crm.RoleSales && r != crm.RoleSupport {
			t.Errorf("task %d assigned to a %s", tk.ID, r)
		}
	}
	if done == 0 || overdue == 0 || len(tasks) != res.Tasks {
		t.Errorf("%d tasks: %d done, %d overdue", len(tasks), done, overdue)
	}

	// A contact's history and consents.
	c := contacts[0]
	tl, err := svc.FindTimeline(ctx, sys, c.ID, crm.ListOptions{Limit: crm.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range tl.Items {
		if a.OccurredAt.After(time.Now()) || a.OccurredAt.Before(time.Now().AddDate(-1, 0, -1)) {
			t.Errorf("activity %d occurred at %v, want within the last year", a.ID, a.OccurredAt)
		}
	}
	consents, err := svc.FindConsents(ctx, sys, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(consents) == 0 {
		t.Errorf("contact %d has no consents", c.ID)
	}
	for _, cs := range consents {
		if !hasString(consentPurposes, cs.Purpose) || cs.RecordedBy == 0 {
			t.Errorf("consent %+v", *cs)
		}
	}

	// A second run does nothing and prints no password.
	var out2 bytes.Buffer
	res2, err := Seed(ctx, svc, idn, &out2, testLoginURL)
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Skipped || res2.Users != 0 || res2.Contacts != 0 {
		t.Errorf("second Seed = %+v, want skipped", *res2)
	}
	for _, a := range accounts {
		if strings.Contains(out2.String(), a.password) {
			t.Error("second Seed printed a password")
		}
	}
	if !strings.Contains(out2.String(), "already") {
		t.Errorf("second Seed printed %q", out2.String())
	}
	users2, err := idn.FindUsers(ctx, sys)
	if err != nil || len(users2) != len(users) {
		t.Errorf("second Seed changed the users: %d -> %d (%v)", len(users), len(users2), err)
	}
}

// redact hides the passwords in the test log.
func redact(s string, accounts []account) string {
	for _, a := range accounts {
		s = strings.ReplaceAll(s, a.password, strings.Repeat("*", len(a.password)))
	}
	return s
}

func TestFeminine(t *testing.T) {
	for in, want := range map[string]string{
		"Петров": "Петрова", "Соловьёв": "Соловьёва", "Ильин": "Ильина", "Вишневский": "Вишневская",
		"Трубецкой": "Трубецкая", "Черных": "Черных", "Шевченко": "Шевченко", "Ковальчук": "Ковальчук",
	} {
		if got := feminine(in); got != want {
			t.Errorf("feminine(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestTranslit(t *testing.T) {
	for in, want := range map[string]string{
		"Соловьёв": "solovyev", "Наталья": "natalya", "Щербаков": "shcherbakov", "Юлия": "yuliya",
		"Дмитрий": "dmitriy", "Жуков": "zhukov", "O'Connor": "oconnor", "Мария": "mariya",
	} {
		if got := translit(in); got != want {
			t.Errorf("translit(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestDeterministic checks that the generator gives the same content for
// the same calls.
func TestDeterministic(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a, b := newGenerator(now), newGenerator(now)
	for range 50 {
		pa, pb := a.person("ru"), b.person("ru")
		if pa != pb || a.email(pa, "x.example", false) != b.email(pb, "x.example", false) || a.ruMobile() != b.ruMobile() {
			t.Fatal("generator is not deterministic")
		}
	}
}

// TestDemoViews (issue 11, "done means"): the demo's accounts see visibly
// different views of the same data: the support agent and the intern the
// contacts shared with them, phones (and for the intern emails) masked and
// notes hidden; a sales rep their own clients in full; their manager the
// teams'; the read-only role everything masked; the auditor nothing.
func TestDemoViews(t *testing.T) {
	ctx := context.Background()
	svc, idn, _ := newServices(t)
	sys := crm.SystemPrincipal()
	var out bytes.Buffer
	res, err := Seed(ctx, svc, idn, &out, testLoginURL)
	if err != nil {
		t.Fatal(err)
	}
	if res.Roles != 1 || res.Shares < 20 {
		t.Errorf("seeded %d custom roles and %d shares", res.Roles, res.Shares)
	}
	users, err := idn.FindUsers(ctx, sys)
	if err != nil {
		t.Fatal(err)
	}
	as := func(role crm.Role) *crm.Principal {
		for _, u := range users {
			if u.Role != role {
				continue
			}
			def, err := idn.FindRole(ctx, sys, u.Role)
			if err != nil {
				t.Fatal(err)
			}
			p := &crm.Principal{Kind: crm.KindSession, UserID: u.ID, Role: u.Role, Def: def.Compile(), Teams: u.SeesTeams,
				AAL: crm.AAL2, SteppedUpAt: time.Now()}
			if u.TeamID != nil {
				p.TeamID = *u.TeamID
			}
			return p
		}
		t.Fatalf("no demo user with role %s", role)
		return nil
	}
	contacts := func(p *crm.Principal) []*crm.Contact {
		return all(t, func(o crm.ListOptions) (*crm.Page[*crm.Contact], error) {
			return svc.FindContacts(ctx, p, crm.ContactFilter{}, o)
		})
	}
	everyone := contacts(sys)
	support, intern := contacts(as(crm.RoleSupport)), contacts(as(internRole))
	if len(intern) < 10 || len(intern) >= len(everyone)/4 {
		t.Errorf("the intern sees %d of %d contacts", len(intern), len(everyone))
	}
	masked := func(list []*crm.Contact, field string) (n int) {
		for _, c := range list {
			if slices.Contains(c.Masked, field) {
				n++
			}
		}
		return n
	}
	if masked(support, "phone") == 0 || masked(intern, "phone") == 0 || masked(intern, "email") == 0 {
		t.Errorf("masks: support phones %d, intern phones %d and emails %d", masked(support, "phone"), masked(intern, "phone"), masked(intern, "email"))
	}
	for _, c := range intern {
		if c.Notes != "" || c.Address != "" || c.Birthday != "" {
			t.Errorf("the intern sees a hidden field of contact %d", c.ID)
		}
	}
	// A contact shared with support is shown to its owner in full.
	var shared *crm.Contact
	for _, c := range support {
		if slices.Contains(c.Masked, "phone") && c.OwnerID != as(crm.RoleSupport).UserID {
			shared = c
			break
		}
	}
	if shared == nil {
		t.Fatal("support sees no masked phone of someone else's contact")
	}
	owner := &crm.Principal{Kind: crm.KindSession, UserID: shared.OwnerID, Role: crm.RoleSales}
	full, err := svc.FindContactByID(ctx, owner, shared.ID)
	if err != nil || len(full.Masked) != 0 || !strings.HasSuffix(full.Phone, shared.Phone[len(shared.Phone)-2:]) || full.Phone == shared.Phone {
		t.Errorf("the owner's view of %d: %+v %v (support sees %q)", shared.ID, full, err, shared.Phone)
	}
	manager, reader := contacts(as(crm.RoleManager)), contacts(as(crm.RoleReadOnly))
	if len(manager) <= len(support) || len(reader) != len(everyone) || masked(reader, "email") == 0 {
		t.Errorf("manager sees %d, reader %d (%d masked emails) of %d", len(manager), len(reader), masked(reader, "email"), len(everyone))
	}
	_, err = svc.FindContacts(ctx, as(crm.RoleAuditor), crm.ContactFilter{}, crm.ListOptions{})
	testkit.WantCode(t, err, crm.EFORBIDDEN)
}
