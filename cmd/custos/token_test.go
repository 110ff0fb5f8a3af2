package main

import (
	"strings"
	"testing"
)

// TestCLITokens: the operator lists a user's tokens with their state and
// revokes one by id; `user set-password` and `user disable` end every
// token of the user (INC-2; ASVS v5.0.0-7.4.1, 8.3.2).
func TestCLITokens(t *testing.T) {
	dir := t.TempDir()
	const pw = "a perfectly fine passphrase\n"
	runCLI(t, dir, pw, "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	runCLI(t, dir, pw, "user", "add", "--email", "other@example.com", "--role", "sales", "--password-stdin")
	mint := func(email string) {
		t.Helper()
		if out := runCLI(t, dir, "", "token", "create", "--email", email, "--scope", "write", "--ttl", "1h"); !strings.HasPrefix(out, "cst_") {
			t.Fatalf("token create printed %q", out)
		}
	}
	// states returns the status column of each of email's tokens, by id.
	states := func(email string) map[string]string {
		t.Helper()
		out := runCLI(t, dir, "", "token", "list", "--email", email)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "LAST USED") || !strings.Contains(lines[0], "FROM") {
			t.Fatalf("token list header: %q", lines[0])
		}
		got := map[string]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			got[f[0]] = f[len(f)-2] // "revoked <time>" or "... active"
			if f[len(f)-1] == "active" || f[len(f)-1] == "expired" {
				got[f[0]] = f[len(f)-1]
			}
		}
		return got
	}
	mint("rep@example.com")
	mint("rep@example.com")
	mint("other@example.com")
	if got := states("rep@example.com"); len(got) != 2 || got["1"] != "active" || got["2"] != "active" {
		t.Fatalf("rep's tokens: %v", got)
	}
	if out := runCLI(t, dir, "", "token", "revoke", "--id", "1"); !strings.Contains(out, "token 1 revoked") {
		t.Errorf("revoke printed %q", out)
	}
	if got := states("rep@example.com"); got["1"] != "revoked" || got["2"] != "active" {
		t.Errorf("after revoking 1: %v", got)
	}
	runCLI(t, dir, "another fine passphrase!\n", "user", "set-password", "--email", "rep@example.com", "--password-stdin")
	if got := states("rep@example.com"); got["2"] != "revoked" {
		t.Errorf("after set-password: %v, want token 2 revoked", got)
	}
	mint("rep@example.com")
	runCLI(t, dir, "", "user", "disable", "--email", "rep@example.com")
	if got := states("rep@example.com"); got["4"] != "revoked" {
		t.Errorf("after disable: %v, want token 4 revoked", got)
	}
	if got := states("other@example.com"); got["3"] != "active" {
		t.Errorf("another user's token after rep's changes: %v", got)
	}
}

// TestCLITokenTTL: a lifetime under one second is refused with the field
// named, as the error says (issue 9, item 7).
func TestCLITokenTTL(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a perfectly fine passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	for _, ttl := range []string{"1ns", "999ms", "0s"} {
		var out, errb strings.Builder
		err := run(t.Context(), []string{"token", "create", "--email", "rep@example.com", "--ttl", ttl}, testEnv(dir), strings.NewReader(""), &out, &errb)
		if err == nil || !strings.Contains(err.Error(), "ttl") || strings.HasPrefix(out.String(), "cst_") {
			t.Errorf("--ttl %s: err %v, printed %q; want a refusal naming ttl and no token", ttl, err, out.String())
		}
	}
}
