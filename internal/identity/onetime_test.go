package identity_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/mail/mailtest"
	"github.com/custos-crm/custos/internal/testkit"
)

// Invitations, password resets and email changes (AUTH-8, attack 11), with
// a real SMTP server in process: every link is read from a received mail.

type mailFixture struct {
	*fixture
	smtp   *mailtest.Server
	clock  *testClock
	events *eventLog
	logs   *testkit.Buffer
}

func newMailFixture(t *testing.T) *mailFixture {
	t.Helper()
	srv := mailtest.Start(t, mailtest.Options{})
	clock := &testClock{t: time.Now().UTC()}
	events := &eventLog{}
	logs := &testkit.Buffer{}
	f := newFixture(t, identity.Options{Mailer: srv.Mailer(t), PublicURL: "https://crm.example.test/", Clock: clock.Now,
		Events: events, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Cleanup(f.svc.WaitMail)
	return &mailFixture{fixture: f, smtp: srv, clock: clock, events: events, logs: logs}
}

// lastMail waits for the n-th message (1-based) and returns it.
func (f *mailFixture) mail(t *testing.T, n int) mailtest.Mail {
	t.Helper()
	f.svc.WaitMail()
	return f.smtp.Wait(t, n)[n-1]
}

// tokenOf returns the secret of a one-time link after prefix.
func tokenOf(t *testing.T, m mailtest.Mail, prefix string) string {
	t.Helper()
	link := m.Link()
	tok, ok := strings.CutPrefix(link, "https://crm.example.test"+prefix)
	if !ok || len(tok) < 40 || strings.Contains(tok, "/") {
		t.Fatalf("mail %q to %v: link %q, want https://crm.example.test%s<token>", m.Subject, m.To, link, prefix)
	}
	return tok
}

// noSecretsLogged fails if any of the secrets is in the service's log.
func (f *mailFixture) noSecretsLogged(t *testing.T, secrets ...string) {
	t.Helper()
	logs := f.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a one-time secret is in the log:\n%s", logs)
		}
	}
}

func TestInvitation(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()

	// Only administrators invite; an existing user cannot be invited.
	_, err := f.svc.InviteUser(ctx, f.as("manager"), "new@example.com", crm.RoleSales, "")
	wantCode(t, err, crm.EFORBIDDEN)
	tok := &crm.Principal{Kind: crm.KindToken, UserID: f.users["admin"].ID, Role: crm.RoleAdmin, Scope: crm.ScopeWrite}
	_, err = f.svc.InviteUser(ctx, tok, "new@example.com", crm.RoleSales, "")
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.InviteUser(ctx, f.as("admin"), "Alice@Example.com", crm.RoleSales, "")
	wantCode(t, err, crm.ECONFLICT)
	_, err = f.svc.InviteUser(ctx, f.as("admin"), "new@example.com", "root", "")
	wantField(t, err, "role")
	if n := len(f.smtp.Messages()); n != 0 {
		t.Fatalf("%d mails after refused invitations", n)
	}

	inv, err := f.svc.InviteUser(ctx, f.as("admin"), " New@Example.com ", crm.RoleSupport, "New Person")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "new@example.com" || inv.Role != crm.RoleSupport || inv.ExpiresAt.Sub(f.clock.Now()).Round(time.Second) != crm.InviteTTL {
		t.Errorf("invitation %+v", inv)
	}
	m := f.mail(t, 1)
	if len(m.To) != 1 || m.To[0] != "new@example.com" || !strings.Contains(m.Body, "72 hours") {
		t.Errorf("invitation mail to %v:\n%s", m.To, m.Body)
	}
	secret := tokenOf(t, m, "/invite/")
	got, err := f.svc.InvitationByToken(ctx, secret)
	if err != nil || got.Email != "new@example.com" || got.Name != "New Person" {
		t.Fatalf("InvitationByToken: %+v, %v", got, err)
	}

	// A refused password leaves the link usable; a wrong-purpose use fails.
	_, _, err = f.svc.AcceptInvitation(ctx, secret, "", "short", "ru")
	wantField(t, err, "password")
	wantField(t, f.svc.ResetPassword(ctx, secret, testPassword), "token")

	u, _, err := f.svc.AcceptInvitation(ctx, secret, "", testPassword, "ru")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "new@example.com" || u.Role != crm.RoleSupport || u.Name != "New Person" || u.Language != "ru" {
		t.Errorf("new user %+v", u)
	}
	if _, _, _, err := f.svc.Login(ctx, "new@example.com", testPassword, "", ""); err != nil {
		t.Errorf("login of the invited user: %v", err)
	}
	// Used twice: the second fails, before and after hashing.
	_, err = f.svc.InvitationByToken(ctx, secret)
	wantField(t, err, "token")
	_, _, err = f.svc.AcceptInvitation(ctx, secret, "Someone", testPassword+"!", "en")
	wantField(t, err, "token")
	_, _, err = f.svc.AcceptInvitation(ctx, "not a token", "", testPassword, "en")
	wantField(t, err, "token")

	want := []string{"invite.create", "invite.accept"}
	if got := f.events.types(); !containsAll(got, want) {
		t.Errorf("events %v, want %v among them", got, want)
	}
	f.noSecretsLogged(t, secret)
}

