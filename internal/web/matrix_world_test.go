package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// The world of the access-control matrix (ACL-5) and of the attacks: the
// real router, services and store on one backend, a team hierarchy per
// built-in role, records in every relation to every caller, and a model
// of it all from which an oracle written here, from the product's rules
// and not from package policy, says what each caller may do.

// onBackends runs f on SQLite, and on PostgreSQL when CUSTOS_TEST_POSTGRES
// names a server (the PostgreSQL subtest skips, saying so, otherwise);
// newStore makes a fresh, migrated store of the backend.
func onBackends(t *testing.T, f func(t *testing.T, newStore func(t *testing.T) crm.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, func(t *testing.T) crm.Store { return testkit.SQLite(t) }) })
	t.Run("postgres", func(t *testing.T) {
		postgrestest.BaseDSN(t) // skips without a server
		f(t, func(t *testing.T) crm.Store { return postgrestest.New(t) })
	})
}

// The oracle: the rules as the product states them (docs/access-control.md
// and the issue), written down here independently of internal/policy.

// roleVerbs are the verbs of the built-in roles on every client entity.
var roleVerbs = map[crm.Role][]string{
	crm.RoleAdmin:    {"read", "create", "update", "delete", "transfer", "share", "view_all", "modify_all"},
	crm.RoleManager:  {"read", "create", "update", "delete", "transfer", "share"},
	crm.RoleSales:    {"read", "create", "update", "delete", "share"},
	crm.RoleSupport:  {"read", "create", "update"},
	crm.RoleReadOnly: {"read", "view_all"},
	crm.RoleAuditor:  {},
}

// tokenVerbs are the verbs an API token's scope allows at most; a token
// never shares, reveals or administers.
var tokenVerbs = map[crm.TokenScope][]string{
	crm.ScopeRead:  {"read", "view_all"},
	crm.ScopeWrite: {"read", "view_all", "create", "update", "delete", "transfer", "modify_all"},
}

// fieldRules are the fields the built-in roles see masked or not at all
// (ACL-3); every other field is shown as stored.
var fieldRules = map[crm.Role]map[string]string{
	crm.RoleSupport: {"contact.phone": "masked", "contact.birthday": "masked", "contact.address": "masked"},
	crm.RoleReadOnly: {
		"contact.email": "masked", "contact.phone": "masked", "contact.birthday": "masked", "contact.address": "masked",
		"contact.notes": "hidden", "company.notes": "hidden", "deal.notes": "hidden", "activity.body": "hidden",
		"task.description": "hidden", "company.phone": "masked", "company.address": "masked",
	},
}

// protectedFields are the personal and free-text fields of each entity
// the fixture fills, to see them shown, masked or absent.
var protectedFields = map[string][]string{
	"contact":  {"email", "phone", "birthday", "address", "notes", "title"},
	"company":  {"domain", "phone", "address", "notes"},
	"deal":     {"notes"},
	"activity": {"body"},
	"task":     {"description"},
}

// maskOf is what a masked value must look like: a phone keeps its country
// code and last four digits, an email its first letter and domain, a
// birthday its month and day, an address its city.
func maskOf(field, raw string) string {
	switch field {
	case "phone": // +79161234567 → +7 *** ***-45-67
		d := raw[len(raw)-4:]
		return "+7 *** ***-" + d[:2] + "-" + d[2:]
	case "email":
		_, domain, _ := strings.Cut(raw, "@")
		return raw[:1] + "***@" + domain
	case "birthday":
		return "--" + raw[5:]
	case "address":
		parts := strings.Split(raw, ",")
		return "***, " + strings.TrimSpace(parts[len(parts)-1])
	}
	panic("no mask for " + field)
}

// entities in order, with their collections.
var entityOrder = []string{"contact", "company", "deal", "activity", "task"}
var collectionOf = map[string]string{"contact": "contacts", "company": "companies", "deal": "deals", "activity": "activities", "task": "tasks"}

// The model.

type wteam struct{ id, parent, manager int64 }

type wshare struct {
	id, user, team int64
	write, expired bool
}

// wrec is a client record of the world.
type wrec struct {
	entity   string
	id       int64
	rel      string // the relation it was made in, for messages
	owner    int64
	team     int64
	shares   []wshare
	assignee int64 // tasks
	contact  int64 // an activity's contact (timelines)
	deleted  bool
	raw      map[string]string // protected fields as written
	bystand  int64             // the share every fixture record has with its group's bystander
}

