package identity

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// Multi-factor authentication (AUTH-2, AUTH-4, AUTH-5; NIST SP 800-63B
// AAL2; ASVS v5.0.0-6.3.3, 6.5.1, 7.2.4, 7.5.3).
//
//   - Login checks the password. When the user's role requires MFA (the
//     configured roles, always admin) or the user has enrolled TOTP, the
//     session it creates is half-authenticated (AAL1, MFA pending, a short
//     life): its principal carries Pending and the policy grants it
//     nothing. It may see its MFA status, verify a second factor, enrol
//     TOTP when it has none, and log out.
//   - The second factor (VerifyMFA, or ConfirmTOTP during enrolment)
//     replaces the half session with a new one, new id and new secret, at
//     AAL2: a session id known before the second factor is worth nothing
//     after it (fixation, attack 8).
//   - A TOTP code is accepted once: the store keeps the last accepted time
//     step per user and moves it forward with a compare-and-set, so a
//     replay fails in another session and on another instance too
//     (attack 10). Recovery codes are used up by an atomic update.
//   - Step-up: sensitive actions (user administration, token creation,
//     changing factors, unlocking and ending others' sessions) need a
//     re-authentication within the step-up window. StepUp takes the second
//     factor (or, for a user without one, the password) and again issues
//     a new session. API tokens never step up, so they cannot reach these
//     actions.
//   - Every check of a secret goes through the throttle (throttle.go).

// Defaults of the MFA configuration.
const (
	// DefaultStepUpWindow is how long a re-authentication opens sensitive
	// actions when no window is configured.
	DefaultStepUpWindow = 5 * time.Minute
	// halfSessionTTL bounds a half-authenticated session: long enough to
	// install an authenticator app and enrol, short enough to be useless
	// to whoever finds it.
	halfSessionTTL = 15 * time.Minute
	// enrolTTL bounds a begun TOTP enrolment.
	enrolTTL = 15 * time.Minute
	// qrSize is the side of the enrolment QR code in pixels.
	qrSize = 240
)

// DefaultMFARoles are the roles that must use MFA when none are configured.
var DefaultMFARoles = []crm.Role{crm.RoleAdmin, crm.RoleManager}

// mfaConfig is the MFA, step-up and throttling configuration of a Service.
type mfaConfig struct {
	roles    map[crm.Role]bool
	stepUp   time.Duration
	throttle auth.Throttle
}

// initMFA applies the MFA options. Administrators always need MFA.
func (s *Service) initMFA(o Options) {
	roles := o.MFARoles
	if roles == nil {
		roles = DefaultMFARoles
	}
	s.mfa.roles = map[crm.Role]bool{crm.RoleAdmin: true}
	for _, r := range roles {
		s.mfa.roles[r] = true
	}
	s.mfa.stepUp = o.StepUpWindow
	if s.mfa.stepUp <= 0 {
		s.mfa.stepUp = DefaultStepUpWindow
	}
	s.mfa.throttle = o.Throttle.WithDefaults()
	// NIST SP 800-63B §5.2.2: never more than 100 failures in a row.
	s.mfa.throttle.AccountLimit = min(s.mfa.throttle.AccountLimit, auth.MaxAccountLimit)
}

