package identity_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
)

// The passkey ceremonies themselves run in Chromium against the real
// server (cmd/custos/browser_test.go). These tests attack the rules around
// them: who may begin and finish what, the binding of a ceremony to its
// session and its single use, and a passkey as the second factor.

func newPasskeyFixture(t *testing.T) *mfaFixture {
	t.Helper()
	rp, err := auth.NewRelyingParty("localhost", "Custos", "https://localhost:8443")
	if err != nil {
		t.Fatal(err)
	}
	return newMFAFixture(t, identity.Options{Passkeys: rp})
}

// addPasskey stores a passkey for the user as a finished registration would.
func (f *mfaFixture) addPasskey(t *testing.T, name, credID string) *crm.Passkey {
	t.Helper()
	k := &crm.Passkey{UserID: f.users[name].ID, Name: name + "'s key", CredentialID: []byte(credID),
		UserHandle: []byte("handle-of-" + name), PublicKey: []byte("cose"), Transports: []string{"usb"}}
	err := f.store.Write(context.Background(), func(tx crm.Tx) error { k.CreatedAt = tx.Now(); return tx.InsertPasskey(context.Background(), k) })
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPasskeyRules(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	alice, _ := f.login(t, "alice", "192.0.2.1") // sales, no factor: a full session, just authenticated
	bob, _ := f.login(t, "bob", "192.0.2.2")
	token := &crm.Principal{Kind: crm.KindToken, UserID: alice.UserID, Role: alice.Role, Scope: crm.ScopeWrite}
	stale := *alice
	stale.SteppedUpAt = f.clock.Now().Add(-identity.DefaultStepUpWindow - 1)

	// Registration: sessions only, with a recent step-up.
	_, err := f.svc.Passkeys(ctx, token)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.BeginPasskeyRegistration(ctx, token)
	wantCode(t, err, crm.EFORBIDDEN)
	_, err = f.svc.BeginPasskeyRegistration(ctx, &stale)
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	_, err = f.svc.BeginPasskeyRegistration(ctx, nil)
	wantCode(t, err, crm.EUNAUTHENTICATED)

	ch, err := f.svc.BeginPasskeyRegistration(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ch.Options), `"publicKey"`) || ch.Ceremony != "" {
		t.Fatalf("registration challenge: %s %q", ch.Options, ch.Ceremony)
	}
	// The ceremony is alice's session's: bob cannot finish it.
	_, err = f.svc.FinishPasskeyRegistration(ctx, bob, "mine", []byte(`{}`))
	wantCode(t, err, crm.ECONFLICT)
	_, err = f.svc.FinishPasskeyRegistration(ctx, alice, " ", []byte(`{}`))
	wantCode(t, err, crm.EINVALID)
	wantField(t, err, "name")
	// A refused answer uses the ceremony up.
	_, err = f.svc.FinishPasskeyRegistration(ctx, alice, "laptop", []byte(`{"id":"x"}`))
	wantCode(t, err, crm.EINVALID)
	_, err = f.svc.FinishPasskeyRegistration(ctx, alice, "laptop", []byte(`{"id":"x"}`))
	wantCode(t, err, crm.ECONFLICT)
	if !f.events.has("passkey.failure", "registration") {
		t.Errorf("no passkey.failure event: %v", f.events.types())
	}

	// No passkey, no passkey check.
	_, err = f.svc.BeginPasskeyVerification(ctx, alice)
	wantCode(t, err, crm.ECONFLICT)

	// With a passkey, the password alone gives a half session, which may
	// begin a passkey check limited to alice's own credentials.
	k := f.addPasskey(t, "alice", "alice-cred")
	f.addPasskey(t, "bob", "bob-cred")
	half, halfSecret := f.login(t, "alice", "192.0.2.1")
	if half.Pending == crm.MFANone {
		t.Fatal("a user with a passkey got a full session from the password alone")
	}
	_, err = f.svc.Passkeys(ctx, half)
	wantCode(t, err, crm.EMFAREQUIRED)
	ch, err = f.svc.BeginPasskeyVerification(ctx, half)
	if err != nil {
		t.Fatal(err)
	}
	opts := string(ch.Options)
	if !strings.Contains(opts, base64.RawURLEncoding.EncodeToString([]byte("alice-cred"))) ||
		strings.Contains(opts, base64.RawURLEncoding.EncodeToString([]byte("bob-cred"))) {
		t.Errorf("second-factor options must allow alice's key only: %s", opts)
	}
	_, err = f.svc.FinishPasskeyVerification(ctx, half, []byte(`{"id":"x"}`))
	wantCode(t, err, crm.EINVALID)
	_, err = f.svc.FinishPasskeyVerification(ctx, half, []byte(`{"id":"x"}`))
	wantCode(t, err, crm.ECONFLICT) // the challenge was used up
	if p := f.principal(t, halfSecret, "192.0.2.1"); p.Pending == crm.MFANone {
		t.Error("a refused passkey completed the sign-in")
	}

	// Renaming and removing: only one's own; removing needs a step-up.
	_, err = f.svc.RenamePasskey(ctx, bob, k.ID, "stolen")
	wantCode(t, err, crm.ENOTFOUND)
	err = f.svc.DeletePasskey(ctx, bob, k.ID)
	wantCode(t, err, crm.ENOTFOUND)
	staleFull := *alice
	staleFull.SteppedUpAt = stale.SteppedUpAt
	err = f.svc.DeletePasskey(ctx, &staleFull, k.ID)
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	got, err := f.svc.RenamePasskey(ctx, alice, k.ID, "  Work laptop ")
	if err != nil || got.Name != "Work laptop" {
		t.Fatalf("rename: %+v %v", got, err)
	}
	if err := f.svc.DeletePasskey(ctx, alice, k.ID); err != nil {
		t.Fatal(err)
	}
	if !f.events.has("passkey.remove", "") {
		t.Errorf("no passkey.remove event: %v", f.events.types())
	}

	// Passwordless: the ceremony belongs to the cookie's secret and is
	// used once; every refusal is the same EUNAUTHENTICATED.
	_, err = f.svc.FinishPasskeyLogin(ctx, "no such ceremony", []byte(`{}`), "192.0.2.9", "ua")
	wantCode(t, err, crm.EUNAUTHENTICATED)
	lc, err := f.svc.BeginPasskeyLogin(ctx)
	if err != nil || lc.Ceremony == "" || !strings.Contains(string(lc.Options), `"userVerification":"required"`) {
		t.Fatalf("passwordless challenge: %+v %v", lc, err)
	}
	_, err = f.svc.FinishPasskeyLogin(ctx, lc.Ceremony, []byte(`{"id":"x"}`), "192.0.2.9", "ua")
	wantCode(t, err, crm.EUNAUTHENTICATED)
	_, err = f.svc.FinishPasskeyLogin(ctx, lc.Ceremony, []byte(`{"id":"x"}`), "192.0.2.9", "ua")
	wantCode(t, err, crm.EUNAUTHENTICATED)

	// A server without a relying party has passkeys off.
	off := newMFAFixture(t, identity.Options{})
	_, err = off.svc.BeginPasskeyLogin(ctx)
	wantCode(t, err, crm.ECONFLICT)
}

