package identity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// Passkeys and security keys (AUTH-3; WebAuthn through auth.RelyingParty).
//
//   - A passkey is a second factor: it settles a half-authenticated
//     session (whether its step is to verify or, for a user with no TOTP,
//     to enrol: the passkey is the enrolled factor) and, for a full
//     session, is a step-up. Either way the session is replaced by a new
//     one at AAL2 (fixation), as mfa.go does for TOTP.
//   - With user verification (PIN, biometrics) a discoverable passkey
//     signs in alone: the browser offers the passkeys it holds for this
//     site, the server finds the account from the credential id and checks
//     that the user handle is the one the credential was made for, and a
//     full session at AAL2 starts at once.
//   - Every ceremony's challenge stays on the server, bound to the session
//     (register, verify) or, for a passwordless login, to a random id that
//     only the browser's cookie holds (stored as its SHA-256); the finish
//     step takes it, so an assertion is accepted once. A passkey of another
//     user is refused: a second-factor ceremony allows only the
//     principal's own credentials, and a passwordless one finds the owner
//     from the credential.
//   - A signature counter that does not grow flags the passkey
//     (passkey.regression) and the sign-in is refused; a flagged passkey
//     signs in no more until its owner removes it.
//   - Adding and removing passkeys needs a recent step-up (mfa.go);
//     failures count towards the throttle like wrong codes (throttle.go).

// maxPasskeyName bounds a passkey's name.
const maxPasskeyName = 100

// maxPasskeys bounds the passkeys of one user.
const maxPasskeys = 20

// passkeysOff is the error when the server has no relying party.
func passkeysOff() error {
	return crm.Errorf(crm.ECONFLICT, "passkeys are not configured on this server")
}

func badPasskey() error {
	return &crm.Error{Code: crm.EINVALID, Message: "the passkey was not accepted",
		Fields: map[string]string{"credential": "not accepted"}}
}

func badPasskeyLogin() error {
	return crm.Errorf(crm.EUNAUTHENTICATED, "the passkey was not accepted")
}

func noCeremony() error {
	return crm.Errorf(crm.ECONFLICT, "no passkey request is pending, or it expired; start again")
}

// passkeyUser is the relying party's view of a user and its passkeys. Its
// handle is the one of the user's passkeys; a user without any gets a new
// random one when registering (the ceremony keeps it until the finish).
func passkeyUser(email, name string, keys []*crm.Passkey) (*auth.PasskeyUser, error) {
	u := &auth.PasskeyUser{Name: email, DisplayName: name}
	for _, k := range keys {
		if len(u.Handle) == 0 {
			u.Handle = k.UserHandle
		}
		if k.FlaggedAt != nil {
			continue // a flagged passkey is neither offered nor accepted
		}
		u.Credentials = append(u.Credentials, auth.PasskeyCredential{ID: k.CredentialID, UserHandle: k.UserHandle,
			PublicKey: k.PublicKey, SignCount: uint32(k.SignCount), AAGUID: k.AAGUID, Transports: k.Transports,
			Flags: uint8(k.Flags)})
	}
	return u, nil
}

func ceremonyID(kind, sessionID string) string { return kind + ":" + sessionID }

func loginCeremonyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return crm.CeremonyLogin + ":" + hex.EncodeToString(sum[:])
}

// passkeyEvent is the event of a passkey operation by p.
func passkeyEvent(p *crm.Principal, typ string, userID int64, detail string) Event {
	e := Event{Type: typ, UserID: userID, Detail: detail}
	if p != nil {
		e.ActorID, e.IP, e.RequestID = p.UserID, p.IP, p.RequestID
	}
	return e
}

// Passkeys implements crm.PasskeyService.
func (s *Service) Passkeys(ctx context.Context, p *crm.Principal) ([]*crm.Passkey, error) {
	if err := requireSession(p, false); err != nil {
		return nil, err
	}
	var list []*crm.Passkey
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) { list, err = tx.PasskeysByUser(ctx, p.UserID); return err })
	return list, err
}

