package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

// Roles (ACL-1). The six built-in roles are defined in code (package
// policy); custom roles are named permission sets with field policies,
// kept in the store. A user's role is resolved on every request from the
// store (roleDef), so a change to a custom role holds for its users from
// their next request, on every instance (ASVS v5.0.0-8.3.2).
//
// Every change needs users.manage and a recent step-up, grants nothing the
// caller does not hold (policy.Holds), and is a security event written in
// its transaction. Role changes, and changes of a user's role or disabled
// flag, are serialised (LockRoles), so that two at once can neither leave
// the organisation without an administrator nor grant a role while it is
// being widened.

var _ crm.RoleService = (*Service)(nil)

// roleDef returns the definition of role: a built-in one, or the custom
// role from the store. A role that is neither (a custom role deleted
// behind the service's back) grants nothing.
func (s *Service) roleDef(ctx context.Context, tx crm.IdentityTx, role crm.Role) (*crm.RoleDef, error) {
	if d := policy.Builtin(role); d != nil {
		return d, nil
	}
	d, err := tx.RoleByName(ctx, role)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return (&crm.RoleDef{Name: role, Permissions: []string{}}).Compile(), nil
	}
	return d, err
}

// defMFA reports whether a role's users must sign in with a second
// factor: a built-in role when --mfa-roles names it (admin always), a
// custom role when its definition says so.
func (s *Service) defMFA(d *crm.RoleDef) bool {
	if d == nil {
		return false
	}
	if d.Builtin {
		return s.mfa.roles[d.Name]
	}
	return d.MFA
}

// roleMFA is defMFA of the role named.
func (s *Service) roleMFA(ctx context.Context, tx crm.IdentityTx, role crm.Role) (bool, error) {
	d, err := s.roleDef(ctx, tx, role)
	if err != nil {
		return false, err
	}
	return s.defMFA(d), nil
}

// principalMFA is defMFA of p's role.
func (s *Service) principalMFA(p *crm.Principal) bool { return s.defMFA(policy.Def(p)) }

// builtinDefs returns the built-in roles, each with its MFA requirement.
func (s *Service) builtinDefs() []*crm.RoleDef {
	out := make([]*crm.RoleDef, 0, len(crm.Roles))
	for _, r := range crm.Roles {
		d := *policy.Builtin(r)
		d.MFA = s.mfa.roles[r]
		out = append(out, &d)
	}
	return out
}

// FindRoles implements crm.RoleService.
func (s *Service) FindRoles(ctx context.Context, p *crm.Principal) ([]*crm.RoleDef, error) {
	if err := s.require(p, policy.ReadUsers); err != nil {
		return nil, err
	}
	var custom []*crm.RoleDef
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { custom, err = tx.Roles(ctx); return err }); err != nil {
		return nil, err
	}
	return append(s.builtinDefs(), custom...), nil
}

// FindRole implements crm.RoleService.
func (s *Service) FindRole(ctx context.Context, p *crm.Principal, name crm.Role) (*crm.RoleDef, error) {
	if err := s.require(p, policy.ReadUsers); err != nil {
		return nil, err
	}
	if name.Valid() {
		for _, d := range s.builtinDefs() {
			if d.Name == name {
				return d, nil
			}
		}
	}
	var d *crm.RoleDef
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) { d, err = tx.RoleByName(ctx, name); return err })
	return d, err
}

// checkRole validates the definition d (made from input) and that p may
// grant it; EINVALID names each bad field, EFORBIDDEN what p lacks.
func (s *Service) checkRole(p *crm.Principal, d *crm.RoleDef) error {
	errs := crm.FieldErrors{}
	policy.ValidateRole(d, errs)
	if err := errs.Err(); err != nil {
		return err
	}
	// In the catalogue's order, each once.
	var perms []string
	for _, a := range policy.Actions() {
		if slices.Contains(d.Permissions, string(a)) {
			perms = append(perms, string(a))
		}
	}
	d.Permissions = perms
	if d.Permissions == nil {
		d.Permissions = []string{}
	}
	// A role that administers users, or erases clients for good, is an
	// administrator's: it signs in with a second factor, and steps up with
	// it, whatever the input said.
	if slices.Contains(d.Permissions, string(policy.ManageUsers)) || slices.Contains(d.Permissions, string(policy.EraseClients)) {
		d.MFA = true
	}
	d.Compile()
	if ok, what := s.pol.Holds(p, d); !ok {
		return &crm.Error{Code: crm.EFORBIDDEN, Message: "you cannot grant what you do not hold: " + what,
			Fields: map[string]string{grantField(what): "more than you hold"}}
	}
	return nil
}

// grantField is the input field of a permission or field policy p lacks.
func grantField(what string) string {
	if strings.Count(what, ".") == 1 && policy.KnownAction(what) {
		return "permissions"
	}
	return "fields." + what
}