// caller is a principal of the matrix: a user's session, or one of their
// API tokens.
type caller struct {
	name   string
	role   crm.Role
	g      *group
	user   *crm.User
	lead   bool           // manages the group's team A (and is a member of it)
	scope  crm.TokenScope // "" for a session
	cookie string
	bearer string
	csrf   string
	key    string   // TOTP key (admins and managers)
	codes  []string // unused recovery codes
	// recs are the caller's records in each relation, by entity.
	recs map[string]map[string]*wrec
	// gone are the soft-deleted twins of recs.
	gone map[string]map[string]*wrec
}

func (c *caller) token() bool { return c.scope != "" }

func (c *caller) may(verb string) bool {
	ok := slices.Contains(roleVerbs[c.role], verb)
	if c.token() {
		ok = ok && slices.Contains(tokenVerbs[c.scope], verb)
	}
	return ok
}

// level is the caller's view of entity.field: "hidden", "masked" or
// "shown".
func (c *caller) level(entity, field string) string {
	if l := fieldRules[c.role][entity+"."+field]; l != "" {
		return l
	}
	return "shown"
}

// auth is the request's credentials.
func (c *caller) auth() (cookie string, hdr []string) {
	if c.token() {
		return "", []string{"Authorization", "Bearer " + c.bearer}
	}
	return c.cookie, nil
}

// group is one built-in role's corner of the world: its teams and people.
// Org has two sub-teams, A and its sibling B; A has the sub-team A1.
type group struct {
	role          crm.Role
	org, a, a1, b int64
	lead, member  *crm.User // role's users: A's manager (and member), and a plain member of A
	mate, sub     *crm.User // sales users in A and A1
	other, bmgr   *crm.User // a sales user in B, and B's manager (a manager)
	bystander     *crm.User // holds a read share of every fixture record
	grantee       *crm.User // whom the matrix shares records with
	company       *wrec     // the company every fixture contact and activity names
}

type world struct {
	s   *mfaSite
	ctx context.Context
	// mu guards the model: teams, memberships, records and their shares.
	mu    sync.RWMutex
	teams map[int64]*wteam
	team  map[int64]int64 // user → team
	recs  map[string]map[int64]*wrec
	stage int64
	grp   map[crm.Role]*group

	callers  []*caller
	seq      int
	sessions map[int64]string // a session's public id by user (otherSession)
	// newStore makes another store of the backend (attacks that need a
	// server of their own).
	newStore func(t *testing.T) crm.Store
}

// next returns a number unique in the world.
func (w *world) next() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return w.seq
}

// manages reports whether user manages team or a team above it.
func (w *world) manages(user, team int64) bool {
	for team != 0 {
		tm := w.teams[team]
		if tm == nil {
			return false
		}
		if tm.manager == user {
			return true
		}
		team = tm.parent
	}
	return false
}

// The oracle's questions, each under the model's read lock.

func (w *world) reads(c *caller, r *wrec) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.readsLocked(c, r)
}

func (w *world) writes(c *caller, r *wrec) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.writesLocked(c, r)
}

func (w *world) controls(c *caller, r *wrec, verb string) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.controlsLocked(c, r, verb)
}

// teamOf is user's team (0 for none).
func (w *world) teamOf(user int64) int64 {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.team[user]
}

// sharedWith reports whether r is shared, unexpired, with c's user or a
// team c's user is a member of or manages (for writing with write).
func (w *world) sharedWith(c *caller, r *wrec, write bool) bool {
	for _, s := range r.shares {
		if s.expired || (write && !s.write) {
			continue
		}
		if s.user == c.user.ID || (s.team != 0 && (w.team[c.user.ID] == s.team || w.manages(c.user.ID, s.team))) {
			return true
		}
	}
	return false
}

// owns reports whether r is c's or in a team c manages.
func (w *world) owns(c *caller, r *wrec) bool {
	return r.owner == c.user.ID || (r.team != 0 && w.manages(c.user.ID, r.team))
}

