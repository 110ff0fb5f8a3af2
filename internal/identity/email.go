package identity

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/validate"
)

// Email change (AUTH-8): the new address must prove itself by a link mailed
// to it (valid 24 hours, single use), and the old address is told at once,
// so that a hijacked session cannot quietly redirect password resets.
// Only a browser session may ask (API tokens never change credentials), and
// the request needs a recent re-authentication (step-up; ASVS v5.0.0-7.5.1).

// RequestEmailChange implements crm.RecoveryService. Whether the new
// address is taken is only checked at confirmation, so the request does not
// reveal other users' addresses.
func (s *Service) RequestEmailChange(ctx context.Context, p *crm.Principal, newEmail string) error {
	if p == nil || p.UserID == 0 {
		return unauthenticated()
	}
	if p.Kind != crm.KindSession {
		return forbidden()
	}
	// Changing the address is a credential change (ASVS v5.0.0-7.5.1).
	if err := s.requireStepUp(p); err != nil {
		return err
	}
	v := validate.New()
	newEmail = v.Email("email", newEmail, true)
	if err := v.Err(); err != nil {
		return err
	}
	return s.requestEmailChange(ctx, p, p.UserID, newEmail)
}

// requestEmailChange stores a confirmation link for userID's new address,
// mails it to that address and tells the old one. p is the user themself or
// an administrator (UpdateUser); the link's creator and the event say which.
func (s *Service) requestEmailChange(ctx context.Context, p *crm.Principal, userID int64, newEmail string) error {
	var u *crm.User
	var secret string
	err := s.write(ctx, func(tx *wtx) (err error) {
		if u, err = tx.UserByID(ctx, userID); err != nil {
			return err
		}
		secret, err = s.storeEmailChange(ctx, tx, p, u, newEmail)
		return err
	})
	if err != nil {
		return err
	}
	return s.sendEmailChange(ctx, u, newEmail, secret)
}

// storeEmailChange stores, inside tx, a confirmation link for u's new
// address and returns its secret; ERATELIMITED after resetsPerAccount
// requests in an hour. UpdateUser calls it inside its own transaction, so
// that a refused change leaves the rest of the update unwritten too. The
// request's event is emitted in tx.
func (s *Service) storeEmailChange(ctx context.Context, tx *wtx, p *crm.Principal, u *crm.User, newEmail string) (string, error) {
	if u.Email == newEmail {
		return "", crm.Invalid("email", "is already the address")
	}
	now := s.tokenNow(tx)
	n, err := tx.CountOneTimeTokens(ctx, crm.PurposeEmail, u.ID, now.Add(-time.Hour))
	if err != nil {
		return "", err
	} else if n >= resetsPerAccount {
		return "", crm.Errorf(crm.ERATELIMITED, "too many address changes; try again later")
	}
	if _, err := tx.DiscardOneTimeTokens(ctx, crm.PurposeEmail, u.ID, "", now); err != nil {
		return "", err
	}
	secret, t := newOneTime(crm.PurposeEmail)
	t.UserID, t.CreatedBy, t.NewEmail = u.ID, p.UserID, newEmail
	t.CreatedAt, t.ExpiresAt = now, now.Add(crm.EmailChangeTTL)
	if err := tx.InsertOneTimeToken(ctx, t); err != nil {
		return "", err
	}
	ev := Event{Type: "email.change.request", UserID: u.ID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID}
	if p.UserID != u.ID {
		ev.Detail = "by an administrator"
	}
	return secret, tx.emit(ev)
}

// sendEmailChange mails the link to the new address and the notice to the
// old one, after the commit.
func (s *Service) sendEmailChange(ctx context.Context, u *crm.User, newEmail, secret string) error {
	if err := s.send(ctx, mail.KindEmailConfirm, u.Language, newEmail, mail.Data{Name: u.Name,
		Link: s.link("/account/email/confirm/", secret), ValidFor: crm.EmailChangeTTL}); err != nil {
		return err
	}
	return s.send(ctx, mail.KindEmailNotice, u.Language, u.Email, mail.Data{Name: u.Name, NewEmail: newEmail, When: s.authNow()})
}

// ConfirmEmailChange implements crm.RecoveryService. Pending reset links,
// mailed to the old address, stop working.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) (*crm.User, error) {
	if !wellFormed(token) {
		return nil, badToken()
	}
	var u *crm.User
	var byAdmin bool
	var revoked int
	var actor int64
	err := s.write(ctx, func(tx *wtx) error {
		t, err := s.useToken(ctx, tx, crm.PurposeEmail, token)
		if err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, t.UserID); err != nil {
			return err
		}
		actor = u.ID
		if u.Disabled {
			return badToken()
		}
		u.Email, u.UpdatedAt = t.NewEmail, tx.Now()
		if err := tx.UpdateUser(ctx, u); crm.ErrorCode(err) == crm.ECONFLICT {
			return &crm.Error{Code: crm.ECONFLICT, Message: "this address already belongs to another user",
				Fields: map[string]string{"email": "already a user"}}
		} else if err != nil {
			return err
		}
		if err = s.discardAccountLinks(ctx, tx, u.ID); err != nil {
			return err
		}
		if byAdmin = t.CreatedBy != 0 && t.CreatedBy != u.ID; byAdmin {
			// An address changed by someone else: whoever holds the
			// user's sessions and tokens now may not be the user.
			if revoked, err = endCredentials(ctx, tx, u.ID, tx.Now()); err != nil {
				return err
			}
			actor = t.CreatedBy
		}
		ev := Event{Type: "email.change.confirm", UserID: u.ID, ActorID: actor}
		if byAdmin {
			ev.Detail = "requested by an administrator; sessions ended, " + itoa(revoked) + " tokens revoked"
		}
		return tx.emit(ev)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
