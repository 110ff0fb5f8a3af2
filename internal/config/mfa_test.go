package config

import (
	"slices"
	"strings"
	"testing"
)

func TestMFASettings(t *testing.T) {
	c, err := load(map[string]string{}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.MFARoleList(); !slices.Equal(got, []string{"admin", "manager"}) {
		t.Errorf("default MFA roles %v", got)
	}
	if c.StepUpWindow.String() != "5m0s" || c.LockoutThreshold != 10 || c.LockoutDuration.String() != "15m0s" ||
		c.IPFailureLimit != 50 || c.IPFailureWindow.String() != "15m0s" {
		t.Errorf("defaults: %+v", c)
	}
	// Admin cannot be left out.
	c, err = load(map[string]string{"mfa-roles": " Sales, support,,sales"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.MFARoleList(); !slices.Equal(got, []string{"admin", "sales", "support"}) {
		t.Errorf("configured MFA roles %v", got)
	}
	for flags, want := range map[string]string{
		"mfa-roles=admin,root":  "unknown role",
		"lockout-threshold=101": "lockout-threshold",
		"lockout-threshold=0":   "lockout-threshold",
		"step-up-window=10s":    "step-up-window",
		"lockout-duration=1s":   "lockout-duration",
		"ip-failure-limit=0":    "ip-failure-limit",
	} {
		k, v, _ := strings.Cut(flags, "=")
		_, err := load(map[string]string{k: v}, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error about %s", flags, err, want)
		}
	}
}