// authNow is the time of authentication decisions (throttling, TOTP time
// steps, step-up windows): the test clock when one is set.
func (s *Service) authNow() time.Time {
	if s.clock != nil {
		return s.clock().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func mfaRequired() error {
	return crm.Errorf(crm.EMFAREQUIRED, "complete the second sign-in step first")
}

func badCode() error {
	return &crm.Error{Code: crm.EINVALID, Message: "the code is wrong or was already used",
		Fields: map[string]string{"code": "wrong or already used"}}
}

// requireStepUp is the guard of sensitive actions (ASVS v5.0.0-7.5.3): the
// system principal passes; a session passes within the step-up window of
// its last re-authentication; API tokens never pass.
func (s *Service) requireStepUp(p *crm.Principal) error {
	return policy.RequireStepUp(p, s.authNow(), s.mfa.stepUp)
}

// requireAdmin is user administration: the right and a recent step-up.
func (s *Service) requireAdmin(p *crm.Principal) error {
	if err := s.require(p, policy.ManageUsers); err != nil {
		return err
	}
	return s.requireStepUp(p)
}

// requireSession admits session principals (half ones only when half is
// set): API tokens manage no factors and no sessions.
func requireSession(p *crm.Principal, half bool) error {
	switch {
	case p == nil || p.UserID == 0:
		return unauthenticated()
	case p.Kind != crm.KindSession:
		return crm.Errorf(crm.EFORBIDDEN, "this needs a signed-in session; API tokens cannot do it")
	case p.Pending != crm.MFANone && !half:
		return mfaRequired()
	}
	return nil
}

// pendingStep is what a session of u still has to do: nothing once it
// reached AAL2 or when u needs no second factor, else verify one or, with
// none enrolled, enrol TOTP. The role is checked here, on every request,
// so that a role that starts to require MFA holds its sessions at once.
func (s *Service) pendingStep(ctx context.Context, tx crm.IdentityTx, sess *crm.Session, u *crm.User, roleMFA bool) (crm.MFAStep, error) {
	if sess.AAL >= crm.AAL2 || !(sess.MFAPending || roleMFA) {
		return crm.MFANone, nil
	}
	// A confirmed TOTP or a usable passkey is a second factor to verify;
	// without either the user must enrol one.
	if t, err := hasTOTP(ctx, tx, u.ID); err != nil {
		return "", err
	} else if t != nil {
		return crm.MFAVerify, nil
	}
	if ok, err := hasPasskey(ctx, tx, u.ID); err != nil {
		return "", err
	} else if ok {
		return crm.MFAVerify, nil
	}
	// Without a factor, only a session that came through an enrolment link
	// may enrol one (enrollink.go).
	if sess.MayEnrol {
		return crm.MFAEnrol, nil
	}
	return crm.MFAEnrolLink, nil
}

// hasTOTP reports whether the user has a confirmed TOTP.
func hasTOTP(ctx context.Context, tx crm.IdentityTx, userID int64) (*crm.TOTP, error) {
	t, err := tx.TOTPByUser(ctx, userID)
	if crm.ErrorCode(err) == crm.ENOTFOUND || (err == nil && t.ConfirmedAt == nil) {
		return nil, nil
	}
	return t, err
}

// factors are the second factors a user holds.
type factors struct {
	totp     *crm.TOTP // confirmed; nil when none
	pending  *crm.TOTP // an enrolment begun and not confirmed; nil when none
	passkeys int
}

// any reports whether the user holds a second factor of any kind (recovery
// codes come with TOTP).
func (f factors) any() bool { return f.totp != nil || f.passkeys > 0 }

// factorsOf reads the second factors of userID: its TOTP row and its
// passkeys, once each.
func factorsOf(ctx context.Context, tx crm.IdentityTx, userID int64) (factors, error) {
	var f factors
	t, err := tx.TOTPByUser(ctx, userID)
	switch {
	case crm.ErrorCode(err) == crm.ENOTFOUND:
	case err != nil:
		return f, err
	case t.ConfirmedAt == nil:
		f.pending = t
	default:
		f.totp = t
	}
	keys, err := tx.PasskeysByUser(ctx, userID)
	f.passkeys = len(keys)
	return f, err
}

// passwordStepUp reports whether p may step up with the password alone
// (AUTH-4): only a user who holds no second factor and whose role does not
// require one. Everyone else confirms with a second factor: a TOTP or
// recovery code, or a passkey assertion.
func (s *Service) passwordStepUp(p *crm.Principal, f factors) bool {
	return !f.any() && !s.principalMFA(p)
}

// usePasskey is the refusal of a code or password step-up by a user whose
// only second factor is a passkey.
func usePasskey() error {
	return &crm.Error{Code: crm.EINVALID, Message: "confirm with your passkey: a password does not step up an account that has a second factor",
		Fields: map[string]string{"code": "use a passkey"}}
}

// newSessionFor makes a session of userID with a fresh secret, not yet stored.
func newSessionFor(userID int64, ip, userAgent string) (*crm.Session, string) {
	secret := auth.NewSecret("")
	return &crm.Session{ID: auth.NewID(), UserID: userID, SecretHash: auth.HashSecret(secret),
		CSRFToken: auth.CSRFToken(secret), IP: ip, UserAgent: truncate(userAgent, 300), AAL: crm.AAL1}, secret
}

// rotate replaces the principal's session, inside tx, with a new one at
// aal that counts as stepped up now (new id, secret and CSRF token:
// ASVS v5.0.0-7.2.4). A half session's replacement starts a full session
// life; otherwise the absolute timeout is kept, so that re-authenticating
// never stretches a session. ENOTFOUND becomes EUNAUTHENTICATED: the
// session ended meanwhile.
func (s *Service) rotate(ctx context.Context, tx crm.IdentityTx, p *crm.Principal, aal int, steppedUp time.Time) (*crm.SignIn, error) {
	list, err := tx.SessionsByUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(x *crm.Session) bool { return x.ID == p.SessionID })
	if i < 0 {
		return nil, unauthenticated()
	}
	old := list[i]
	if err := tx.DeleteSession(ctx, old.ID); err != nil {
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return nil, unauthenticated()
		}
		return nil, err
	}
	now := s.tokenNow(tx)
	sess, secret := newSessionFor(p.UserID, p.IP, p.UserAgent)
	sess.AAL = max(aal, old.AAL)
	sess.SteppedUpAt = &steppedUp
	sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = old.CreatedAt, now, old.ExpiresAt
	if old.MFAPending {
		sess.CreatedAt, sess.ExpiresAt = now, now.Add(s.absolute)
	}
	if sess.IP == "" {
		sess.IP, sess.UserAgent = old.IP, old.UserAgent
	}
	if err := tx.InsertSession(ctx, sess); err != nil {
		return nil, err
	}
	return &crm.SignIn{Session: sess, Secret: secret, SteppedUpUntil: steppedUp.Add(s.mfa.stepUp)}, nil
}

