package policy

import (
	"reflect"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestCanMatrix checks every role and principal kind against every action
// (ACL-1, ACL-5; ASVS v5.0.0-8.2.1). The expected table is written out in
// full so that a change to the grants shows up here.
func TestCanMatrix(t *testing.T) {
	all := []Action{ReadClients, WriteClients, DeleteClients, AssignOwner, ManagePipeline, ManageUsers, ReadUsers, ManageTokens}
	want := map[crm.Role]string{
		// R W D A P U r T
		crm.RoleAdmin:    "RWDAPUrT",
		crm.RoleManager:  "RWDAP-rT",
		crm.RoleSales:    "RWD---rT",
		crm.RoleSupport:  "RW----rT",
		crm.RoleAuditor:  "------rT",
		crm.RoleReadOnly: "R-----rT",
	}
	tokenWant := map[crm.TokenScope]string{
		crm.ScopeRead:  "R-----r-",
		crm.ScopeWrite: "RWDA--r-",
	}
	var pol Policy
	for role, w := range want {
		p := &crm.Principal{Kind: crm.KindSession, UserID: 1, Role: role}
		for i, a := range all {
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
				exp := w[i] != '-' && tw[i] != '-'
				if got := pol.Can(p, a); got != exp {
					t.Errorf("token(%s) %s %s: got %v, want %v", scope, role, a, got, exp)
				}
			}
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
		if pol.Can(p, ReadClients) {
			t.Errorf("%s: may read clients", name)
		}
		if s := pol.ReadScope(p, "contact"); s.All || s.OwnerID != 0 {
			t.Errorf("%s: read scope %+v, want none", name, s)
		}
	}
}

func TestScopes(t *testing.T) {
	sess := func(r crm.Role) *crm.Principal { return &crm.Principal{Kind: crm.KindSession, UserID: 7, Role: r} }
	cases := []struct {
		vis         Visibility
		role        crm.Role
		read, write crm.Scope
	}{
		{Private, crm.RoleAdmin, crm.Scope{All: true}, crm.Scope{All: true}},
		{Private, crm.RoleManager, crm.Scope{OwnerID: 7}, crm.Scope{OwnerID: 7}},
		{Private, crm.RoleSales, crm.Scope{OwnerID: 7}, crm.Scope{OwnerID: 7}},
		{Private, crm.RoleSupport, crm.Scope{OwnerID: 7}, crm.Scope{OwnerID: 7}},
		{Private, crm.RoleReadOnly, crm.Scope{All: true}, crm.Scope{}},
		{Private, crm.RoleAuditor, crm.Scope{}, crm.Scope{}},
		{PublicRead, crm.RoleSales, crm.Scope{All: true}, crm.Scope{OwnerID: 7}},
		{PublicRead, crm.RoleAuditor, crm.Scope{}, crm.Scope{}},
	}
	for _, c := range cases {
		pol := Policy{Visibility: c.vis}
		if got := pol.ReadScope(sess(c.role), "contact"); !reflect.DeepEqual(got, c.read) {
			t.Errorf("%s %s read: got %+v, want %+v", c.vis, c.role, got, c.read)
		}
		if got := pol.WriteScope(sess(c.role), "contact"); !reflect.DeepEqual(got, c.write) {
			t.Errorf("%s %s write: got %+v, want %+v", c.vis, c.role, got, c.write)
		}
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
	managed := crm.Scope{OwnerID: 7, Teams: []int64{5, 6}}
	withTeam := crm.Scope{OwnerID: 7, Teams: []int64{5, 6, 3}}
	for _, c := range []struct {
		entity      string
		read, write crm.Scope
	}{
		{"contact", withTeam, managed},
		{"deal", withTeam, withTeam},
		{"company", crm.Scope{All: true}, managed},
		{"activity", managed, managed},
		{"task", managed, managed},
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
	if got := pol.ReadScope(loner, "contact"); !reflect.DeepEqual(got, crm.Scope{OwnerID: 8}) {
		t.Errorf("a member of no team: %+v", got)
	}
	lead := &crm.Principal{Kind: crm.KindSession, UserID: 9, Role: crm.RoleSales, TeamID: 5, Teams: []int64{5}}
	if got := pol.ReadScope(lead, "contact"); !reflect.DeepEqual(got, crm.Scope{OwnerID: 9, Teams: []int64{5}}) {
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
		{"nobody", nil, ReadClients, crm.EUNAUTHENTICATED},
		{"half session", half, ReadClients, crm.EMFAREQUIRED},
		{"not granted", sales, ManageUsers, crm.EFORBIDDEN},
		{"granted", sales, ReadClients, ""},
	} {
		if got := crm.ErrorCode(pol.Require(c.p, c.a)); got != c.code {
			t.Errorf("%s: %q, want %q", c.name, got, c.code)
		}
	}
}
