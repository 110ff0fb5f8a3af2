package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCLITeams (ACL-2): the operator builds a team tree, staffs it, moves
// a member, and is refused a cycle and the removal of a team in use; team
// list shows the tree with managers and members.
func TestCLITeams(t *testing.T) {
	dir := t.TempDir()
	const pw = "a perfectly fine passphrase\n"
	for _, email := range []string{"head@example.com", "lead@example.com", "rep@example.com"} {
		runCLI(t, dir, pw, "user", "add", "--email", email, "--role", "sales", "--password-stdin")
	}
	runCLI(t, dir, "", "team", "add", "--name", "Sales", "--manager", "head@example.com")
	runCLI(t, dir, "", "team", "add", "--name", "Moscow", "--parent", "Sales", "--manager", "lead@example.com")
	runCLI(t, dir, "", "team", "add", "--name", "Kazan", "--parent", "sales")
	if out := runCLI(t, dir, "", "team", "add-member", "--team", "Moscow", "--email", "rep@example.com"); !strings.Contains(out, "added <rep@example.com> to team") {
		t.Errorf("add-member printed %q", out)
	}
	out := runCLI(t, dir, "", "team", "list")
	for _, want := range []string{"Sales", "  Moscow", "lead@example.com", "rep@example.com", "  Kazan"} {
		if !strings.Contains(out, want) {
			t.Errorf("team list lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "Moscow") < strings.Index(out, "Sales") {
		t.Errorf("a sub-team is listed before its parent:\n%s", out)
	}
	runCLI(t, dir, "", "team", "add-member", "--team", "Kazan", "--email", "rep@example.com")
	out = runCLI(t, dir, "", "team", "list")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "Moscow") && strings.Contains(line, "rep@example.com") {
			t.Errorf("rep is still in Moscow: %q", line)
		}
	}
	fail := func(want string, args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, testEnv(dir), strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("custos %s: %v, want an error with %q", strings.Join(args, " "), err, want)
		}
	}
	fail("parent_id", "team", "set", "--team", "Sales", "--parent", "Moscow")
	fail("members", "team", "remove", "--team", "Kazan")
	fail("sub-teams", "team", "remove", "--team", "Sales")
	fail("no team", "team", "set", "--team", "Nowhere", "--name", "X")
	fail("not both", "team", "set", "--team", "Kazan", "--parent", "Sales", "--top")
	// A name that is another team's id is refused as a reference.
	runCLI(t, dir, "", "team", "add", "--name", "1")
	fail("id and team", "team", "set", "--team", "1", "--name", "One")
	runCLI(t, dir, "", "team", "remove-member", "--team", "Kazan", "--email", "rep@example.com")
	if out := runCLI(t, dir, "", "team", "remove", "--team", "Kazan"); !strings.Contains(out, `removed team`) {
		t.Errorf("remove printed %q", out)
	}
	if out := runCLI(t, dir, "", "team", "list"); strings.Contains(out, "Kazan") {
		t.Errorf("Kazan is still listed:\n%s", out)
	}
}
