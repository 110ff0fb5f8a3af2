package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// knownRoles are the roles --mfa-roles may name (crm.Roles).
var knownRoles = []string{"admin", "manager", "sales", "support", "auditor", "readonly"}

// MFARoleList returns the roles that must use a second factor: the
// configured ones, deduplicated, with admin always among them.
func (c *Config) MFARoleList() []string {
	out := []string{"admin"}
	for _, r := range strings.Split(c.MFARoles, ",") {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" {
			continue
		}
		dup := false
		for _, x := range out {
			dup = dup || x == r
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}

// validateMFA checks the second-factor and throttling settings. The
// account limit follows NIST SP 800-63B §5.2.2 (no more than 100
// consecutive failures).
func (c *Config) validateMFA() []error {
	var errs []error
	for _, r := range c.MFARoleList() {
		ok := false
		for _, k := range knownRoles {
			ok = ok || k == r
		}
		if !ok {
			errs = append(errs, fmt.Errorf("mfa-roles: unknown role %q; roles are %s", r, strings.Join(knownRoles, ", ")))
		}
	}
	if c.StepUpWindow < time.Minute || c.StepUpWindow > time.Hour {
		errs = append(errs, errors.New("step-up-window: must be between 1m and 1h"))
	}
	if c.LockoutThreshold < 1 || c.LockoutThreshold > 100 {
		errs = append(errs, errors.New("lockout-threshold: must be between 1 and 100 (NIST SP 800-63B §5.2.2)"))
	}
	if c.LockoutDuration < time.Minute || c.LockoutDuration > 24*time.Hour {
		errs = append(errs, errors.New("lockout-duration: must be between 1m and 24h"))
	}
	if c.IPFailureLimit < 1 {
		errs = append(errs, errors.New("ip-failure-limit: must be at least 1"))
	}
	if c.IPFailureWindow < time.Minute || c.IPFailureWindow > 24*time.Hour {
		errs = append(errs, errors.New("ip-failure-window: must be between 1m and 24h"))
	}
	return errs
}
