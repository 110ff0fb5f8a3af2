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
		if s := pol.ReadScope(p); s.All || s.OwnerID != 0 {
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
		if got := pol.ReadScope(sess(c.role)); !reflect.DeepEqual(got, c.read) {
			t.Errorf("%s %s read: got %+v, want %+v", c.vis, c.role, got, c.read)
		}
		if got := pol.WriteScope(sess(c.role)); !reflect.DeepEqual(got, c.write) {
			t.Errorf("%s %s write: got %+v, want %+v", c.vis, c.role, got, c.write)
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