// BeginPasskeyRegistration implements crm.PasskeyService.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *crm.Principal) (*crm.PasskeyChallenge, error) {
	if err := requireSession(p, false); err != nil {
		return nil, err
	}
	if err := s.requireStepUp(p); err != nil {
		return nil, err
	}
	if s.rp == nil {
		return nil, passkeysOff()
	}
	var ch *crm.PasskeyChallenge
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		keys, err := tx.PasskeysByUser(ctx, p.UserID)
		if err != nil {
			return err
		}
		if len(keys) >= maxPasskeys {
			return crm.Errorf(crm.ECONFLICT, "you have %d passkeys, the most there may be; remove one first", len(keys))
		}
		u, err := passkeyUser(p.Email, p.Name, keys)
		if err != nil {
			return err
		}
		if len(u.Handle) == 0 {
			if u.Handle, err = auth.NewPasskeyUserHandle(); err != nil {
				return err
			}
		}
		// Exclude the flagged ones too: the same authenticator again is no fix.
		for _, k := range keys {
			if k.FlaggedAt != nil {
				u.Credentials = append(u.Credentials, auth.PasskeyCredential{ID: k.CredentialID})
			}
		}
		opts, state, err := s.rp.BeginRegistration(u)
		if err != nil {
			return err
		}
		ch = &crm.PasskeyChallenge{Options: opts}
		return putSessionCeremony(ctx, tx, crm.CeremonyRegister, p, state)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// putSessionCeremony stores the state of a ceremony of kind that p's
// session began, for the session's next answer alone.
func putSessionCeremony(ctx context.Context, tx crm.IdentityTx, kind string, p *crm.Principal, state []byte) error {
	return tx.PutPasskeyCeremony(ctx, &crm.PasskeyCeremony{ID: ceremonyID(kind, p.SessionID),
		Kind: kind, UserID: p.UserID, SessionID: p.SessionID, State: state,
		ExpiresAt: tx.Now().Add(auth.PasskeyTimeout)})
}

// validPasskeyName trims and checks a passkey's name.
func validPasskeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxPasskeyName || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", crm.Invalid("name", "1 to 100 characters, no control characters")
	}
	return name, nil
}

// takeCeremony takes the session's ceremony of kind; ECONFLICT if none.
func (s *Service) takeCeremony(ctx context.Context, p *crm.Principal, kind string) (*crm.PasskeyCeremony, error) {
	var c *crm.PasskeyCeremony
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		c, err = tx.TakePasskeyCeremony(ctx, ceremonyID(kind, p.SessionID), s.authNow())
		return err
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil, noCeremony()
	} else if err != nil {
		return nil, err
	}
	if c.Kind != kind || c.UserID != p.UserID || c.SessionID != p.SessionID {
		return nil, noCeremony()
	}
	return c, nil
}

// FinishPasskeyRegistration implements crm.PasskeyService.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p *crm.Principal, name string, response []byte) (*crm.Passkey, error) {
	if err := requireSession(p, false); err != nil {
		return nil, err
	}
	if err := s.requireStepUp(p); err != nil {
		return nil, err
	}
	name, err := validPasskeyName(name)
	if err != nil {
		return nil, err
	}
	if s.rp == nil {
		return nil, passkeysOff()
	}
	c, err := s.takeCeremony(ctx, p, crm.CeremonyRegister)
	if err != nil {
		return nil, err
	}
	var keys []*crm.Passkey
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { keys, err = tx.PasskeysByUser(ctx, p.UserID); return err }); err != nil {
		return nil, err
	}
	u, err := passkeyUser(p.Email, p.Name, keys)
	if err != nil {
		return nil, err
	}
	cred, err := s.rp.FinishRegistration(u, c.State, response)
	if err != nil {
		s.log.InfoContext(ctx, "passkey registration refused", "user_id", p.UserID, "error", err)
		s.record(ctx, passkeyEvent(p, "passkey.failure", p.UserID, "registration"))
		return nil, badPasskey()
	}
	k := &crm.Passkey{UserID: p.UserID, Name: name, CredentialID: cred.ID, UserHandle: cred.UserHandle,
		PublicKey: cred.PublicKey, SignCount: int64(cred.SignCount), AAGUID: cred.AAGUID, Transports: cred.Transports,
		Flags: int(cred.Flags), CreatedAt: s.authNow()}
	if k.Transports == nil {
		k.Transports = []string{}
	}
	err = s.write(ctx, func(tx *wtx) error {
		k.CreatedAt = tx.Now()
		if _, err := tx.DiscardOneTimeTokens(ctx, crm.PurposeEnrol, p.UserID, "", s.tokenNow(tx)); err != nil {
			return err
		}
		if err := tx.InsertPasskey(ctx, k); err != nil {
			return err
		}
		return tx.emit(passkeyEvent(p, "passkey.register", p.UserID, "id "+itoa(int(k.ID))))
	})
	if crm.ErrorCode(err) == crm.ECONFLICT {
		return nil, crm.Errorf(crm.ECONFLICT, "this passkey is registered already")
	} else if err != nil {
		return nil, err
	}
	return k, nil
}

