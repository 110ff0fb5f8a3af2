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
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Action is something a principal may be allowed to do: a verb on an
// entity ("contacts.read", made by On) or an administrative action.
type Action string

// Verb is what an action does to a client-record entity.
type Verb string

// The verbs of client-record actions (ACL-1). Read, Update, Delete,
// Transfer and Share apply to the records in the caller's scope (the
// records they own, those of the teams they manage, and what the
// organisation-wide defaults and shares add; Delete, Transfer and Share
// only to the records they own or manage); ViewAll and ModifyAll widen
// reading and changing to every record of the entity.
const (
	Read      Verb = "read"       // see records
	Create    Verb = "create"     // make records
	Update    Verb = "update"     // change records
	Delete    Verb = "delete"     // soft-delete and restore records
	Transfer  Verb = "transfer"   // give records to another owner
	Share     Verb = "share"      // share records with users and teams, and revoke shares
	ViewAll   Verb = "view_all"   // see every record of the entity, whoever owns it
	ModifyAll Verb = "modify_all" // change, delete, transfer and share every record of the entity
)

// Verbs lists the verbs in display order.
var Verbs = []Verb{Read, Create, Update, Delete, Transfer, Share, ViewAll, ModifyAll}

// The administrative actions.
const (
	ManagePipeline Action = "pipelines.manage" // create pipelines and stages
	ManageUsers    Action = "users.manage"     // users, roles and teams; revoke others' sessions
	ReadUsers      Action = "users.read"       // the staff directory and the roles
	ManageTokens   Action = "tokens.own"       // create and revoke one's own API tokens
	EraseClients   Action = "clients.erase"    // erase a contact or company for good (ENC-5), after a step-up
	ReadErasures   Action = "erasures.read"    // the erasure ledger: which records were erased, when, by whom
)

// AdminActions lists the administrative actions in display order.
var AdminActions = []Action{ManagePipeline, ManageUsers, ReadUsers, ManageTokens, EraseClients, ReadErasures}

// On is the action of verb on entity ("contact", "company", "deal",
// "activity", "task"): On("contact", Read) is "contacts.read". Every
// request asks it, so the actions of the known entities are made once.
func On(entity string, v Verb) Action {
	if a, ok := actionTable[entity][v]; ok {
		return a
	}
	if plural, ok := Entities[entity]; ok {
		entity = plural
	}
	return Action(entity + "." + string(v))
}

// actionTable holds On's answers for the entities and verbs.
var actionTable = func() map[string]map[Verb]Action {
	m := map[string]map[Verb]Action{}
	for entity, plural := range Entities {
		m[entity] = map[Verb]Action{}
		for _, v := range Verbs {
			m[entity][v] = Action(plural + "." + string(v))
		}
	}
	return m
}()

// EntityOrder lists the client-record entities in display order.
var EntityOrder = []string{"contact", "company", "deal", "activity", "task"}

// Actions lists every action a role may hold, in display order.
func Actions() []Action {
	var out []Action
	for _, e := range EntityOrder {
		for _, v := range Verbs {
			out = append(out, On(e, v))
		}
	}
	return append(out, AdminActions...)
}

// KnownAction reports whether a names an action.
func KnownAction(a string) bool {
	for _, x := range Actions() {
		if string(x) == a {
			return true
		}
	}
	return false
}

// clientActions is every entity with the verbs given.
func clientActions(verbs ...Verb) []Action {
	var out []Action
	for _, e := range EntityOrder {
		for _, v := range verbs {
			out = append(out, On(e, v))
		}
	}
	return out
}

var grants = map[crm.Role][]Action{
	crm.RoleAdmin:    append(clientActions(Verbs...), ManagePipeline, ManageUsers, ReadUsers, ManageTokens, EraseClients, ReadErasures),
	crm.RoleManager:  append(clientActions(Read, Create, Update, Delete, Transfer, Share), ManagePipeline, ReadUsers, ManageTokens),
	crm.RoleSales:    append(clientActions(Read, Create, Update, Delete, Share), ReadUsers, ManageTokens),
	crm.RoleSupport:  append(clientActions(Read, Create, Update), ReadUsers, ManageTokens),
	crm.RoleAuditor:  {ReadUsers, ManageTokens, ReadErasures},
	crm.RoleReadOnly: append(clientActions(Read, ViewAll), ReadUsers, ManageTokens),
}

