package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/i18n"
	"github.com/custos-crm/custos/internal/mail"
)

// First-use enrolment links (AUTH-2; issue 9 item 4). A user whose role
// requires a second factor and who has none cannot enrol one with the
// password alone: whoever held that password could otherwise bind their own
// authenticator to the account. Such a user enrols through a one-time
// enrolment link, used together with the password:
//
//   - accepting an invitation, or the setup code of the first
//     administrator, hands the new user one at once (the invitation or the
//     setup code proved the same thing);
//   - `custos user add` and `custos user enrol-link` print one for the
//     operator, who holds the server anyway;
//   - an administrator (with a step-up) has one mailed to the user, never
//     shown to the administrator, for a user who has lost every factor or
//     whose new role requires one; a role change does so by itself.
//
// A session signed in with the password alone is held at MFAEnrolLink and
// reaches nothing; one signed in through a link (StartEnrolment) is marked
// MayEnrol and may enrol (MFAEnrol).

// discardAccountLinks ends the user's outstanding reset and enrolment
// links, inside tx: after a change of password, address or factors, or a
// disable, a link mailed before must not outlive it (attack 11).
func (s *Service) discardAccountLinks(ctx context.Context, tx crm.IdentityTx, userID int64) error {
	now := s.tokenNow(tx)
	for _, purpose := range []crm.OneTimePurpose{crm.PurposeReset, crm.PurposeEnrol} {
		if _, err := tx.DiscardOneTimeTokens(ctx, purpose, userID, "", now); err != nil {
			return err
		}
	}
	return nil
}

// resetFactors removes every second factor of the user (TOTP, begun or
// confirmed, recovery codes, passkeys), inside tx. A promotion into a role
// that requires a second factor does this: under the old role the
// password alone could add a factor (a password step-up), so a factor from
// then proves nothing the new role may rely on; the user enrols anew
// through a link.
func resetFactors(ctx context.Context, tx crm.IdentityTx, userID int64, now time.Time) error {
	if err := tx.DeleteTOTP(ctx, userID); err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
		return err
	}
	if err := tx.ReplaceRecoveryCodes(ctx, userID, nil, now); err != nil {
		return err
	}
	keys, err := tx.PasskeysByUser(ctx, userID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.DeletePasskey(ctx, userID, k.ID); err != nil {
			return err
		}
	}
	return nil
}

// RoleRequiresMFA reports whether users of role must sign in with a second
// factor (and so enrol theirs through a link).
func (s *Service) RoleRequiresMFA(ctx context.Context, role crm.Role) (bool, error) {
	var mfa bool
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) { mfa, err = s.roleMFA(ctx, tx, role); return err })
	return mfa, err
}

// enrolLinkRequired is the refusal of an enrolment by a session that did
// not come through an enrolment link.
func enrolLinkRequired() error {
	return crm.Errorf(crm.EFORBIDDEN, "your role requires a second factor: set it up through the enrolment link sent to you (an administrator can send a new one)")
}

// newEnrolLink stores a new enrolment link of userID inside tx, replacing
// earlier ones, and returns its secret.
func (s *Service) newEnrolLink(ctx context.Context, tx crm.IdentityTx, userID, createdBy int64) (string, error) {
	now := s.tokenNow(tx)
	if _, err := tx.DiscardOneTimeTokens(ctx, crm.PurposeEnrol, userID, "", now); err != nil {
		return "", err
	}
	secret, t := newOneTime(crm.PurposeEnrol)
	t.UserID, t.CreatedBy, t.CreatedAt, t.ExpiresAt = userID, createdBy, now, now.Add(crm.EnrolTTL)
	return secret, tx.InsertOneTimeToken(ctx, t)
}

// IssueEnrolmentLink implements crm.RecoveryService.
func (s *Service) IssueEnrolmentLink(ctx context.Context, p *crm.Principal, userID int64) (string, error) {
	if p == nil || p.Kind != crm.KindSystem {
		if err := s.requireAdmin(p); err != nil {
			return "", err
		}
	}
	var u *crm.User
	var secret string
	err := s.write(ctx, func(tx *wtx) (err error) {
		if err := s.requireAbove(ctx, tx, p, userID); err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, userID); err != nil {
			return err
		}
		if u.Disabled {
			return crm.Errorf(crm.ECONFLICT, "the user is disabled")
		}
		f, err := factorsOf(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if f.any() {
			return crm.Errorf(crm.ECONFLICT, "the user has a second factor; an enrolment link is only for a user who has none")
		}
		if secret, err = s.newEnrolLink(ctx, tx, u.ID, p.UserID); err != nil {
			return err
		}
		return tx.emit(Event{Type: "enrol.link", UserID: u.ID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
	if err != nil {
		return "", err
	}
	if p.Kind == crm.KindSystem {
		return s.link("/enrol/", secret), nil
	}
	if err := s.sendEnrolLink(ctx, p, u, secret); err != nil {
		return "", fmt.Errorf("enrolment link: %w", err)
	}
	return "", nil
}

// sendEnrolLink mails an enrolment link to its user alone.
func (s *Service) sendEnrolLink(ctx context.Context, p *crm.Principal, u *crm.User, secret string) error {
	actor := p.Name
	if actor == "" {
		actor = p.Email
	}
	if actor == "" {
		actor = i18n.Lookup(u.Language, "mail.your_administrator")
	}
	return s.send(ctx, mail.KindEnrol, u.Language, u.Email, mail.Data{Name: u.Name, Actor: actor,
		Link: s.link("/enrol/", secret), ValidFor: crm.EnrolTTL})
}

// EnrolmentLinkUser implements crm.RecoveryService.
func (s *Service) EnrolmentLinkUser(ctx context.Context, token string) (*crm.User, error) {
	t, err := s.findToken(ctx, crm.PurposeEnrol, token)
	if err != nil {
		return nil, err
	}
	var u *crm.User
	err = s.store.Read(ctx, func(tx crm.Tx) (err error) { u, err = tx.UserByID(ctx, t.UserID); return err })
	if crm.ErrorCode(err) == crm.ENOTFOUND || (err == nil && u.Disabled) {
		return nil, badToken()
	}
	return u, err
}

// StartEnrolment implements crm.RecoveryService: the password sign-in of
// Login, throttled alike, which also uses the link (in the same
// transaction as the session) and marks the session MayEnrol.
func (s *Service) StartEnrolment(ctx context.Context, token, password, ip, userAgent string) (*crm.User, *crm.Session, string, error) {
	u, err := s.EnrolmentLinkUser(ctx, token)
	if err != nil {
		return nil, nil, "", err
	}
	return s.signIn(ctx, u.Email, password, ip, userAgent, token)
}
