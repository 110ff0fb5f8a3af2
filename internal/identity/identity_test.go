package identity_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
)

// TestLogin checks AUTH-1/AUTH-5 basics and that failures do not tell
// unknown accounts from wrong passwords (ASVS v5.0.0-6.3.8, attack 18).
func TestLogin(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	u, sess, secret, err := f.svc.Login(ctx, " ALICE@example.com ", testPassword, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != f.users["alice"].ID || sess.UserID != u.ID || len(secret) < 40 {
		t.Fatalf("login: user %d session %+v secret length %d", u.ID, sess, len(secret))
	}
	if strings.Contains(string(sess.SecretHash), secret) {
		t.Error("the session stores its secret")
	}
	p, _, err := f.svc.Authenticate(ctx, secret)
	if err != nil || p.UserID != u.ID || p.SessionID != sess.ID || p.Role != crm.RoleSales {
		t.Fatalf("authenticate: %v %+v", err, p)
	}
	var msgs []string
	for _, c := range []struct{ email, pw string }{
		{"alice@example.com", "wrong password!!"},
		{"nobody@example.com", testPassword},
		{"nobody@example.com", "wrong password!!"},
	} {
		_, _, _, err := f.svc.Login(ctx, c.email, c.pw, "192.0.2.1", "test")
		wantCode(t, err, crm.EUNAUTHENTICATED)
		msgs = append(msgs, crm.ErrorMessage(err))
	}
	if msgs[0] != msgs[1] || msgs[1] != msgs[2] {
		t.Errorf("failure messages differ: %q", msgs)
	}
	// A disabled user cannot log in, and their sessions end.
	if _, err := f.svc.UpdateUser(ctx, f.as("admin"), u.ID, crm.UserInput{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, secret); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("session of a disabled user: %v", err)
	}
	_, _, _, err = f.svc.Login(ctx, "alice@example.com", testPassword, "", "")
	wantCode(t, err, crm.EUNAUTHENTICATED)
	if crm.ErrorMessage(err) != msgs[0] {
		t.Errorf("disabled account message %q differs from %q", crm.ErrorMessage(err), msgs[0])
	}
}

func TestSessionTimeoutsAndRevocation(t *testing.T) {
	f := newFixture(t, identity.Options{IdleTimeout: time.Minute, AbsoluteTimeout: time.Hour})
	ctx := context.Background()
	_, s1, sec1, _ := f.svc.Login(ctx, "bob@example.com", testPassword, "", "")
	_, s2, sec2, _ := f.svc.Login(ctx, "bob@example.com", testPassword, "", "")
	if s1.ID == s2.ID || sec1 == sec2 {
		t.Fatal("two logins share a session")
	}
	bob, _, _ := f.svc.Authenticate(ctx, sec1)
	list, err := f.svc.FindSessions(ctx, bob)
	if err != nil || len(list) != 2 {
		t.Fatalf("sessions: %v %d", err, len(list))
	}
	// Alice cannot revoke Bob's session.
	wantCode(t, f.svc.RevokeSession(ctx, f.as("alice"), s2.ID), crm.ENOTFOUND)
	if err := f.svc.RevokeSession(ctx, bob, s2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, sec2); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("revoked session still works: %v", err)
	}
	if err := f.svc.Logout(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, sec1); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("session after logout: %v", err)
	}
	// Idle timeout: a session last seen three minutes ago is over (the
	// timeout, plus the minute of last-seen granularity, has passed).
	_, s3, sec3, _ := f.svc.Login(ctx, "bob@example.com", testPassword, "", "")
	if err := f.store.Write(ctx, func(tx crm.Tx) error { return tx.TouchSession(ctx, s3.ID, time.Now().Add(-3*time.Minute)) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, sec3); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("idle session still works: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 500)} {
		if _, _, err := f.svc.Authenticate(ctx, bad); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
			t.Errorf("secret %q: %v", bad, err)
		}
	}
}