// builtinFields are the field policies of the built-in roles (ACL-3).
// Support agents see a client's phone, birthday and address masked and
// reveal one when a case needs it; the read-only role (reporting,
// temporary staff) sees contact details masked and free-text notes not
// at all.
var builtinFields = map[crm.Role]map[string]crm.FieldLevel{
	crm.RoleSupport: {
		"contact.phone": crm.FieldMasked, "contact.birthday": crm.FieldMasked, "contact.address": crm.FieldMasked,
	},
	crm.RoleReadOnly: {
		"contact.email": crm.FieldMasked, "contact.phone": crm.FieldMasked, "contact.birthday": crm.FieldMasked,
		"contact.address": crm.FieldMasked, "contact.notes": crm.FieldHidden,
		"company.phone": crm.FieldMasked, "company.address": crm.FieldMasked, "company.notes": crm.FieldHidden,
		"deal.notes": crm.FieldHidden, "activity.body": crm.FieldHidden, "task.description": crm.FieldHidden,
	},
}

// builtins are the built-in roles' definitions, compiled once.
var builtins = func() map[crm.Role]*crm.RoleDef {
	m := map[crm.Role]*crm.RoleDef{}
	for _, r := range crm.Roles {
		d := &crm.RoleDef{Name: r, Builtin: true, Fields: map[string]crm.FieldLevel{}}
		for _, a := range grants[r] {
			d.Permissions = append(d.Permissions, string(a))
		}
		for k, v := range builtinFields[r] {
			d.Fields[k] = v
		}
		m[r] = d.Compile()
	}
	return m
}()

// Builtin returns the definition of a built-in role (nil for any other
// name). Callers must not change it.
func Builtin(r crm.Role) *crm.RoleDef { return builtins[r] }

// tokenVerbs are the only verbs an API token may use, by scope; of the
// administrative actions a token may only read the staff directory. User,
// role, team and pipeline administration and sharing need a browser
// session (and its step-up).
var tokenVerbs = map[crm.TokenScope][]Verb{
	crm.ScopeRead:  {Read, ViewAll},
	crm.ScopeWrite: {Read, ViewAll, Create, Update, Delete, Transfer, ModifyAll},
}

// tokenAllows reports whether a token of scope may perform a.
func tokenAllows(scope crm.TokenScope, a Action) bool {
	if a == ReadUsers {
		return scope.Valid()
	}
	_, verb, ok := strings.Cut(string(a), ".")
	if !ok || strings.Contains(verb, ".") || !isClientAction(a) {
		return false
	}
	return slices.Contains(tokenVerbs[scope], Verb(verb))
}