// applyRole copies the input onto d, validating the label.
func applyRole(d *crm.RoleDef, in crm.RoleInput, v *validate.Fields) {
	if in.Label != nil {
		d.Label = v.Text("label", *in.Label, validate.MaxName, false, false)
	}
	if in.Permissions != nil {
		d.Permissions = slices.Clone(*in.Permissions)
	}
	if in.Fields != nil {
		d.Fields = map[string]crm.FieldLevel{}
		for k, l := range *in.Fields {
			d.Fields[k] = l
		}
	}
	if in.MFA != nil {
		d.MFA = *in.MFA
	}
}

// CreateRole implements crm.RoleService.
func (s *Service) CreateRole(ctx context.Context, p *crm.Principal, in crm.RoleInput) (*crm.RoleDef, error) {
	if err := s.requireAdmin(p); err != nil {
		return nil, err
	}
	v := validate.New()
	d := &crm.RoleDef{Permissions: []string{}, Fields: map[string]crm.FieldLevel{}}
	name := strings.TrimSpace(str(in.Name))
	switch {
	case name == "":
		v.Add("name", "required")
	case crm.Role(name).Valid():
		v.Add("name", "is a built-in role")
	case !crm.ValidRoleName(name):
		v.Add("name", "2 to 32 lower-case letters, digits, - and _, starting with a letter")
	}
	d.Name = crm.Role(name)
	applyRole(d, in, v)
	if in.Permissions == nil {
		v.Add("permissions", "required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.checkRole(p, d); err != nil {
		return nil, err
	}
	err := s.write(ctx, func(tx *wtx) error {
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		now := tx.Now()
		d.Version, d.CreatedAt, d.UpdatedAt = 1, &now, &now
		if err := tx.InsertRole(ctx, d); err != nil {
			return err
		}
		return tx.emit(Event{Type: "role.create", ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: roleDetail(d)})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// roleDetail is the event detail of a role: its name and what it grants.
func roleDetail(d *crm.RoleDef) string {
	fields := make([]string, 0, len(d.Fields))
	for k, l := range d.Fields {
		fields = append(fields, k+"="+string(l))
	}
	slices.Sort(fields)
	return "role " + string(d.Name) + ": " + strings.Join(d.Permissions, " ") + "; fields " + strings.Join(fields, " ")
}

// UpdateRole implements crm.RoleService.
func (s *Service) UpdateRole(ctx context.Context, p *crm.Principal, name crm.Role, in crm.RoleInput, ifVersion int64) (*crm.RoleDef, error) {
	if err := s.requireAdmin(p); err != nil {
		return nil, err
	}
	if name.Valid() {
		return nil, crm.Errorf(crm.EFORBIDDEN, "the built-in roles cannot be changed: make a custom role")
	}
	if in.Name != nil && crm.Role(*in.Name) != name {
		return nil, crm.Invalid("name", "a role cannot be renamed: make a new one and move its users")
	}
	var d *crm.RoleDef
	type promoted struct {
		u    *crm.User
		link string
	}
	var holders []promoted
	err := s.write(ctx, func(tx *wtx) (err error) {
		holders = holders[:0]
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		if d, err = tx.RoleByName(ctx, name); err != nil {
			return err
		}
		wasMFA := d.MFA
		if ifVersion != 0 && ifVersion != d.Version {
			return crm.Errorf(crm.EPRECONDITION, "the role was changed by someone else; reload it and apply your change again")
		}
		// The caller must hold the role as it is before changing it, as
		// well as what it becomes.
		if ok, what := s.pol.Holds(p, d); !ok {
			return &crm.Error{Code: crm.EFORBIDDEN, Message: "you cannot change a role that grants what you do not hold: " + what}
		}
		v := validate.New()
		applyRole(d, in, v)
		if err := v.Err(); err != nil {
			return err
		}
		if err := s.checkRole(p, d); err != nil {
			return err
		}
		now := tx.Now()
		d.Version++
		d.UpdatedAt = &now
		if err := tx.UpdateRole(ctx, d); err != nil {
			return err
		}
		if err := tx.emit(Event{Type: "role.update", ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: roleDetail(d)}); err != nil {
			return err
		}
		if wasMFA || !d.MFA {
			return nil
		}
		// The role now requires a second factor: as for a user promoted
		// into such a role (UpdateUser), the factors its users set up
		// when the password alone could add one are removed, their
		// sessions and tokens end, and each enrols anew through a link
		// mailed to them.
		ids, err := tx.RoleUserIDs(ctx, name)
		if err != nil {
			return err
		}
		for _, id := range ids {
			u, err := tx.UserByID(ctx, id)
			if err != nil {
				return err
			}
			if u.Disabled {
				continue
			}
			if err := resetFactors(ctx, tx, u.ID, tx.Now()); err != nil {
				return err
			}
			if _, err := endCredentials(ctx, tx, u.ID, tx.Now()); err != nil {
				return err
			}
			link, err := s.newEnrolLink(ctx, tx, u.ID, p.UserID)
			if err != nil {
				return err
			}
			holders = append(holders, promoted{u, link})
			if err := tx.emit(Event{Type: "enrol.link", UserID: u.ID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID,
				Detail: "role " + string(name) + " now requires a second factor; sessions ended"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var mailErr error
	for _, h := range holders {
		if err := s.sendEnrolLink(ctx, p, h.u, h.link); err != nil {
			mailErr = errors.Join(mailErr, fmt.Errorf("enrolment link of user %d: %w", h.u.ID, err))
		}
	}
	if mailErr != nil {
		return nil, mailErr
	}
	return d, nil
}

// DeleteRole implements crm.RoleService.
func (s *Service) DeleteRole(ctx context.Context, p *crm.Principal, name crm.Role) error {
	if err := s.requireAdmin(p); err != nil {
		return err
	}
	if name.Valid() {
		return crm.Errorf(crm.EFORBIDDEN, "the built-in roles cannot be deleted")
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		d, err := tx.RoleByName(ctx, name)
		if err != nil {
			return err
		}
		if ok, what := s.pol.Holds(p, d); !ok {
			return &crm.Error{Code: crm.EFORBIDDEN, Message: "you cannot delete a role that grants what you do not hold: " + what}
		}
		users, invites, err := tx.RoleHolders(ctx, name)
		if err != nil {
			return err
		}
		if users > 0 || invites > 0 {
			return crm.Errorf(crm.ECONFLICT, "%d users and %d pending invitations hold this role: give them another first", users, invites)
		}
		if err := tx.DeleteRole(ctx, name); err != nil {
			return err
		}
		return tx.emit(Event{Type: "role.delete", ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: "role " + string(name)})
	})
}

// checkGrant checks, inside a write that holds LockRoles, that p may give
// role to a user: the role exists (built-in or custom) and p holds what it
// grants. field names the input.
func (s *Service) checkGrant(ctx context.Context, tx crm.IdentityTx, p *crm.Principal, field string, role crm.Role) (*crm.RoleDef, error) {
	d := policy.Builtin(role)
	if d == nil {
		var err error
		if d, err = tx.RoleByName(ctx, role); crm.ErrorCode(err) == crm.ENOTFOUND {
			return nil, crm.Invalid(field, "unknown role")
		} else if err != nil {
			return nil, err
		}
	}
	if ok, what := s.pol.Holds(p, d); !ok {
		return nil, &crm.Error{Code: crm.EFORBIDDEN, Message: "you cannot grant a role with more than you hold: " + what,
			Fields: map[string]string{field: "more than you hold"}}
	}
	return d, nil
}

// validRoleName is the check of a role named in an input before the
// store is read: a built-in role or the form of a custom role's name.
func validRoleName(v *validate.Fields, field string, role *crm.Role) {
	if role == nil || (!role.Valid() && !crm.ValidRoleName(string(*role))) {
		v.Add(field, "must be admin, manager, sales, support, auditor, readonly or a custom role")
	}
}

// requireAbove checks, inside tx, that p holds everything the role of the
// user id grants (ACL-1: nobody administers someone above them): ending
// their sessions, reading or revoking their tokens, unlocking them or
// handing them an enrolment link is for whoever holds at least their role.
// An administrator acting on themselves passes.
func (s *Service) requireAbove(ctx context.Context, tx crm.IdentityTx, p *crm.Principal, id int64) error {
	u, err := tx.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if p.UserID == u.ID {
		return nil
	}
	d, err := s.roleDef(ctx, tx, u.Role)
	if err != nil {
		return err
	}
	if ok, what := s.pol.Holds(p, d); !ok {
		return &crm.Error{Code: crm.EFORBIDDEN, Message: "this user's role grants what you do not hold: " + what}
	}
	return nil
}

// requireTeamAdmin is the guard of team changes: user administration with
// a recent step-up, and every record of every entity in the caller's own
// reach (view_all and modify_all). A team change decides who manages whose
// records, so only someone who may see and change them all may make it; a
// custom role that administers users without client data cannot make
// anyone, itself included, the manager of a team (ACL-1, ACL-2).
func (s *Service) requireTeamAdmin(p *crm.Principal) error {
	if err := s.requireAdmin(p); err != nil {
		return err
	}
	for _, e := range policy.EntityOrder {
		for _, v := range []policy.Verb{policy.ViewAll, policy.ModifyAll} {
			if !s.pol.Can(p, policy.On(e, v)) {
				return crm.Errorf(crm.EFORBIDDEN, "team changes need every client record in reach (%s)", policy.On(e, v))
			}
		}
	}
	return nil
}
