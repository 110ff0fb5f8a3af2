// Package identity is the identity service of Custos over a crm.Store:
// users and roles, sign-in, sessions and API tokens, invitations, password
// resets and email changes, second factors, passkeys, the throttle, the
// first-start setup, and the security events of all of them (events.go).
// It uses the identity part of the store (crm.IdentityTx) alone, checks
// every call's principal through the policy package, and emits each event
// inside the transaction of its change. It never reads client records:
// those are the service package's, which it must not import.
package identity

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/policy"
)

// Options configure a Service. Zero values take the documented defaults.
type Options struct {
	Policy          policy.Policy
	Hasher          *auth.Hasher  // default: auth.DefaultParams, 2 workers
	Logger          *slog.Logger  // default: slog.Default()
	Events          EventSink     // default: none (events go to the log after commit either way; events.go)
	IdleTimeout     time.Duration // session inactivity limit; default 30 min
	AbsoluteTimeout time.Duration // session lifetime limit; default 12 h

	// Invitations, password resets and email changes (AUTH-8, onetime.go).
	Mailer    mail.Mailer      // outgoing mail; default mail.LogMailer, which sends nothing
	PublicURL string           // base of the links in mail, e.g. "https://crm.example.com"
	Clock     func() time.Time // overrides the transaction time for one-time tokens (tests)

	// Multi-factor authentication, step-up and throttling (AUTH-2, AUTH-4,
	// AUTH-6; mfa.go, throttle.go). Clock above is their time too.
	MFARoles     []crm.Role    // roles that must use a second factor; default admin and manager; admin always
	StepUpWindow time.Duration // how long a re-authentication opens sensitive actions; default 5 min
	Throttle     auth.Throttle // lockout and back-off; zero fields take auth.DefaultThrottle

	// Passkeys is the WebAuthn relying party (AUTH-3, webauthn.go); nil
	// turns passkeys off (ECONFLICT).
	Passkeys *auth.RelyingParty
}

// Service implements crm.IdentityService, crm.RecoveryService,
// crm.MFAService and crm.PasskeyService.
type Service struct {
	store    crm.Store
	pol      policy.Policy
	hasher   *auth.Hasher
	log      *slog.Logger
	events   EventSink
	idle     time.Duration
	absolute time.Duration
	oneTime                     // invitations, resets, email changes: onetime.go
	mfa      mfaConfig          // second factors, step-up, throttling: mfa.go
	rp       *auth.RelyingParty // passkeys: webauthn.go
}

var (
	_ crm.IdentityService = (*Service)(nil)
	_ crm.RecoveryService = (*Service)(nil)
	_ crm.MFAService      = (*Service)(nil)
	_ crm.PasskeyService  = (*Service)(nil)
)

// New returns a Service over store.
func New(store crm.Store, o Options) *Service {
	s := &Service{store: store, pol: o.Policy, hasher: o.Hasher, log: o.Logger, events: o.Events,
		idle: o.IdleTimeout, absolute: o.AbsoluteTimeout, rp: o.Passkeys}
	if s.hasher == nil {
		s.hasher = auth.NewHasher(auth.DefaultParams, 2)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.idle <= 0 {
		s.idle = 30 * time.Minute
	}
	if s.absolute <= 0 {
		s.absolute = 12 * time.Hour
	}
	s.initOneTime(o) // invitations, resets and email changes: onetime.go
	s.initMFA(o)     // second factors, step-up, throttling: mfa.go
	return s
}

// require is the policy's check of p for a (policy.Policy.Require).
func (s *Service) require(p *crm.Principal, a policy.Action) error { return s.pol.Require(p, a) }

func forbidden() error {
	return crm.Errorf(crm.EFORBIDDEN, "you are not allowed to do this")
}

// Purge removes what has expired: idle and ended sessions, one-time links
// a day past expiry, passkey ceremonies never finished, runs of failures
// too old to count. The server runs it periodically, with the record
// service's PurgeDeleted.
func (s *Service) Purge(ctx context.Context) error {
	return s.store.Write(ctx, func(tx crm.Tx) error {
		// Idle sessions go when idleExpired says so, not a minute sooner.
		if _, err := tx.DeleteExpiredSessions(ctx, tx.Now().Add(-s.idle-touchEvery), tx.Now()); err != nil {
			return err
		}
		// One-time links are kept a day past expiry, then go (onetime.go).
		if _, err := tx.DeleteOneTimeTokens(ctx, tx.Now().Add(-24*time.Hour)); err != nil {
			return err
		}
		// Passkey ceremonies that were begun and never finished (webauthn.go).
		if _, err := tx.DeletePasskeyCeremonies(ctx, tx.Now()); err != nil {
			return err
		}
		return s.purgeFailures(ctx, tx) // throttle.go
	})
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func itoa(i int) string { return strconv.Itoa(i) }

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