// TestTokens covers AUTH-7: shown once, stored hashed, scoped, expiring,
// revocable, last use recorded.
func TestTokens(t *testing.T) {
	clock := &testClock{t: time.Now().UTC()}
	f := newFixture(t, identity.Options{Clock: clock.Now})
	ctx := context.Background()
	alice := f.as("alice")
	nt, err := f.svc.CreateToken(ctx, alice, alice.UserID, "laptop", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nt.Secret, "cst_") || strings.Contains(string(nt.Token.SecretHash), nt.Secret) {
		t.Fatalf("token secret %q", nt.Secret)
	}
	p, err := f.svc.AuthenticateToken(ctx, nt.Secret, "192.0.2.200")
	if err != nil || p.Kind != crm.KindToken || p.Scope != crm.ScopeRead || p.UserID != alice.UserID {
		t.Fatalf("authenticate token: %v %+v", err, p)
	}
	list, _ := f.svc.FindTokens(ctx, alice)
	if len(list) != 1 || list[0].LastUsedAt == nil || list[0].Prefix == "" {
		t.Fatalf("tokens: %+v", list)
	}
	// Alice may not mint tokens for Bob; Bob may not revoke Alice's.
	_, err = f.svc.CreateToken(ctx, alice, f.users["bob"].ID, "x", crm.ScopeWrite, time.Hour)
	wantCode(t, err, crm.EFORBIDDEN)
	wantCode(t, f.svc.RevokeToken(ctx, f.as("bob"), nt.Token.ID), crm.ENOTFOUND)
	for _, c := range []struct {
		scope crm.TokenScope
		ttl   time.Duration
		field string
	}{{"admin", time.Hour, "scope"}, {crm.ScopeRead, 0, "ttl"}, {crm.ScopeRead, time.Nanosecond, "ttl"}, {crm.ScopeRead, time.Second - 1, "ttl"}, {crm.ScopeRead, 400 * 24 * time.Hour, "ttl"}} {
		_, err := f.svc.CreateToken(ctx, alice, alice.UserID, "x", c.scope, c.ttl)
		wantField(t, err, c.field)
	}
	if err := f.svc.RevokeToken(ctx, alice, nt.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, nt.Secret, "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("revoked token works: %v", err)
	}
	// An expired token is refused.
	short, err := f.svc.CreateToken(ctx, alice, alice.UserID, "short", crm.ScopeWrite, identity.MinTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, short.Secret, "192.0.2.200"); err != nil {
		t.Errorf("a token of the shortest life, at once: %v", err)
	}
	clock.Advance(identity.MinTokenTTL + time.Second)
	if _, err := f.svc.AuthenticateToken(ctx, short.Secret, "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("expired token works: %v", err)
	}
	// A tampered token is refused.
	if _, err := f.svc.AuthenticateToken(ctx, nt.Secret[:len(nt.Secret)-1]+"A", "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("tampered token: %v", err)
	}
}

