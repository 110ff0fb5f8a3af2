package identity_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
)

// TestCustomRole (ACL-1): a custom role is made by an administrator, given
// to a user, and its permissions and field policies hold for that user from
// their next request, API token included; changing the role changes them.
func TestCustomRole(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	d, err := f.svc.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("agent"), Label: ptr("Call-centre agent"),
		Permissions: &[]string{"contacts.update", "contacts.read", "contacts.read"},
		Fields:      &map[string]crm.FieldLevel{"contact.email": crm.FieldMasked}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Permissions, []string{"contacts.read", "contacts.update"}) || d.Version != 1 || d.MFA {
		t.Errorf("created %+v", d)
	}
	role := crm.Role("agent")
	u := f.kit.AddUser(t, "agent1", role)
	tok, err := f.svc.CreateToken(ctx, crm.SystemPrincipal(), u.ID, "t", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticateToken(ctx, tok.Secret, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Def == nil || p.Def.Name != role || !p.Def.Has("contacts.update") || p.Def.Has("contacts.create") {
		t.Fatalf("the token's principal has role %+v", p.Def)
	}
	c, err := f.records.CreateContact(ctx, f.as("admin"), crm.ContactInput{LastName: ptr("X"), Email: ptr("x@example.com"),
		OwnerID: &u.ID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.records.FindContactByID(ctx, p, c.ID)
	if err != nil || got.Email != "x***@example.com" {
		t.Fatalf("the agent reads %+v %v", got, err)
	}
	_, err = f.records.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("Y")})
	wantCode(t, err, crm.EFORBIDDEN)

	// Widened: the same token can create on its next request; the email
	// is no longer masked.
	if _, err := f.svc.UpdateRole(ctx, admin, role, crm.RoleInput{Permissions: &[]string{"contacts.read", "contacts.create", "contacts.update"},
		Fields: &map[string]crm.FieldLevel{}}, 1); err != nil {
		t.Fatal(err)
	}
	p, err = f.svc.AuthenticateToken(ctx, tok.Secret, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.records.CreateContact(ctx, p, crm.ContactInput{LastName: ptr("Y")}); err != nil {
		t.Errorf("after widening: %v", err)
	}
	if got, _ := f.records.FindContactByID(ctx, p, c.ID); got == nil || got.Email != "x@example.com" {
		t.Errorf("after unmasking: %+v", got)
	}
	// A stale version is refused.
	_, err = f.svc.UpdateRole(ctx, admin, role, crm.RoleInput{Label: ptr("x")}, 1)
	wantCode(t, err, crm.EPRECONDITION)

	// In use: not deleted; free: deleted.
	wantCode(t, f.svc.DeleteRole(ctx, admin, role), crm.ECONFLICT)
	if _, err := f.svc.UpdateUser(ctx, admin, u.ID, crm.UserInput{Role: ptr(crm.RoleSales)}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteRole(ctx, admin, role); err != nil {
		t.Fatalf("delete a role no one holds: %v", err)
	}
	_, err = f.svc.FindRole(ctx, admin, role)
	wantCode(t, err, crm.ENOTFOUND)
}

// TestRoleRules: the inputs and principals role administration refuses
// (ACL-1; ASVS v5.0.0-8.2.1).
func TestRoleRules(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	for _, tc := range []struct {
		name  string
		in    crm.RoleInput
		field string
	}{
		{"no name", crm.RoleInput{Permissions: &[]string{}}, "name"},
		{"a built-in name", crm.RoleInput{Name: ptr("sales"), Permissions: &[]string{}}, "name"},
		{"a bad name", crm.RoleInput{Name: ptr("Root Admin"), Permissions: &[]string{}}, "name"},
		{"no permissions", crm.RoleInput{Name: ptr("x1")}, "permissions"},
		{"an unknown action", crm.RoleInput{Name: ptr("x2"), Permissions: &[]string{"contacts.fly"}}, "permissions"},
		{"an unknown field", crm.RoleInput{Name: ptr("x3"), Permissions: &[]string{}, Fields: &map[string]crm.FieldLevel{"contact.shoe": crm.FieldRead}}, "fields.contact.shoe"},
		{"a name hidden", crm.RoleInput{Name: ptr("x4"), Permissions: &[]string{}, Fields: &map[string]crm.FieldLevel{"contact.last_name": crm.FieldHidden}}, "fields.contact.last_name"},
	} {
		_, err := f.svc.CreateRole(ctx, admin, tc.in)
		wantField(t, err, tc.field)
	}
	// Not an administrator; an administrator without a recent step-up; a token.
	_, err := f.svc.CreateRole(ctx, f.as("manager"), crm.RoleInput{Name: ptr("y"), Permissions: &[]string{}})
	wantCode(t, err, crm.EFORBIDDEN)
	stale := f.as("admin")
	stale.SteppedUpAt = time.Now().Add(-time.Hour)
	_, err = f.svc.CreateRole(ctx, stale, crm.RoleInput{Name: ptr("y"), Permissions: &[]string{}})
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	// Built-in roles stay as they are.
	_, err = f.svc.UpdateRole(ctx, admin, crm.RoleSupport, crm.RoleInput{Permissions: &[]string{}}, 0)
	wantCode(t, err, crm.EFORBIDDEN)
	wantCode(t, f.svc.DeleteRole(ctx, admin, crm.RoleAdmin), crm.EFORBIDDEN)
	// A role that manages users requires a second factor, whatever it says.
	d, err := f.svc.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("useradmin"), Permissions: &[]string{"users.manage", "users.read"}, MFA: ptr(false)})
	if err != nil || !d.MFA {
		t.Fatalf("a user-administration role without MFA: %+v %v", d, err)
	}
	if mfa, err := f.svc.RoleRequiresMFA(ctx, "useradmin"); err != nil || !mfa {
		t.Errorf("RoleRequiresMFA(useradmin) = %v %v", mfa, err)
	}
	// So does a role that erases clients for good (ENC-5).
	dpo, err := f.svc.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("dpo"), Permissions: &[]string{"contacts.read", "clients.erase"}, MFA: ptr(false)})
	if err != nil || !dpo.MFA {
		t.Fatalf("an erasing role without MFA: %+v %v", dpo, err)
	}
	if err := f.svc.DeleteRole(ctx, admin, "dpo"); err != nil {
		t.Fatal(err)
	}
	// The roles list: the built-in six first.
	list, err := f.svc.FindRoles(ctx, f.as("alice"))
	if err != nil || len(list) != 7 || list[0].Name != crm.RoleAdmin || !list[0].MFA || list[6].Name != "useradmin" {
		t.Errorf("roles %v %v", list, err)
	}
	_, err = f.svc.FindRoles(ctx, nil)
	wantCode(t, err, crm.EUNAUTHENTICATED)
}