// TestStepUpPasskeyOnly: a user whose only second factor is a passkey
// cannot step up with the password, and so cannot reach the actions that
// step-up guards (remove the passkey, mint a token, change the email) with
// a stolen password and session (AUTH-4; ASVS v5.0.0-7.5.3, 6.3.3).
func TestStepUpPasskeyOnly(t *testing.T) {
	f := newPasskeyFixture(t)
	ctx := context.Background()
	secret := mustSecret(t, f, "alice") // sales: no factor required
	k := f.addPasskey(t, "alice", "alice-cred")
	f.clock.Advance(identity.DefaultStepUpWindow + time.Second)
	alice := f.principal(t, secret, "192.0.2.5")

	st, err := f.svc.MFAStatus(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if st.Passkeys != 1 || st.PasswordStepUp {
		t.Errorf("status: %d passkeys, password step-up %v; want 1, false", st.Passkeys, st.PasswordStepUp)
	}
	// Refused before anything is checked, with the reason: no password
	// hash spent, no attempt counted against the throttle.
	for _, code := range []string{testPassword, "123456"} {
		_, err = f.svc.StepUp(ctx, alice, code)
		wantField(t, err, "code")
		if got := crm.ErrorFields(err)["code"]; got != "use a passkey" {
			t.Errorf("step-up with %q: reason %q, want %q", code, got, "use a passkey")
		}
	}
	if f.events.has("stepup.failure", "") {
		t.Error("a passkey-only user's password or code was checked (a stepup.failure was counted)")
	}
	// Nothing the step-up guards opened.
	_, err = f.svc.CreateToken(ctx, alice, alice.UserID, "t", crm.ScopeWrite, time.Hour)
	wantCode(t, err, crm.ESTEPUPREQUIRED)
	wantCode(t, f.svc.DeletePasskey(ctx, alice, k.ID), crm.ESTEPUPREQUIRED)
	wantCode(t, f.svc.RequestEmailChange(ctx, alice, "thief@example.com"), crm.ESTEPUPREQUIRED)
	if f.events.has("stepup.success", "password") {
		t.Error("a password step-up succeeded")
	}

	// Without the passkey the password steps up again, as before.
	bob := f.principal(t, mustSecret(t, f, "bob"), "192.0.2.6")
	st, err = f.svc.MFAStatus(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if st.Passkeys != 0 || !st.PasswordStepUp {
		t.Errorf("bob: %d passkeys, password step-up %v; want 0, true", st.Passkeys, st.PasswordStepUp)
	}
	if _, err := f.svc.StepUp(ctx, bob, testPassword); err != nil {
		t.Errorf("password step-up of a user without a factor: %v", err)
	}
}