// readsLocked: everything with view_all (or modify_all); otherwise own,
// managed teams', shared, and tasks assigned to the caller. Deleted
// records are read by nobody.
func (w *world) readsLocked(c *caller, r *wrec) bool {
	switch {
	case r.deleted || !c.may("read"):
		return false
	case c.may("view_all") || c.may("modify_all"):
		return true
	}
	return w.owns(c, r) || w.sharedWith(c, r, false) || (r.entity == "task" && r.assignee == c.user.ID)
}

// writesLocked: everything with modify_all; otherwise own, managed teams'
// and write shares.
func (w *world) writesLocked(c *caller, r *wrec) bool {
	switch {
	case r.deleted || !c.may("update"):
		return false
	case c.may("modify_all"):
		return true
	}
	return w.owns(c, r) || w.sharedWith(c, r, true)
}

// controlsLocked (delete, restore, transfer, share): everything with
// modify_all; otherwise only own and managed teams', never through a share.
func (w *world) controlsLocked(c *caller, r *wrec, verb string) bool {
	if !c.may(verb) {
		return false
	}
	return c.may("modify_all") || w.owns(c, r)
}

// editable reports whether c may write field of entity: it may create or
// update, and the field is neither masked nor hidden for its role.
func (c *caller) editable(entity, field string) bool {
	return (c.may("create") || c.may("update")) && c.level(entity, field) == "shown"
}

// add records r in the world.
func (w *world) add(r *wrec) *wrec {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.recs[r.entity] == nil {
		w.recs[r.entity] = map[int64]*wrec{}
	}
	w.recs[r.entity][r.id] = r
	return r
}

// rec is the record of entity with id, nil if the world has none.
func (w *world) rec(entity string, id int64) *wrec {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.recs[entity][id]
}

func (w *world) isDeleted(r *wrec) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return r.deleted
}

// visible lists the ids of the live records of entity c reads.
func (w *world) visible(c *caller, entity string) []int64 {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var out []int64
	for _, r := range w.recs[entity] {
		if w.readsLocked(c, r) {
			out = append(out, r.id)
		}
	}
	slices.Sort(out)
	return out
}

// bin lists the ids of the deleted records of entity c could restore.
func (w *world) bin(c *caller, entity string) []int64 {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var out []int64
	for _, r := range w.recs[entity] {
		if r.deleted && w.controlsLocked(c, r, "delete") {
			out = append(out, r.id)
		}
	}
	slices.Sort(out)
	return out
}

// timeline lists the ids of the live activities of contact id.
func (w *world) timeline(id int64) []int64 {
	w.mu.RLock()
	defer w.mu.RUnlock()
	var out []int64
	for _, r := range w.recs["activity"] {
		if r.contact == id && !r.deleted {
			out = append(out, r.id)
		}
	}
	slices.Sort(out)
	return out
}

// Building the world.

// newTestSite is the site of the matrix and the attacks over db: a
// throttle that lets a few hundred sign-ins through, the record service
// on the site's clock (step-ups are judged by it, as the identity service
// judges them), the cheapest real argon2id; opts changes the record
// service's options further.
func newTestSite(t *testing.T, db crm.Store, opts func(*service.Options)) *mfaSite {
	t.Helper()
	var s *mfaSite
	s = newSiteOn(t, db, auth.Throttle{IPLimit: 1000000, AccountLimit: 100, BackoffAfter: 100}, func(o *service.Options) {
		o.Now = func() time.Time { return s.clock() }
		if opts != nil {
			opts(o)
		}
	}, func(o *identity.Options) {
		// Some hundred users sign in: real argon2id, at the smallest
		// cost it allows (1 MiB, one pass).
		o.Hasher = auth.NewHasher(auth.Params{Memory: 1024, Time: 1, Threads: 1}, 4)
	})
	return s
}

// siteWorld is a world over s without groups, for attacks that build
// their own people and records.
func siteWorld(s *mfaSite) *world {
	return &world{s: s, ctx: context.Background(), teams: map[int64]*wteam{}, team: map[int64]int64{},
		recs: map[string]map[int64]*wrec{}, grp: map[crm.Role]*group{}, sessions: map[int64]string{}}
}

