// Package demo seeds a Custos instance with a realistic, made-up data set:
// demo users of every role, companies, contacts with their interaction
// history and consents, deals across the default pipeline, and tasks.
//
// It works only through the service layer, acting as the system principal,
// so every record passes the same validation as one entered by hand. The
// content is deterministic (a fixed seed); only the demo users' passwords are
// random, drawn from crypto/rand, printed once and never stored or logged in
// readable form.
//
// Seeding happens once: when a user with an address at DemoDomain exists,
// Seed does nothing. The marker is that cheap check because the service has
// no settings API.
package demo

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
)

// DemoDomain is the email domain of the demo users. .test is reserved
// (RFC 2606): no mail to it can ever be delivered.
const DemoDomain = "demo.custos.test"

// Result tells what Seed did.
type Result struct {
	Skipped    bool // demo data was already present; nothing was written
	Users      int
	Roles      int // custom roles
	Teams      int
	Shares     int
	Companies  int
	Contacts   int
	Deals      int
	Activities int
	Tasks      int
	Consents   int
}

// demoUser is one demo account.
type demoUser struct {
	first, last string
	role        crm.Role
	lang        string
}

// demoUsers are the demo accounts, one or more per role. Records are owned
// by the manager, the sales reps and the support agent.
var demoUsers = []demoUser{
	{"Анна", "Смирнова", crm.RoleAdmin, "ru"},
	{"James", "Carter", crm.RoleManager, "en"},
	{"Дмитрий", "Волков", crm.RoleSales, "ru"},
	{"Emily", "Watson", crm.RoleSales, "en"},
	{"Екатерина", "Орлова", crm.RoleSales, "ru"},
	{"Михаил", "Кузнецов", crm.RoleSupport, "ru"},
	{"Oliver", "Bennett", crm.RoleAuditor, "en"},
	{"Ольга", "Новикова", crm.RoleReadOnly, "ru"},
	{"Алексей", "Морозов", internRole, "ru"},
}

// internRole is the demo's custom role (ACL-1, ACL-3): a trainee in the
// Moscow office who reads what is shared with them, logs calls and works
// tasks, and sees a client's email and phone masked and their address,
// birthday and notes not at all.
const internRole crm.Role = "intern"

var internDef = crm.RoleInput{
	Name:  ptr(string(internRole)),
	Label: ptr("Стажёр (Intern)"),
	Permissions: &[]string{"contacts.read", "companies.read", "deals.read", "activities.read", "activities.create",
		"tasks.read", "tasks.update"},
	Fields: &map[string]crm.FieldLevel{
		"contact.email": crm.FieldMasked, "contact.phone": crm.FieldMasked, "contact.address": crm.FieldHidden,
		"contact.birthday": crm.FieldHidden, "contact.notes": crm.FieldHidden, "deal.notes": crm.FieldHidden,
	},
}

// Seed fills the store behind svc and idn with the demo data set, unless a demo user
// already exists. It prints the demo accounts with their passwords to out,
// once, together with loginURL; the passwords are not kept anywhere else.
// A failure part-way leaves what was written so far (each service call is
// its own transaction) and returns the error.
func Seed(ctx context.Context, svc *service.Service, idn *identity.Service, out io.Writer, loginURL string) (*Result, error) {
	sys := crm.SystemPrincipal()
	users, err := idn.FindUsers(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("demo: list users: %w", err)
	}
	for _, u := range users {
		if strings.HasSuffix(u.Email, "@"+DemoDomain) {
			fmt.Fprintf(out, "Demo data is already present (demo accounts at @%s exist); nothing was seeded.\n"+
				"Their passwords were shown only when they were created; reset one with the CLI if needed.\n", DemoDomain)
			return &Result{Skipped: true}, nil
		}
	}
	pl, err := defaultPipeline(ctx, svc, sys)
	if err != nil {
		return nil, err
	}

	g := newGenerator(time.Now().UTC())
	s := &seeder{ctx: ctx, svc: svc, idn: idn, sys: sys, g: g, pipeline: pl, res: &Result{}}
	if err := s.createUsers(out, loginURL); err != nil {
		return s.res, err
	}
	steps := []func() error{s.createTeams, s.createCompanies, s.createContacts, s.createDeals, s.createActivities, s.createTasks, s.createShares}
	for _, step := range steps {
		if err := step(); err != nil {
			return s.res, err
		}
	}
	r := s.res
	fmt.Fprintf(out, "\nSeeded %d teams, %d companies, %d contacts (%d consent records), %d deals, %d activities, %d tasks and %d shares.\n",
		r.Teams, r.Companies, r.Contacts, r.Consents, r.Deals, r.Activities, r.Tasks, r.Shares)
	fmt.Fprintln(out, "Each account sees its own view: sales reps their own clients (their manager their teams'), the support")
	fmt.Fprintln(out, "agent and the intern what is shared with them, with phones masked (the intern's emails too), the")
	fmt.Fprintln(out, "read-only role everything with contact details masked, the auditor no client data (docs/access-control.md).")
	return r, nil
}

