package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
)

// TestEndingAccessRevokesTokens: every way an administrator or the
// operator ends a user's access also revokes the user's API tokens, so a
// token minted from a hijacked session does not survive incident response
// (INC-2, AUTH-5; ASVS v5.0.0-7.4.1, 8.3.2). Each case mints a write token
// for bob, ends his access one way, and attacks with the token.
func TestEndingAccessRevokesTokens(t *testing.T) {
	ctx := context.Background()
	cases := map[string]func(f *mfaFixture, admin *crm.Principal, bob int64) error{
		"end all sessions": func(f *mfaFixture, admin *crm.Principal, bob int64) error {
			return f.svc.RevokeUserSessions(ctx, admin, bob)
		},
		"role change": func(f *mfaFixture, admin *crm.Principal, bob int64) error {
			_, err := f.svc.UpdateUser(ctx, admin, bob, crm.UserInput{Role: ptr(crm.RoleReadOnly)})
			return err
		},
		"disable": func(f *mfaFixture, admin *crm.Principal, bob int64) error {
			_, err := f.svc.UpdateUser(ctx, admin, bob, crm.UserInput{Disabled: ptr(true)})
			return err
		},
		"set-password (operator)": func(f *mfaFixture, _ *crm.Principal, bob int64) error {
			_, err := f.svc.UpdateUser(ctx, crm.SystemPrincipal(), bob, crm.UserInput{Password: ptr("another long passphrase")})
			return err
		},
	}
	for name, end := range cases {
		t.Run(name, func(t *testing.T) {
			f := newMFAFixture(t, identity.Options{})
			_, _, adminSecret := f.enrol(t, "admin")
			admin := f.principal(t, adminSecret, "192.0.2.1")
			bob := f.users["bob"].ID
			bobSession := mustSecret(t, f, "bob")
			tok, err := f.svc.CreateToken(ctx, crm.SystemPrincipal(), bob, "stolen", crm.ScopeWrite, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			other, err := f.svc.CreateToken(ctx, crm.SystemPrincipal(), f.users["alice"].ID, "alice's", crm.ScopeWrite, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, tok.Secret, "192.0.2.200"); err != nil {
				t.Fatalf("the token before: %v", err)
			}
			if err := end(f, admin, bob); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, tok.Secret, "192.0.2.200"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
				t.Errorf("bob's token after %s: %v, want unauthenticated", name, err)
			}
			if _, _, err := f.svc.Authenticate(ctx, bobSession); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
				t.Errorf("bob's session after %s: %v, want unauthenticated", name, err)
			}
			// Only bob's: alice's token and the admin's session stay.
			if _, err := f.svc.AuthenticateToken(ctx, other.Secret, "192.0.2.200"); err != nil {
				t.Errorf("alice's token after bob's %s: %v", name, err)
			}
			if _, _, err := f.svc.Authenticate(ctx, adminSecret); err != nil {
				t.Errorf("the admin's session after bob's %s: %v", name, err)
			}
			var list []*crm.Token
			if err := f.store.Read(ctx, func(tx crm.Tx) (err error) { list, err = tx.Tokens(ctx, bob); return err }); err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].RevokedAt == nil {
				t.Errorf("bob's tokens after %s: %+v, want one, revoked", name, list)
			}
		})
	}
}

// TestFindUserTokens: an administrator sees another user's tokens with
// their last use and its address; nobody else does, nor an administrator
// without a recent step-up (INC-2; ASVS v5.0.0-7.5.3).
func TestFindUserTokens(t *testing.T) {
	f := newMFAFixture(t, identity.Options{})
	ctx := context.Background()
	_, _, adminSecret := f.enrol(t, "admin")
	admin := f.principal(t, adminSecret, "192.0.2.1")
	bob := f.users["bob"].ID
	tok, err := f.svc.CreateToken(ctx, crm.SystemPrincipal(), bob, "laptop", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, tok.Secret, "2001:db8::42"); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.FindUserTokens(ctx, admin, bob)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != tok.Token.ID || list[0].LastUsedAt == nil || list[0].LastUsedIP != "2001:db8::42" {
		t.Fatalf("bob's tokens: %+v", list)
	}
	alice, _ := f.login(t, "alice", "192.0.2.2")
	_, err = f.svc.FindUserTokens(ctx, alice, bob)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.FindUserTokens(ctx, admin, 1<<40)
	wantCode(t, err, crm.ENOTFOUND)
	// Alice cannot revoke Bob's token (it does not exist for her); the
	// administrator can, and the event names Bob as the owner and the
	// administrator as the actor.
	wantCode(t, f.svc.RevokeToken(ctx, alice, tok.Token.ID), crm.ENOTFOUND)
	if err := f.svc.RevokeToken(ctx, admin, tok.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, tok.Secret, "2001:db8::42"); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
		t.Errorf("the revoked token: %v", err)
	}
	found := false
	for _, ev := range f.events.all() {
		found = found || (ev.Type == "token.revoke" && ev.UserID == bob && ev.ActorID == admin.UserID)
	}
	if !found {
		t.Error("no token.revoke event naming bob as owner and the administrator as actor")
	}
	f.clock.Advance(identity.DefaultStepUpWindow + time.Second)
	admin = f.principal(t, adminSecret, "192.0.2.1")
	_, err = f.svc.FindUserTokens(ctx, admin, bob)
	wantCode(t, err, crm.ESTEPUPREQUIRED)
}
