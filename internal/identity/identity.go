package identity

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

// touchEvery limits the writes that keep last-seen times fresh: at most one
// per session or token per interval, so reads stay reads. A session's
// stored last-seen time is therefore up to touchEvery older than its last
// request, and the idle check allows for that (idleExpired): an idle
// timeout never ends a session early, and at most touchEvery late.
const touchEvery = time.Minute

// idleExpired reports whether a session last recorded as seen at lastSeen
// has been idle longer than idle by now. Requests within touchEvery of the
// recorded time are not written, so the last request may have come up to
// touchEvery after lastSeen: only beyond idle + touchEvery is the session
// certainly idle for longer than idle.
func idleExpired(lastSeen, now time.Time, idle time.Duration) bool {
	return now.Sub(lastSeen) > idle+touchEvery
}

// MinTokenTTL and MaxTokenTTL are the shortest and longest life of an API
// token; the error of CreateToken names both.
const (
	MinTokenTTL = time.Second
	MaxTokenTTL = 366 * 24 * time.Hour
)

func badLogin() error {
	return crm.Errorf(crm.EUNAUTHENTICATED, "invalid email or password")
}

func unauthenticated() error {
	return crm.Errorf(crm.EUNAUTHENTICATED, "authentication required")
}

// Login implements crm.IdentityService. Unknown accounts, wrong passwords,
// disabled and locked accounts give the same error; the first three after
// the same hashing work, and all under the same throttle, which counts an
// unknown account under the typed address (throttle.go). When the user
// needs a second factor the session is half-authenticated (mfa.go).
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent string) (*crm.User, *crm.Session, string, error) {
	return s.signIn(ctx, email, password, ip, userAgent, "")
}

// signIn is Login; with enrolLink (the secret of an enrolment link of this
// user) it also uses the link, in the transaction that stores the session,
// and marks the session MayEnrol (enrollink.go).
func (s *Service) signIn(ctx context.Context, email, password, ip, userAgent, enrolLink string) (*crm.User, *crm.Session, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > validate.MaxEmail || len(password) > 4*auth.MaxPasswordLen {
		return nil, nil, "", badLogin()
	}
	var u *crm.User
	var totp *crm.TOTP
	var passkey bool
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if u, err = tx.UserByEmail(ctx, email); err != nil {
			return err
		}
		if totp, err = hasTOTP(ctx, tx, u.ID); err != nil {
			return err
		}
		passkey, err = hasPasskey(ctx, tx, u.ID) // webauthn.go
		return err
	})
	if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
		return nil, nil, "", err
	}
	var uid int64
	hash := ""
	if u != nil {
		uid, hash = u.ID, u.PasswordHash
	}
	a, r, err := s.admit(ctx, accountKey(u, email), ip)
	if err != nil {
		return nil, nil, "", err
	}
	if r != nil {
		typ := "login.failure"
		if r.locked {
			typ = "login.locked"
		}
		s.record(ctx, Event{Type: typ, UserID: uid, IP: ip, Detail: refusalDetail(r)})
		return nil, nil, "", refusedError(r, badLogin())
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		s.abandon(ctx, a)
		if errors.Is(err, auth.ErrBusy) {
			return nil, nil, "", crm.Errorf(crm.ERATELIMITED, "the server is busy; try again in a moment")
		}
		return nil, nil, "", err
	}
	if !ok || u.Disabled {
		detail := "password"
		if s.failed(ctx, a, uid, Event{Type: "login.locked", UserID: uid, IP: ip, Detail: "login"}) {
			detail += "; account locked"
		}
		s.record(ctx, Event{Type: "login.failure", UserID: uid, IP: ip, Detail: detail})
		return nil, nil, "", badLogin()
	}
	newHash := ""
	if rehash {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			newHash = h
		}
	}
	sess, secret := newSessionFor(u.ID, ip, userAgent)
	checked := u.PasswordHash
	half := false
	err = s.write(ctx, func(tx *wtx) (err error) {
		// Re-read inside the transaction: an administrator may have
		// disabled the user or changed the password or role meanwhile, and
		// writing back the row read before would undo that.
		if u, err = tx.UserByID(ctx, u.ID); err != nil {
			return err
		}
		if u.Disabled || u.PasswordHash != checked {
			return badLogin()
		}
		if enrolLink != "" {
			t, err := s.useToken(ctx, tx, crm.PurposeEnrol, enrolLink)
			if err != nil {
				return err
			}
			if t.UserID != u.ID {
				return badToken()
			}
			// A TOTP enrolment begun before, by whoever held the password,
			// must not be what the user now confirms: it starts afresh.
			if t, err := tx.TOTPByUser(ctx, u.ID); err == nil && t.ConfirmedAt == nil {
				if err := tx.DeleteTOTP(ctx, u.ID); err != nil {
					return err
				}
			} else if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
				return err
			}
			sess.MayEnrol = true
		}
		// A second factor is due when the role requires one or the user
		// has one (mfa.go): the session is half-authenticated, and short.
		roleMFA, err := s.roleMFA(ctx, tx, u.Role)
		if err != nil {
			return err
		}
		half = roleMFA || totp != nil || passkey
		if err := s.settle(ctx, tx, a, !half); err != nil {
			return err
		}
		now := s.tokenNow(tx)
		sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt = now, now, now.Add(s.absolute)
		sess.MFAPending = half
		if half {
			sess.ExpiresAt = now.Add(min(halfSessionTTL, s.absolute))
		} else {
			at := s.authNow()
			sess.SteppedUpAt = &at // signing in is a fresh authentication
			u.LastLoginAt = &now
		}
		if newHash != "" {
			u.PasswordHash = newHash
		}
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, sess); err != nil {
			return err
		}
		detail := ""
		if half {
			detail = "second factor pending"
		}
		if err := tx.emit(Event{Type: "login.success", UserID: u.ID, ActorID: u.ID, IP: ip, Detail: detail}); err != nil {
			return err
		}
		if enrolLink != "" {
			return tx.emit(Event{Type: "enrol.start", UserID: u.ID, ActorID: u.ID, IP: ip})
		}
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	return u, sess, secret, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return strings.ToValidUTF8(s, "")
}

