package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCLIRoles (ACL-1, ACL-3): the operator makes a custom role with field
// policies, gives it to a user, changes it, and is refused what the rules
// refuse: a built-in role's change, an unknown action, the removal of a
// role in use, the last administrator's demotion.
func TestCLIRoles(t *testing.T) {
	dir := t.TempDir()
	const pw = "a perfectly fine passphrase\n"
	runCLI(t, dir, pw, "user", "add", "--email", "boss@example.com", "--role", "admin", "--password-stdin")
	runCLI(t, dir, pw, "user", "add", "--email", "agent@example.com", "--role", "support", "--password-stdin")
	out := runCLI(t, dir, "", "role", "add", "--name", "agent", "--label", "Call-centre agent",
		"--permissions", "contacts.read, contacts.update", "--field", "contact.phone=masked", "--field", "contact.notes=hidden")
	for _, want := range []string{"created role agent", "contacts   read, update", "contact.notes=hidden, contact.phone=masked"} {
		if !strings.Contains(out, want) {
			t.Errorf("role add printed no %q:\n%s", want, out)
		}
	}
	if out := runCLI(t, dir, "", "user", "set-role", "--email", "agent@example.com", "--role", "agent"); !strings.Contains(out, "updated user") {
		t.Errorf("set-role printed %q", out)
	}
	out = runCLI(t, dir, "", "role", "set", "--role", "agent", "--field", "contact.email=masked")
	if !strings.Contains(out, "contact.email=masked, contact.notes=hidden, contact.phone=masked") || !strings.Contains(out, "version 2") {
		t.Errorf("role set kept no earlier field policies:\n%s", out)
	}
	out = runCLI(t, dir, "", "role", "list")
	for _, want := range []string{"admin", "built-in", "agent", "custom"} {
		if !strings.Contains(out, want) {
			t.Errorf("role list lacks %q:\n%s", want, out)
		}
	}
	if out := runCLI(t, dir, "", "user", "list"); !strings.Contains(out, "agent@example.com") || !strings.Contains(out, "agent") {
		t.Errorf("user list:\n%s", out)
	}
	fail := func(want string, args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, testEnv(dir), strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("custos %s: %v, want an error with %q", strings.Join(args, " "), err, want)
		}
	}
	fail("built-in", "role", "set", "--role", "support", "--permissions", "contacts.read")
	fail("permissions", "role", "add", "--name", "broken", "--permissions", "contacts.fly")
	fail("fields.contact.last_name", "role", "add", "--name", "nameless", "--permissions", "contacts.read", "--field", "contact.last_name=hidden")
	fail("hold this role", "role", "remove", "--role", "agent")
	fail("role", "user", "set-role", "--email", "agent@example.com", "--role", "nosuchrole")
	fail("last administrator", "user", "set-role", "--email", "boss@example.com", "--role", "sales")
	runCLI(t, dir, "", "user", "set-role", "--email", "agent@example.com", "--role", "support")
	if out := runCLI(t, dir, "", "role", "remove", "--role", "agent"); !strings.Contains(out, "removed role agent") {
		t.Errorf("role remove printed %q", out)
	}
}
