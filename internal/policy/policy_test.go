package policy

import (
	"reflect"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestCanMatrix checks every built-in role and principal kind against
// every action (ACL-1, ACL-5; ASVS v5.0.0-8.2.1). The expected table is
// written out in full so that a change to the grants shows up here: per
// role, the verbs it holds on every client-record entity (R read, C
// create, U update, D delete, T transfer, S share, V view_all, M
// modify_all) and the administrative actions (P pipelines, A users, r
// staff directory, k own tokens).
func TestCanMatrix(t *testing.T) {
	want := map[crm.Role]string{
		//                 RCUDTSVM PArk
		crm.RoleAdmin:    "RCUDTSVM PArkEL",
		crm.RoleManager:  "RCUDTS-- P-rk--",
		crm.RoleSales:    "RCUD-S-- --rk--",
		crm.RoleSupport:  "RCU----- --rk--",
		crm.RoleAuditor:  "-------- --rk-L",
		crm.RoleReadOnly: "R-----V- --rk--",
	}
	// An API token never erases a client nor reads the ledger: both need
	// a browser session (erasing, its step-up).
	tokenWant := map[crm.TokenScope]string{
		crm.ScopeRead:  "R-----V- --r---",
		crm.ScopeWrite: "RCUDT-VM --r---",
	}
	actions := func(entity string) []Action {
		var out []Action
		for _, v := range Verbs {
			out = append(out, On(entity, v))
		}
		out = append(out, "")
		return append(out, ManagePipeline, ManageUsers, ReadUsers, ManageTokens, EraseClients, ReadErasures)
	}
	var pol Policy
	for _, entity := range EntityOrder {
		all := actions(entity)
		for role, w := range want {
			p := &crm.Principal{Kind: crm.KindSession, UserID: 1, Role: role}
			for i, a := range all {
				if a == "" {
					continue
				}
				if got, exp := pol.Can(p, a), w[i] != '-'; got != exp {
					t.Errorf("session %s %s: got %v, want %v", role, a, got, exp)
				}
				// The UI's Allowed is the same rule, whatever the visibility.
				if Allowed(p, a) != pol.Can(p, a) || (Policy{Visibility: PublicRead}).Can(p, a) != pol.Can(p, a) {
					t.Errorf("session %s %s: Allowed and Can disagree", role, a)
				}
			}
			for scope, tw := range tokenWant {
				p := &crm.Principal{Kind: crm.KindToken, UserID: 1, Role: role, Scope: scope}
				for i, a := range all {
					if a == "" {
						continue
					}
					exp := w[i] != '-' && tw[i] != '-'
					if got := pol.Can(p, a); got != exp {
						t.Errorf("token(%s) %s %s: got %v, want %v", scope, role, a, got, exp)
					}
				}
			}
		}
	}
	// A custom role grants exactly its permissions; the resolved
	// definition wins over the role's name.
	custom := (&crm.RoleDef{Name: "agent", Permissions: []string{"contacts.read", "deals.update"}}).Compile()
	p := &crm.Principal{Kind: crm.KindSession, UserID: 1, Role: crm.RoleAdmin, Def: custom}
	for a, exp := range map[Action]bool{"contacts.read": true, "deals.update": true, "contacts.update": false, ManageUsers: false, "deals.read": false} {
		if got := pol.Can(p, a); got != exp {
			t.Errorf("custom role %s: got %v, want %v", a, got, exp)
		}
	}
}

func TestDefaultDeny(t *testing.T) {
	var pol Policy
	cases := map[string]*crm.Principal{
		"nil":          nil,
		"no kind":      {UserID: 1, Role: crm.RoleAdmin},
		"unknown role": {Kind: crm.KindSession, UserID: 1, Role: "root"},
		"bad scope":    {Kind: crm.KindToken, UserID: 1, Role: crm.RoleAdmin, Scope: "admin"},
	}
	for name, p := range cases {
		if pol.Can(p, On("contact", Read)) {
			t.Errorf("%s: may read clients", name)
		}
		if s := pol.ReadScope(p, "contact"); s.All || s.OwnerID != 0 {
			t.Errorf("%s: read scope %+v, want none", name, s)
		}
	}
}

func TestScopes(t *testing.T) {
	sess := func(r crm.Role) *crm.Principal { return &crm.Principal{Kind: crm.KindSession, UserID: 7, Role: r} }
	mine := crm.Scope{OwnerID: 7, Shared: true}
	mineW := crm.Scope{OwnerID: 7, Shared: true, ShareWrite: true}
	all := crm.Scope{All: true}
	cases := []struct {
		vis                  Visibility
		role                 crm.Role
		read, write, control crm.Scope
	}{
		{Private, crm.RoleAdmin, all, all, all},
		{Private, crm.RoleManager, mine, mineW, crm.Scope{OwnerID: 7}},
		{Private, crm.RoleSales, mine, mineW, crm.Scope{OwnerID: 7}},
		{Private, crm.RoleSupport, mine, mineW, crm.Scope{}},
		{Private, crm.RoleReadOnly, all, crm.Scope{}, crm.Scope{}},
		{Private, crm.RoleAuditor, crm.Scope{}, crm.Scope{}, crm.Scope{}},
		{PublicRead, crm.RoleSales, all, mineW, crm.Scope{OwnerID: 7}},
		{PublicRead, crm.RoleAuditor, crm.Scope{}, crm.Scope{}, crm.Scope{}},
	}
	for _, c := range cases {
		pol := Policy{Visibility: c.vis}
		if got := pol.ReadScope(sess(c.role), "contact"); !reflect.DeepEqual(got, c.read) {
			t.Errorf("%s %s read: got %+v, want %+v", c.vis, c.role, got, c.read)
		}
		if got := pol.WriteScope(sess(c.role), "contact"); !reflect.DeepEqual(got, c.write) {
			t.Errorf("%s %s write: got %+v, want %+v", c.vis, c.role, got, c.write)
		}
		if got := pol.ControlScope(sess(c.role), "contact", Delete); !reflect.DeepEqual(got, c.control) {
			t.Errorf("%s %s delete: got %+v, want %+v", c.vis, c.role, got, c.control)
		}
	}
	// A task's assignee reads it: the read scope of tasks names the
	// assignee, the write scope does not.
	var pol Policy
	if got := pol.ReadScope(sess(crm.RoleSales), "task"); !got.Assignee {
		t.Errorf("task read scope %+v: no assignee", got)
	}
	if got := pol.WriteScope(sess(crm.RoleSales), "task"); got.Assignee {
		t.Errorf("task write scope %+v: the assignee may change the task", got)
	}
	// Transfer and share: only the roles that hold the verb, on what they control.
	if got := pol.ControlScope(sess(crm.RoleSales), "contact", Transfer); !reflect.DeepEqual(got, crm.Scope{}) {
		t.Errorf("sales transfer scope %+v", got)
	}
	if got := pol.ControlScope(sess(crm.RoleSales), "contact", Share); !reflect.DeepEqual(got, crm.Scope{OwnerID: 7}) {
		t.Errorf("sales share scope %+v", got)
	}
	// modify_all widens every scope of its entity only.
	ops := (&crm.RoleDef{Name: "ops", Permissions: []string{"deals.read", "deals.update", "deals.delete", "deals.modify_all", "contacts.read"}}).Compile()
	p := &crm.Principal{Kind: crm.KindSession, UserID: 7, Role: "ops", Def: ops}
	if got := pol.ControlScope(p, "deal", Delete); !got.All {
		t.Errorf("modify_all delete scope %+v", got)
	}
	if got := pol.ReadScope(p, "contact"); got.All {
		t.Errorf("deals.modify_all widened contacts: %+v", got)
	}
}

// TestTeamDefaults (ACL-2): the organisation-wide defaults per entity, for
// a member of team 3 who manages teams 5 and 6.
func TestTeamDefaults(t *testing.T) {
	member := &crm.Principal{Kind: crm.KindSession, UserID: 7, Role: crm.RoleSales, TeamID: 3, Teams: []int64{5, 6}}
	pol, err := ParseVisibility("private,contacts=team-read,deals=team-write,companies=public-read")
	if err != nil {
		t.Fatal(err)
	}
	shares := []int64{5, 6, 3}
	managed := crm.Scope{OwnerID: 7, Teams: []int64{5, 6}, Shared: true, ShareTeams: shares}
	withTeam := crm.Scope{OwnerID: 7, Teams: []int64{5, 6, 3}, Shared: true, ShareTeams: shares}
	managedW, withTeamW := managed, withTeam
	managedW.ShareWrite, withTeamW.ShareWrite = true, true
	for _, c := range []struct {
		entity      string
		read, write crm.Scope
	}{
		{"contact", withTeam, managedW},
		{"deal", withTeam, withTeamW},
		{"company", crm.Scope{All: true}, managedW},
		{"activity", managed, managedW},
		{"task", taskOf(managed), managedW},
	} {
		if got := pol.ReadScope(member, c.entity); !reflect.DeepEqual(got, c.read) {
			t.Errorf("%s read: %+v, want %+v", c.entity, got, c.read)
		}
		if got := pol.WriteScope(member, c.entity); !reflect.DeepEqual(got, c.write) {
			t.Errorf("%s write: %+v, want %+v", c.entity, got, c.write)
		}
	}
	// The principal's own list is never changed by adding the team.
	if !reflect.DeepEqual(member.Teams, []int64{5, 6}) {
		t.Errorf("the principal's teams changed: %v", member.Teams)
	}
	// A member of no team gains nothing from team defaults; one who manages
	// their own team is not listed twice.
	loner := &crm.Principal{Kind: crm.KindSession, UserID: 8, Role: crm.RoleSales}
	if got := pol.ReadScope(loner, "contact"); !reflect.DeepEqual(got, crm.Scope{OwnerID: 8, Shared: true}) {
		t.Errorf("a member of no team: %+v", got)
	}
	lead := &crm.Principal{Kind: crm.KindSession, UserID: 9, Role: crm.RoleSales, TeamID: 5, Teams: []int64{5}}
	if got := pol.ReadScope(lead, "contact"); !reflect.DeepEqual(got, crm.Scope{OwnerID: 9, Teams: []int64{5}, Shared: true, ShareTeams: []int64{5}}) {
		t.Errorf("a lead of their own team: %+v", got)
	}
	// A token with the read scope reads as its user and writes nothing.
	tok := *member
	tok.Kind, tok.Scope = crm.KindToken, crm.ScopeRead
	if got := pol.WriteScope(&tok, "deal"); !reflect.DeepEqual(got, crm.Scope{}) {
		t.Errorf("a read token's write scope: %+v", got)
	}
}

func TestParseVisibility(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Policy
	}{
		{"private", Policy{Visibility: Private, Defaults: map[string]Visibility{}}},
		{"public-read", Policy{Visibility: PublicRead, Defaults: map[string]Visibility{}}},
		{"team-read, tasks=private", Policy{Visibility: TeamRead, Defaults: map[string]Visibility{"task": Private}}},
		{"contacts=team-write,activities=team-read", Policy{Visibility: Private, Defaults: map[string]Visibility{"contact": TeamWrite, "activity": TeamRead}}},
	} {
		got, err := ParseVisibility(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "open", "contacts=", "contact=team-read", "private,public-read", "contacts=team-read,contacts=private", "users=public-read", "private,,"} {
		if _, err := ParseVisibility(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestRequire: the errors of the one access check both services make.
func TestRequire(t *testing.T) {
	var pol Policy
	sales := &crm.Principal{Kind: crm.KindSession, UserID: 2, Role: crm.RoleSales}
	half := &crm.Principal{Kind: crm.KindSession, UserID: 2, Role: crm.RoleAdmin, Pending: crm.MFAVerify}
	for _, c := range []struct {
		name string
		p    *crm.Principal
		a    Action
		code string
	}{
		{"nobody", nil, On("contact", Read), crm.EUNAUTHENTICATED},
		{"half session", half, On("contact", Read), crm.EMFAREQUIRED},
		{"not granted", sales, ManageUsers, crm.EFORBIDDEN},
		{"granted", sales, On("contact", Read), ""},
	} {
		if got := crm.ErrorCode(pol.Require(c.p, c.a)); got != c.code {
			t.Errorf("%s: %q, want %q", c.name, got, c.code)
		}
	}
}

func taskOf(s crm.Scope) crm.Scope {
	s.Assignee = true
	return s
}
