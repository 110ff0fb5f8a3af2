package auth

import (
	"testing"
	"time"
)

func TestThrottleDefaults(t *testing.T) {
	d := Throttle{}.WithDefaults()
	if d != DefaultThrottle {
		t.Errorf("WithDefaults = %+v", d)
	}
	if d.AccountLimit != 10 || d.Lockout != 15*time.Minute || d.IPLimit != 50 || d.IPWindow != 15*time.Minute {
		t.Errorf("defaults %+v, want 10 / 15m / 50 / 15m", d)
	}
	if err := d.Validate(); err != nil {
		t.Error(err)
	}
	// NIST SP 800-63B §5.2.2: no more than 100 consecutive failures.
	bad := d
	bad.AccountLimit = 101
	if bad.Validate() == nil {
		t.Error("an account limit of 101 validated")
	}
	bad = d
	bad.BackoffMax = bad.BackoffBase / 2
	if bad.Validate() == nil {
		t.Error("a back-off max below the base validated")
	}
}

func TestThrottleDelay(t *testing.T) {
	th := DefaultThrottle
	want := map[int]time.Duration{0: 0, 1: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second,
		8: 32 * time.Second, 9: time.Minute, 50: time.Minute, 1000: time.Minute}
	for n, d := range want {
		if got := th.Delay(n); got != d {
			t.Errorf("Delay(%d) = %v, want %v", n, got, d)
		}
	}
}

func TestThrottleAccount(t *testing.T) {
	th := DefaultThrottle
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		f      Failures
		now    time.Time
		refuse bool
		locked bool
		retry  time.Duration
	}{
		{"no failures", Failures{}, now, false, false, 0},
		{"two failures just now", Failures{2, now, now}, now, false, false, 0},
		{"three failures just now: wait 1s", Failures{3, now, now}, now, true, false, time.Second},
		{"three failures 1s ago", Failures{3, now, now}, now.Add(time.Second), false, false, 0},
		{"five failures 1s ago: wait 3s more", Failures{5, now, now}, now.Add(time.Second), true, false, 3 * time.Second},
		{"nine failures 59s ago", Failures{9, now, now}, now.Add(59 * time.Second), true, false, time.Second},
		{"ten failures: locked", Failures{10, now, now}, now.Add(time.Minute), true, true, 14 * time.Minute},
		{"ten failures 14m59s ago: still locked", Failures{10, now, now}, now.Add(15*time.Minute - time.Second), true, true, time.Second},
		{"ten failures 15m ago: unlocked", Failures{10, now, now}, now.Add(15 * time.Minute), false, false, 0},
		{"a clock behind the last failure", Failures{10, now, now}, now.Add(-time.Minute), true, true, 15 * time.Minute},
		// The lock ends when the oldest failure of the window is Lockout
		// old: then one more attempt is let through.
		{"ten failures over 10m: locked for 5m", Failures{10, now.Add(-10 * time.Minute), now}, now, true, true, 5 * time.Minute},
		// Back-off counts from the newest failure, not the oldest.
		{"four failures, the last just now", Failures{4, now.Add(-10 * time.Minute), now}, now, true, false, 2 * time.Second},
	}
	for _, c := range cases {
		v := th.Account(c.f, c.now)
		if v.Refuse != c.refuse || v.Locked != c.locked || v.RetryAfter != c.retry {
			t.Errorf("%s: %+v, want refuse %v locked %v retry %v", c.name, v, c.refuse, c.locked, c.retry)
		}
	}
	if th.Locks(9) || !th.Locks(10) {
		t.Error("Locks: want the 10th failure to lock")
	}
	custom := Throttle{AccountLimit: 3, Lockout: time.Hour}.WithDefaults()
	if v := custom.Account(Failures{3, now, now}, now.Add(30*time.Minute)); !v.Locked || v.RetryAfter != 30*time.Minute {
		t.Errorf("a configured limit of 3 and 1h lockout: %+v", v)
	}
}

func TestThrottleIP(t *testing.T) {
	th := DefaultThrottle
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if v := th.IP(Failures{49, now, now}, now); v.Refuse {
		t.Errorf("49 failures: %+v", v)
	}
	if v := th.IP(Failures{50, now, now}, now.Add(time.Minute)); !v.Refuse || v.Locked || v.RetryAfter != 14*time.Minute {
		t.Errorf("50 failures: %+v", v)
	}
	if v := th.IP(Failures{500, now, now}, now.Add(15*time.Minute)); v.Refuse {
		t.Errorf("after the window: %+v", v)
	}
	// The block ends when the oldest failure of the window expires.
	if v := th.IP(Failures{50, now.Add(-12 * time.Minute), now}, now); !v.Refuse || v.RetryAfter != 3*time.Minute {
		t.Errorf("50 failures over 12m: %+v, want retry in 3m", v)
	}
}

func TestIPKey(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an address":       "not an address",
		"":                     "",
	}
	for in, want := range cases {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}
