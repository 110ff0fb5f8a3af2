package auth

import (
	"encoding/json"
	"errors"
	"testing"
)

// The ceremonies themselves run in Chromium with a virtual authenticator
// (cmd/custos/browser_test.go); these tests cover the policy around them.

func TestRelyingPartyOptions(t *testing.T) {
	t.Parallel()
	rp, err := NewRelyingParty("localhost", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.SetOrigins("http://evil.example"); !errors.Is(err, ErrPasskeyConfig) {
		t.Errorf("plain http origin: got %v, want ErrPasskeyConfig", err)
	}
	if err := rp.SetOrigins("https://localhost:8443/"); err != nil {
		t.Fatal(err)
	}
	if got := rp.Origins(); len(got) != 1 || got[0] != "https://localhost:8443" {
		t.Errorf("origins: got %v", got)
	}
	h, err := NewPasskeyUserHandle()
	if err != nil || len(h) != PasskeyUserHandleSize {
		t.Fatalf("handle: %x %v", h, err)
	}
	u := &PasskeyUser{Handle: h, Name: "a@example.com", DisplayName: "A",
		Credentials: []PasskeyCredential{{ID: []byte("cred-1"), Flags: PasskeyFlagBackupEligible}}}

	opts, _, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		PublicKey struct {
			RP                     struct{ ID string } `json:"rp"`
			AuthenticatorSelection struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Exclude []struct{ ID string } `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &reg); err != nil {
		t.Fatal(err)
	}
	pk := reg.PublicKey
	if pk.RP.ID != "localhost" || pk.AuthenticatorSelection.ResidentKey != "preferred" ||
		pk.AuthenticatorSelection.UserVerification != "preferred" || len(pk.Exclude) != 1 {
		t.Errorf("registration options: %s", opts)
	}

	opts, second, err := rp.BeginLogin(u)
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		PublicKey struct {
			UserVerification string                `json:"userVerification"`
			Allow            []struct{ ID string } `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &login); err != nil {
		t.Fatal(err)
	}
	if login.PublicKey.UserVerification != "preferred" || len(login.PublicKey.Allow) != 1 {
		t.Errorf("second-factor options: %s", opts)
	}

	opts, passwordless, err := rp.BeginPasswordlessLogin()
	if err != nil {
		t.Fatal(err)
	}
	login.PublicKey.Allow = nil
	if err := json.Unmarshal(opts, &login); err != nil {
		t.Fatal(err)
	}
	if login.PublicKey.UserVerification != "required" || len(login.PublicKey.Allow) != 0 {
		t.Errorf("passwordless options: %s", opts)
	}

	// A ceremony of one kind cannot finish another.
	lookup := func(id, h []byte) (*PasskeyUser, error) { return u, nil }
	if _, _, err := rp.FinishPasswordlessLogin(lookup, second, []byte(`{}`)); !errors.Is(err, ErrPasskeyCeremony) {
		t.Errorf("passwordless finish of a second-factor ceremony: got %v", err)
	}
	if _, err := rp.FinishLogin(u, passwordless, []byte(`{}`)); !errors.Is(err, ErrPasskeyCeremony) {
		t.Errorf("second-factor finish of a passwordless ceremony: got %v", err)
	}
	// Garbage or missing state is refused before the response is read.
	for _, c := range [][]byte{nil, []byte(`{}`), []byte(`{"s":{"challenge":"x"}}`)} {
		if _, err := rp.FinishLogin(u, c, []byte(`{}`)); !errors.Is(err, ErrPasskeyCeremony) {
			t.Errorf("state %q: got %v, want ErrPasskeyCeremony", c, err)
		}
	}
	// A malformed response is refused.
	if _, err := rp.FinishLogin(u, second, []byte(`{"id":"x"}`)); !errors.Is(err, ErrPasskeyInvalid) {
		t.Errorf("malformed response: got %v, want ErrPasskeyInvalid", err)
	}
	// No passkey, no second-factor ceremony.
	if _, _, err := rp.BeginLogin(&PasskeyUser{Handle: h}); !errors.Is(err, ErrPasskeyInvalid) {
		t.Errorf("user without passkeys: got %v", err)
	}
}