// newWorld builds the site on db and the fixture: per built-in role a
// group of teams, users and records, and the callers.
func newWorld(t *testing.T, db crm.Store) *world {
	t.Helper()
	s := newTestSite(t, db, nil)
	w := siteWorld(s)
	pls, err := s.svc.FindPipelines(w.ctx, crm.SystemPrincipal())
	if err != nil || len(pls) == 0 || len(pls[0].Stages) == 0 {
		t.Fatalf("pipelines: %v", err)
	}
	w.stage = pls[0].Stages[0].ID
	build := func(t *testing.T, role crm.Role) {
		g := w.buildGroup(t, role)
		w.mu.Lock()
		w.grp[role] = g
		w.mu.Unlock()
		w.signIn(t, g)
	}
	// The groups at once (they share nothing but the store), each in a
	// subtest of its own; a -run filter that leaves those out gets them
	// built one after the other.
	ran := make([]bool, len(crm.Roles))
	var wg sync.WaitGroup
	for i, role := range crm.Roles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run("fixture "+string(role), func(t *testing.T) { ran[i] = true; build(t, role) })
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for i, role := range crm.Roles {
		if !ran[i] {
			build(t, role)
		}
	}
	slices.SortFunc(w.callers, func(a, b *caller) int { return strings.Compare(a.name, b.name) })
	return w
}

func (w *world) user(t *testing.T, name string, role crm.Role) *crm.User {
	t.Helper()
	email, pw := name+"@example.com", sitePassword
	u, err := w.s.idn.CreateUser(w.ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw, Name: &name})
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func (w *world) newTeam(t *testing.T, name string, parent, manager int64) int64 {
	t.Helper()
	in := crm.TeamInput{Name: &name}
	if parent != 0 {
		in.ParentID = crm.Value(parent)
	}
	if manager != 0 {
		in.ManagerID = crm.Value(manager)
	}
	tm, err := w.s.idn.CreateTeam(w.ctx, crm.SystemPrincipal(), in)
	if err != nil {
		t.Fatalf("team %s: %v", name, err)
	}
	w.mu.Lock()
	w.teams[tm.ID] = &wteam{id: tm.ID, parent: parent, manager: manager}
	w.mu.Unlock()
	return tm.ID
}

func (w *world) join(t *testing.T, team int64, users ...*crm.User) {
	t.Helper()
	for _, u := range users {
		if _, err := w.s.idn.AddTeamMember(w.ctx, crm.SystemPrincipal(), team, u.ID); err != nil {
			t.Fatalf("member: %v", err)
		}
		w.mu.Lock()
		w.team[u.ID] = team
		w.mu.Unlock()
	}
}

func (w *world) buildGroup(t *testing.T, role crm.Role) *group {
	t.Helper()
	r := string(role)
	g := &group{role: role}
	g.lead, g.member = w.user(t, r+"-lead", role), w.user(t, r+"-member", role)
	g.mate, g.sub = w.user(t, r+"-mate", crm.RoleSales), w.user(t, r+"-sub", crm.RoleSales)
	g.other, g.bmgr = w.user(t, r+"-other", crm.RoleSales), w.user(t, r+"-bmgr", crm.RoleManager)
	g.bystander, g.grantee = w.user(t, r+"-bystander", crm.RoleSales), w.user(t, r+"-grantee", crm.RoleSales)
	g.org = w.newTeam(t, r+" org", 0, 0)
	g.a = w.newTeam(t, r+" A", g.org, g.lead.ID)
	g.a1 = w.newTeam(t, r+" A1", g.a, 0)
	g.b = w.newTeam(t, r+" B", g.org, g.bmgr.ID)
	w.join(t, g.a, g.lead, g.member, g.mate)
	w.join(t, g.a1, g.sub)
	w.join(t, g.b, g.other, g.bmgr)

	g.company = w.record(t, g, "company", "company", g.other.ID, nil, 0, false)
	leadC := &caller{name: r + "/lead", role: role, g: g, user: g.lead, lead: true}
	memberC := &caller{name: r + "/member", role: role, g: g, user: g.member}
	for _, c := range []*caller{leadC, memberC} {
		c.recs, c.gone = map[string]map[string]*wrec{}, map[string]map[string]*wrec{}
	}
	for _, e := range entityOrder {
		for _, deleted := range []bool{false, true} {
			// Records in a fixed relation to both callers of the group.
			team := w.record(t, g, e, "team", g.mate.ID, nil, 0, deleted)
			sub := w.record(t, g, e, "subteam", g.sub.ID, nil, 0, deleted)
			other := w.record(t, g, e, "other", g.other.ID, nil, 0, deleted)
			ts := w.record(t, g, e, "team-share", g.other.ID, []wshare{{team: g.a, write: true}}, 0, deleted)
			for _, c := range []*caller{leadC, memberC} {
				m := map[string]*wrec{
					"own":           w.record(t, g, e, "own", c.user.ID, nil, 0, deleted),
					"team":          team,
					"subteam":       sub,
					"other":         other,
					"shared-read":   w.record(t, g, e, "shared-read", g.other.ID, []wshare{{user: c.user.ID}}, 0, deleted),
					"shared-write":  w.record(t, g, e, "shared-write", g.other.ID, []wshare{{user: c.user.ID, write: true}}, 0, deleted),
					"expired-share": w.record(t, g, e, "expired-share", g.other.ID, []wshare{{user: c.user.ID, write: true, expired: true}}, 0, deleted),
					"team-share":    ts,
				}
				if e == "task" {
					m["assigned"] = w.record(t, g, e, "assigned", g.other.ID, nil, c.user.ID, deleted)
				}
				if deleted {
					c.gone[e] = m
				} else {
					c.recs[e] = m
				}
			}
		}
	}
	w.mu.Lock()
	w.callers = append(w.callers, leadC, memberC)
	w.mu.Unlock()
	return g
}

