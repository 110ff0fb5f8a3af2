package main

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlite"
)

// TestUserUnlockCLI: an account locked by failed sign-ins (AUTH-6) shows as
// locked in "user list", and "user unlock" lifts the lock.
func TestUserUnlockCLI(t *testing.T) {
	dir := t.TempDir()
	pw := "a perfectly fine passphrase"
	runCLI(t, dir, pw+"\n", "user", "add", "--email", "s@example.com", "--role", "sales", "--password-stdin")

	ctx := context.Background()
	// Three failures lock (before the back-off, which starts at the third,
	// could refuse one).
	env := func(k string) string {
		if k == "CUSTOS_LOCKOUT_THRESHOLD" {
			return "3"
		}
		return testEnv(dir)(k)
	}
	c, err := config.Register(flag.NewFlagSet("test", flag.ContinueOnError))(env)
	if err != nil {
		t.Fatal(err)
	}
	login := func(password string) error {
		db, err := sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, _, _, err = newServices(c, db, slog.New(slog.DiscardHandler), nil).identity.Login(ctx, "s@example.com", password, "192.0.2.1", "")
		return err
	}
	for range c.LockoutThreshold {
		if err := login("wrong password!!"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if err := login(pw); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Fatalf("the locked account opened: %v", err)
	}
	if got := runCLI(t, dir, "", "user", "list"); !strings.Contains(got, "locked until") {
		t.Errorf("user list does not show the lock:\n%s", got)
	}
	if got := runCLI(t, dir, "", "user", "unlock", "--email", "s@example.com"); !strings.Contains(got, "unlocked user") {
		t.Errorf("user unlock: %q", got)
	}
	if err := login(pw); err != nil {
		t.Errorf("after unlock: %v", err)
	}
}