// RenamePasskey implements crm.PasskeyService.
func (s *Service) RenamePasskey(ctx context.Context, p *crm.Principal, id int64, name string) (*crm.Passkey, error) {
	if err := requireSession(p, false); err != nil {
		return nil, err
	}
	name, err := validPasskeyName(name)
	if err != nil {
		return nil, err
	}
	var k *crm.Passkey
	err = s.write(ctx, func(tx *wtx) error {
		if err := tx.RenamePasskey(ctx, p.UserID, id, name); err != nil {
			return err
		}
		keys, err := tx.PasskeysByUser(ctx, p.UserID)
		if err != nil {
			return err
		}
		for _, x := range keys {
			if x.ID == id {
				k = x
			}
		}
		return tx.emit(passkeyEvent(p, "passkey.rename", p.UserID, "id "+itoa(int(id))))
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// DeletePasskey implements crm.PasskeyService.
func (s *Service) DeletePasskey(ctx context.Context, p *crm.Principal, id int64) error {
	if err := requireSession(p, false); err != nil {
		return err
	}
	if err := s.requireStepUp(p); err != nil {
		return err
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := tx.DeletePasskey(ctx, p.UserID, id); err != nil {
			return err
		}
		return tx.emit(passkeyEvent(p, "passkey.remove", p.UserID, "id "+itoa(int(id))))
	})
}

// BeginPasskeyVerification implements crm.PasskeyService.
func (s *Service) BeginPasskeyVerification(ctx context.Context, p *crm.Principal) (*crm.PasskeyChallenge, error) {
	if err := requireSession(p, true); err != nil {
		return nil, err
	}
	if s.rp == nil {
		return nil, passkeysOff()
	}
	var ch *crm.PasskeyChallenge
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		keys, err := tx.PasskeysByUser(ctx, p.UserID)
		if err != nil {
			return err
		}
		u, err := passkeyUser(p.Email, p.Name, keys)
		if err != nil {
			return err
		}
		if len(u.Credentials) == 0 {
			return crm.Errorf(crm.ECONFLICT, "you have no usable passkey")
		}
		opts, state, err := s.rp.BeginLogin(u)
		if err != nil {
			return err
		}
		ch = &crm.PasskeyChallenge{Options: opts}
		return putSessionCeremony(ctx, tx, crm.CeremonyVerify, p, state)
	})
	if err != nil {
		return nil, err
	}
	return ch, nil
}

// usePasskey records a verified assertion of k: a counter that grew is
// stored; one that did not flags k (emitting passkey.regression) and
// refuses. It reports whether the sign-in may go on.
func (s *Service) usePasskey(ctx context.Context, p *crm.Principal, k *crm.Passkey, a *auth.PasskeyAssertion) (bool, error) {
	ok := false
	if !a.Regressed {
		err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
			ok, err = tx.UsePasskey(ctx, k.ID, int64(a.SignCount), tx.Now())
			return err
		})
		if err != nil {
			return false, err
		}
	}
	if ok {
		return true, nil
	}
	// The counter did not grow (or a concurrent use with the same counter
	// won): a cloned authenticator may exist.
	err := s.write(ctx, func(tx *wtx) error {
		if err := tx.FlagPasskey(ctx, k.ID, tx.Now()); err != nil {
			return err
		}
		return tx.emit(passkeyEvent(p, "passkey.regression", k.UserID,
			"id "+itoa(int(k.ID))+"; counter "+itoa(int(a.SignCount))+" after "+itoa(int(k.SignCount))))
	})
	return false, err
}