// record makes one record of entity owned by owner, shared as shares say,
// with every protected field filled and a read share with the group's
// bystander; a task is assigned to assignee (0: its owner). Every contact
// gets a note on its timeline by the group's other user. A deleted record
// is soft-deleted at once.
func (w *world) record(t *testing.T, g *group, entity, rel string, owner int64, shares []wshare, assignee int64, deleted bool) *wrec {
	t.Helper()
	return w.makeRecord(t, g, entity, rel, owner, shares, assignee, deleted, true)
}

// makeRecord is record; without note, a contact gets no timeline note.
func (w *world) makeRecord(t *testing.T, g *group, entity, rel string, owner int64, shares []wshare, assignee int64, deleted, note bool) *wrec {
	t.Helper()
	ctx, sys := w.ctx, crm.SystemPrincipal()
	n := w.next()
	r := &wrec{entity: entity, rel: rel, owner: owner, team: w.teamOf(owner), raw: map[string]string{}}
	var err error
	switch entity {
	case "contact":
		r.raw = map[string]string{"email": fmt.Sprintf("ivan.%d@example.com", n), "phone": fmt.Sprintf("+7916%07d", 1000000+n),
			"birthday": "1985-03-14", "address": fmt.Sprintf("ul. Tverskaya %d, Moscow", n), "notes": fmt.Sprintf("contact note %d", n),
			"title": "Director"}
		in := crm.ContactInput{FirstName: ptr("Ivan"), LastName: ptr(fmt.Sprintf("Rec%05d", n)), Email: ptr(r.raw["email"]),
			Phone: ptr(r.raw["phone"]), Birthday: ptr(r.raw["birthday"]), Address: ptr(r.raw["address"]), Notes: ptr(r.raw["notes"]),
			Title: ptr(r.raw["title"]), OwnerID: &owner}
		if g.company != nil {
			in.CompanyID = crm.Value(g.company.id)
		}
		var v *crm.Contact
		if v, err = w.s.svc.CreateContact(ctx, sys, in); err == nil {
			r.id = v.ID
		}
	case "company":
		r.raw = map[string]string{"domain": fmt.Sprintf("co%d.example.com", n), "phone": fmt.Sprintf("+7495%07d", 1000000+n),
			"address": fmt.Sprintf("Lenina %d, Kazan", n), "notes": fmt.Sprintf("company note %d", n), "name": fmt.Sprintf("Firm%05d", n)}
		var v *crm.Company
		if v, err = w.s.svc.CreateCompany(ctx, sys, crm.CompanyInput{Name: ptr(r.raw["name"]), Domain: ptr(r.raw["domain"]),
			Phone: ptr(r.raw["phone"]), Address: ptr(r.raw["address"]), Notes: ptr(r.raw["notes"]), OwnerID: &owner}); err == nil {
			r.id = v.ID
		}
	case "deal":
		r.raw = map[string]string{"notes": fmt.Sprintf("deal note %d", n)}
		var v *crm.Deal
		if v, err = w.s.svc.CreateDeal(ctx, sys, crm.DealInput{Title: ptr(fmt.Sprintf("Deal%05d", n)), StageID: &w.stage,
			Notes: ptr(r.raw["notes"]), OwnerID: &owner}); err == nil {
			r.id = v.ID
		}
	case "activity":
		r.raw = map[string]string{"body": fmt.Sprintf("activity body %d", n), "subject": fmt.Sprintf("Call%05d", n)}
		var v *crm.Activity
		if v, err = w.s.svc.CreateActivity(ctx, sys, crm.ActivityInput{Type: ptr("call"), Subject: ptr(r.raw["subject"]),
			Body: ptr(r.raw["body"]), CompanyID: crm.Value(g.company.id), OwnerID: &owner}); err == nil {
			r.id = v.ID
		}
	case "task":
		r.raw = map[string]string{"description": fmt.Sprintf("task description %d", n)}
		in := crm.TaskInput{Title: ptr(fmt.Sprintf("Task%05d", n)), Description: ptr(r.raw["description"]), OwnerID: &owner}
		r.assignee = owner
		if assignee != 0 {
			in.AssigneeID, r.assignee = &assignee, assignee
		}
		var v *crm.Task
		if v, err = w.s.svc.CreateTask(ctx, sys, in); err == nil {
			r.id = v.ID
		}
	}
	if err != nil {
		t.Fatalf("%s %s: %v", rel, entity, err)
	}
	w.add(r)
	if entity == "contact" && note {
		// A note by the group's other user, on the contact's timeline:
		// whoever reads the contact reads it there (ACL-2).
		a, err := w.s.svc.CreateActivity(ctx, sys, crm.ActivityInput{Type: ptr("note"), Subject: ptr(fmt.Sprintf("Note%05d", n)),
			Body: ptr(fmt.Sprintf("timeline body %d", n)), ContactID: crm.Value(r.id), OwnerID: &g.other.ID})
		if err != nil {
			t.Fatalf("timeline note: %v", err)
		}
		w.add(&wrec{entity: "activity", id: a.ID, rel: "timeline", owner: g.other.ID, team: w.teamOf(g.other.ID), contact: r.id,
			raw: map[string]string{"body": a.Body, "subject": a.Subject}})
	}
	if g.bystander != nil {
		r.bystand = w.share(t, r, wshare{user: g.bystander.ID})
	}
	for _, sh := range shares {
		w.share(t, r, sh)
	}
	if deleted {
		w.remove(t, r)
	}
	return r
}

