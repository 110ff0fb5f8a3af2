package identity

import (
	"context"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// TOTP enrolment and recovery codes (AUTH-2). Enrolment begins with a fresh
// secret, stored pending; one correct code from the user's app activates
// it, creates the ten recovery codes and replaces the session. A half
// session that must enrol may do this; a signed-in user needs a recent
// step-up, since adding or removing a factor changes how the account is
// protected (ASVS v5.0.0-7.5.1).

// mayEnrol admits a half session that must enrol, and a full session with
// a recent step-up (adding a factor is a change of credentials, ASVS
// v5.0.0-7.5.1); a half session that has a factor to verify may not.
func (s *Service) mayEnrol(p *crm.Principal) error {
	if err := requireSession(p, true); err != nil {
		return err
	}
	switch p.Pending {
	case crm.MFAEnrol:
		return nil
	case crm.MFAEnrolLink:
		return enrolLinkRequired()
	case crm.MFANone:
		return s.requireStepUp(p)
	}
	return mfaRequired()
}

// enrolment describes a pending TOTP for the user's app.
func enrolment(t *crm.TOTP, account string) (*crm.TOTPEnrolment, error) {
	k, err := auth.TOTPKeyFor(t.Secret, account)
	if err != nil {
		return nil, err
	}
	png, err := k.PNG(qrSize)
	if err != nil {
		return nil, err
	}
	return &crm.TOTPEnrolment{Secret: k.Secret, URL: k.URL, QRCodePNG: png, ExpiresAt: t.CreatedAt.Add(enrolTTL)}, nil
}

// BeginTOTP implements crm.MFAService.
func (s *Service) BeginTOTP(ctx context.Context, p *crm.Principal) (*crm.TOTPEnrolment, error) {
	if err := s.mayEnrol(p); err != nil {
		return nil, err
	}
	k, err := auth.NewTOTPKey(p.Email)
	if err != nil {
		return nil, err
	}
	t := &crm.TOTP{UserID: p.UserID, Secret: k.Secret, CreatedAt: s.authNow()}
	err = s.write(ctx, func(tx *wtx) error {
		if old, err := hasTOTP(ctx, tx, p.UserID); err != nil {
			return err
		} else if old != nil {
			return crm.Errorf(crm.ECONFLICT, "an authenticator app is already set up; remove it first")
		}
		if err := tx.PutTOTP(ctx, t); err != nil {
			return err
		}
		return tx.emit(Event{Type: "mfa.totp.begin", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
	if err != nil {
		return nil, err
	}
	return enrolment(t, p.Email)
}

// pendingTOTP returns the user's pending, unexpired enrolment or ENOTFOUND.
func (s *Service) pendingTOTP(ctx context.Context, userID int64) (*crm.TOTP, error) {
	var t *crm.TOTP
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) { t, err = tx.TOTPByUser(ctx, userID); return err })
	if err != nil {
		return nil, err
	}
	if t.ConfirmedAt != nil || !s.authNow().Before(t.CreatedAt.Add(enrolTTL)) {
		return nil, crm.NotFound("pending enrolment")
	}
	return t, nil
}

// PendingTOTP implements crm.MFAService.
func (s *Service) PendingTOTP(ctx context.Context, p *crm.Principal) (*crm.TOTPEnrolment, error) {
	if err := s.mayEnrol(p); err != nil {
		return nil, err
	}
	t, err := s.pendingTOTP(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return enrolment(t, p.Email)
}

// newRecoveryCodes returns fresh codes and their stored hashes.
func newRecoveryCodes(userID int64) ([]string, [][]byte) {
	codes := auth.NewRecoveryCodes()
	hashes := make([][]byte, len(codes))
	for i, c := range codes {
		hashes[i] = auth.HashRecoveryCode(userID, c)
	}
	return codes, hashes
}

// ConfirmTOTP implements crm.MFAService.
func (s *Service) ConfirmTOTP(ctx context.Context, p *crm.Principal, code string) ([]string, *crm.SignIn, error) {
	if err := s.mayEnrol(p); err != nil {
		return nil, nil, err
	}
	t, err := s.pendingTOTP(ctx, p.UserID)
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil, nil, crm.Errorf(crm.ECONFLICT, "no enrolment is pending, or it expired; start again")
	} else if err != nil {
		return nil, nil, err
	}
	now := s.authNow()
	step, ok := auth.VerifyTOTP(t.Secret, code, now, 0)
	if !ok {
		return nil, nil, badCode()
	}
	codes, hashes := newRecoveryCodes(p.UserID)
	var in *crm.SignIn
	err = s.write(ctx, func(tx *wtx) (err error) {
		if err := tx.ConfirmTOTP(ctx, p.UserID, now, step); err != nil {
			if crm.ErrorCode(err) == crm.ENOTFOUND {
				return crm.Errorf(crm.ECONFLICT, "no enrolment is pending; start again")
			}
			return err
		}
		// A factor is set: enrolment links still outstanding must not let
		// anyone add another with the password later.
		if _, err := tx.DiscardOneTimeTokens(ctx, crm.PurposeEnrol, p.UserID, "", s.tokenNow(tx)); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, p.UserID, hashes, now); err != nil {
			return err
		}
		// A new factor ends every other session (ASVS v5.0.0-7.4.3): one
		// opened with the password alone should not outlive the change.
		if err := tx.DeleteUserSessions(ctx, p.UserID, p.SessionID); err != nil {
			return err
		}
		if in, err = s.rotate(ctx, tx, p, crm.AAL2, now); err != nil {
			return err
		}
		if p.Pending != crm.MFANone {
			if err := s.touchLogin(ctx, tx, p.UserID); err != nil {
				return err
			}
		}
		return tx.emit(Event{Type: "mfa.totp.enrol", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
	if err != nil {
		return nil, nil, err
	}
	return codes, in, nil
}

// RemoveTOTP implements crm.MFAService.
func (s *Service) RemoveTOTP(ctx context.Context, p *crm.Principal) error {
	if err := requireSession(p, false); err != nil {
		return err
	}
	if err := s.requireStepUp(p); err != nil {
		return err
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := tx.DeleteTOTP(ctx, p.UserID); err != nil {
			return err
		}
		if err := tx.ReplaceRecoveryCodes(ctx, p.UserID, nil, tx.Now()); err != nil {
			return err
		}
		return tx.emit(Event{Type: "mfa.totp.remove", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
}

// RegenerateRecoveryCodes implements crm.MFAService.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *crm.Principal) ([]string, error) {
	if err := requireSession(p, false); err != nil {
		return nil, err
	}
	if err := s.requireStepUp(p); err != nil {
		return nil, err
	}
	codes, hashes := newRecoveryCodes(p.UserID)
	err := s.write(ctx, func(tx *wtx) error {
		if t, err := hasTOTP(ctx, tx, p.UserID); err != nil {
			return err
		} else if t == nil {
			return crm.Errorf(crm.ECONFLICT, "set up an authenticator app first")
		}
		if err := tx.ReplaceRecoveryCodes(ctx, p.UserID, hashes, s.authNow()); err != nil {
			return err
		}
		return tx.emit(Event{Type: "mfa.recovery.regenerate", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}
