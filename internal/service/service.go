// Package service implements the domain services of Custos over a crm.Store.
// It is the one path to client data: every method checks the principal's
// access through the policy package, validates input, and will (in later
// stages) encrypt fields and write the audit entry in the same transaction
// as the change. HTTP handlers, the CLI and the demo seeder all call it; none
// of them touch the store directly.
package service

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
	PhoneRegion     string        // region for phone numbers without a country code; default "RU"
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

	// Hooks are the layers every client record passes (hooks.go);
	// default NoHooks.
	Hooks Hooks
}

// Service implements crm.ContactService, crm.CompanyService,
// crm.DealService, crm.ActivityService, crm.TaskService and
// crm.IdentityService.
type Service struct {
	store       crm.Store
	pol         policy.Policy
	hasher      *auth.Hasher
	log         *slog.Logger
	events      EventSink
	phoneRegion string
	idle        time.Duration
	absolute    time.Duration
	oneTime                        // invitations, resets, email changes: onetime.go
	mfa         mfaConfig          // second factors, step-up, throttling: mfa.go
	rp          *auth.RelyingParty // passkeys: webauthn.go
	cursors     cursorKeys
	hooks       Hooks
}

var (
	_ crm.ContactService  = (*Service)(nil)
	_ crm.CompanyService  = (*Service)(nil)
	_ crm.DealService     = (*Service)(nil)
	_ crm.ActivityService = (*Service)(nil)
	_ crm.TaskService     = (*Service)(nil)
	_ crm.IdentityService = (*Service)(nil)
	_ crm.MFAService      = (*Service)(nil)
	_ crm.PasskeyService  = (*Service)(nil)
)

// New returns a Service over store.
func New(store crm.Store, o Options) *Service {
	s := &Service{store: store, pol: o.Policy, hasher: o.Hasher, log: o.Logger, events: o.Events,
		phoneRegion: strings.ToUpper(o.PhoneRegion), idle: o.IdleTimeout, absolute: o.AbsoluteTimeout}
	if s.hasher == nil {
		s.hasher = auth.NewHasher(auth.DefaultParams, 2)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.phoneRegion == "" {
		s.phoneRegion = "RU"
	}
	if s.idle <= 0 {
		s.idle = 30 * time.Minute
	}
	if s.absolute <= 0 {
		s.absolute = 12 * time.Hour
	}
	s.initOneTime(o) // invitations, resets and email changes: onetime.go
	s.initMFA(o)     // second factors, step-up, throttling: mfa.go
	s.rp = o.Passkeys
	if s.hooks = o.Hooks; s.hooks == nil {
		s.hooks = NoHooks{}
	}
	return s
}

// Policy returns the access policy the service enforces.
func (s *Service) Policy() policy.Policy { return s.pol }

func forbidden() error {
	return crm.Errorf(crm.EFORBIDDEN, "you are not allowed to do this")
}

// require is the policy's check of p for a (policy.Policy.Require).
func (s *Service) require(p *crm.Principal, a policy.Action) error { return s.pol.Require(p, a) }

// writable resolves the failure of a lookup under the write scope: a record
// the principal can read but not change is EFORBIDDEN, anything else stays
// ENOTFOUND so that existence does not leak.
func (s *Service) writable(ctx context.Context, p *crm.Principal, err error, lookup func(crm.Scope) error) error {
	if crm.ErrorCode(err) != crm.ENOTFOUND {
		return err
	}
	if lookup(s.pol.ReadScope(p)) == nil {
		return forbidden()
	}
	return err
}

// ownerFor decides the owner of a new record or a change of owner.
func (s *Service) ownerFor(ctx context.Context, tx crm.RecordTx, p *crm.Principal, requested *int64, current int64) (int64, error) {
	if requested == nil {
		if current != 0 {
			return current, nil
		}
		if p.UserID == 0 {
			return 0, crm.Invalid("owner_id", "required")
		}
		return p.UserID, nil
	}
	// Creating a record for oneself needs no special right; giving a record
	// to someone else, or changing the owner of an existing one, does.
	changes := (current == 0 && *requested != p.UserID) || (current != 0 && *requested != current)
	if changes && !s.pol.Can(p, policy.AssignOwner) {
		return 0, &crm.Error{Code: crm.EFORBIDDEN, Message: "you may not assign records to other users", Fields: map[string]string{"owner_id": "not allowed"}}
	}
	u, err := tx.UserByID(ctx, *requested)
	if err != nil || u.Disabled {
		return 0, crm.Invalid("owner_id", "unknown user")
	}
	return u.ID, nil
}

// listQuery turns the API's list options into a store query for entity.
func listQuery(entity, defaultSort string, o crm.ListOptions) (crm.ListQuery, error) {
	q := crm.ListQuery{Limit: o.Limit}
	if q.Limit <= 0 {
		q.Limit = crm.DefaultLimit
	}
	if q.Limit > crm.MaxLimit {
		return q, crm.Invalid("limit", "must be between 1 and 200")
	}
	sort := o.Sort
	if sort == "" {
		sort = defaultSort
	}
	q.Desc = strings.HasPrefix(sort, "-")
	q.Sort = strings.TrimPrefix(sort, "-")
	ok := false
	for _, f := range crm.SortFields[entity] {
		ok = ok || f == q.Sort
	}
	if !ok {
		return q, crm.Invalid("sort", "must be one of "+strings.Join(crm.SortFields[entity], ", ")+", optionally prefixed by -")
	}
	if o.Cursor != "" {
		c, err := crm.DecodeCursor(o.Cursor, q.Sort)
		if err != nil {
			return q, err
		}
		q.After = c
	}
	return q, nil
}

// page wraps a store result.
func page[T any](items []T, next string) *crm.Page[T] {
	if items == nil {
		items = []T{}
	}
	return &crm.Page[T]{Items: items, NextCursor: next}
}

// PurgeDeleted removes records whose grace period is over, and expired
// sessions. The server runs it periodically.
func (s *Service) PurgeDeleted(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		var err error
		if n, err = tx.PurgeDeleted(ctx, tx.Now().Add(-crm.DeleteGracePeriod)); err != nil {
			return err
		}
		// Idle sessions go when idleExpired says so, not a minute sooner.
		if _, err = tx.DeleteExpiredSessions(ctx, tx.Now().Add(-s.idle-touchEvery), tx.Now()); err != nil {
			return err
		}
		// One-time links are kept a day past expiry, then go (onetime.go).
		if _, err = tx.DeleteOneTimeTokens(ctx, tx.Now().Add(-24*time.Hour)); err != nil {
			return err
		}
		// Passkey ceremonies that were begun and never finished (webauthn.go).
		if _, err = tx.DeletePasskeyCeremonies(ctx, tx.Now()); err != nil {
			return err
		}
		return s.purgeFailures(ctx, tx) // throttle.go
	})
	return n, err
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func itoa(i int) string { return strconv.Itoa(i) }

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