// share shares r as sh says and returns the share's id: through the
// service, or for an expired share (the service refuses a past expiry)
// through the store, expired a second ago.
func (w *world) share(t *testing.T, r *wrec, sh wshare) int64 {
	t.Helper()
	var id int64
	if sh.expired {
		past := time.Now().UTC().Add(-time.Second).Truncate(time.Microsecond)
		s := &crm.Share{Entity: r.entity, RecordID: r.id, Access: crm.ShareRead, ExpiresAt: &past, CreatedAt: past}
		if sh.write {
			s.Access = crm.ShareWrite
		}
		if sh.user != 0 {
			s.UserID = &sh.user
		} else {
			s.TeamID = &sh.team
		}
		err := w.s.store.Write(w.ctx, func(tx crm.Tx) error { _, err := tx.PutShare(w.ctx, s); return err })
		if err != nil {
			t.Fatalf("expired share: %v", err)
		}
		id = s.ID
	} else {
		in := crm.ShareInput{}
		if sh.user != 0 {
			in.UserID = &sh.user
		} else {
			in.TeamID = &sh.team
		}
		if sh.write {
			in.Access = ptr("write")
		}
		s, _, err := w.s.svc.ShareRecord(w.ctx, crm.SystemPrincipal(), r.entity, r.id, in)
		if err != nil {
			t.Fatalf("share %s %d: %v", r.entity, r.id, err)
		}
		id = s.ID
	}
	sh.id = id
	w.mu.Lock()
	r.shares = append(r.shares, sh)
	w.mu.Unlock()
	return id
}