// secondFactor checks code as a TOTP code or, failing its shape, as a
// recovery code of userID, and uses it up: the TOTP step by a
// compare-and-set, the recovery code by an atomic update. It reports the
// kind used ("totp" or "recovery") and how many recovery codes are left,
// or ok false. A recovery code used emits its event in the transaction
// that uses it.
func (s *Service) secondFactor(ctx context.Context, p *crm.Principal, code string, now time.Time) (kind string, left int, ok bool, err error) {
	userID := p.UserID
	var t *crm.TOTP
	var codes []*crm.RecoveryCode
	err = s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if t, err = hasTOTP(ctx, tx, userID); err != nil || t == nil {
			return err
		}
		codes, err = tx.RecoveryCodes(ctx, userID)
		return err
	})
	if err != nil || t == nil {
		return "", 0, false, err
	}
	if otp := auth.NormalizeOTP(code); len(otp) == 6 {
		step, match := auth.VerifyTOTP(t.Secret, otp, now, t.LastStep)
		if !match {
			return "totp", 0, false, nil
		}
		err = s.store.Write(ctx, func(tx crm.Tx) (err error) {
			ok, err = tx.UseTOTPStep(ctx, userID, step)
			return err
		})
		return "totp", 0, ok, err
	}
	var unused [][]byte
	var ids []int64
	for _, c := range codes {
		if c.UsedAt == nil {
			unused, ids = append(unused, c.Hash), append(ids, c.ID)
		}
	}
	i := auth.MatchRecoveryCode(userID, code, unused)
	if i < 0 {
		return "recovery", 0, false, nil
	}
	left = len(unused) - 1
	err = s.write(ctx, func(tx *wtx) (err error) {
		if ok, err = tx.UseRecoveryCode(ctx, ids[i], now); err != nil || !ok {
			return err
		}
		return tx.emit(Event{Type: "mfa.recovery.used", UserID: p.UserID, ActorID: p.UserID, IP: p.IP,
			RequestID: p.RequestID, Detail: itoa(left) + " left"})
	})
	return "recovery", left, ok, err
}

