package identity

import (
	"context"
	"errors"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/validate"
)

// Password reset (AUTH-8, attack 11): a 30-minute single-use link, sent
// only to an enabled account's address, answered identically for every
// address (ASVS v5.0.0-6.3.8). Using it sets the password, ends every
// session, revokes every API token and every other pending reset link of
// the user, and mails a notice (ASVS v5.0.0-6.3.7). It never signs in, so
// the second factor is still needed at the next login (ASVS v5.0.0-6.4.3).

// RequestPasswordReset implements crm.RecoveryService. Only the per-IP
// limit is visible to the caller; the per-account limit silently drops the
// request, since an error there would tell that the account exists.
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) error {
	if !s.resetLimit.allow(ip, s.authNow()) {
		return crm.Errorf(crm.ERATELIMITED, "too many reset requests; try again later")
	}
	email = normEmail(email)
	if len(email) > validate.MaxEmail || email == "" {
		return nil
	}
	var u *crm.User
	secret, t := newOneTime(crm.PurposeReset)
	err := s.write(ctx, func(tx *wtx) (err error) {
		if u, err = tx.UserByEmail(ctx, email); err != nil {
			return err
		}
		now := s.tokenNow(tx)
		n, err := tx.CountOneTimeTokens(ctx, crm.PurposeReset, u.ID, now.Add(-time.Hour))
		if err != nil {
			return err
		}
		if u.Disabled || n >= resetsPerAccount {
			u = nil
			return nil
		}
		t.UserID, t.CreatedBy = u.ID, u.ID
		t.CreatedAt, t.ExpiresAt = now, now.Add(crm.ResetTTL)
		if err := tx.InsertOneTimeToken(ctx, t); err != nil {
			return err
		}
		return tx.emit(Event{Type: "reset.request", UserID: u.ID, IP: ip})
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		err, u = nil, nil
	}
	if isSinkError(err) {
		// The link and its event rolled back together. The caller hears
		// what every request hears: an error only for a known address
		// would tell that the account exists.
		s.log.ErrorContext(ctx, "password reset not recorded; no link was made", "ip", ip, "error", err)
		return nil
	}
	if err != nil {
		return err
	}
	if u == nil {
		// No link was made (no such user, disabled, or over the limit):
		// the request is recorded all the same, without a subject.
		s.record(ctx, Event{Type: "reset.request", IP: ip})
		return nil
	}
	s.sendLater(ctx, mail.KindReset, u.Language, u.Email, mail.Data{Name: u.Name,
		Link: s.link("/reset/", secret), ValidFor: crm.ResetTTL})
	return nil
}

// CheckResetToken implements crm.RecoveryService.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	_, err := s.findToken(ctx, crm.PurposeReset, token)
	return err
}

// ResetPassword implements crm.RecoveryService.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	t, err := s.findToken(ctx, crm.PurposeReset, token)
	if err != nil {
		return err
	}
	var owner *crm.User
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { owner, err = tx.UserByID(ctx, t.UserID); return err }); err != nil {
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return badToken()
		}
		return err
	}
	if err := auth.CheckPassword(newPassword, owner.Email, owner.Name); err != nil {
		return crm.Invalid("password", err.Error())
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if errors.Is(err, auth.ErrBusy) {
		return crm.Errorf(crm.ERATELIMITED, "the server is busy; try again in a moment")
	} else if err != nil {
		return err
	}
	var u *crm.User
	err = s.write(ctx, func(tx *wtx) error {
		t, err := s.useToken(ctx, tx, crm.PurposeReset, token)
		if err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, t.UserID); err != nil {
			return err
		}
		if u.Disabled {
			return badToken()
		}
		now := tx.Now()
		u.PasswordHash, u.UpdatedAt = hash, now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		revoked, err := endCredentials(ctx, tx, u.ID, now)
		if err != nil {
			return err
		}
		if err := s.discardAccountLinks(ctx, tx, u.ID); err != nil {
			return err
		}
		return tx.emit(Event{Type: "reset.complete", UserID: u.ID, ActorID: u.ID, Detail: "sessions ended, " + itoa(revoked) + " tokens revoked"})
	})
	if err != nil {
		return err
	}
	_ = s.send(ctx, mail.KindPasswordChanged, u.Language, u.Email, mail.Data{Name: u.Name, When: s.authNow()})
	return nil
}

// endCredentials ends every session and revokes every live API token of a
// user, returning the number of tokens revoked.
func endCredentials(ctx context.Context, tx crm.IdentityTx, userID int64, now time.Time) (int, error) {
	if err := tx.DeleteUserSessions(ctx, userID, ""); err != nil {
		return 0, err
	}
	return revokeTokens(ctx, tx, userID, now)
}

// revokeTokens revokes every live API token of a user and returns how many.
func revokeTokens(ctx context.Context, tx crm.IdentityTx, userID int64, now time.Time) (int, error) {
	tokens, err := tx.Tokens(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tokens {
		if t.RevokedAt == nil {
			if err := tx.RevokeToken(ctx, t.ID, now); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
