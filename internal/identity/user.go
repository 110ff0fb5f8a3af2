package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

// prepareUser validates a new user and hashes the password.
func (s *Service) prepareUser(ctx context.Context, in crm.UserInput) (*crm.User, string, error) {
	v := validate.New()
	u := &crm.User{Language: "en"}
	u.Email = v.Email("email", str(in.Email), true)
	u.Name = v.Text("name", str(in.Name), validate.MaxName, false, false)
	if validRoleName(v, "role", in.Role); in.Role != nil {
		u.Role = *in.Role
	}
	if in.Language != nil {
		u.Language = v.OneOf("language", *in.Language, []string{"en", "ru"}, true)
	}
	if in.Password == nil {
		v.Add("password", "required")
	} else if err := auth.CheckPassword(*in.Password, str(in.Email), str(in.Name)); err != nil {
		v.Add("password", err.Error())
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if u.Name == "" {
		u.Name = u.Email
	}
	hash, err := s.hasher.Hash(ctx, *in.Password)
	if errors.Is(err, auth.ErrBusy) {
		return nil, "", crm.Errorf(crm.ERATELIMITED, "the server is busy; try again in a moment")
	}
	return u, hash, err
}

// FindUsers implements crm.IdentityService.
func (s *Service) FindUsers(ctx context.Context, p *crm.Principal) ([]*crm.User, error) {
	if err := s.require(p, policy.ManageUsers); err != nil {
		return nil, err
	}
	var out []*crm.User
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		out, err = tx.Users(ctx)
		return err
	})
	return out, err
}

// FindStaff implements crm.IdentityService: every role, and read tokens,
// see who their colleagues are (for owner names), but not their emails,
// sign-in times or lock status, which FindUsers keeps for administrators.
func (s *Service) FindStaff(ctx context.Context, p *crm.Principal) ([]*crm.StaffMember, error) {
	if err := s.require(p, policy.ReadUsers); err != nil {
		return nil, err
	}
	var users []*crm.User
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { users, err = tx.Users(ctx); return err }); err != nil {
		return nil, err
	}
	out := make([]*crm.StaffMember, len(users))
	for i, u := range users {
		out[i] = staffOf(u)
	}
	return out, nil
}

// FindStaffMember implements crm.IdentityService: FindStaff's entry of one
// user.
func (s *Service) FindStaffMember(ctx context.Context, p *crm.Principal, id int64) (*crm.StaffMember, error) {
	if err := s.require(p, policy.ReadUsers); err != nil {
		return nil, err
	}
	var u *crm.User
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { u, err = tx.UserByID(ctx, id); return err }); err != nil {
		return nil, err
	}
	return staffOf(u), nil
}

// staffOf is what the directory shows of u.
func staffOf(u *crm.User) *crm.StaffMember {
	return &crm.StaffMember{ID: u.ID, Name: u.Name, Role: u.Role, TeamID: u.TeamID}
}

// FindUserByID implements crm.IdentityService.
func (s *Service) FindUserByID(ctx context.Context, p *crm.Principal, id int64) (*crm.User, error) {
	if err := s.require(p, policy.ManageUsers); err != nil {
		return nil, err
	}
	var u *crm.User
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		u, err = tx.UserByID(ctx, id)
		return err
	})
	return u, err
}