// TestNoGrantBeyondHeld (ACL-1; ASVS v5.0.0-8.2.1, 8.3.3): a user
// administrator whose role holds less than an admin's can grant no more
// than they hold, administer nobody above them, and change no role of
// their own.
func TestNoGrantBeyondHeld(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	admin := f.as("admin")
	if _, err := f.svc.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("hr"), Permissions: &[]string{"users.manage", "users.read", "contacts.read"}}); err != nil {
		t.Fatal(err)
	}
	f.kit.AddUser(t, "hr1", "hr")
	hr := f.kit.Principal(t, "hr1@example.com")
	// Granting more than held, as a role or through a role.
	_, err := f.svc.CreateRole(ctx, hr, crm.RoleInput{Name: ptr("bigger"), Permissions: &[]string{"contacts.read", "contacts.update"}})
	wantCode(t, err, crm.EFORBIDDEN)
	if crm.ErrorFields(err)["permissions"] == "" {
		t.Errorf("the refusal names no field: %v", err)
	}
	_, err = f.svc.UpdateUser(ctx, hr, f.users["support"].ID, crm.UserInput{Role: ptr(crm.RoleAdmin)})
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.InviteUser(ctx, hr, "new@example.com", crm.RoleManager, "New")
	wantCode(t, err, crm.EFORBIDDEN)
	// Administering someone above: disabling the admin.
	_, err = f.svc.UpdateUser(ctx, hr, f.users["admin"].ID, crm.UserInput{Disabled: ptr(true)})
	wantCode(t, err, crm.EFORBIDDEN)
	// Their own role.
	_, err = f.svc.UpdateUser(ctx, hr, f.users["hr1"].ID, crm.UserInput{Role: ptr(crm.RoleAdmin)})
	wantField(t, err, "role")
	_, err = f.svc.UpdateUser(ctx, admin, f.users["admin"].ID, crm.UserInput{Role: ptr(crm.RoleSales)})
	wantField(t, err, "role")
	// What they hold they may grant: a role with less.
	if _, err := f.svc.CreateRole(ctx, hr, crm.RoleInput{Name: ptr("viewer"), Permissions: &[]string{"contacts.read"}}); err != nil {
		t.Errorf("granting less than held: %v", err)
	}
	for name, u := range f.users {
		got, _ := f.svc.FindUserByID(ctx, admin, u.ID)
		if got.Role != u.Role || got.Disabled {
			t.Errorf("%s changed: %s disabled=%v", name, got.Role, got.Disabled)
		}
	}
}

// TestLastAdmin (ACL-1): the last enabled administrator can be neither
// demoted nor disabled, by anyone; with two, one can.
func TestLastAdmin(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	sys := crm.SystemPrincipal()
	id := f.users["admin"].ID
	_, err := f.svc.UpdateUser(ctx, sys, id, crm.UserInput{Role: ptr(crm.RoleManager)})
	wantCode(t, err, crm.ECONFLICT)
	_, err = f.svc.UpdateUser(ctx, sys, id, crm.UserInput{Disabled: ptr(true)})
	wantCode(t, err, crm.ECONFLICT)
	second := f.kit.AddUser(t, "admin2", crm.RoleAdmin)
	if _, err := f.svc.UpdateUser(ctx, f.kit.Principal(t, "admin2@example.com"), id, crm.UserInput{Role: ptr(crm.RoleManager)}); err != nil {
		t.Fatalf("demote one of two admins: %v", err)
	}
	_, err = f.svc.UpdateUser(ctx, sys, second.ID, crm.UserInput{Disabled: ptr(true)})
	wantCode(t, err, crm.ECONFLICT)
	if u, _ := f.svc.FindUserByID(ctx, sys, second.ID); u.Disabled || u.Role != crm.RoleAdmin {
		t.Errorf("the last admin changed: %+v", u)
	}
}

