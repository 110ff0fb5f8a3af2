package policy

import (
	"maps"
	"slices"

	"github.com/custos-crm/custos/internal/crm"
)

// Field-level security (ACL-3): per role and field, one of hidden, masked,
// read or edit.
//
// Fields are the fields of each entity a role's field policy may name: the
// fields a client sets (owner_id excepted: transferring a record is its
// own verb). Protected are those that may also be hidden or masked: the
// personal details and free text. A record's name (a contact's names, a
// company's name, a deal's or task's title, an activity's subject) is not
// among them: whoever may see a record sees what it is called, as in
// Salesforce, where the Name field cannot be hidden.
var Fields = map[string][]string{
	"contact":  {"first_name", "last_name", "email", "phone", "company_id", "title", "address", "birthday", "notes", "tags", "preferences"},
	"company":  {"name", "domain", "industry", "phone", "address", "notes", "tags"},
	"deal":     {"title", "pipeline_id", "stage_id", "amount", "currency", "expected_close", "contact_id", "company_id", "notes", "tags"},
	"activity": {"type", "subject", "body", "occurred_at", "duration_minutes", "contact_id", "company_id", "deal_id"},
	"task":     {"title", "description", "due_at", "status", "assignee_id", "contact_id", "company_id", "deal_id"},
}

// Protected lists, per entity, the fields that may be hidden or masked.
var Protected = map[string][]string{
	"contact":  {"email", "phone", "title", "address", "birthday", "notes"},
	"company":  {"domain", "phone", "address", "notes"},
	"deal":     {"notes"},
	"activity": {"body"},
	"task":     {"description"},
}

// Field returns p's level for field of entity. A field the role's policy
// does not name is editable when p may create or change records of the
// entity, readable when p may only read them, and hidden without read; a
// named level above what p's verbs allow is lowered to it (an "edit"
// field of a role that may not update is read). The system principal
// edits everything.
func (pol Policy) Field(p *crm.Principal, entity, field string) crm.FieldLevel {
	return fieldLevel(p, entity, field, pol.ceiling(p, entity))
}

// ceiling is the most p may do with any field of entity: hidden without
// read, edit with create or update, read otherwise; the system edits all.
func (pol Policy) ceiling(p *crm.Principal, entity string) crm.FieldLevel {
	switch {
	case p != nil && p.Kind == crm.KindSystem:
		return crm.FieldEdit
	case !pol.Can(p, On(entity, Read)):
		return crm.FieldHidden
	case pol.Can(p, On(entity, Update)) || pol.Can(p, On(entity, Create)):
		return crm.FieldEdit
	}
	return crm.FieldRead
}

// fieldLevel is Field under a ceiling already known.
func fieldLevel(p *crm.Principal, entity, field string, ceiling crm.FieldLevel) crm.FieldLevel {
	if ceiling == crm.FieldHidden || (p != nil && p.Kind == crm.KindSystem) {
		return ceiling
	}
	level, ok := Def(p).Fields[entity+"."+field]
	if !ok || level.Rank() > ceiling.Rank() {
		return ceiling
	}
	if !slices.Contains(Protected[entity], field) && level.Rank() < crm.FieldRead.Rank() {
		// Only protected fields are ever hidden or masked (ValidateRole
		// refuses the rest); a stored policy that says otherwise reads.
		return crm.FieldRead
	}
	return level
}

// FieldLevels returns p's level of every field of entity that is not
// editable: what Redact hides and masks, and what a write may not set.
// Nil when p edits every field. Every record a response returns asks it:
// a role that may edit and names no field of the entity answers at once.
func (pol Policy) FieldLevels(p *crm.Principal, entity string) map[string]crm.FieldLevel {
	ceiling := pol.ceiling(p, entity)
	if ceiling == crm.FieldEdit && !namesFields(Def(p), entity) {
		return nil
	}
	var out map[string]crm.FieldLevel
	for _, f := range Fields[entity] {
		if l := fieldLevel(p, entity, f, ceiling); l != crm.FieldEdit {
			if out == nil {
				out = map[string]crm.FieldLevel{}
			}
			out[f] = l
		}
	}
	return out
}

// namesFields reports whether d's field policy names a field of entity.
func namesFields(d *crm.RoleDef, entity string) bool {
	if d == nil {
		return false
	}
	for key := range d.Fields {
		if e, _, ok := cutKey(key); ok && e == entity {
			return true
		}
	}
	return false
}

// Holds reports whether p holds everything def grants (ACL-1: nobody
// grants more than they hold): every action of def, and for every field
// of every entity a level at least def's. It names the first action or
// field p lacks.
func (pol Policy) Holds(p *crm.Principal, def *crm.RoleDef) (bool, string) {
	if p != nil && p.Kind == crm.KindSystem {
		return true, ""
	}
	for _, a := range def.Permissions {
		if !Def(p).Has(a) {
			return false, a
		}
	}
	// Compare field levels as the role would have them, against the
	// caller's own (Field, with the caller's verbs as its ceiling).
	holder := &crm.Principal{Kind: crm.KindSession, Def: def}
	for _, entity := range EntityOrder {
		for _, f := range Fields[entity] {
			if pol.Field(holder, entity, f).Rank() > pol.fieldOfHolder(p, entity, f).Rank() {
				return false, entity + "." + f
			}
		}
	}
	return true, ""
}

// fieldOfHolder is Field for p as a session principal (a token's scope
// does not lower what its user holds).
func (pol Policy) fieldOfHolder(p *crm.Principal, entity, f string) crm.FieldLevel {
	if p == nil {
		return crm.FieldHidden
	}
	q := *p
	if q.Kind == crm.KindToken {
		q.Kind = crm.KindSession
	}
	return pol.Field(&q, entity, f)
}

// ValidateRole checks a role definition's permissions and field policies,
// adding each fault to errs under field ("permissions", "fields.<key>").
func ValidateRole(def *crm.RoleDef, errs crm.FieldErrors) {
	for _, a := range def.Permissions {
		if !KnownAction(a) {
			errs.Add("permissions", "unknown action "+quote(a))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(def.Fields)) {
		level := def.Fields[key]
		entity, field, ok := cutKey(key)
		switch {
		case !ok || !slices.Contains(Fields[entity], field):
			errs.Add("fields."+key, "unknown field")
		case level.Rank() == 0:
			errs.Add("fields."+key, "must be one of hidden, masked, read, edit")
		case level.Rank() < crm.FieldRead.Rank() && !slices.Contains(Protected[entity], field):
			errs.Add("fields."+key, "this field can be read or edit only (a record's name and references are never hidden)")
		}
	}
}

func cutKey(key string) (entity, field string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			return key[:i], key[i+1:], true
		}
	}
	return "", "", false
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}
