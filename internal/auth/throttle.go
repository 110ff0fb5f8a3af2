package auth

import (
	"errors"
	"net/netip"
	"time"
)

// Throttle is the policy against guessing passwords, TOTP codes and
// recovery codes (AUTH-6; NIST SP 800-63B §5.2.2; attacks 9 and 10). It is
// pure: the service keeps, per account and per client address, one row per
// failed attempt, and asks the policy about the failures of the last
// Lockout (account) or IPWindow (address), given as Failures. Each failure
// expires by its own time, whatever successes come between: old typos
// behind a shared address never add up to a block.
//
//   - Per account, a run of failures ends with a full sign-in (the service
//     clears it) or as its failures age past Lockout. After BackoffAfter
//     failures each attempt must wait BackoffBase, doubling per failure up
//     to BackoffMax, since the last failure. AccountLimit failures (at most
//     100, as 800-63B requires) within Lockout lock the account until the
//     oldest of them is Lockout old, or until an administrator unlocks it.
//   - Per client address (IPv6 by /64), IPLimit failures within IPWindow
//     refuse that address until the oldest of them is IPWindow old.
//     Addresses get no back-off: an office behind one NAT should not slow
//     each other down before the limit.
//
// Refused attempts are not checked and not counted, so they cost neither
// a password hash nor an extension of the lock.
type Throttle struct {
	AccountLimit int           // failures that lock an account; default 10, at most 100
	Lockout      time.Duration // how long a lock lasts, and a run of failures is remembered; default 15m
	IPLimit      int           // failures that block a client address; default 50
	IPWindow     time.Duration // default 15m
	BackoffAfter int           // failures before delays start; default 3
	BackoffBase  time.Duration // the first delay, doubled per failure; default 1s
	BackoffMax   time.Duration // the longest delay; default 1m
}

// MaxAccountLimit is NIST SP 800-63B's ceiling on consecutive failures.
const MaxAccountLimit = 100

// DefaultThrottle is the policy used when nothing is configured.
var DefaultThrottle = Throttle{AccountLimit: 10, Lockout: 15 * time.Minute, IPLimit: 50, IPWindow: 15 * time.Minute,
	BackoffAfter: 3, BackoffBase: time.Second, BackoffMax: time.Minute}

// WithDefaults returns t with zero fields set from DefaultThrottle.
func (t Throttle) WithDefaults() Throttle {
	d := DefaultThrottle
	if t.AccountLimit == 0 {
		t.AccountLimit = d.AccountLimit
	}
	if t.Lockout == 0 {
		t.Lockout = d.Lockout
	}
	if t.IPLimit == 0 {
		t.IPLimit = d.IPLimit
	}
	if t.IPWindow == 0 {
		t.IPWindow = d.IPWindow
	}
	if t.BackoffAfter == 0 {
		t.BackoffAfter = d.BackoffAfter
	}
	if t.BackoffBase == 0 {
		t.BackoffBase = d.BackoffBase
	}
	if t.BackoffMax == 0 {
		t.BackoffMax = d.BackoffMax
	}
	return t
}

// Validate checks the limits.
func (t Throttle) Validate() error {
	var errs []error
	if t.AccountLimit < 1 || t.AccountLimit > MaxAccountLimit {
		errs = append(errs, errors.New("the account failure limit must be between 1 and 100 (NIST SP 800-63B §5.2.2)"))
	}
	if t.Lockout < time.Second || t.IPWindow < time.Second {
		errs = append(errs, errors.New("the lockout and the address window must be at least 1s"))
	}
	if t.IPLimit < 1 {
		errs = append(errs, errors.New("the address failure limit must be at least 1"))
	}
	if t.BackoffAfter < 1 || t.BackoffBase <= 0 || t.BackoffMax < t.BackoffBase {
		errs = append(errs, errors.New("back-off: start after at least 1 failure, with 0 < base <= max"))
	}
	return errors.Join(errs...)
}

// Failures is what the store holds of a key's failures within the window
// the policy asked about.
type Failures struct {
	Count       int
	First, Last time.Time // the oldest and the newest failure counted
}

// Verdict is the policy's answer for the next attempt.
type Verdict struct {
	Refuse     bool
	Locked     bool          // refused because the account is locked, not merely slowed down
	RetryAfter time.Duration // when Refuse: how long until an attempt is allowed
}

// since is now - last, never negative (instances' clocks may differ a little).
func since(last, now time.Time) time.Duration {
	if d := now.Sub(last); d > 0 {
		return d
	}
	return 0
}

// Delay is the wait required after n failures in a run.
func (t Throttle) Delay(n int) time.Duration {
	if n < t.BackoffAfter {
		return 0
	}
	d := t.BackoffBase
	for i := t.BackoffAfter; i < n && d < t.BackoffMax; i++ {
		d *= 2
	}
	return min(d, t.BackoffMax)
}

// Account decides on an attempt against an account with the failures f
// of the last Lockout.
func (t Throttle) Account(f Failures, now time.Time) Verdict {
	if f.Count <= 0 || since(f.Last, now) >= t.Lockout {
		return Verdict{}
	}
	if f.Count >= t.AccountLimit {
		return Verdict{Refuse: true, Locked: true, RetryAfter: t.Lockout - since(f.First, now)}
	}
	if d, elapsed := t.Delay(f.Count), since(f.Last, now); elapsed < d {
		return Verdict{Refuse: true, RetryAfter: d - elapsed}
	}
	return Verdict{}
}

// IP decides on an attempt from a client address with the failures f of
// the last IPWindow.
func (t Throttle) IP(f Failures, now time.Time) Verdict {
	if f.Count < t.IPLimit || since(f.Last, now) >= t.IPWindow {
		return Verdict{}
	}
	return Verdict{Refuse: true, RetryAfter: t.IPWindow - since(f.First, now)}
}

// Locks reports whether a run of n failures locks the account.
func (t Throttle) Locks(n int) bool { return n >= t.AccountLimit }

// IPKey is the throttling key of a client address: IPv4 addresses as they
// are, IPv6 addresses by their /64, since one host commonly holds a whole
// /64. Anything unparseable is its own key.
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		if len(ip) > 64 {
			ip = ip[:64]
		}
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}