// CreateUser implements crm.IdentityService: the operator at the server's
// shell (the CLI, the system principal) only. Over the API and the UI new
// users come by invitation and choose their own password: an administrator
// who chose it would know a credential of another person (AUTH-8; ASVS
// v5.0.0-6.4.6), so CreateUser refuses every other principal.
func (s *Service) CreateUser(ctx context.Context, p *crm.Principal, in crm.UserInput) (*crm.User, error) {
	// User administration needs a recent step-up (AUTH-4, mfa.go).
	if err := s.requireAdmin(p); err != nil {
		return nil, err
	}
	if p.Kind != crm.KindSystem {
		e := &crm.Error{Code: crm.EINVALID, Message: "new users come by invitation (POST /api/v1/invitations): administrators never choose a user's password"}
		if in.Password != nil {
			e.Fields = map[string]string{"password": "not accepted: invite the user, who chooses their own"}
		}
		return nil, e
	}
	u, hash, err := s.prepareUser(ctx, in)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	err = s.write(ctx, func(tx *wtx) error {
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		if _, err := s.checkGrant(ctx, tx, p, "role", u.Role); err != nil {
			return err
		}
		u.CreatedAt, u.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		return tx.emit(Event{Type: "user.create", UserID: u.ID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: "role " + string(u.Role)})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser implements crm.IdentityService. A change of role or password,
// or disabling, ends the user's sessions and revokes their API tokens, so
// new rights apply at once (ASVS v5.0.0-8.3.2) and nothing minted before
// survives (INC-2). A role change revokes every token rather than
// re-checking scopes: a token's scope is read or write, not a role, so
// only a new token made under the new role says what it may do.
//
// An administrator's change of another user's email does not take effect
// at once: a confirmation link goes to the new address and a notice to the
// old one, and the confirmation ends the user's sessions and tokens
// (AUTH-8). Only the operator's CLI changes an address directly.
// Administrators cannot set another user's password (ASVS v5.0.0-6.4.6);
// only the CLI (the system principal) can.
func (s *Service) UpdateUser(ctx context.Context, p *crm.Principal, id int64, in crm.UserInput) (*crm.User, error) {
	// User administration needs a recent step-up (AUTH-4, mfa.go).
	if err := s.requireAdmin(p); err != nil {
		return nil, err
	}
	v := validate.New()
	if in.Password != nil && p.Kind != crm.KindSystem {
		v.Add("password", "administrators cannot set passwords; the user resets it")
	}
	if in.Email != nil {
		v.Email("email", *in.Email, true)
	}
	if in.Role != nil {
		validRoleName(v, "role", in.Role)
		// Nobody changes their own role (ACL-1): not up, and not down by
		// mistake either; another administrator does it.
		if id == p.UserID && p.Kind != crm.KindSystem {
			v.Add("role", "you cannot change your own role")
		}
	}
	if in.Language != nil {
		v.OneOf("language", *in.Language, []string{"en", "ru"}, true)
	}
	if in.Password != nil && p.Kind == crm.KindSystem {
		// The user's own words, old and new, for the password rules.
		personal := []string{str(in.Email), str(in.Name)}
		err := s.store.Read(ctx, func(tx crm.Tx) error {
			u, err := tx.UserByID(ctx, id)
			if err == nil {
				personal = append(personal, u.Email, u.Name)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := auth.CheckPassword(*in.Password, personal...); err != nil {
			v.Add("password", err.Error())
		}
	}
	if in.Disabled != nil && *in.Disabled && id == p.UserID {
		v.Add("disabled", "you cannot disable yourself")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var hash string
	if in.Password != nil {
		var err error
		if hash, err = s.hasher.Hash(ctx, *in.Password); err != nil {
			return nil, err
		}
	}
	var u *crm.User
	var revoked int
	var newEmail, enrolLink, emailLink string
	var oldRole crm.Role
	err := s.write(ctx, func(tx *wtx) (err error) {
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, id); err != nil {
			return err
		}
		if err := s.checkAdministrable(ctx, tx, p, u, in); err != nil {
			return err
		}
		endSessions := false
		if in.Email != nil {
			if e := v.Email("email", *in.Email, true); p.Kind == crm.KindSystem {
				u.Email = e
			} else if e == u.Email {
				v.Add("email", "is already the address")
			} else {
				// Another user's address changes only when the new address
				// confirms it, with the old one told (below), as when users
				// change their own (AUTH-8).
				newEmail = e
			}
		}
		if in.Name != nil {
			u.Name = v.Text("name", *in.Name, validate.MaxName, true, false)
		}
		oldRole = u.Role
		if in.Role != nil && *in.Role != u.Role {
			u.Role, endSessions = *in.Role, true
		}
		if in.Language != nil {
			u.Language = *in.Language
		}
		if in.Disabled != nil && *in.Disabled != u.Disabled {
			u.Disabled, endSessions = *in.Disabled, endSessions || *in.Disabled
		}
		if hash != "" {
			u.PasswordHash, endSessions = hash, true
		}
		if err := v.Err(); err != nil {
			return err
		}
		u.UpdatedAt = tx.Now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if newEmail != "" {
			// In this transaction: a refused change (too many requests)
			// leaves the rest of the update unwritten too.
			if emailLink, err = s.storeEmailChange(ctx, tx, p, u, newEmail); err != nil {
				return err
			}
		}
		if hash != "" || (in.Email != nil && p.Kind == crm.KindSystem) || u.Disabled {
			// Reset and enrolment links sent earlier, to this or an old
			// address, must not outlive a password or address change, or a
			// disable (attack 11).
			if err := s.discardAccountLinks(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		newMFA, err := s.roleMFA(ctx, tx, u.Role)
		if err != nil {
			return err
		}
		oldMFA, err := s.roleMFA(ctx, tx, oldRole)
		if err != nil {
			return err
		}
		if promoted := in.Role != nil && newMFA && !oldMFA; promoted && !u.Disabled {
			// A promotion into a role that requires a second factor: the
			// factors set up under the old role, where the password alone
			// could add one, are removed, and the user enrols anew through
			// an enrolment link mailed to them (enrollink.go).
			if err := resetFactors(ctx, tx, u.ID, tx.Now()); err != nil {
				return err
			}
			if enrolLink, err = s.newEnrolLink(ctx, tx, u.ID, p.UserID); err != nil {
				return err
			}
		}
		if endSessions {
			// Ending access ends all of it (INC-2): a token minted from a
			// hijacked session must not outlive the response.
			if revoked, err = endCredentials(ctx, tx, u.ID, tx.Now()); err != nil {
				return err
			}
		}
		ev := Event{Type: "user.update", UserID: id, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID}
		if oldRole != u.Role {
			ev.Detail = "role " + string(oldRole) + " to " + string(u.Role) + "; "
		}
		if endSessions {
			ev.Detail += "sessions ended, " + itoa(revoked) + " tokens revoked"
		}
		if err := tx.emit(ev); err != nil {
			return err
		}
		if enrolLink != "" {
			return tx.emit(Event{Type: "enrol.link", UserID: id, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: "role " + string(u.Role)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The update is committed; the mails go after it. Both are tried, and a
	// failure to send is reported (the administrator can send the links
	// again: a new link replaces the unsent one).
	var mailErr error
	if newEmail != "" {
		mailErr = s.sendEmailChange(ctx, u, newEmail, emailLink)
	}
	if enrolLink != "" {
		if err := s.sendEnrolLink(ctx, p, u, enrolLink); err != nil {
			mailErr = errors.Join(mailErr, fmt.Errorf("enrolment link: %w", err))
		}
	}
	if mailErr != nil {
		return nil, mailErr
	}
	return u, nil
}

// FindUserByEmail returns a user for the CLI. System principal only.
func (s *Service) FindUserByEmail(ctx context.Context, p *crm.Principal, email string) (*crm.User, error) {
	if p == nil || p.Kind != crm.KindSystem {
		return nil, forbidden()
	}
	var u *crm.User
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		u, err = tx.UserByEmail(ctx, normEmail(email))
		return err
	})
	return u, err
}

// checkAdministrable checks, inside the write that holds LockRoles, that p
// may make the change in to the user u (ACL-1): p holds everything u's
// current role grants (nobody administers someone above them) and, for a
// new role, everything it grants; and the change does not remove the last
// enabled administrator.
func (s *Service) checkAdministrable(ctx context.Context, tx crm.IdentityTx, p *crm.Principal, u *crm.User, in crm.UserInput) error {
	cur, err := s.roleDef(ctx, tx, u.Role)
	if err != nil {
		return err
	}
	if ok, what := s.pol.Holds(p, cur); !ok && p.UserID != u.ID {
		return &crm.Error{Code: crm.EFORBIDDEN, Message: "this user's role grants what you do not hold: " + what}
	}
	demoted := in.Role != nil && *in.Role != u.Role
	if demoted {
		if _, err := s.checkGrant(ctx, tx, p, "role", *in.Role); err != nil {
			return err
		}
	}
	disabled := in.Disabled != nil && *in.Disabled && !u.Disabled
	if u.Role == crm.RoleAdmin && !u.Disabled && (demoted || disabled) {
		n, err := tx.CountActiveAdmins(ctx)
		if err != nil {
			return err
		}
		if n <= 1 {
			field := "role"
			if !demoted {
				field = "disabled"
			}
			return &crm.Error{Code: crm.ECONFLICT, Message: "this is the last administrator: make another one first",
				Fields: map[string]string{field: "the last administrator"}}
		}
	}
	return nil
}
