package policy

import (
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// TestFieldLevels (ACL-3; ASVS v5.0.0-8.2.3): the built-in field
// policies, the ceilings the verbs put on them, and a custom role's.
func TestFieldLevels(t *testing.T) {
	var pol Policy
	sess := func(r crm.Role) *crm.Principal { return &crm.Principal{Kind: crm.KindSession, UserID: 1, Role: r} }
	for _, c := range []struct {
		p      *crm.Principal
		entity string
		field  string
		want   crm.FieldLevel
	}{
		{sess(crm.RoleSales), "contact", "phone", crm.FieldEdit},
		{sess(crm.RoleSupport), "contact", "phone", crm.FieldMasked},
		{sess(crm.RoleSupport), "contact", "birthday", crm.FieldMasked},
		{sess(crm.RoleSupport), "contact", "address", crm.FieldMasked},
		{sess(crm.RoleSupport), "contact", "email", crm.FieldEdit},
		{sess(crm.RoleSupport), "contact", "notes", crm.FieldEdit},
		{sess(crm.RoleReadOnly), "contact", "email", crm.FieldMasked},
		{sess(crm.RoleReadOnly), "contact", "notes", crm.FieldHidden},
		{sess(crm.RoleReadOnly), "contact", "last_name", crm.FieldRead},
		{sess(crm.RoleReadOnly), "activity", "body", crm.FieldHidden},
		{sess(crm.RoleAuditor), "contact", "last_name", crm.FieldHidden},
		{sess(crm.RoleAdmin), "contact", "notes", crm.FieldEdit},
		{crm.SystemPrincipal(), "contact", "phone", crm.FieldEdit},
		// A read token reads what its user edits.
		{&crm.Principal{Kind: crm.KindToken, Scope: crm.ScopeRead, UserID: 1, Role: crm.RoleSales}, "contact", "phone", crm.FieldRead},
		{&crm.Principal{Kind: crm.KindToken, Scope: crm.ScopeRead, UserID: 1, Role: crm.RoleSupport}, "contact", "phone", crm.FieldMasked},
		{nil, "contact", "phone", crm.FieldHidden},
	} {
		if got := pol.Field(c.p, c.entity, c.field); got != c.want {
			role := crm.Role("nil")
			if c.p != nil {
				role = c.p.Role
			}
			t.Errorf("%s %s.%s: %s, want %s", role, c.entity, c.field, got, c.want)
		}
	}

	// A custom role: named levels hold up to the verbs' ceiling; a level
	// below read on a field that is not protected reads.
	d := (&crm.RoleDef{Name: "viewer", Permissions: []string{"contacts.read"}, Fields: map[string]crm.FieldLevel{
		"contact.phone": crm.FieldEdit, "contact.email": crm.FieldHidden, "contact.last_name": crm.FieldHidden,
	}}).Compile()
	p := &crm.Principal{Kind: crm.KindSession, UserID: 1, Role: "viewer", Def: d}
	for field, want := range map[string]crm.FieldLevel{"phone": crm.FieldRead, "email": crm.FieldHidden, "last_name": crm.FieldRead, "notes": crm.FieldRead} {
		if got := pol.Field(p, "contact", field); got != want {
			t.Errorf("viewer contact.%s: %s, want %s", field, got, want)
		}
	}
	if lv := pol.FieldLevels(sess(crm.RoleSales), "contact"); lv != nil {
		t.Errorf("sales edits every field, yet FieldLevels gave %v", lv)
	}
	if lv := pol.FieldLevels(sess(crm.RoleSupport), "contact"); lv["phone"] != crm.FieldMasked || len(lv) != 3 {
		t.Errorf("support FieldLevels %v", lv)
	}
}

// TestHolds (ACL-1): nobody grants more than they hold, actions or field
// levels.
func TestHolds(t *testing.T) {
	var pol Policy
	sess := func(r crm.Role) *crm.Principal { return &crm.Principal{Kind: crm.KindSession, UserID: 1, Role: r} }
	role := func(perms []string, fields map[string]crm.FieldLevel) *crm.RoleDef {
		return (&crm.RoleDef{Name: "x", Permissions: perms, Fields: fields}).Compile()
	}
	supportLike := role([]string{"contacts.read", "contacts.create", "contacts.update"}, map[string]crm.FieldLevel{
		"contact.phone": crm.FieldMasked, "contact.birthday": crm.FieldMasked, "contact.address": crm.FieldMasked})
	for _, c := range []struct {
		name string
		p    *crm.Principal
		def  *crm.RoleDef
		ok   bool
		what string
	}{
		{"admin grants the admin role", sess(crm.RoleAdmin), Builtin(crm.RoleAdmin), true, ""},
		{"system grants anything", crm.SystemPrincipal(), Builtin(crm.RoleAdmin), true, ""},
		{"manager cannot grant users.manage", sess(crm.RoleManager), Builtin(crm.RoleAdmin), false, "contacts.view_all"},
		{"sales grants less", sess(crm.RoleSales), role([]string{"contacts.read"}, nil), true, ""},
		{"sales cannot grant transfer", sess(crm.RoleSales), role([]string{"contacts.transfer"}, nil), false, "contacts.transfer"},
		{"support grants its own shape", sess(crm.RoleSupport), supportLike, true, ""},
		{"support cannot unmask the phone", sess(crm.RoleSupport), role([]string{"contacts.read"}, nil), false, "contact.phone"},
		{"readonly cannot give notes", sess(crm.RoleReadOnly), role([]string{"contacts.read", "contacts.view_all"}, nil), false, "contact.email"},
	} {
		ok, what := pol.Holds(c.p, c.def)
		if ok != c.ok || what != c.what {
			t.Errorf("%s: %v %q, want %v %q", c.name, ok, what, c.ok, c.what)
		}
	}
}

func TestValidateRole(t *testing.T) {
	errs := crm.FieldErrors{}
	ValidateRole(&crm.RoleDef{Permissions: []string{"contacts.read", "contacts.fly", "users.manage"}, Fields: map[string]crm.FieldLevel{
		"contact.phone": crm.FieldMasked, "contact.last_name": crm.FieldHidden, "contact.shoe": crm.FieldRead,
		"deal.notes": "blurred", "nonsense": crm.FieldRead,
	}}, errs)
	for _, f := range []string{"permissions", "fields.contact.last_name", "fields.contact.shoe", "fields.deal.notes", "fields.nonsense"} {
		if errs[f] == "" {
			t.Errorf("%s not refused: %v", f, errs)
		}
	}
	if errs["fields.contact.phone"] != "" {
		t.Errorf("a masked phone refused: %v", errs)
	}
}

// TestRequireStepUp (AUTH-4; ASVS v5.0.0-7.5.3).
func TestRequireStepUp(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := func(kind crm.PrincipalKind, at time.Time, pending crm.MFAStep) *crm.Principal {
		return &crm.Principal{Kind: kind, UserID: 1, Role: crm.RoleSales, SteppedUpAt: at, Pending: pending}
	}
	for _, c := range []struct {
		name string
		p    *crm.Principal
		code string
	}{
		{"nobody", nil, crm.EUNAUTHENTICATED},
		{"system", crm.SystemPrincipal(), ""},
		{"fresh", p(crm.KindSession, now.Add(-4*time.Minute), crm.MFANone), ""},
		{"stale", p(crm.KindSession, now.Add(-6*time.Minute), crm.MFANone), crm.ESTEPUPREQUIRED},
		{"never", p(crm.KindSession, time.Time{}, crm.MFANone), crm.ESTEPUPREQUIRED},
		{"from the future", p(crm.KindSession, now.Add(2*time.Minute), crm.MFANone), crm.ESTEPUPREQUIRED},
		{"half session", p(crm.KindSession, now, crm.MFAVerify), crm.EMFAREQUIRED},
		{"token", p(crm.KindToken, now, crm.MFANone), crm.EFORBIDDEN},
	} {
		if got := crm.ErrorCode(RequireStepUp(c.p, now, 5*time.Minute)); got != c.code {
			t.Errorf("%s: %q, want %q", c.name, got, c.code)
		}
	}
}