func TestUserAdministration(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	in := crm.UserInput{Email: ptr("new@example.com"), Role: ptr(crm.RoleSales), Password: ptr("a sufficiently long passphrase")}
	_, err := f.svc.CreateUser(ctx, f.as("manager"), in)
	wantCode(t, err, crm.EFORBIDDEN)
	// An administrator does not choose a new user's password: new users
	// come by invitation (AUTH-8; ASVS v5.0.0-6.4.6). Only the operator's
	// CLI (the system principal) creates users with a password.
	_, err = f.svc.CreateUser(ctx, f.as("admin"), in)
	wantField(t, err, "password")
	noPassword := in
	noPassword.Password = nil
	_, err = f.svc.CreateUser(ctx, f.as("admin"), noPassword)
	wantCode(t, err, crm.EINVALID)
	if _, err := f.svc.FindUserByEmail(ctx, crm.SystemPrincipal(), "new@example.com"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("refused creation left a user: %v", err)
	}
	u, err := f.svc.CreateUser(ctx, crm.SystemPrincipal(), in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateUser(ctx, crm.SystemPrincipal(), in)
	wantCode(t, err, crm.ECONFLICT)
	for pw, reason := range map[string]string{"short": "at least 12", "password1234": "common", strings.Repeat("x", 129): "at most 128"} {
		in := crm.UserInput{Email: ptr("p@example.com"), Role: ptr(crm.RoleSales), Password: ptr(pw)}
		_, err := f.svc.CreateUser(ctx, crm.SystemPrincipal(), in)
		wantField(t, err, "password")
		if !strings.Contains(crm.ErrorFields(err)["password"], reason) {
			t.Errorf("password %q: reason %q, want it to mention %q", pw, crm.ErrorFields(err)["password"], reason)
		}
	}
	// The user's own words (NIST SP 800-63B §5.1.1.2; issue 9 item 8), on
	// creation and on the operator's set-password, old and new alike.
	zoe := crm.UserInput{Email: ptr("zoe.kowalski@example.com"), Name: ptr("Zoë Kowalski"), Role: ptr(crm.RoleSales),
		Password: ptr("kowalski.zoe.2026")}
	_, err = f.svc.CreateUser(ctx, crm.SystemPrincipal(), zoe)
	if got := crm.ErrorFields(err)["password"]; got != auth.ErrPasswordPersonal.Error() {
		t.Errorf("a password of the new user's name: %v", err)
	}
	for _, in := range []crm.UserInput{
		{Password: ptr("new@example.com 1234")},
		{Name: ptr("Fiona Gallagher"), Password: ptr("fiona gallagher 99")},
		{Password: ptr("abcdefghijklmnop")},
	} {
		_, err := f.svc.UpdateUser(ctx, crm.SystemPrincipal(), u.ID, in)
		wantField(t, err, "password")
	}
	if got, _ := f.svc.FindUserByID(ctx, crm.SystemPrincipal(), u.ID); got.Name == "Fiona Gallagher" {
		t.Error("a refused update changed the name")
	}
	// An admin cannot choose another user's password (ASVS v5.0.0-6.4.6).
	_, err = f.svc.UpdateUser(ctx, f.as("admin"), u.ID, crm.UserInput{Password: ptr("another long passphrase")})
	wantField(t, err, "password")
	// A role change ends the user's sessions (ASVS v5.0.0-8.3.2).
	_, _, secret, err := f.svc.Login(ctx, "new@example.com", "a sufficiently long passphrase", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateUser(ctx, f.as("admin"), u.ID, crm.UserInput{Role: ptr(crm.RoleManager)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, secret); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("session survived a role change: %v", err)
	}
}

// TestSetup checks the first-admin flow: a one-time code, no default password.
func TestSetup(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, identity.Options{})
	if code, err := f.svc.BeginSetup(ctx); err != nil || code != "" {
		t.Fatalf("setup with users present: %q %v", code, err)
	}
	empty := newEmptyService(t)
	code, err := empty.BeginSetup(ctx)
	if err != nil || len(code) < 20 {
		t.Fatalf("setup code %q: %v", code, err)
	}
	in := crm.UserInput{Email: ptr("root@example.com"), Password: ptr("the very first admin pass")}
	_, _, err = empty.CompleteSetup(ctx, "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", in)
	wantCode(t, err, crm.EFORBIDDEN)
	u, enrol, err := empty.CompleteSetup(ctx, strings.ToLower(code), in)
	if err != nil || u.Role != crm.RoleAdmin || enrol == "" {
		t.Fatalf("complete setup: %v %+v", err, u)
	}
	in.Email = ptr("second@example.com")
	_, _, err = empty.CompleteSetup(ctx, code, in)
	wantCode(t, err, crm.EFORBIDDEN)
	if pending, _ := empty.SetupPending(ctx); pending {
		t.Error("setup still pending")
	}
}

// TestSessionAbsoluteAndHalfLimits moves the service's clock across the
// 12-hour absolute timeout of a session kept busy, and across the 15-minute
// cap of a half-signed-in session (ASVS v5.0.0-7.3.2, 7.3.1).
func TestSessionAbsoluteAndHalfLimits(t *testing.T) {
	f := newMFAFixture(t, identity.Options{})
	ctx := context.Background()
	_, secret := f.login(t, "bob", "192.0.2.1")
	// Stay active (every 20 minutes, under the idle timeout) until just
	// before the absolute limit.
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		f.clock.Advance(20 * time.Minute)
		if _, _, err := f.svc.Authenticate(ctx, secret); err != nil {
			t.Fatalf("after %v: %v", elapsed+20*time.Minute, err)
		}
	}
	f.clock.Advance(20*time.Minute - time.Second) // 12 h minus 1 s after login
	if _, _, err := f.svc.Authenticate(ctx, secret); err != nil {
		t.Fatalf("just before 12 h: %v", err)
	}
	f.clock.Advance(2 * time.Second)
	if _, _, err := f.svc.Authenticate(ctx, secret); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Fatalf("just after 12 h: %v, want unauthenticated", err)
	}

	// The idle timeout (30 minutes) never ends a session early, although
	// last-seen is written at most once a minute (issue 9 item 7): a
	// request 59 s after the recorded time is not written, and the session
	// still answers 29 min 59 s after that request.
	_, idle := f.login(t, "bob", "192.0.2.3")
	f.clock.Advance(59 * time.Second)
	if _, _, err := f.svc.Authenticate(ctx, idle); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30*time.Minute - time.Second)
	if _, _, err := f.svc.Authenticate(ctx, idle); err != nil {
		t.Fatalf("29m59s after the last request: %v", err)
	}
	// That request was written; 31 minutes later the session is over.
	f.clock.Advance(31*time.Minute + time.Second)
	if _, _, err := f.svc.Authenticate(ctx, idle); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Fatalf("31m1s idle: %v, want unauthenticated", err)
	}

	// A half-signed-in session (a TOTP is due) lasts 15 minutes at most.
	f.enrol(t, "alice")
	_, _, half, err := f.svc.Login(ctx, "alice@example.com", testPassword, "192.0.2.2", "test")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(10 * time.Minute)
	if p, _, err := f.svc.Authenticate(ctx, half); err != nil || p.Pending == "" {
		t.Fatalf("half session at 10 min: %v %+v", err, p)
	}
	f.clock.Advance(5*time.Minute - time.Second)
	if _, _, err := f.svc.Authenticate(ctx, half); err != nil {
		t.Fatalf("half session just before 15 min: %v", err)
	}
	f.clock.Advance(2 * time.Second)
	if _, _, err := f.svc.Authenticate(ctx, half); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Fatalf("half session just after 15 min: %v, want unauthenticated", err)
	}
}