// remove soft-deletes r through the service.
func (w *world) remove(t *testing.T, r *wrec) {
	t.Helper()
	sys := crm.SystemPrincipal()
	var err error
	switch r.entity {
	case "contact":
		err = w.s.svc.DeleteContact(w.ctx, sys, r.id)
	case "company":
		err = w.s.svc.DeleteCompany(w.ctx, sys, r.id)
	case "deal":
		err = w.s.svc.DeleteDeal(w.ctx, sys, r.id)
	case "activity":
		err = w.s.svc.DeleteActivity(w.ctx, sys, r.id)
	case "task":
		err = w.s.svc.DeleteTask(w.ctx, sys, r.id)
	}
	if err != nil {
		t.Fatalf("delete %s %d: %v", r.entity, r.id, err)
	}
	w.mu.Lock()
	r.deleted = true
	w.mu.Unlock()
}

// clone makes a fresh record in r's relation (owner, shares, assignee,
// deleted or not; no timeline note): what a write that should succeed
// works on, so that the fixture stays as it was.
func (w *world) clone(t *testing.T, c *caller, r *wrec) *wrec {
	t.Helper()
	var shares []wshare
	for _, s := range r.shares {
		if s.user != c.g.bystander.ID {
			shares = append(shares, wshare{user: s.user, team: s.team, write: s.write, expired: s.expired})
		}
	}
	assignee := int64(0)
	if r.entity == "task" && r.assignee != r.owner {
		assignee = r.assignee
	}
	return w.makeRecord(t, c.g, r.entity, r.rel, r.owner, shares, assignee, r.deleted, false)
}

