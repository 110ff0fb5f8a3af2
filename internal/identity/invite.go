package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/i18n"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

// Invitations (AUTH-8): an administrator invites an address with a role; the
// link lets its owner choose a name and a password, once, within 72 hours.
// The new user then signs in normally; a role that requires a second
// factor is handed an enrolment link on acceptance (enrollink.go). An invitation replaces any earlier one for the same address.

// InviteUser implements crm.RecoveryService.
func (s *Service) InviteUser(ctx context.Context, p *crm.Principal, email string, role crm.Role, name string) (*crm.Invitation, error) {
	if err := s.require(p, policy.ManageUsers); err != nil {
		return nil, err
	}
	// User administration needs a recent re-authentication (AUTH-4).
	if err := s.requireStepUp(p); err != nil {
		return nil, err
	}
	v := validate.New()
	email = v.Email("email", email, true)
	name = v.Text("name", name, validate.MaxName, false, false)
	validRoleName(v, "role", &role)
	if err := v.Err(); err != nil {
		return nil, err
	}
	secret, t := newOneTime(crm.PurposeInvite)
	t.Email, t.Role, t.Name, t.CreatedBy = email, role, name, p.UserID
	roleLabel := ""
	err := s.write(ctx, func(tx *wtx) error {
		// Nobody invites into a role with more than they hold (ACL-1).
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		d, err := s.checkGrant(ctx, tx, p, "role", role)
		if err != nil {
			return err
		}
		roleLabel = d.Label
		if _, err := tx.UserByEmail(ctx, email); err == nil {
			return &crm.Error{Code: crm.ECONFLICT, Message: "this address already belongs to a user",
				Fields: map[string]string{"email": "already a user"}}
		} else if crm.ErrorCode(err) != crm.ENOTFOUND {
			return err
		}
		now := s.tokenNow(tx)
		if _, err := tx.DiscardOneTimeTokens(ctx, crm.PurposeInvite, 0, email, now); err != nil {
			return err
		}
		t.CreatedAt, t.ExpiresAt = now, now.Add(crm.InviteTTL)
		if err := tx.InsertOneTimeToken(ctx, t); err != nil {
			return err
		}
		return tx.emit(Event{Type: "invite.create", ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: "role " + string(role)})
	})
	if err != nil {
		return nil, err
	}
	lang := p.Language
	if lang == "" {
		lang = i18n.Default
	}
	actor := p.Name
	if actor == "" {
		actor = p.Email
	}
	if actor == "" {
		actor = "Custos"
	}
	if role.Valid() {
		roleLabel = i18n.Lookup(lang, "role."+string(role))
	} else if roleLabel == "" {
		roleLabel = string(role) // a custom role without a label
	}
	if err := s.send(ctx, mail.KindInvite, lang, email, mail.Data{Actor: actor, Role: roleLabel,
		Link: s.link("/invite/", secret), ValidFor: crm.InviteTTL}); err != nil {
		// Not sent: the admin sees "internal error" with a request id, the
		// log has the cause, and inviting again replaces this invitation.
		return nil, fmt.Errorf("invite: %w", err)
	}
	return &crm.Invitation{Email: email, Role: role, Name: name, ExpiresAt: t.ExpiresAt}, nil
}

// InvitationByToken implements crm.RecoveryService.
func (s *Service) InvitationByToken(ctx context.Context, token string) (*crm.Invitation, error) {
	t, err := s.findToken(ctx, crm.PurposeInvite, token)
	if err != nil {
		return nil, err
	}
	return &crm.Invitation{Email: t.Email, Role: t.Role, Name: t.Name, ExpiresAt: t.ExpiresAt}, nil
}

// AcceptInvitation implements crm.RecoveryService. The password rules of
// every other password apply; the link is checked before the (costly)
// hashing and used atomically after it.
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password, lang string) (*crm.User, string, error) {
	t, err := s.findToken(ctx, crm.PurposeInvite, token)
	if err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(name) == "" {
		name = t.Name
	}
	in := crm.UserInput{Email: &t.Email, Name: &name, Role: &t.Role, Password: &password}
	if lang != "" {
		in.Language = &lang
	}
	u, hash, err := s.prepareUser(ctx, in)
	if err != nil {
		return nil, "", err
	}
	u.PasswordHash = hash
	enrol := ""
	err = s.write(ctx, func(tx *wtx) error {
		// Serialised with role changes: the role of the invitation must
		// still exist when the user who gets it is made (ACL-1).
		if err := tx.LockRoles(ctx); err != nil {
			return err
		}
		used, err := s.useToken(ctx, tx, crm.PurposeInvite, token)
		if err != nil {
			return err
		}
		if !used.Role.Valid() {
			if _, err := tx.RoleByName(ctx, used.Role); crm.ErrorCode(err) == crm.ENOTFOUND {
				return &crm.Error{Code: crm.ECONFLICT, Message: "the role of this invitation no longer exists: ask for a new invitation",
					Fields: map[string]string{"token": "role gone"}}
			} else if err != nil {
				return err
			}
		}
		u.Email, u.Role = used.Email, used.Role
		u.CreatedAt, u.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		// The invitation proved the address: a role that requires a second
		// factor gets its enrolment link at once (enrollink.go).
		if mfa, err := s.roleMFA(ctx, tx, u.Role); err != nil {
			return err
		} else if mfa {
			if enrol, err = s.newEnrolLink(ctx, tx, u.ID, used.CreatedBy); err != nil {
				return err
			}
		}
		return tx.emit(Event{Type: "invite.accept", UserID: u.ID, ActorID: u.ID, Detail: "role " + string(u.Role)})
	})
	if err != nil {
		return nil, "", err
	}
	return u, enrol, nil
}
