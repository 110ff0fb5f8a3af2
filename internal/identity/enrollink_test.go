package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// The first-use gap (issue 9 item 4; AUTH-2, ASVS v5.0.0-6.4.4 class):
// whoever holds the password of a manager or administrator who has not
// yet enrolled a second factor must not be able to enrol one. Such
// accounts enrol only through a one-time enrolment link, with the
// password; until then a password alone reaches nothing.

// startEnrol signs in through an enrolment link and returns the principal.
func (f *mailFixture) startEnrol(t *testing.T, token, password string) (*crm.Principal, error) {
	t.Helper()
	_, _, secret, err := f.svc.StartEnrolment(context.Background(), token, password, "192.0.2.5", "test")
	if err != nil {
		return nil, err
	}
	p, _, err := f.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return p, nil
}

// signIn signs in with the password and returns the principal and the
// session's secret.
func (f *mailFixture) signIn(t *testing.T, email string) (*crm.Principal, string) {
	t.Helper()
	_, _, secret, err := f.svc.Login(context.Background(), email, testPassword, "203.0.113.9", "test")
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	p, _, err := f.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return p, secret
}

// confirmTOTP enrols a TOTP for p (begin, then one correct code) and
// returns its secret.
func (f *mailFixture) confirmTOTP(t *testing.T, p *crm.Principal) string {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.BeginTOTP(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(e.Secret, f.clock.Now())
	if _, _, err := f.svc.ConfirmTOTP(ctx, p, code); err != nil {
		t.Fatal(err)
	}
	return e.Secret
}

// issueLink is a new enrolment link of the user, as the CLI makes it,
// and its secret.
func (f *mailFixture) issueLink(t *testing.T, userID int64) string {
	t.Helper()
	link, err := f.svc.IssueEnrolmentLink(context.Background(), crm.SystemPrincipal(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return link[strings.LastIndex(link, "/")+1:]
}

// TestEnrolmentLinkIssuedByAdmin: an administrator has a link mailed to a
// manager without a factor, never sees it, and the link works once, only
// with the manager's own password, and only until it expires or is
// replaced.
func TestEnrolmentLinkIssuedByAdmin(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	mgr := f.users["manager"]

	// Attack: the manager's password alone, in the browser or the API,
	// binds no authenticator.
	attacker, pwOnly := f.signIn(t, mgr.Email)
	if attacker.Pending != crm.MFAEnrolLink {
		t.Fatalf("a password-only sign-in is at %q, want %q", attacker.Pending, crm.MFAEnrolLink)
	}
	if _, err := f.svc.BeginTOTP(ctx, attacker); crm.ErrorCode(err) != crm.EFORBIDDEN {
		t.Fatalf("BeginTOTP with the password alone: %v", err)
	}

	// Only administrators with a step-up, or the CLI, issue links.
	_, err := f.svc.IssueEnrolmentLink(ctx, f.as("manager"), mgr.ID)
	wantCode(t, err, crm.EFORBIDDEN)
	stale := f.as("admin")
	stale.SteppedUpAt = f.clock.Now().Add(-time.Hour)
	_, err = f.svc.IssueEnrolmentLink(ctx, stale, mgr.ID)
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	_, err = f.svc.IssueEnrolmentLink(ctx, f.as("admin"), 99999)
	wantCode(t, err, crm.ENOTFOUND)

	shown, err := f.svc.IssueEnrolmentLink(ctx, f.as("admin"), mgr.ID)
	if err != nil || shown != "" {
		t.Fatalf("an administrator's link: %q, %v (want it mailed, not shown)", shown, err)
	}
	m := f.mail(t, 1)
	if m.To[0] != mgr.Email || !strings.Contains(m.Subject, "second factor") {
		t.Fatalf("enrolment mail to %v: %q", m.To, m.Subject)
	}
	first := tokenOf(t, m, "/enrol/")
	// A new link replaces the old one.
	if _, err := f.svc.IssueEnrolmentLink(ctx, f.as("admin"), mgr.ID); err != nil {
		t.Fatal(err)
	}
	link := tokenOf(t, f.mail(t, 2), "/enrol/")
	_, err = f.startEnrol(t, first, testPassword)
	wantField(t, err, "token")

	// The link is bound to its user: another user's password fails like a
	// wrong one, and is counted.
	if u, err := f.svc.EnrolmentLinkUser(ctx, link); err != nil || u.ID != mgr.ID {
		t.Fatalf("EnrolmentLinkUser: %v %v", u, err)
	}
	_, err = f.startEnrol(t, link, "not the manager's password")
	wantCode(t, err, crm.EUNAUTHENTICATED)
	if !f.events.has("login.failure", "password") {
		t.Error("a wrong password on an enrolment link is not a login failure")
	}
	// A wrong password does not use the link; the right one does, once.
	p, err := f.startEnrol(t, link, testPassword)
	if err != nil {
		t.Fatalf("the link with the password: %v", err)
	}
	if p.Pending != crm.MFAEnrol {
		t.Fatalf("the link's session is at %q, want %q", p.Pending, crm.MFAEnrol)
	}
	_, err = f.startEnrol(t, link, testPassword)
	wantField(t, err, "token")
	f.confirmTOTP(t, p)
	// The attacker's password-only session ended with the enrolment, and
	// with a factor the manager needs no link.
	if _, _, err := f.svc.Authenticate(ctx, pwOnly); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("the password-only session survived the enrolment: %v", err)
	}
	_, err = f.svc.IssueEnrolmentLink(ctx, f.as("admin"), mgr.ID)
	wantCode(t, err, crm.ECONFLICT)
	if !f.events.has("enrol.link", "") || !f.events.has("enrol.start", "") {
		t.Error("no enrol.link or enrol.start event")
	}
	f.noSecretsLogged(t, first, link)
}

// TestEnrolmentLinkExpires: a link works for 72 hours.
func TestEnrolmentLinkExpires(t *testing.T) {
	f := newMailFixture(t)
	link, err := f.svc.IssueEnrolmentLink(context.Background(), crm.SystemPrincipal(), f.users["admin"].ID)
	if err != nil || !strings.HasPrefix(link, "https://crm.example.test/enrol/") {
		t.Fatalf("the operator's link: %q, %v", link, err)
	}
	f.clock.Advance(crm.EnrolTTL + time.Second)
	_, err = f.startEnrol(t, strings.TrimPrefix(link, "https://crm.example.test/enrol/"), testPassword)
	wantField(t, err, "token")
}

// TestEnrolmentLinkOnRoleChange: promoting a user without a factor to a
// role that requires one mails them an enrolment link; until they use it
// their password reaches nothing.
func TestEnrolmentLinkOnRoleChange(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	alice := f.users["alice"]
	if _, err := f.svc.UpdateUser(ctx, f.as("admin"), alice.ID, crm.UserInput{Role: ptr(crm.RoleManager)}); err != nil {
		t.Fatal(err)
	}
	link := tokenOf(t, f.mail(t, 1), "/enrol/")
	if p, _ := f.signIn(t, alice.Email); p.Pending != crm.MFAEnrolLink {
		t.Errorf("the promoted user's password sign-in: %q", p.Pending)
	}
	if p, err := f.startEnrol(t, link, testPassword); err != nil || p.Pending != crm.MFAEnrol {
		t.Errorf("the link after the promotion: %v", err)
	}
	// A change to a role that needs no factor sends nothing.
	bob := f.users["bob"]
	if _, err := f.svc.UpdateUser(ctx, f.as("admin"), bob.ID, crm.UserInput{Role: ptr(crm.RoleSupport)}); err != nil {
		t.Fatal(err)
	}
	f.svc.WaitMail()
	if n := len(f.smtp.Messages()); n != 1 {
		t.Errorf("%d mails after a change to support, want the 1 from before", n)
	}
}

// TestEnrolmentLinkFromInvitation: accepting an invitation to a role that
// requires a second factor hands over an enrolment link; other roles get
// none.
func TestEnrolmentLinkFromInvitation(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	for i, c := range []struct {
		role crm.Role
		link bool
	}{{crm.RoleManager, true}, {crm.RoleSales, false}} {
		email := string(c.role) + "-new@example.com"
		if _, err := f.svc.InviteUser(ctx, f.as("admin"), email, c.role, ""); err != nil {
			t.Fatal(err)
		}
		inv := tokenOf(t, f.mail(t, i+1), "/invite/")
		u, enrol, err := f.svc.AcceptInvitation(ctx, inv, "New "+string(c.role), "a new user's passphrase", "en")
		if err != nil {
			t.Fatal(err)
		}
		if (enrol != "") != c.link {
			t.Fatalf("%s: enrolment link %q", c.role, enrol)
		}
		if !c.link {
			continue
		}
		p, err := f.startEnrol(t, enrol, "a new user's passphrase")
		if err != nil || p.UserID != u.ID || p.Pending != crm.MFAEnrol {
			t.Errorf("the invitation's enrolment link: %+v %v", p, err)
		}
	}
}

// TestPromotionResetsFactors: a factor set up under a role where the
// password alone could add one proves nothing to a role that requires a
// second factor. Whoever held a sales user's password and began or even
// confirmed a TOTP before the user's promotion to manager keeps nothing:
// the promotion removes the factors, and the enrolment through the link
// starts from a fresh secret.
func TestPromotionResetsFactors(t *testing.T) {
	for _, confirm := range []bool{false, true} {
		f := newMailFixture(t)
		ctx := context.Background()
		alice := f.users["alice"]
		// The attacker, with Alice's password (a sales user: a full
		// session, fresh, may enrol).
		attacker, _ := f.signIn(t, alice.Email)
		planted, err := f.svc.BeginTOTP(ctx, attacker)
		if err != nil {
			t.Fatal(err)
		}
		if confirm {
			code, _ := auth.TOTPCode(planted.Secret, f.clock.Now())
			if _, _, err := f.svc.ConfirmTOTP(ctx, attacker, code); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.UpdateUser(ctx, f.as("admin"), alice.ID, crm.UserInput{Role: ptr(crm.RoleManager)}); err != nil {
			t.Fatal(err)
		}
		link := tokenOf(t, f.mail(t, 1), "/enrol/")
		// The password now reaches nothing, even with the planted TOTP.
		held, _ := f.signIn(t, alice.Email)
		if held.Pending != crm.MFAEnrolLink {
			t.Errorf("confirmed %v: the password after the promotion is at %q, want %q", confirm, held.Pending, crm.MFAEnrolLink)
		}
		f.clock.Advance(auth.TOTPPeriod)
		code, _ := auth.TOTPCode(planted.Secret, f.clock.Now())
		if _, err := f.svc.VerifyMFA(ctx, held, code); err == nil {
			t.Errorf("confirmed %v: the planted TOTP signs in the manager", confirm)
		}
		// Alice through her link: no begun enrolment waits for her.
		p, err := f.startEnrol(t, link, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PendingTOTP(ctx, p); crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Errorf("confirmed %v: a begun enrolment survived into the link's session: %v", confirm, err)
		}
		fresh, err := f.svc.BeginTOTP(ctx, p)
		if err != nil || fresh.Secret == planted.Secret {
			t.Errorf("confirmed %v: the enrolment through the link: %v (same secret: %v)", confirm, err, err == nil && fresh.Secret == planted.Secret)
		}
	}
}

// TestEnrolmentLinksEnd: an outstanding enrolment link stops working when
// the password is reset or set, the user is disabled, or a factor is
// enrolled some other way, as reset links do (attack 11).
func TestEnrolmentLinksEnd(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	issue := func(name string) string { return f.issueLink(t, f.users[name].ID) }
	cases := map[string]struct {
		user string
		end  func()
	}{
		"set-password": {"manager", func() {
			if _, err := f.svc.UpdateUser(ctx, crm.SystemPrincipal(), f.users["manager"].ID, crm.UserInput{Password: ptr("another long passphrase")}); err != nil {
				t.Fatal(err)
			}
		}},
		// Not the admin: the last administrator cannot be disabled.
		"disable": {"manager", func() {
			if _, err := f.svc.UpdateUser(ctx, crm.SystemPrincipal(), f.users["manager"].ID, crm.UserInput{Disabled: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.UpdateUser(ctx, crm.SystemPrincipal(), f.users["manager"].ID, crm.UserInput{Disabled: ptr(false)}); err != nil {
				t.Fatal(err)
			}
		}},
		"a factor enrolled": {"bob", func() {
			p, _ := f.signIn(t, f.users["bob"].Email)
			f.confirmTOTP(t, p)
		}},
	}
	for name, c := range cases {
		link := issue(c.user)
		c.end()
		if _, err := f.svc.EnrolmentLinkUser(ctx, link); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("the link after %s: %v, want it gone", name, err)
		}
	}
}