// demoTeams are the demo's teams (ACL-2): the manager heads sales, with a
// team below it in each office, and the support team. Members are given by
// their index in seeder.sales, -1 for the support agent, -2 for the intern.
var demoTeams = []struct {
	name, parent string
	managed      bool
	members      []int
}{
	{"Продажи", "", true, nil},
	{"Москва", "Продажи", false, []int{0, 2, -2}},
	{"London", "Продажи", false, []int{1}},
	{"Поддержка", "", true, []int{-1}},
}

// createTeams creates the demo teams before the records, so that every
// record takes its owner's team.
func (s *seeder) createTeams() error {
	ids := map[string]int64{}
	for _, dt := range demoTeams {
		name := dt.name
		in := crm.TeamInput{Name: &name}
		if dt.parent != "" {
			in.ParentID = crm.Value(ids[dt.parent])
		}
		if dt.managed {
			in.ManagerID = crm.Value(s.manager)
		}
		tm, err := s.idn.CreateTeam(s.ctx, s.sys, in)
		if err != nil {
			return fmt.Errorf("demo: create team %s: %w", dt.name, err)
		}
		ids[dt.name] = tm.ID
		s.res.Teams++
		for _, m := range dt.members {
			user := s.support
			switch {
			case m >= 0:
				user = s.sales[m]
			case m == -2:
				user = s.intern
			}
			if _, err := s.idn.AddTeamMember(s.ctx, s.sys, tm.ID, user); err != nil {
				return fmt.Errorf("demo: add a member to team %s: %w", dt.name, err)
			}
		}
	}
	return nil
}

// defaultPipeline returns the pipeline with the lowest id, the one the
// first migration creates.
func defaultPipeline(ctx context.Context, svc *service.Service, p *crm.Principal) (*crm.Pipeline, error) {
	pls, err := svc.FindPipelines(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("demo: list pipelines: %w", err)
	}
	var best *crm.Pipeline
	for _, pl := range pls {
		if len(pl.Stages) > 0 && (best == nil || pl.ID < best.ID) {
			best = pl
		}
	}
	if best == nil {
		return nil, fmt.Errorf("demo: no pipeline with stages to put deals in")
	}
	return best, nil
}

// newPassword returns a random password of four groups of five base32
// characters (100 bits), e.g. "K7QXM-2RTAP-WZ4NB-H3CDE".
func newPassword() (string, error) {
	for range 10 {
		t := crand.Text()
		pw := t[0:5] + "-" + t[5:10] + "-" + t[10:15] + "-" + t[15:20]
		if auth.CheckPassword(pw) == nil {
			return pw, nil
		}
	}
	return "", fmt.Errorf("demo: could not generate an acceptable password")
}

