// Package policy holds the access rules of Custos as pure functions of the
// Principal: which actions a role may perform (ACL-1) and which records it
// may see or change, expressed as a crm.Scope that the store turns into a
// WHERE predicate (ACL-2). It has no state beyond its configuration and no
// I/O, so every rule is tested as a table.
//
// Default deny: an action not granted to a role below is refused, and a nil
// principal may do nothing.
package policy

import "github.com/custos-crm/custos/internal/crm"

// Action is something a principal may be allowed to do.
type Action string

// The actions the service checks.
const (
	ReadClients    Action = "clients.read"    // read contacts, companies, deals, activities, tasks
	WriteClients   Action = "clients.write"   // create and change them
	DeleteClients  Action = "clients.delete"  // soft-delete and restore them
	AssignOwner    Action = "clients.assign"  // set another user as a record's owner
	ManagePipeline Action = "pipelines.write" // create pipelines and stages
	ManageUsers    Action = "users.write"     // create users, change roles, revoke sessions of others
	ReadUsers      Action = "users.read"      // list the organisation's users
	ManageTokens   Action = "tokens.own"      // create and revoke one's own API tokens
)

var grants = map[crm.Role][]Action{
	crm.RoleAdmin:    {ReadClients, WriteClients, DeleteClients, AssignOwner, ManagePipeline, ManageUsers, ReadUsers, ManageTokens},
	crm.RoleManager:  {ReadClients, WriteClients, DeleteClients, AssignOwner, ManagePipeline, ReadUsers, ManageTokens},
	crm.RoleSales:    {ReadClients, WriteClients, DeleteClients, ReadUsers, ManageTokens},
	crm.RoleSupport:  {ReadClients, WriteClients, ReadUsers, ManageTokens},
	crm.RoleAuditor:  {ReadUsers, ManageTokens},
	crm.RoleReadOnly: {ReadClients, ReadUsers, ManageTokens},
}

// tokenActions are the only actions an API token may perform, by scope.
// User and pipeline administration need a browser session.
var tokenActions = map[crm.TokenScope][]Action{
	crm.ScopeRead:  {ReadClients, ReadUsers},
	crm.ScopeWrite: {ReadClients, WriteClients, DeleteClients, AssignOwner, ReadUsers},
}

// Visibility is the organisation-wide default for records of other owners.
type Visibility string

// The organisation-wide defaults.
const (
	Private    Visibility = "private"     // users see their own records (and their teams' as managers)
	PublicRead Visibility = "public-read" // they read everyone's and change their own
)

// Policy decides. Its zero value uses Private visibility.
type Policy struct {
	Visibility Visibility
}

func has(list []Action, a Action) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// Can reports whether p may perform a at all. It does not depend on the
// configured visibility, which only decides which records (ReadScope,
// WriteScope).
func (Policy) Can(p *crm.Principal, a Action) bool { return Allowed(p, a) }

// Require is Can as the error both services return: EUNAUTHENTICATED for a
// missing principal, EMFAREQUIRED for a half-authenticated one, EFORBIDDEN
// when the action is not granted; nil when it is.
func (pol Policy) Require(p *crm.Principal, a Action) error {
	switch {
	case p == nil:
		return crm.Errorf(crm.EUNAUTHENTICATED, "authentication required")
	case p.Pending != crm.MFANone:
		return crm.Errorf(crm.EMFAREQUIRED, "complete the second sign-in step first")
	case !pol.Can(p, a):
		return crm.Errorf(crm.EFORBIDDEN, "you are not allowed to do this")
	}
	return nil
}

// Allowed reports whether p may perform a at all: Policy.Can, for callers
// that hold no Policy (the UI deciding which buttons to show; the service
// checks every call again).
func Allowed(p *crm.Principal, a Action) bool {
	if p == nil {
		return false
	}
	if p.Kind == crm.KindSystem {
		return true
	}
	// A half-authenticated session (password checked, second factor due)
	// is granted nothing; the service lets it take its MFA step only.
	if p.Pending != crm.MFANone {
		return false
	}
	if !has(grants[p.Role], a) {
		return false
	}
	if p.Kind == crm.KindToken {
		return has(tokenActions[p.Scope], a)
	}
	return p.Kind == crm.KindSession
}

// allRecords reports whether p's role works on the whole organisation's
// records: administrators and the system. Everyone else works on their own
// records and, as the manager of teams (ACL-2), on the records of those
// teams and of every team below them (p.Teams, from the user row): the
// built-in manager role adds the rights to reassign records and to manage
// pipelines, not a wider scope.
func allRecords(p *crm.Principal) bool {
	return p.Kind == crm.KindSystem || p.Role == crm.RoleAdmin
}

// own is p's own records and those of the teams p manages.
func own(p *crm.Principal) crm.Scope {
	return crm.Scope{OwnerID: p.UserID, Teams: p.Teams}
}

// ReadScope is the set of client records p may read.
func (pol Policy) ReadScope(p *crm.Principal) crm.Scope {
	if !pol.Can(p, ReadClients) {
		return crm.Scope{}
	}
	if allRecords(p) || p.Role == crm.RoleReadOnly || pol.Visibility == PublicRead {
		return crm.Scope{All: true}
	}
	return own(p)
}

// WriteScope is the set of client records p may change.
func (pol Policy) WriteScope(p *crm.Principal) crm.Scope {
	if !pol.Can(p, WriteClients) {
		return crm.Scope{}
	}
	if allRecords(p) {
		return crm.Scope{All: true}
	}
	return own(p)
}