func TestInvitationExpiresAndIsReplaced(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	if _, err := f.svc.InviteUser(ctx, f.as("admin"), "late@example.com", crm.RoleSales, ""); err != nil {
		t.Fatal(err)
	}
	first := tokenOf(t, f.mail(t, 1), "/invite/")
	if _, err := f.svc.InviteUser(ctx, f.as("admin"), "late@example.com", crm.RoleReadOnly, ""); err != nil {
		t.Fatal(err)
	}
	second := tokenOf(t, f.mail(t, 2), "/invite/")
	_, _, err := f.svc.AcceptInvitation(ctx, first, "", testPassword, "")
	wantField(t, err, "token") // replaced by the second invitation

	f.clock.Advance(crm.InviteTTL + time.Second)
	_, err = f.svc.InvitationByToken(ctx, second)
	wantField(t, err, "token")
	_, _, err = f.svc.AcceptInvitation(ctx, second, "", testPassword, "")
	wantField(t, err, "token")
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	alice := f.users["alice"]

	// Alice is signed in twice and has an API token.
	_, _, sess1, err := f.svc.Login(ctx, alice.Email, testPassword, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, sess2, _ := f.svc.Login(ctx, alice.Email, testPassword, "", "")
	p, _, _ := f.svc.Authenticate(ctx, sess1)
	apiToken, err := f.svc.CreateToken(ctx, p, alice.ID, "ci", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Bob's session must survive Alice's reset.
	_, _, bobSess, _ := f.svc.Login(ctx, "bob@example.com", testPassword, "", "")

	if err := f.svc.RequestPasswordReset(ctx, "ALICE@example.com", "192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	m := f.mail(t, 1)
	if m.To[0] != alice.Email || !strings.Contains(m.Body, "30 minutes") {
		t.Errorf("reset mail to %v:\n%s", m.To, m.Body)
	}
	secret := tokenOf(t, m, "/reset/")
	if err := f.svc.CheckResetToken(ctx, secret); err != nil {
		t.Fatalf("CheckResetToken: %v", err)
	}
	// Wrong purpose: a reset link is no invitation.
	_, _, err = f.svc.AcceptInvitation(ctx, secret, "", testPassword, "")
	wantField(t, err, "token")
	wantField(t, f.svc.ResetPassword(ctx, secret, "password"), "password")
	// The password rules see the owner of the link (issue 9 item 8): her
	// own email and name, and repetitive or sequential passwords, are
	// refused, and the link stays usable.
	for pw, reason := range map[string]error{
		alice.Email + "!!": auth.ErrPasswordPersonal,
		"alice-2026-alice": auth.ErrPasswordPersonal,
		"qqqqqqqqqqqqqqqq": auth.ErrPasswordRepetitive,
		"345678901234":     auth.ErrPasswordRepetitive,
	} {
		err := f.svc.ResetPassword(ctx, secret, pw)
		if got := crm.ErrorFields(err)["password"]; got != reason.Error() {
			t.Errorf("reset to %q: %v, want the reason %q", pw, err, reason)
		}
	}

	const newPassword = "a brand new passphrase 42"
	if err := f.svc.ResetPassword(ctx, secret, newPassword); err != nil {
		t.Fatal(err)
	}
	// Every session and API token of Alice ended; Bob's session did not.
	for _, s := range []string{sess1, sess2} {
		if _, _, err := f.svc.Authenticate(ctx, s); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
			t.Errorf("Alice's session after reset: %v", err)
		}
	}
	if _, err := f.svc.AuthenticateToken(ctx, apiToken.Secret, "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("Alice's API token after reset: %v", err)
	}
	if _, _, err := f.svc.Authenticate(ctx, bobSess); err != nil {
		t.Errorf("Bob's session after Alice's reset: %v", err)
	}
	// The notice arrives; the old password is gone, the new one works.
	notice := f.mail(t, 2)
	if notice.To[0] != alice.Email || !strings.Contains(notice.Subject, "password was changed") || notice.Link() != "" {
		t.Errorf("notice to %v: %q\n%s", notice.To, notice.Subject, notice.Body)
	}
	if _, _, _, err := f.svc.Login(ctx, alice.Email, testPassword, "", ""); err == nil {
		t.Error("the old password still works")
	}
	if _, _, _, err := f.svc.Login(ctx, alice.Email, newPassword, "", ""); err != nil {
		t.Errorf("the new password: %v", err)
	}
	// Reused: refused.
	wantField(t, f.svc.ResetPassword(ctx, secret, "yet another passphrase 7"), "token")
	wantField(t, f.svc.CheckResetToken(ctx, secret), "token")

	want := []string{"reset.request", "reset.complete"}
	if got := f.events.types(); !containsAll(got, want) {
		t.Errorf("events %v, want %v among them", got, want)
	}
	f.noSecretsLogged(t, secret, newPassword)
}

// TestPasswordResetKeepsMFA checks that a reset never bypasses the second
// factor (ASVS v5.0.0-6.4.3): after it, the password alone gives only a
// half-authenticated session.
func TestPasswordResetKeepsMFA(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	p, err := f.startEnrol(t, f.issueLink(t, f.users["admin"].ID), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	f.confirmTOTP(t, p)
	if err := f.svc.RequestPasswordReset(ctx, "admin@example.com", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	token := tokenOf(t, f.mail(t, 1), "/reset/")
	if err := f.svc.ResetPassword(ctx, token, "the admin's new passphrase"); err != nil {
		t.Fatal(err)
	}
	_, sess, _, err := f.svc.Login(ctx, "admin@example.com", "the admin's new passphrase", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !sess.MFAPending || sess.AAL >= 2 {
		t.Errorf("session after reset and password: pending %v, AAL %d; want the second factor still required", sess.MFAPending, sess.AAL)
	}
}

func TestPasswordResetEnumerationAndLimits(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()

	// Unknown and disabled accounts: the same answer, no mail.
	if err := f.svc.RequestPasswordReset(ctx, "nobody@example.com", "192.0.2.1"); err != nil {
		t.Errorf("unknown address: %v", err)
	}
	if _, err := f.svc.UpdateUser(ctx, f.as("admin"), f.users["bob"].ID, crm.UserInput{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RequestPasswordReset(ctx, "bob@example.com", "192.0.2.1"); err != nil {
		t.Errorf("disabled account: %v", err)
	}
	f.svc.WaitMail()
	if n := len(f.smtp.Messages()); n != 0 {
		t.Fatalf("%d mails for unknown and disabled accounts", n)
	}

	// At most five mails an hour to one account, silently.
	for i := range 7 {
		if err := f.svc.RequestPasswordReset(ctx, "alice@example.com", "192.0.2.2"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	f.svc.WaitMail()
	if n := len(f.smtp.To("alice@example.com")); n != 5 {
		t.Errorf("%d reset mails in an hour, want 5", n)
	}
	f.clock.Advance(time.Hour + time.Second)
	_ = f.svc.RequestPasswordReset(ctx, "alice@example.com", "192.0.2.2")
	f.svc.WaitMail()
	if n := len(f.smtp.To("alice@example.com")); n != 6 {
		t.Errorf("%d reset mails after an hour, want 6", n)
	}

	// One IP gets 429 after twenty requests, whatever the address.
	var limited error
	for range 25 {
		if err := f.svc.RequestPasswordReset(ctx, "x@example.com", "198.51.100.7"); err != nil {
			limited = err
			break
		}
	}
	wantCode(t, limited, crm.ERATELIMITED)
	if err := f.svc.RequestPasswordReset(ctx, "x@example.com", "198.51.100.8"); err != nil {
		t.Errorf("another IP: %v", err)
	}
}

func TestPasswordResetTokenRules(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	request := func(n int) string {
		t.Helper()
		if err := f.svc.RequestPasswordReset(ctx, "alice@example.com", "192.0.2.3"); err != nil {
			t.Fatal(err)
		}
		return tokenOf(t, f.mail(t, n), "/reset/")
	}

	// Expired after 30 minutes.
	expired := request(1)
	f.clock.Advance(crm.ResetTTL + time.Second)
	wantField(t, f.svc.ResetPassword(ctx, expired, "a brand new passphrase 1"), "token")

	// A password change (here by the CLI) ends older links.
	older := request(2)
	pw := "changed by the admin tool 9"
	if _, err := f.svc.UpdateUser(ctx, crm.SystemPrincipal(), f.users["alice"].ID, crm.UserInput{Password: &pw}); err != nil {
		t.Fatal(err)
	}
	wantField(t, f.svc.ResetPassword(ctx, older, "a brand new passphrase 2"), "token")

	// Using one link ends the others.
	a, b := request(3), request(4)
	if err := f.svc.ResetPassword(ctx, b, "a brand new passphrase 3"); err != nil {
		t.Fatal(err)
	}
	wantField(t, f.svc.ResetPassword(ctx, a, "a brand new passphrase 4"), "token")

	// Alice's link changes Alice's password only, never Bob's.
	own := request(6) // 5 was the notice
	if err := f.svc.ResetPassword(ctx, own, "alice only passphrase 5"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.svc.Login(ctx, "bob@example.com", testPassword, "", ""); err != nil {
		t.Errorf("Bob's password changed by Alice's link: %v", err)
	}

	// Two concurrent submits of one link: exactly one wins.
	f.clock.Advance(time.Hour) // past the per-account limit window
	race := request(8)
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.svc.ResetPassword(ctx, race, "concurrent passphrase "+string(rune('a'+i)))
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if _, ok := crm.ErrorFields(err)["token"]; !ok {
			t.Errorf("a losing submit failed with %v, want the token error", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent resets succeeded, want 1", wins, n)
	}
}

func TestEmailChange(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	alice := f.users["alice"]

	token := &crm.Principal{Kind: crm.KindToken, UserID: alice.ID, Role: alice.Role, Scope: crm.ScopeWrite}
	wantCode(t, f.svc.RequestEmailChange(ctx, token, "alice2@example.com"), crm.EFORBIDDEN)
	wantCode(t, f.svc.RequestEmailChange(ctx, nil, "alice2@example.com"), crm.EUNAUTHENTICATED)
	wantField(t, f.svc.RequestEmailChange(ctx, f.as("alice"), "not an address"), "email")
	wantField(t, f.svc.RequestEmailChange(ctx, f.as("alice"), "alice@example.com"), "email")

	// A pending reset link to the old address dies with the change.
	if err := f.svc.RequestPasswordReset(ctx, alice.Email, "192.0.2.4"); err != nil {
		t.Fatal(err)
	}
	reset := tokenOf(t, f.mail(t, 1), "/reset/")

	if err := f.svc.RequestEmailChange(ctx, f.as("alice"), "Alice.New@Example.com"); err != nil {
		t.Fatal(err)
	}
	f.smtp.Wait(t, 3)
	confirm := f.smtp.To("alice.new@example.com")
	notice := f.smtp.To("alice@example.com")
	if len(confirm) != 1 || len(notice) != 2 {
		t.Fatalf("mails to the new address %d, to the old %d; want 1 and 2", len(confirm), len(notice))
	}
	secret := tokenOf(t, confirm[0], "/account/email/confirm/")
	if n := notice[1]; n.Link() != "" || !strings.Contains(n.Body, "alice.new@example.com") {
		t.Errorf("notice to the old address:\n%s", n.Body)
	}
	u, err := f.svc.ConfirmEmailChange(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "alice.new@example.com" {
		t.Errorf("email after confirmation %q", u.Email)
	}
	if _, _, _, err := f.svc.Login(ctx, "alice.new@example.com", testPassword, "", ""); err != nil {
		t.Errorf("login with the new address: %v", err)
	}
	_, err = f.svc.ConfirmEmailChange(ctx, secret)
	wantField(t, err, "token")
	wantField(t, f.svc.ResetPassword(ctx, reset, "a brand new passphrase 6"), "token")

	// An address taken meanwhile: the confirmation conflicts.
	if err := f.svc.RequestEmailChange(ctx, f.as("bob"), "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	f.smtp.Wait(t, 5)
	carol := tokenOf(t, f.smtp.To("carol@example.com")[0], "/account/email/confirm/")
	if _, err := f.svc.InviteUser(ctx, f.as("admin"), "carol@example.com", crm.RoleSales, ""); err != nil {
		t.Fatal(err)
	}
	inv := tokenOf(t, f.smtp.Wait(t, 6)[5], "/invite/")
	if _, _, err := f.svc.AcceptInvitation(ctx, inv, "Carol", testPassword, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ConfirmEmailChange(ctx, carol)
	wantCode(t, err, crm.ECONFLICT)

	// Expired.
	if err := f.svc.RequestEmailChange(ctx, f.as("bob"), "robert@example.com"); err != nil {
		t.Fatal(err)
	}
	f.smtp.Wait(t, 8)
	late := tokenOf(t, f.smtp.To("robert@example.com")[0], "/account/email/confirm/")
	f.clock.Advance(crm.EmailChangeTTL + time.Second)
	_, err = f.svc.ConfirmEmailChange(ctx, late)
	wantField(t, err, "token")

	want := []string{"email.change.request", "email.change.confirm"}
	if got := f.events.types(); !containsAll(got, want) {
		t.Errorf("events %v, want %v among them", got, want)
	}
	f.noSecretsLogged(t, secret, reset, carol, late)
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestAdminEmailChange: an administrator cannot quietly take over an
// account by changing its address and then resetting the password. The
// change waits for the new address to confirm, the old address is told,
// the confirmation ends the user's sessions and tokens, and the events name
// the administrator (AUTH-8; ASVS v5.0.0-6.4.2, 7.4.1).
func TestAdminEmailChange(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	bob := f.users["bob"]
	admin := f.as("admin")
	_, _, session, err := f.svc.Login(ctx, bob.Email, testPassword, "", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.svc.CreateToken(ctx, crm.SystemPrincipal(), bob.ID, "bob's", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	_, err = f.svc.UpdateUser(ctx, admin, bob.ID, crm.UserInput{Email: ptr(bob.Email)})
	wantField(t, err, "email")
	u, err := f.svc.UpdateUser(ctx, admin, bob.ID, crm.UserInput{Email: ptr("Thief@Example.com"), Name: ptr("Robert")})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != bob.Email || u.Name != "Robert" {
		t.Errorf("after the request: email %q name %q; want the old email and the new name", u.Email, u.Name)
	}
	// Not yet changed: a reset for the new address reaches nobody, and
	// bob still signs in with his own address.
	if err := f.svc.RequestPasswordReset(ctx, "thief@example.com", "192.0.2.66"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.svc.Login(ctx, bob.Email, testPassword, "", ""); err != nil {
		t.Errorf("bob signs in with his address before the confirmation: %v", err)
	}
	f.smtp.Wait(t, 2)
	confirm, notice := f.smtp.To("thief@example.com"), f.smtp.To(bob.Email)
	if len(confirm) != 1 || len(notice) != 1 {
		t.Fatalf("mails to the new address %d, to the old %d; want 1 and 1", len(confirm), len(notice))
	}
	if tokenOf(t, confirm[0], "/account/email/confirm/") == "" || !strings.Contains(notice[0].Body, "thief@example.com") {
		t.Errorf("confirmation or notice wrong:\n%s\n%s", confirm[0].Body, notice[0].Body)
	}
	if !f.events.has("email.change.request", "by an administrator") {
		t.Errorf("no request event naming the administrator: %v", f.events.types())
	}
	if _, _, err := f.svc.Authenticate(ctx, session); err != nil {
		t.Errorf("bob's session before the confirmation: %v", err)
	}

	u, err = f.svc.ConfirmEmailChange(ctx, tokenOf(t, confirm[0], "/account/email/confirm/"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "thief@example.com" {
		t.Errorf("email after the confirmation %q", u.Email)
	}
	if _, _, err := f.svc.Authenticate(ctx, session); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("bob's session after the confirmation: %v, want unauthenticated", err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, tok.Secret, "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("bob's token after the confirmation: %v, want unauthenticated", err)
	}
	var confirmed bool
	for _, ev := range f.events.all() {
		if ev.Type == "email.change.confirm" && ev.UserID == bob.ID {
			confirmed = ev.ActorID == admin.UserID && strings.Contains(ev.Detail, "1 tokens revoked")
		}
	}
	if !confirmed {
		t.Errorf("the confirmation event does not name the administrator: %v", f.events.all())
	}
}

// TestAdminUpdateAllOrNothing: an administrator's update that changes an
// email and other fields writes nothing when the email change is refused
// (too many requests within the hour): the name and role stay as they were.
func TestAdminUpdateAllOrNothing(t *testing.T) {
	t.Parallel()
	f := newMailFixture(t)
	ctx := context.Background()
	bob := f.users["bob"]
	_, _, session, err := f.svc.Login(ctx, bob.Email, testPassword, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := f.svc.UpdateUser(ctx, f.as("admin"), bob.ID, crm.UserInput{Email: ptr("bob" + itoa(i) + "@example.org")}); err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	_, err = f.svc.UpdateUser(ctx, f.as("admin"), bob.ID, crm.UserInput{Email: ptr("bob9@example.org"),
		Name: ptr("Robert Renamed"), Role: ptr(crm.RoleSupport)})
	wantCode(t, err, crm.ERATELIMITED)
	got, err := f.svc.FindUserByID(ctx, crm.SystemPrincipal(), bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name == "Robert Renamed" || got.Role != crm.RoleSales || got.Email != bob.Email {
		t.Errorf("a refused update was half-written: %+v", got)
	}
	// Nor were Bob's sessions ended by the refused role change.
	if _, _, err := f.svc.Authenticate(ctx, session); err != nil {
		t.Errorf("a refused update ended the user's session: %v", err)
	}
}

func itoa(i int) string { return string(rune('0' + i)) }