// TestInviteToCustomRole (ACL-1, AUTH-8): an invitation into a custom role
// names its label in the mail and gives the role on acceptance; the role
// cannot be deleted while the invitation is pending; an unknown role is
// refused before anything is sent.
func TestInviteToCustomRole(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	admin := f.as("admin")
	if _, err := f.svc.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("intern"), Label: ptr("Trainee"), Permissions: &[]string{"contacts.read"}}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.InviteUser(ctx, admin, "ghost@example.com", "nosuchrole", "")
	wantField(t, err, "role")
	if _, err := f.svc.InviteUser(ctx, admin, "trainee@example.com", "intern", "T"); err != nil {
		t.Fatal(err)
	}
	m := f.mail(t, 1)
	if !strings.Contains(m.Body, "Trainee") || strings.Contains(m.Body, "role.intern") {
		t.Errorf("the invitation names the role as:\n%s", m.Body)
	}
	wantCode(t, f.svc.DeleteRole(ctx, admin, "intern"), crm.ECONFLICT)
	u, _, err := f.svc.AcceptInvitation(ctx, tokenOf(t, m, "/invite/"), "", testPassword, "en")
	if err != nil || u.Role != "intern" {
		t.Fatalf("accepted: %+v %v", u, err)
	}
}

// TestUserAdminWithoutClientData (ACL-1, ACL-2): a custom role that
// administers users but holds no client data cannot widen anyone's record
// scope through teams, nor act on the sessions, tokens, lock or enrolment
// of someone above it.
func TestUserAdminWithoutClientData(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	if _, err := f.svc.CreateRole(ctx, f.as("admin"), crm.RoleInput{Name: ptr("hr"), Permissions: &[]string{"users.manage", "users.read", "tokens.own", "erasures.read"}}); err != nil {
		t.Fatal(err)
	}
	f.kit.AddUser(t, "hr1", "hr")
	hr := f.kit.Principal(t, "hr1@example.com")
	_, err := f.svc.CreateTeam(ctx, hr, crm.TeamInput{Name: ptr("Sales"), ManagerID: crm.Value(f.users["bob"].ID)})
	wantCode(t, err, crm.EFORBIDDEN)
	tm, err := f.svc.CreateTeam(ctx, f.as("admin"), crm.TeamInput{Name: ptr("Sales")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateTeam(ctx, hr, tm.ID, crm.TeamInput{ManagerID: crm.Value(f.users["bob"].ID)}, 0)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.AddTeamMember(ctx, hr, tm.ID, f.users["alice"].ID)
	wantCode(t, err, crm.EFORBIDDEN)
	admin := f.users["admin"].ID
	wantCode(t, f.svc.RevokeUserSessions(ctx, hr, admin), crm.EFORBIDDEN)
	wantCode(t, f.svc.UnlockUser(ctx, hr, admin), crm.EFORBIDDEN)
	_, err = f.svc.FindUserTokens(ctx, hr, admin)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.IssueEnrolmentLink(ctx, hr, admin)
	wantCode(t, err, crm.EFORBIDDEN)
	// On someone with less than hr holds, it works.
	if err := f.svc.RevokeUserSessions(ctx, hr, f.users["auditor"].ID); err != nil {
		t.Errorf("hr ends the auditor's sessions: %v", err)
	}
}

// TestRoleNowRequiresMFA (AUTH-2, ACL-1): when a custom role starts to
// require a second factor, a factor its users set up with the password
// alone is removed and their sessions end: each enrols anew through an
// enrolment link, as a user promoted into such a role does.
func TestRoleNowRequiresMFA(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	admin := f.as("admin")
	if _, err := f.svc.CreateRole(ctx, admin, crm.RoleInput{Name: ptr("helper"), Permissions: &[]string{"contacts.read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateUser(ctx, admin, f.users["alice"].ID, crm.UserInput{Role: ptr(crm.Role("helper"))}); err != nil {
		t.Fatal(err)
	}
	// With only her password, someone signs in and sets up a TOTP.
	p, secret := f.signIn(t, "alice@example.com")
	f.confirmTOTP(t, p)
	if _, err := f.svc.UpdateRole(ctx, admin, "helper", crm.RoleInput{MFA: ptr(true)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, secret); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("her session outlived the role's change: %v", err)
	}
	st, err := f.svc.MFAStatus(ctx, f.as("alice"))
	if err != nil || st.TOTP {
		t.Errorf("the factor set up with the password alone survived: %+v %v", st, err)
	}
	f.svc.WaitMail()
	found := false
	for _, m := range f.smtp.Messages() {
		found = found || (len(m.To) == 1 && m.To[0] == "alice@example.com" && strings.Contains(m.Link(), "/enrol/"))
	}
	if !found {
		t.Error("no enrolment link was mailed to her")
	}
}