// createUsers creates the demo accounts and prints them with their
// passwords. It prints as soon as the accounts exist, so that they stay
// usable even if a later step fails.
func (s *seeder) createUsers(out io.Writer, loginURL string) error {
	type account struct {
		email, role, password, enrol string
	}
	var accounts []account
	if _, err := s.idn.CreateRole(s.ctx, s.sys, internDef); err != nil {
		return fmt.Errorf("demo: create role %s: %w", internRole, err)
	}
	s.res.Roles++
	for _, du := range demoUsers {
		pw, err := newPassword()
		if err != nil {
			return err
		}
		email := translit(du.first) + "." + translit(du.last) + "@" + DemoDomain
		name := du.first + " " + du.last
		role, lang := du.role, du.lang
		u, err := s.idn.CreateUser(s.ctx, s.sys, crm.UserInput{Email: &email, Name: &name, Role: &role, Language: &lang, Password: &pw})
		if err != nil {
			return fmt.Errorf("demo: create user %s: %w", email, err)
		}
		s.res.Users++
		a := account{email: u.Email, role: string(u.Role), password: pw}
		if mfa, err := s.idn.RoleRequiresMFA(s.ctx, u.Role); err != nil {
			return fmt.Errorf("demo: role of %s: %w", email, err)
		} else if mfa {
			// The password alone enrols no second factor for this role.
			if a.enrol, err = s.idn.IssueEnrolmentLink(s.ctx, s.sys, u.ID); err != nil {
				return fmt.Errorf("demo: enrolment link of %s: %w", email, err)
			}
		}
		accounts = append(accounts, a)
		switch u.Role {
		case crm.RoleManager:
			s.manager = u.ID
		case crm.RoleSales:
			s.sales = append(s.sales, u.ID)
		case crm.RoleSupport:
			s.support = u.ID
		case internRole:
			s.intern = u.ID
		}
	}

	fmt.Fprintf(out, "Demo accounts created. Sign in at %s\n\n", loginURL)
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "  EMAIL\tROLE\tPASSWORD")
	for _, a := range accounts {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.email, a.role, a.password)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("demo: print accounts: %w", err)
	}
	fmt.Fprintln(out, "\nThese passwords are shown only now and are not stored in readable form: note them down.")
	fmt.Fprintln(out, "\nThese roles require a second factor, which a password alone cannot set up. Open the")
	fmt.Fprintf(out, "account's one-time enrolment link (valid %d hours), sign in with the password above\n", int(crm.EnrolTTL.Hours()))
	fmt.Fprintln(out, "and set up an authenticator app; a new link: custos user enrol-link --email E.")
	for _, a := range accounts {
		if a.enrol != "" {
			fmt.Fprintf(out, "  %s\n    %s\n", a.email, a.enrol)
		}
	}
	return nil
}

// createShares shares some of the sales reps' contacts (ACL-2): a dozen
// with the support agent (a third of them for writing, one for a week
// only), ten of the Moscow office's with the intern, and three of the
// London office's with the whole Moscow team.
func (s *seeder) createShares() error {
	moscow, london := []*contactRec{}, []*contactRec{}
	for _, c := range s.contacts {
		switch c.owner {
		case s.sales[0], s.sales[2]:
			moscow = append(moscow, c)
		case s.sales[1]:
			london = append(london, c)
		}
	}
	team, err := s.teamID("Москва")
	if err != nil {
		return err
	}
	week := s.g.now.Add(7 * 24 * time.Hour)
	share := func(c *contactRec, in crm.ShareInput) error {
		if _, _, err := s.svc.ShareRecord(s.ctx, s.sys, "contact", c.id, in); err != nil {
			return fmt.Errorf("demo: share contact %d: %w", c.id, err)
		}
		s.res.Shares++
		return nil
	}
	for i, c := range append(moscow[:min(8, len(moscow))], london[:min(4, len(london))]...) {
		in := crm.ShareInput{UserID: &s.support}
		if i%3 == 2 {
			in.Access = ptr(string(crm.ShareWrite))
		}
		if i == 0 {
			in.ExpiresAt = crm.Value(week)
		}
		if err := share(c, in); err != nil {
			return err
		}
	}
	for _, c := range moscow[min(8, len(moscow)):min(18, len(moscow))] {
		if err := share(c, crm.ShareInput{UserID: &s.intern}); err != nil {
			return err
		}
	}
	for _, c := range london[min(4, len(london)):min(7, len(london))] {
		if err := share(c, crm.ShareInput{TeamID: &team}); err != nil {
			return err
		}
	}
	return nil
}

// teamID returns the id of the demo team called name.
func (s *seeder) teamID(name string) (int64, error) {
	teams, err := s.idn.FindTeams(s.ctx, s.sys)
	if err != nil {
		return 0, fmt.Errorf("demo: list teams: %w", err)
	}
	for _, t := range teams {
		if t.Name == name {
			return t.ID, nil
		}
	}
	return 0, fmt.Errorf("demo: no team %q", name)
}