func principalOf(u *crm.User, kind crm.PrincipalKind, def *crm.RoleDef) *crm.Principal {
	p := &crm.Principal{Kind: kind, UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Language: u.Language,
		Teams: u.SeesTeams, Def: def}
	if u.TeamID != nil {
		p.TeamID = *u.TeamID
	}
	return p
}

// Authenticate implements crm.IdentityService.
func (s *Service) Authenticate(ctx context.Context, secret string) (*crm.Principal, *crm.Session, error) {
	if secret == "" || len(secret) > 128 {
		return nil, nil, unauthenticated()
	}
	var sess *crm.Session
	var u *crm.User
	var def *crm.RoleDef
	var step crm.MFAStep
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if sess, err = tx.SessionBySecretHash(ctx, auth.HashSecret(secret)); err != nil {
			return err
		}
		if u, err = tx.UserByID(ctx, sess.UserID); err != nil {
			return err
		}
		if def, err = s.roleDef(ctx, tx, u.Role); err != nil {
			return err
		}
		step, err = s.pendingStep(ctx, tx, sess, u, s.defMFA(def))
		return err
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil, nil, unauthenticated()
	} else if err != nil {
		return nil, nil, err
	}
	now := s.authNow()
	if now.After(sess.ExpiresAt) || idleExpired(sess.LastSeenAt, now, s.idle) || u.Disabled {
		_ = s.store.Write(ctx, func(tx crm.Tx) error { return tx.DeleteSession(ctx, sess.ID) })
		return nil, nil, unauthenticated()
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		sess.LastSeenAt = now
		if err := s.store.Write(ctx, func(tx crm.Tx) error { return tx.TouchSession(ctx, sess.ID, s.tokenNow(tx)) }); err != nil {
			return nil, nil, err
		}
	}
	sess.CSRFToken = auth.CSRFToken(secret)
	p := principalOf(u, crm.KindSession, def)
	p.SessionID, p.AAL, p.Pending = sess.ID, sess.AAL, step
	if sess.SteppedUpAt != nil {
		p.SteppedUpAt = *sess.SteppedUpAt
	}
	return p, sess, nil
}

// AuthenticateToken implements crm.IdentityService.
// ip is the client's address, kept with the token's last use (at most once
// a minute, touchEvery) for its owner and administrators to see.
func (s *Service) AuthenticateToken(ctx context.Context, secret, ip string) (*crm.Principal, error) {
	if !strings.HasPrefix(secret, auth.TokenPrefix) || len(secret) > 128 {
		return nil, unauthenticated()
	}
	var t *crm.Token
	var u *crm.User
	var def *crm.RoleDef
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if t, u, err = tx.TokenBySecretHash(ctx, auth.HashSecret(secret)); err != nil {
			return err
		}
		def, err = s.roleDef(ctx, tx, u.Role)
		return err
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil, unauthenticated()
	} else if err != nil {
		return nil, err
	}
	now := s.authNow()
	if t.RevokedAt != nil || now.After(t.ExpiresAt) || u.Disabled {
		return nil, unauthenticated()
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchEvery {
		if err := s.store.Write(ctx, func(tx crm.Tx) error { return tx.TouchToken(ctx, t.ID, s.tokenNow(tx), truncate(ip, 64)) }); err != nil {
			return nil, err
		}
	}
	p := principalOf(u, crm.KindToken, def)
	p.TokenID, p.Scope = t.ID, t.Scope
	return p, nil
}