// checkFactor runs one throttled check of a second factor (or, with
// password set, of the password) for p and emits the failure event. On
// success the caller must settle the admission in its transaction.
func (s *Service) checkFactor(ctx context.Context, p *crm.Principal, code string, password bool, failEvent string) (*admission, string, int, error) {
	a, r, err := s.admit(ctx, userKey(p.UserID), p.IP)
	if err != nil {
		return nil, "", 0, err
	}
	ev := Event{Type: failEvent, UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID}
	if r != nil {
		ev.Detail = refusalDetail(r)
		s.record(ctx, ev)
		return nil, "", 0, refusedError(r, badCode())
	}
	var kind string
	var left int
	var ok bool
	if password {
		kind = "password"
		ok, err = s.checkPassword(ctx, p.UserID, code)
	} else {
		kind, left, ok, err = s.secondFactor(ctx, p, code, s.authNow())
	}
	if err != nil {
		s.abandon(ctx, a)
		return nil, "", 0, err
	}
	if !ok {
		ev.Detail = kind
		if s.failed(ctx, a, p.UserID, Event{Type: "login.locked", UserID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: failEvent}) {
			ev.Detail += "; account locked"
		}
		s.record(ctx, ev)
		return nil, "", 0, badCode()
	}
	return a, kind, left, nil
}

// checkPassword verifies the user's password for a step-up.
func (s *Service) checkPassword(ctx context.Context, userID int64, password string) (bool, error) {
	if len(password) > 4*auth.MaxPasswordLen {
		return false, nil
	}
	var u *crm.User
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { u, err = tx.UserByID(ctx, userID); return err }); err != nil {
		return false, err
	}
	ok, _, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if errors.Is(err, auth.ErrBusy) {
		return false, crm.Errorf(crm.ERATELIMITED, "the server is busy; try again in a moment")
	}
	return ok && !u.Disabled, err
}