// isClientAction reports whether a is a verb on a client-record entity.
func isClientAction(a Action) bool {
	entity, _, _ := strings.Cut(string(a), ".")
	for _, plural := range Entities {
		if entity == plural {
			return true
		}
	}
	return false
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

// Def returns p's role definition: the one the identity service resolved,
// or the built-in role p names; nil for none.
func Def(p *crm.Principal) *crm.RoleDef {
	if p == nil {
		return nil
	}
	if p.Def != nil {
		return p.Def
	}
	return builtins[p.Role]
}

// EraseActions are the actions erasing a client of entity ("contact" or
// "company") takes (ENC-5): the erase permission, and deleting every record
// of the entity, of activities and of tasks, whoever owns them (delete and
// modify_all): an erase deletes the client with its activities and tasks,
// which deleting one by one would need control of each for.
func EraseActions(entity string) []Action {
	out := []Action{EraseClients}
	for _, e := range []string{entity, "activity", "task"} {
		out = append(out, On(e, Delete), On(e, ModifyAll))
	}
	return out
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
	if !Def(p).Has(string(a)) {
		return false
	}
	if p.Kind == crm.KindToken {
		return tokenAllows(p.Scope, a)
	}
	return p.Kind == crm.KindSession
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

// shared adds to sc the records shared with p (ACL-2): with p, or with a
// team p is a member of or manages; with write, only write shares.
func shared(p *crm.Principal, sc crm.Scope, write bool) crm.Scope {
	sc.Shared, sc.ShareWrite = true, write
	sc.ShareTeams = p.Teams
	if p.TeamID != 0 && !slices.Contains(p.Teams, p.TeamID) {
		sc.ShareTeams = append(slices.Clip(p.Teams), p.TeamID)
	}
	return sc
}

// ReadScope is the set of records of entity ("contact", "company", "deal",
// "activity", "task") p may read: every record with the view_all or
// modify_all verb, or under a public-read default; otherwise p's own, those
// of the teams p manages, those of p's team under a team default, and the
// records shared with p. A task's assignee reads it too.
func (pol Policy) ReadScope(p *crm.Principal, entity string) crm.Scope {
	if !pol.Can(p, On(entity, Read)) {
		return crm.Scope{}
	}
	v := pol.visibility(entity)
	if p.Kind == crm.KindSystem || pol.Can(p, On(entity, ViewAll)) || pol.Can(p, On(entity, ModifyAll)) || v == PublicRead {
		return crm.Scope{All: true}
	}
	sc := shared(p, own(p, v == TeamRead || v == TeamWrite), false)
	sc.Assignee = entity == "task"
	return sc
}

// WriteScope is the set of records of entity p may change: every record
// with modify_all; otherwise p's own, those of the teams p manages, those
// of p's team under the team-write default, and those shared with p for
// writing.
func (pol Policy) WriteScope(p *crm.Principal, entity string) crm.Scope {
	if !pol.Can(p, On(entity, Update)) {
		return crm.Scope{}
	}
	if p.Kind == crm.KindSystem || pol.Can(p, On(entity, ModifyAll)) {
		return crm.Scope{All: true}
	}
	return shared(p, own(p, pol.visibility(entity) == TeamWrite), true)
}

// ControlScope is the set of records of entity on which p may perform
// verb (Delete, Transfer or Share), which belong to whoever controls a
// record: every record with modify_all; otherwise only the records p owns
// and those of the teams p manages. Neither a share nor a team default
// lets anyone delete, give away or share another's record.
func (pol Policy) ControlScope(p *crm.Principal, entity string, verb Verb) crm.Scope {
	if !pol.Can(p, On(entity, verb)) {
		return crm.Scope{}
	}
	if p.Kind == crm.KindSystem || pol.Can(p, On(entity, ModifyAll)) {
		return crm.Scope{All: true}
	}
	return own(p, false)
}

// DefaultStepUpWindow is how long a re-authentication opens sensitive
// actions (AUTH-4) unless configured otherwise.
const DefaultStepUpWindow = 5 * time.Minute

// RequireStepUp is the guard of sensitive actions (AUTH-4, ASVS
// v5.0.0-7.5.3) both services use: the system principal passes; a full
// session passes within window of its last re-authentication (sign-in,
// second factor or step-up) as of now; API tokens never pass.
func RequireStepUp(p *crm.Principal, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = DefaultStepUpWindow
	}
	switch {
	case p == nil:
		return crm.Errorf(crm.EUNAUTHENTICATED, "authentication required")
	case p.Kind == crm.KindSystem:
		return nil
	case p.Kind != crm.KindSession:
		return crm.Errorf(crm.EFORBIDDEN, "this needs a signed-in session with a recent re-authentication; API tokens cannot do it")
	case p.Pending != crm.MFANone:
		return crm.Errorf(crm.EMFAREQUIRED, "complete the second sign-in step first")
	}
	if p.SteppedUpAt.IsZero() || now.Sub(p.SteppedUpAt) > window || p.SteppedUpAt.After(now.Add(time.Minute)) {
		return crm.Errorf(crm.ESTEPUPREQUIRED, "confirm it is you: re-authenticate to continue")
	}
	return nil
}
