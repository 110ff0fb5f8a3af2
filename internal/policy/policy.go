// Package policy holds the access rules of Custos as pure functions of the
// Principal: which actions a role may perform (ACL-1) and which records it
// may see or change, expressed as a crm.Scope that the store turns into a
// WHERE predicate (ACL-2). It has no state beyond its configuration and no
// I/O, so every rule is tested as a table.
//
// Default deny: an action not granted to a role below is refused, and a nil
// principal may do nothing.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

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

// Visibility is an organisation-wide default (ACL-2): what users see and
// change of the records they neither own nor manage through a team.
type Visibility string

// The organisation-wide defaults, from the most private.
const (
	Private    Visibility = "private"     // owners and their teams' managers only
	TeamRead   Visibility = "team-read"   // the members of the record's team read it too
	TeamWrite  Visibility = "team-write"  // the members of the record's team read and change it
	PublicRead Visibility = "public-read" // everyone reads it; changes as private
)

// Entities are the client-record entities a default can be set for, by
// the names the service uses, with their names in the configuration.
var Entities = map[string]string{
	"contact": "contacts", "company": "companies", "deal": "deals", "activity": "activities", "task": "tasks",
}

// Policy decides. Its zero value is Private for every entity.
type Policy struct {
	// Visibility is the default of every entity Defaults does not name.
	Visibility Visibility
	// Defaults are the entities' own defaults, by entity ("contact", …).
	Defaults map[string]Visibility
}

// ParseVisibility reads the --record-visibility setting: a default for
// every entity, then entity=default pairs, comma-separated; e.g.
// "private,contacts=team-read,deals=team-write". Entities use their plural
// names (contacts, companies, deals, activities, tasks).
func ParseVisibility(s string) (Policy, error) {
	pol := Policy{Visibility: Private, Defaults: map[string]Visibility{}}
	plural := map[string]string{}
	for entity, name := range Entities {
		plural[name] = entity
	}
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, level, pair := strings.Cut(part, "=")
		if !pair {
			name, level = "", part
		}
		v := Visibility(level)
		if !v.valid() {
			return Policy{}, fmt.Errorf("record-visibility: %q is not one of private, team-read, team-write, public-read", level)
		}
		switch {
		case !pair && i == 0:
			pol.Visibility = v
		case !pair:
			return Policy{}, fmt.Errorf("record-visibility: the default for every entity comes first; name the entity of %q (e.g. contacts=%s)", part, level)
		case plural[name] == "":
			return Policy{}, fmt.Errorf("record-visibility: %q is not an entity (contacts, companies, deals, activities, tasks)", name)
		case seen[name]:
			return Policy{}, fmt.Errorf("record-visibility: %s is given twice", name)
		default:
			seen[name] = true
			pol.Defaults[plural[name]] = v
		}
	}
	return pol, nil
}

func (v Visibility) valid() bool {
	return v == Private || v == TeamRead || v == TeamWrite || v == PublicRead
}

// visibility is entity's default.
func (pol Policy) visibility(entity string) Visibility {
	if v, ok := pol.Defaults[entity]; ok {
		return v
	}
	if pol.Visibility == "" {
		return Private
	}
	return pol.Visibility
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

// own is p's own records and those of the teams p manages, and with
// team, those of p's own team too.
func own(p *crm.Principal, team bool) crm.Scope {
	sc := crm.Scope{OwnerID: p.UserID, Teams: p.Teams}
	if team && p.TeamID != 0 && !slices.Contains(p.Teams, p.TeamID) {
		sc.Teams = append(slices.Clip(p.Teams), p.TeamID)
	}
	return sc
}

// ReadScope is the set of records of entity ("contact", "company", "deal",
// "activity", "task") p may read.
func (pol Policy) ReadScope(p *crm.Principal, entity string) crm.Scope {
	if !pol.Can(p, ReadClients) {
		return crm.Scope{}
	}
	v := pol.visibility(entity)
	if allRecords(p) || p.Role == crm.RoleReadOnly || v == PublicRead {
		return crm.Scope{All: true}
	}
	return own(p, v == TeamRead || v == TeamWrite)
}

// WriteScope is the set of records of entity p may change.
func (pol Policy) WriteScope(p *crm.Principal, entity string) crm.Scope {
	if !pol.Can(p, WriteClients) {
		return crm.Scope{}
	}
	if allRecords(p) {
		return crm.Scope{All: true}
	}
	return own(p, pol.visibility(entity) == TeamWrite)
}
