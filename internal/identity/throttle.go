package identity

import (
	"context"
	"strconv"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// Throttling of passwords, TOTP codes and recovery codes (AUTH-6, NIST SP
// 800-63B §5.2.2, attacks 9 and 10). The policy is auth.Throttle; this file
// keeps its counters in the store, so that every instance of a cluster
// sees the same runs of failures.
//
// Each attempt is admitted before the secret is checked: in one write
// transaction the failures of the account and of the client address are
// read (the store locks both keys), the policy decides, and an admitted
// attempt is recorded as a failure in advance. Parallel attempts therefore
// cannot all pass the check before any of them is counted, which a burst
// of requests would otherwise win. A successful attempt deletes its own
// record (settle), a failed one leaves it. Every failure is a row with its
// own time, so it expires by that time whatever successes come between
// (a success never refreshes older failures).
//
// Accounts are keyed by user id, unknown accounts by the email typed, so
// that an unknown address is throttled, locked and answered exactly like a
// known one (no enumeration, ASVS v5.0.0-6.3.8). Addresses are keyed by
// auth.IPKey: IPv4 as is, IPv6 by /64. Refused attempts are neither
// checked nor counted: they cost no password hash and cannot extend a lock.

// userKey is the throttling key of an existing account.
func userKey(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// accountKey is the throttling key of a login name.
func accountKey(u *crm.User, email string) string {
	if u != nil {
		return userKey(u.ID)
	}
	return "email:" + email
}

// refusal is why an attempt was not admitted.
type refusal struct {
	locked bool // the account is locked (not merely slowed down)
	byIP   bool // the client address is over its limit
	retry  time.Duration
}

// admission is an admitted attempt, counted in advance.
type admission struct {
	account, ip string
	accID, ipID int64     // the attempt's records, for settle and abandon
	count       int       // the account's failures including this attempt
	first       time.Time // the oldest of them
}

// admit decides on an attempt against account from ip. It returns either
// an admission or a refusal.
func (s *Service) admit(ctx context.Context, account, ip string) (*admission, *refusal, error) {
	th := s.mfa.throttle
	now := s.authNow()
	a := &admission{account: account, ip: auth.IPKey(ip)}
	var r *refusal
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		// Always the account before the address: one lock order, no deadlock.
		acc, err := tx.Failures(ctx, crm.FailAccount, a.account, now.Add(-th.Lockout))
		if err != nil {
			return err
		}
		adr, err := tx.Failures(ctx, crm.FailIP, a.ip, now.Add(-th.IPWindow))
		if err != nil {
			return err
		}
		if v := th.IP(auth.Failures(adr), now); v.Refuse {
			r = &refusal{byIP: true, retry: v.RetryAfter}
			return nil
		}
		if v := th.Account(auth.Failures(acc), now); v.Refuse {
			r = &refusal{locked: v.Locked, retry: v.RetryAfter}
			return nil
		}
		a.count, a.first = acc.Count+1, acc.First
		if acc.Count == 0 {
			a.first = now
		}
		if a.accID, err = tx.AddFailure(ctx, crm.FailAccount, a.account, now); err != nil {
			return err
		}
		a.ipID, err = tx.AddFailure(ctx, crm.FailIP, a.ip, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if r != nil {
		return nil, r, nil
	}
	return a, nil, nil
}

// settle takes back the advance count of a successful attempt, inside the
// caller's transaction. complete ends the account's run of failures (the
// user is fully signed in or re-authenticated); otherwise (a correct
// password with a second factor still to come) only this attempt is taken
// back, so that alternating a right password with wrong codes still runs
// into the lock.
func (s *Service) settle(ctx context.Context, tx crm.IdentityTx, a *admission, complete bool) error {
	if complete {
		if err := tx.ClearFailures(ctx, crm.FailAccount, a.account); err != nil {
			return err
		}
	} else if err := tx.ForgiveFailure(ctx, a.accID); err != nil {
		return err
	}
	return tx.ForgiveFailure(ctx, a.ipID)
}

// abandon takes back the count of an attempt that was never checked (the
// hashing pool was busy).
func (s *Service) abandon(ctx context.Context, a *admission) {
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		if err := tx.ForgiveFailure(ctx, a.accID); err != nil {
			return err
		}
		return tx.ForgiveFailure(ctx, a.ipID)
	})
	if err != nil {
		s.log.WarnContext(ctx, "throttle: could not take back an attempt", "error", err)
	}
}

// failed completes a failed attempt: when it is the one that reaches the
// limit, the account is marked locked (for administrators to see and
// lift), in one transaction with the lockout event locked (none when its
// Type is empty), and true is returned. A lock that could not be written
// is logged, and the attempt is refused all the same.
func (s *Service) failed(ctx context.Context, a *admission, userID int64, locked Event) bool {
	if !s.mfa.throttle.Locks(a.count) {
		return false
	}
	if userID == 0 {
		if locked.Type != "" {
			s.record(ctx, locked)
		}
		return true
	}
	// The lock lasts until the oldest failure of the window expires, as
	// the policy decides (auth.Throttle.Account).
	until := a.first.Add(s.mfa.throttle.Lockout)
	err := s.write(context.WithoutCancel(ctx), func(tx *wtx) error {
		if err := tx.SetUserLock(ctx, userID, &until); err != nil {
			return err
		}
		if locked.Type == "" {
			return nil
		}
		return tx.emit(locked)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "throttle: could not mark the account locked", "user_id", userID, "event", locked.Type, "error", err)
	}
	return true
}

// refusedError is the error of a refused attempt. A locked account gets
// generic, the error of a wrong secret, so that a lock says nothing more
// than a failure (the event log records the lock); back-off and address
// limits are 429, which tells nothing about the account either, since
// unknown addresses are throttled alike.
func refusedError(r *refusal, generic error) error {
	if r.locked {
		return generic
	}
	if r.byIP {
		return crm.Errorf(crm.ERATELIMITED, "too many failed attempts from your network; try again in %s", roundUp(r.retry))
	}
	return crm.Errorf(crm.ERATELIMITED, "too many failed attempts; wait %s and try again", roundUp(r.retry))
}

// refusalDetail names a refusal in the event log.
func refusalDetail(r *refusal) string {
	switch {
	case r.locked:
		return "locked"
	case r.byIP:
		return "address limit"
	default:
		return "back-off"
	}
}

// roundUp shows a wait in whole seconds or minutes.
func roundUp(d time.Duration) string {
	if d <= time.Minute {
		return strconv.Itoa(int((d+time.Second-1)/time.Second)) + "s"
	}
	return strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + "m"
}

// UnlockUser implements crm.MFAService: it ends the account's run of
// failures and clears the lock mark.
func (s *Service) UnlockUser(ctx context.Context, p *crm.Principal, userID int64) error {
	if err := s.requireAdmin(p); err != nil {
		return err
	}
	return s.write(ctx, func(tx *wtx) error {
		if err := s.requireAbove(ctx, tx, p, userID); err != nil {
			return err
		}
		if err := tx.SetUserLock(ctx, userID, nil); err != nil {
			return err
		}
		if err := tx.ClearFailures(ctx, crm.FailAccount, userKey(userID)); err != nil {
			return err
		}
		return tx.emit(Event{Type: "user.unlock", UserID: userID, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID})
	})
}

// purgeFailures drops runs of failures too old to matter, inside the
// periodic purge.
func (s *Service) purgeFailures(ctx context.Context, tx crm.IdentityTx) error {
	keep := max(s.mfa.throttle.Lockout, s.mfa.throttle.IPWindow)
	_, err := tx.PurgeFailures(ctx, s.authNow().Add(-keep))
	return err
}
