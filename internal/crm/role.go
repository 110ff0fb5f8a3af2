package crm

import (
	"context"
	"regexp"
	"time"
)

// FieldLevel is what a role may do with one field of a client record
// (ACL-3), from the least to the most.
type FieldLevel string

// The field levels.
const (
	FieldHidden FieldLevel = "hidden" // absent from every response; never matched, filtered or sorted on
	FieldMasked FieldLevel = "masked" // shown masked (+7 *** ***-12-34); revealed one value at a time after step-up
	FieldRead   FieldLevel = "read"   // shown; not changed
	FieldEdit   FieldLevel = "edit"   // shown and changed
)

// Rank orders the levels: hidden < masked < read < edit; 0 for an unknown one.
func (l FieldLevel) Rank() int {
	switch l {
	case FieldHidden:
		return 1
	case FieldMasked:
		return 2
	case FieldRead:
		return 3
	case FieldEdit:
		return 4
	}
	return 0
}

// Readable reports whether a caller at level l sees the field's value
// (read or edit), and so may filter, sort and search on it.
func (l FieldLevel) Readable() bool { return l.Rank() >= 3 }

// RoleDef is a role as a permission set (ACL-1): the actions it grants,
// each an "<entities>.<verb>" such as "contacts.read" or an administrative
// action such as "users.manage", and its field policies (ACL-3), keyed by
// "<entity>.<field>" such as "contact.phone". A field a role does not name
// is editable when the role may change the entity, readable otherwise. The
// built-in roles are defined in code (package policy); custom roles are
// kept in the store and made by administrators.
type RoleDef struct {
	Name        Role                  `json:"name"`
	Label       string                `json:"label,omitempty"`
	Builtin     bool                  `json:"builtin"`
	Permissions []string              `json:"permissions"`
	Fields      map[string]FieldLevel `json:"fields"`
	// MFA says a second factor is required to sign in. Built-in roles take
	// it from --mfa-roles; a custom role that manages users always has it.
	MFA       bool       `json:"mfa"`
	Version   int64      `json:"version,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`

	set map[string]bool
}

// Compile readies d for Has; it returns d. A RoleDef is shared by every
// request of its role: it is compiled once and never changed afterwards.
func (d *RoleDef) Compile() *RoleDef {
	d.set = make(map[string]bool, len(d.Permissions))
	for _, a := range d.Permissions {
		d.set[a] = true
	}
	if d.Fields == nil {
		d.Fields = map[string]FieldLevel{}
	}
	return d
}

// Has reports whether the role grants action.
func (d *RoleDef) Has(action string) bool {
	if d == nil {
		return false
	}
	if d.set == nil {
		for _, a := range d.Permissions {
			if a == action {
				return true
			}
		}
		return false
	}
	return d.set[action]
}

// RoleInput creates or changes a custom role. Nil leaves a field alone on
// an update; Permissions and Fields replace the whole set when given.
type RoleInput struct {
	Name        *string                `json:"name"`
	Label       *string                `json:"label"`
	Permissions *[]string              `json:"permissions"`
	Fields      *map[string]FieldLevel `json:"fields"`
	MFA         *bool                  `json:"mfa"`
}

var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,31}$`)

// ValidRoleName reports whether name may name a custom role: 2 to 32
// lower-case letters, digits, "-" and "_", starting with a letter.
func ValidRoleName(name string) bool { return roleName.MatchString(name) }

// RoleService reads and manages roles. Every staff member may read them;
// changes need the users.manage permission and a recent step-up, grant no
// more than the caller holds, and are security events.
type RoleService interface {
	// FindRoles returns the built-in roles, then the custom ones by name.
	FindRoles(ctx context.Context, p *Principal) ([]*RoleDef, error)
	FindRole(ctx context.Context, p *Principal, name Role) (*RoleDef, error)
	CreateRole(ctx context.Context, p *Principal, in RoleInput) (*RoleDef, error)
	// UpdateRole changes a custom role; its holders get the change on
	// their next request. ifVersion, when not zero, must be the stored one.
	UpdateRole(ctx context.Context, p *Principal, name Role, in RoleInput, ifVersion int64) (*RoleDef, error)
	// DeleteRole removes a custom role that no user and no pending
	// invitation holds (ECONFLICT otherwise).
	DeleteRole(ctx context.Context, p *Principal, name Role) error
}

// RevealService returns one masked value unmasked (ACL-3): for a field
// the caller's role sees masked, on a record it may read, after a recent
// step-up (AUTH-4); each reveal is a security event (field.reveal)
// recorded before the value is returned. EINVALID for a field that is
// not masked for the caller, EFORBIDDEN for a hidden one.
type RevealService interface {
	RevealField(ctx context.Context, p *Principal, entity string, id int64, field string) (string, error)
}