// VerifyMFA implements crm.MFAService.
func (s *Service) VerifyMFA(ctx context.Context, p *crm.Principal, code string) (*crm.SignIn, error) {
	if err := requireSession(p, true); err != nil {
		return nil, err
	}
	if p.Pending != crm.MFAVerify {
		return nil, crm.Errorf(crm.ECONFLICT, "this session has no second factor to verify")
	}
	a, kind, _, err := s.checkFactor(ctx, p, code, false, "mfa.challenge.failure")
	if err != nil {
		return nil, err
	}
	now := s.authNow()
	var in *crm.SignIn
	err = s.write(ctx, func(tx *wtx) (err error) {
		if err := s.settle(ctx, tx, a, true); err != nil {
			return err
		}
		if in, err = s.rotate(ctx, tx, p, crm.AAL2, now); err != nil {
			return err
		}
		if err := s.touchLogin(ctx, tx, p.UserID); err != nil {
			return err
		}
		return tx.emit(Event{Type: "mfa.challenge.success", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: kind})
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// touchLogin records a completed sign-in as the user's last login.
func (s *Service) touchLogin(ctx context.Context, tx crm.IdentityTx, userID int64) error {
	u, err := tx.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	now := tx.Now()
	u.LastLoginAt = &now
	return tx.UpdateUser(ctx, u)
}

// StepUp implements crm.MFAService.
func (s *Service) StepUp(ctx context.Context, p *crm.Principal, code string) (*crm.SignIn, error) {
	if p != nil && p.Kind == crm.KindToken {
		return nil, crm.Errorf(crm.EFORBIDDEN, "API tokens cannot step up; sensitive actions need a signed-in session")
	}
	if err := requireSession(p, false); err != nil {
		return nil, err
	}
	var f factors
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { f, err = factorsOf(ctx, tx, p.UserID); return err }); err != nil {
		return nil, err
	}
	password := s.passwordStepUp(p, f)
	if !f.any() && !password {
		return nil, crm.Errorf(crm.EFORBIDDEN, "your role requires a second factor: enrol one first")
	}
	if !password && f.totp == nil {
		// Only passkeys: the password proves less than the factor the
		// user holds, so it is refused before it is even checked.
		return nil, usePasskey()
	}
	a, kind, _, err := s.checkFactor(ctx, p, code, password, "stepup.failure")
	if err != nil {
		return nil, err
	}
	aal := crm.AAL1
	if kind != "password" {
		aal = crm.AAL2
	}
	now := s.authNow()
	var in *crm.SignIn
	err = s.write(ctx, func(tx *wtx) (err error) {
		if err := s.settle(ctx, tx, a, true); err != nil {
			return err
		}
		if in, err = s.rotate(ctx, tx, p, aal, now); err != nil {
			return err
		}
		return tx.emit(Event{Type: "stepup.success", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: kind})
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

// MFAStatus implements crm.MFAService.
func (s *Service) MFAStatus(ctx context.Context, p *crm.Principal) (*crm.MFAStatus, error) {
	if err := requireSession(p, true); err != nil {
		return nil, err
	}
	st := &crm.MFAStatus{Required: s.principalMFA(p), Pending: p.Pending}
	err := s.store.Read(ctx, func(tx crm.Tx) error {
		f, err := factorsOf(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		st.Passkeys, st.PasswordStepUp = f.passkeys, s.passwordStepUp(p, f)
		t := f.totp
		if t == nil {
			t = f.pending
		}
		if t == nil {
			return nil
		}
		st.TOTP, st.TOTPConfirmedAt = t.ConfirmedAt != nil, t.ConfirmedAt
		st.TOTPPending = t.ConfirmedAt == nil && s.authNow().Before(t.CreatedAt.Add(enrolTTL))
		codes, err := tx.RecoveryCodes(ctx, p.UserID)
		for _, c := range codes {
			if c.UsedAt == nil {
				st.RecoveryCodesLeft++
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.Pending == crm.MFANone && !p.SteppedUpAt.IsZero() {
		if until := p.SteppedUpAt.Add(s.mfa.stepUp); s.authNow().Before(until) {
			st.SteppedUpUntil = &until
		}
	}
	return st, nil
}

// RevokeOtherSessions implements crm.MFAService.
func (s *Service) RevokeOtherSessions(ctx context.Context, p *crm.Principal) (int, error) {
	if err := requireSession(p, false); err != nil {
		return 0, err
	}
	n := 0
	err := s.write(ctx, func(tx *wtx) error {
		list, err := tx.SessionsByUser(ctx, p.UserID)
		if err != nil {
			return err
		}
		for _, x := range list {
			if x.ID != p.SessionID {
				n++
			}
		}
		if err := tx.DeleteUserSessions(ctx, p.UserID, p.SessionID); err != nil {
			return err
		}
		return tx.emit(Event{Type: "session.revoke", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID,
			Detail: "all others: " + itoa(n)})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// RevokeUserSessions implements crm.MFAService: it ends the user's
// sessions and revokes their API tokens (INC-2). An administrator ending
// their own sessions keeps the current one.
func (s *Service) RevokeUserSessions(ctx context.Context, p *crm.Principal, userID int64) error {
	if err := s.requireAdmin(p); err != nil {
		return err
	}
	except := ""
	if userID == p.UserID {
		except = p.SessionID
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := s.requireAbove(ctx, tx, p, userID); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, userID, except); err != nil {
			return err
		}
		revoked, err := revokeTokens(ctx, tx, userID, tx.Now())
		if err != nil {
			return err
		}
		return tx.emit(Event{Type: "session.revoke", UserID: userID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID,
			Detail: "all sessions and " + itoa(revoked) + " tokens, by an administrator"})
	})
}