// FinishPasskeyVerification implements crm.PasskeyService.
func (s *Service) FinishPasskeyVerification(ctx context.Context, p *crm.Principal, response []byte) (*crm.SignIn, error) {
	if err := requireSession(p, true); err != nil {
		return nil, err
	}
	if s.rp == nil {
		return nil, passkeysOff()
	}
	c, err := s.takeCeremony(ctx, p, crm.CeremonyVerify)
	if err != nil {
		return nil, err
	}
	adm, r, err := s.admit(ctx, userKey(p.UserID), p.IP)
	if err != nil {
		return nil, err
	}
	kind := "step-up"
	if p.Pending != crm.MFANone {
		kind = "second factor"
	}
	if r != nil {
		s.record(ctx, passkeyEvent(p, "passkey.failure", p.UserID, kind+"; "+refusalDetail(r)))
		return nil, refusedError(r, badPasskey())
	}
	var keys []*crm.Passkey
	if err := s.store.Read(ctx, func(tx crm.Tx) (err error) { keys, err = tx.PasskeysByUser(ctx, p.UserID); return err }); err != nil {
		s.abandon(ctx, adm)
		return nil, err
	}
	fail := func(detail string, err error) (*crm.SignIn, error) {
		if err != nil {
			s.log.InfoContext(ctx, "passkey refused", "user_id", p.UserID, "error", err)
		}
		if s.failed(ctx, adm, p.UserID, passkeyEvent(p, "login.locked", p.UserID, "passkey")) {
			detail += "; account locked"
		}
		s.record(ctx, passkeyEvent(p, "passkey.failure", p.UserID, kind+"; "+detail))
		return nil, badPasskey()
	}
	u, err := passkeyUser(p.Email, p.Name, keys)
	if err != nil {
		s.abandon(ctx, adm)
		return nil, err
	}
	a, err := s.rp.FinishLogin(u, c.State, response)
	if err != nil {
		return fail("refused", err)
	}
	k := findPasskey(keys, a.CredentialID)
	if k == nil || k.UserID != p.UserID || k.FlaggedAt != nil {
		return fail("unknown or flagged passkey", nil)
	}
	if ok, err := s.usePasskey(ctx, p, k, a); err != nil {
		s.abandon(ctx, adm)
		return nil, err
	} else if !ok {
		return fail("counter regression", nil)
	}
	now := s.authNow()
	var in *crm.SignIn
	err = s.write(ctx, func(tx *wtx) (err error) {
		if err := s.settle(ctx, tx, adm, true); err != nil {
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
		return tx.emit(passkeyEvent(p, "passkey.login", p.UserID, kind+"; id "+itoa(int(k.ID))))
	})
	if err != nil {
		return nil, err
	}
	return in, nil
}

func findPasskey(keys []*crm.Passkey, credentialID []byte) *crm.Passkey {
	for _, k := range keys {
		if bytes.Equal(k.CredentialID, credentialID) {
			return k
		}
	}
	return nil
}

// BeginPasskeyLogin implements crm.PasskeyService.
func (s *Service) BeginPasskeyLogin(ctx context.Context) (*crm.PasskeyChallenge, error) {
	if s.rp == nil {
		return nil, passkeysOff()
	}
	opts, state, err := s.rp.BeginPasswordlessLogin()
	if err != nil {
		return nil, err
	}
	secret := auth.NewSecret("")
	err = s.store.Write(ctx, func(tx crm.Tx) error {
		return tx.PutPasskeyCeremony(ctx, &crm.PasskeyCeremony{ID: loginCeremonyID(secret), Kind: crm.CeremonyLogin,
			State: state, ExpiresAt: tx.Now().Add(auth.PasskeyTimeout)})
	})
	if err != nil {
		return nil, err
	}
	return &crm.PasskeyChallenge{Options: opts, Ceremony: secret}, nil
}

// FinishPasskeyLogin implements crm.PasskeyService.
func (s *Service) FinishPasskeyLogin(ctx context.Context, ceremony string, response []byte, ip, userAgent string) (*crm.SignIn, error) {
	if s.rp == nil {
		return nil, passkeysOff()
	}
	if ceremony == "" || len(ceremony) > 128 {
		return nil, badPasskeyLogin()
	}
	var c *crm.PasskeyCeremony
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		c, err = tx.TakePasskeyCeremony(ctx, loginCeremonyID(ceremony), s.authNow())
		return err
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND || (err == nil && c.Kind != crm.CeremonyLogin) {
		s.record(ctx, Event{Type: "passkey.failure", IP: ip, Detail: "passwordless; no ceremony"})
		return nil, badPasskeyLogin()
	} else if err != nil {
		return nil, err
	}
	// No account is known before the check: throttle by the address.
	adm, r, err := s.admit(ctx, "passkey:"+auth.IPKey(ip), ip)
	if err != nil {
		return nil, err
	}
	if r != nil {
		s.record(ctx, Event{Type: "passkey.failure", IP: ip, Detail: "passwordless; " + refusalDetail(r)})
		return nil, refusedError(r, badPasskeyLogin())
	}
	var (
		owner *crm.User
		keys  []*crm.Passkey
		k     *crm.Passkey
	)
	lookup := func(credentialID, userHandle []byte) (*auth.PasskeyUser, error) {
		err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
			if k, err = tx.PasskeyByCredentialID(ctx, credentialID); err != nil {
				return err
			}
			if owner, err = tx.UserByID(ctx, k.UserID); err != nil {
				return err
			}
			keys, err = tx.PasskeysByUser(ctx, k.UserID)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(k.UserHandle, userHandle) {
			return nil, errors.New("user handle mismatch")
		}
		u, err := passkeyUser(owner.Email, owner.Name, keys)
		if err != nil {
			return nil, err
		}
		u.Handle = k.UserHandle
		return u, nil
	}
	fail := func(userID int64, detail string, err error) (*crm.SignIn, error) {
		if err != nil {
			s.log.InfoContext(ctx, "passkey login refused", "user_id", userID, "error", err)
		}
		s.failed(ctx, adm, 0, Event{})
		s.record(ctx, Event{Type: "passkey.failure", UserID: userID, IP: ip, Detail: "passwordless; " + detail})
		return nil, badPasskeyLogin()
	}
	_, a, err := s.rp.FinishPasswordlessLogin(lookup, c.State, response)
	if err != nil {
		var uid int64
		if owner != nil {
			uid = owner.ID
		}
		return fail(uid, "refused", err)
	}
	now := s.authNow()
	if owner.Disabled || (owner.LockedUntil != nil && now.Before(*owner.LockedUntil)) || k.FlaggedAt != nil {
		return fail(owner.ID, "disabled, locked or flagged", nil)
	}
	actor := &crm.Principal{UserID: owner.ID, IP: ip}
	if ok, err := s.usePasskey(ctx, actor, k, a); err != nil {
		s.abandon(ctx, adm)
		return nil, err
	} else if !ok {
		return fail(owner.ID, "counter regression", nil)
	}
	sess, secret := newSessionFor(owner.ID, ip, userAgent)
	err = s.write(ctx, func(tx *wtx) error {
		if err := s.settle(ctx, tx, adm, true); err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, owner.ID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return badPasskeyLogin()
		}
		t := tx.Now()
		sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = t, t, t.Add(s.absolute)
		sess.AAL, sess.SteppedUpAt = crm.AAL2, &now // both factors in one gesture
		u.LastLoginAt = &t
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, sess); err != nil {
			return err
		}
		return tx.emit(Event{Type: "passkey.login", UserID: owner.ID, ActorID: owner.ID, IP: ip, Detail: "passwordless; id " + itoa(int(k.ID))})
	})
	if err != nil {
		return nil, err
	}
	return &crm.SignIn{Session: sess, Secret: secret, SteppedUpUntil: now.Add(s.mfa.stepUp)}, nil
}

// hasPasskey reports whether the user has a usable passkey: a second
// factor that makes the password step half-authenticated (identity.go).
func hasPasskey(ctx context.Context, tx crm.IdentityTx, userID int64) (bool, error) {
	keys, err := tx.PasskeysByUser(ctx, userID)
	for _, k := range keys {
		if k.FlaggedAt == nil {
			return true, err
		}
	}
	return false, err
}