// Logout implements crm.IdentityService.
func (s *Service) Logout(ctx context.Context, p *crm.Principal) error {
	if p == nil || p.SessionID == "" {
		return unauthenticated()
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := tx.DeleteSession(ctx, p.SessionID); err != nil {
			return err
		}
		return tx.emit(Event{Type: "logout", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
}

// sessionOnly admits only a signed-in browser session: API tokens do not
// manage sessions (a leaked read token must not sign its user out).
func sessionOnly(p *crm.Principal) error {
	if p == nil || p.UserID == 0 {
		return unauthenticated()
	}
	if p.Kind != crm.KindSession {
		return crm.Errorf(crm.EFORBIDDEN, "sessions are managed from a signed-in browser session")
	}
	return nil
}

// FindSessions implements crm.IdentityService.
func (s *Service) FindSessions(ctx context.Context, p *crm.Principal) ([]*crm.Session, error) {
	if err := sessionOnly(p); err != nil {
		return nil, err
	} else if p.Pending != crm.MFANone {
		return nil, mfaRequired()
	}
	var out []*crm.Session
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		out, err = tx.SessionsByUser(ctx, p.UserID)
		return err
	})
	return out, err
}

// RevokeSession implements crm.IdentityService. A session of another user
// is ENOTFOUND.
func (s *Service) RevokeSession(ctx context.Context, p *crm.Principal, id string) error {
	if err := sessionOnly(p); err != nil {
		return err
	} else if p.Pending != crm.MFANone {
		return mfaRequired()
	}
	return s.write(ctx, func(tx *wtx) error {
		list, err := tx.SessionsByUser(ctx, p.UserID)
		if err != nil {
			return err
		}
		for _, x := range list {
			if x.ID == id {
				if err := tx.DeleteSession(ctx, id); err != nil {
					return err
				}
				return tx.emit(Event{Type: "session.revoke", UserID: p.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
			}
		}
		return crm.NotFound("session")
	})
}

// FindTokens implements crm.IdentityService: the principal's own tokens.
func (s *Service) FindTokens(ctx context.Context, p *crm.Principal) ([]*crm.Token, error) {
	if err := s.require(p, policy.ManageTokens); err != nil {
		return nil, err
	}
	var out []*crm.Token
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		out, err = tx.Tokens(ctx, p.UserID)
		return err
	})
	return out, err
}

// FindUserTokens implements crm.IdentityService: the tokens of userID,
// revoked and expired ones included, with their last use and its address,
// for an administrator's incident response (INC-2) or the operator's CLI.
// Reading another user's credentials' metadata is user administration, so
// it needs the right and a recent step-up, as revoking them does.
func (s *Service) FindUserTokens(ctx context.Context, p *crm.Principal, userID int64) ([]*crm.Token, error) {
	if err := s.requireAdmin(p); err != nil {
		return nil, err
	}
	var out []*crm.Token
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if err := s.requireAbove(ctx, tx, p, userID); err != nil {
			return err
		}
		out, err = tx.Tokens(ctx, userID)
		return err
	})
	return out, err
}

// CreateToken implements crm.IdentityService. Users create tokens for
// themselves; the system (the CLI) for anyone.
func (s *Service) CreateToken(ctx context.Context, p *crm.Principal, userID int64, name string, scope crm.TokenScope, ttl time.Duration) (*crm.NewToken, error) {
	if err := s.require(p, policy.ManageTokens); err != nil {
		return nil, err
	}
	if p.Kind != crm.KindSystem && userID != p.UserID {
		return nil, forbidden()
	}
	// A token outlives the session that makes it: a recent step-up
	// (AUTH-4). Tokens themselves never step up, so cannot mint tokens.
	if err := s.requireStepUp(p); err != nil {
		return nil, err
	}
	v := validate.New()
	name = v.Text("name", name, validate.MaxName, false, false)
	if !scope.Valid() {
		v.Add("scope", "must be read or write")
	}
	if ttl < MinTokenTTL || ttl > MaxTokenTTL {
		v.Add("ttl", "must be between 1s and 366 days")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	secret := auth.NewSecret(auth.TokenPrefix)
	t := &crm.Token{UserID: userID, Name: name, Scope: scope, Prefix: secret[:len(auth.TokenPrefix)+6], SecretHash: auth.HashSecret(secret)}
	err := s.write(ctx, func(tx *wtx) error {
		u, err := tx.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return crm.Errorf(crm.EINVALID, "the user is disabled")
		}
		// The service's clock, which AuthenticateToken checks the expiry
		// against (tx.Now() when none is set).
		t.CreatedAt = s.tokenNow(tx)
		t.ExpiresAt = t.CreatedAt.Add(ttl)
		if err := tx.InsertToken(ctx, t); err != nil {
			return err
		}
		return tx.emit(Event{Type: "token.create", UserID: userID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: string(scope)})
	})
	if err != nil {
		return nil, err
	}
	return &crm.NewToken{Token: t, Secret: secret}, nil
}