// signIn signs the group's callers in: a password for most roles, the
// enrolment link and TOTP for administrators and managers (their roles
// require a second factor); each lead also gets a read and a write token.
func (w *world) signIn(t *testing.T, g *group) {
	t.Helper()
	var leads []*caller
	w.mu.RLock()
	mine := slices.Clone(w.callers)
	w.mu.RUnlock()
	for _, c := range mine {
		if c.g != g || c.token() {
			continue
		}
		c.key, c.codes, c.cookie = w.signInAs(t, c.user)
		c.csrf = w.s.send(t, "GET", "/account/security", c.cookie, nil).csrf(t)
		if c.lead {
			leads = append(leads, c)
		}
	}
	for _, c := range leads {
		for _, scope := range []crm.TokenScope{crm.ScopeRead, crm.ScopeWrite} {
			nt, err := w.s.idn.CreateToken(w.ctx, crm.SystemPrincipal(), c.user.ID, "matrix "+string(scope), scope, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tc := *c
			tc.name, tc.scope, tc.bearer, tc.cookie, tc.csrf, tc.key, tc.codes = c.name+"+"+string(scope)+"-token", scope, nt.Secret, "", "", "", nil
			w.mu.Lock()
			w.callers = append(w.callers, &tc)
			w.mu.Unlock()
		}
	}
}

// signInAs signs u in through the pages: with the password, and when its
// role requires a second factor (admin, manager, a custom role that
// administers users) through an enrolment link and a new authenticator
// app. It returns the app's key
// and recovery codes (none for a password alone) and the session cookie.
func (w *world) signInAs(t *testing.T, u *crm.User) (key string, codes []string, cookie string) {
	t.Helper()
	name := strings.TrimSuffix(u.Email, "@example.com")
	if r, c := w.s.login(t, name); !strings.HasPrefix(r.header.Get("Location"), "/mfa") {
		return "", nil, c
	}
	link, err := w.s.idn.IssueEnrolmentLink(w.ctx, crm.SystemPrincipal(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	path := link[strings.Index(link, "/enrol/"):]
	r := w.s.send(t, "POST", path, "", url.Values{"password": {sitePassword}})
	if r.status != http.StatusSeeOther || r.cookie() == "" {
		t.Fatalf("sign in through the enrolment link: %d %q", r.status, r.header.Get("Location"))
	}
	return w.s.enrolUI(t, r.cookie())
}

// send makes a request as c.
func (w *world) send(t *testing.T, c *caller, method, path string, body any, hdr ...string) reply {
	t.Helper()
	cookie, auth := c.auth()
	return w.s.send(t, method, path, cookie, body, append(auth, hdr...)...)
}

// form is a UI form for c, with its CSRF token.
func (c *caller) form(kv ...string) url.Values {
	f := url.Values{"csrf": {c.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// snapshot is what a denied request must leave unchanged of r: its
// version, deletion, owner, team and shares, and a contact's consents.
func (w *world) snapshot(t *testing.T, r *wrec) string {
	t.Helper()
	all := crm.Scope{All: true}
	var out string
	err := w.s.store.Read(w.ctx, func(tx crm.Tx) error {
		var v any
		var err error
		for _, deleted := range []bool{false, true} {
			switch r.entity {
			case "contact":
				v, err = tx.ContactByID(w.ctx, all, r.id, deleted)
			case "company":
				v, err = tx.CompanyByID(w.ctx, all, r.id, deleted)
			case "deal":
				v, err = tx.DealByID(w.ctx, all, r.id, deleted)
			case "activity":
				v, err = tx.ActivityByID(w.ctx, all, r.id, deleted)
			case "task":
				v, err = tx.TaskByID(w.ctx, all, r.id, deleted)
			}
			if err == nil {
				break
			}
		}
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			out = "gone" // erased
			return nil
		}
		if err != nil {
			return err
		}
		b, _ := json.Marshal(v)
		out = string(b)
		shares, err := tx.SharesOf(w.ctx, r.entity, r.id)
		if err != nil {
			return err
		}
		for _, s := range shares {
			out += fmt.Sprintf(" share %d %v %v %s", s.ID, idText(s.UserID), idText(s.TeamID), s.Access)
		}
		if r.entity == "contact" {
			cs, err := tx.ConsentsByContact(w.ctx, r.id)
			if err != nil {
				return err
			}
			out += fmt.Sprintf(" consents %d", len(cs))
			acts, _, err := tx.Activities(w.ctx, all, crm.ActivityFilter{ContactID: r.id}, crm.ListQuery{Limit: crm.MaxLimit, Sort: "occurred_at"})
			if err != nil {
				return err
			}
			out += fmt.Sprintf(" timeline %d", len(acts))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s %d: %v", r.entity, r.id, err)
	}
	return out
}

// contactName is the name a contact's page shows (first and last).
func (w *world) contactName(t *testing.T, r *wrec) string {
	t.Helper()
	var name string
	err := w.s.store.Read(w.ctx, func(tx crm.Tx) error {
		c, err := tx.ContactByID(w.ctx, crm.Scope{All: true}, r.id, r.deleted)
		if err == nil {
			name = strings.TrimSpace(c.FirstName + " " + c.LastName)
		}
		return err
	})
	if err != nil {
		t.Fatalf("contact %d: %v", r.id, err)
	}
	return name
}

func idText(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// checkFields checks the protected fields of one record as c received it
// (a JSON object): each shown as stored, masked in its mask's shape, or
// absent, as c's role says; and its masked list names exactly the masked
// ones.
func checkFields(c *caller, r *wrec, got map[string]any) error {
	var masked []string
	var faults []string
	for _, f := range protectedFields[r.entity] {
		raw, ok := r.raw[f]
		if !ok {
			continue
		}
		v, present := got[f]
		s, _ := v.(string)
		switch c.level(r.entity, f) {
		case "hidden":
			if present {
				faults = append(faults, fmt.Sprintf("%s is hidden but present (%q)", f, s))
			}
		case "masked":
			masked = append(masked, f)
			if want := maskOf(f, raw); s != want {
				faults = append(faults, fmt.Sprintf("%s: got %q, want the mask %q", f, s, want))
			}
		default:
			if s != raw {
				faults = append(faults, fmt.Sprintf("%s: got %q, want %q", f, s, raw))
			}
		}
	}
	var gotMasked []string
	if l, ok := got["masked"].([]any); ok {
		for _, x := range l {
			gotMasked = append(gotMasked, fmt.Sprint(x))
		}
	}
	slices.Sort(masked)
	slices.Sort(gotMasked)
	if !slices.Equal(masked, gotMasked) {
		faults = append(faults, fmt.Sprintf("masked: got %v, want %v", gotMasked, masked))
	}
	if len(faults) > 0 {
		return fmt.Errorf("%s", strings.Join(faults, "; "))
	}
	return nil
}