// TestStaffDirectoryService: whole user records are for user
// administrators and the system; every other role reads the directory of
// names and roles (issue 9 item 7).
func TestStaffDirectoryService(t *testing.T) {
	f := newFixture(t, identity.Options{})
	ctx := context.Background()
	for _, name := range []string{"manager", "alice", "support", "auditor", "reader"} {
		_, err := f.svc.FindUsers(ctx, f.as(name))
		wantCode(t, err, crm.EFORBIDDEN)
		_, err = f.svc.FindUserByID(ctx, f.as(name), f.users["bob"].ID)
		wantCode(t, err, crm.EFORBIDDEN)
		if m, err := f.svc.FindStaffMember(ctx, f.as(name), f.users["bob"].ID); err != nil || m.Name != f.users["bob"].Name || m.Role != crm.RoleSales {
			t.Errorf("%s: FindStaffMember: %+v %v", name, m, err)
		}
		_, err = f.svc.FindStaffMember(ctx, f.as(name), 99999)
		wantCode(t, err, crm.ENOTFOUND)
		staff, err := f.svc.FindStaff(ctx, f.as(name))
		if err != nil || len(staff) != len(f.users) {
			t.Fatalf("%s: staff %d, %v", name, len(staff), err)
		}
		for _, m := range staff {
			if u := f.users[strings.TrimSuffix(m.Name, "@example.com")]; u == nil || u.ID != m.ID || u.Role != m.Role {
				t.Errorf("%s sees %+v", name, m)
			}
		}
	}
	read := &crm.Principal{Kind: crm.KindToken, UserID: f.users["admin"].ID, Role: crm.RoleAdmin, Scope: crm.ScopeRead}
	if _, err := f.svc.FindUsers(ctx, read); crm.ErrorCode(err) != crm.EFORBIDDEN {
		t.Errorf("an admin's read token reads whole records: %v", err)
	}
	if _, err := f.svc.FindStaff(ctx, read); err != nil {
		t.Errorf("an admin's read token, staff: %v", err)
	}
	for _, p := range []*crm.Principal{f.as("admin"), crm.SystemPrincipal()} {
		list, err := f.svc.FindUsers(ctx, p)
		if err != nil || len(list) != len(f.users) || list[0].Email == "" {
			t.Errorf("FindUsers as %v: %d, %v", p.Role, len(list), err)
		}
	}
}

// TestTokenExpiryFollowsTheServiceClock: a token's life is counted on the
// clock its expiry is checked against (AUTH-7), whatever the store's clock
// says: with the service's clock an hour behind the store's, a token of the
// shortest life still ends on time.
func TestTokenExpiryFollowsTheServiceClock(t *testing.T) {
	clock := &testClock{t: time.Now().UTC().Add(-time.Hour)}
	f := newFixture(t, identity.Options{Clock: clock.Now})
	ctx := context.Background()
	alice := f.as("alice")
	short, err := f.svc.CreateToken(ctx, alice, alice.UserID, "short", crm.ScopeWrite, identity.MinTokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(identity.MinTokenTTL + time.Second)
	if _, err := f.svc.AuthenticateToken(ctx, short.Secret, "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("a token past its life on the service's clock works: %v", err)
	}
}