// RevokeToken implements crm.IdentityService.
func (s *Service) RevokeToken(ctx context.Context, p *crm.Principal, id int64) error {
	if err := s.require(p, policy.ManageTokens); err != nil {
		return err
	}
	return s.write(ctx, func(tx *wtx) error {
		t, err := tx.TokenByID(ctx, id)
		if err != nil {
			return err
		}
		if t.UserID != p.UserID && !s.pol.Can(p, policy.ManageUsers) {
			return crm.NotFound("token")
		}
		if err := tx.RevokeToken(ctx, id, tx.Now()); err != nil {
			return err
		}
		// The event names the token's owner and, as actor, who revoked it
		// (an administrator revoking another user's token, INC-2).
		return tx.emit(Event{Type: "token.revoke", UserID: t.UserID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Detail: "token " + itoa(int(id))})
	})
}

// setupKey is the setting that holds the hash and expiry of the setup code.
const setupKey = "setup_code"

// BeginSetup returns a one-time setup code when no user exists yet; the
// first start prints it, and whoever holds it creates the first admin.
// It returns "" once users exist. The code is valid for 24 hours.
func (s *Service) BeginSetup(ctx context.Context) (string, error) {
	code := auth.SetupCode()
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		n, err := tx.CountUsers(ctx)
		if err != nil || n > 0 {
			code = ""
			return err
		}
		val := hex.EncodeToString(auth.HashSecret(code)) + "|" + tx.Now().Add(24*time.Hour).Format(time.RFC3339)
		return tx.SetSetting(ctx, setupKey, val)
	})
	return code, err
}

// SetupPending reports whether the first admin has yet to be created.
func (s *Service) SetupPending(ctx context.Context) (bool, error) {
	var n int
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		n, err = tx.CountUsers(ctx)
		return err
	})
	return n == 0, err
}

// CompleteSetup creates the first administrator if code matches the
// current setup code, and returns the secret of their enrolment link. The
// code then stops working.
func (s *Service) CompleteSetup(ctx context.Context, code string, in crm.UserInput) (*crm.User, string, error) {
	bad := crm.Errorf(crm.EFORBIDDEN, "the setup code is wrong, expired or already used")
	// check verifies the code against the stored hash; it runs before the
	// password is hashed, so guessing codes costs the server no hashing,
	// and again inside the writing transaction, so a code works only once.
	check := func(tx crm.Tx) error {
		if n, err := tx.CountUsers(ctx); err != nil {
			return err
		} else if n > 0 {
			return bad
		}
		val, err := tx.Setting(ctx, setupKey)
		if err != nil {
			return err
		}
		want, exp, ok := strings.Cut(val, "|")
		t, perr := time.Parse(time.RFC3339, exp)
		got := hex.EncodeToString(auth.HashSecret(strings.ToUpper(strings.TrimSpace(code))))
		if !ok || perr != nil || tx.Now().After(t) || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return bad
		}
		return nil
	}
	if err := s.store.Read(ctx, check); err != nil {
		return nil, "", err
	}
	admin := crm.RoleAdmin
	in.Role = &admin
	u, hash, err := s.prepareUser(ctx, in)
	if err != nil {
		return nil, "", err
	}
	u.PasswordHash = hash
	enrol := ""
	err = s.write(ctx, func(tx *wtx) error {
		if err := check(tx); err != nil {
			return err
		}
		if err := tx.SetSetting(ctx, setupKey, ""); err != nil {
			return err
		}
		u.CreatedAt, u.UpdatedAt = tx.Now(), tx.Now()
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		// The setup code proved the operator: the first administrator gets
		// the enrolment link of their second factor at once (enrollink.go).
		if enrol, err = s.newEnrolLink(ctx, tx, u.ID, u.ID); err != nil {
			return err
		}
		return tx.emit(Event{Type: "setup.complete", UserID: u.ID, ActorID: u.ID})
	})
	if err != nil {
		return nil, "", err
	}
	return u, enrol, nil
}
