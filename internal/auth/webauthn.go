package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// WebAuthn (AUTH-3) through go-webauthn/webauthn, which does all of the
// protocol: challenge, origin, RP ID hash, signature and attestation checks.
// This file only fixes Custos' policy and keeps the library's types out of
// the rest of the code:
//
//   - the ceremony state (challenge, allowed credentials, required user
//     verification) is returned as opaque bytes that the caller stores on the
//     server, bound to the session or a random ceremony id, and deletes when
//     it is used: the client never sends it back, so it cannot pick its own
//     challenge, and a replayed response finds no ceremony;
//   - passwordless login requires user verification (the passkey is then
//     both factors, NIST SP 800-63B §5.1.8.2); as a second factor after the
//     password it is preferred, not required, so that plain security keys
//     without a PIN work;
//   - resident (discoverable) keys are preferred, so a key registered as a
//     second factor can usually also sign in without a password;
//   - a signature counter that does not grow is reported, not hidden
//     (WebAuthn §6.1.1, a possibly cloned authenticator).
const (
	// PasskeyTimeout bounds every ceremony, on the client and the server.
	PasskeyTimeout = 2 * time.Minute
	// PasskeyUserHandleSize is the size of the random user handle: the spec
	// allows 64 bytes and forbids personal data in it (WebAuthn §14.6.1).
	PasskeyUserHandleSize = 32
)

// Errors of the WebAuthn wrapper. ErrPasskeyInvalid covers every response
// the relying party refuses; the library's detail is wrapped for the log.
var (
	ErrPasskeyInvalid  = errors.New("auth: passkey response refused")
	ErrPasskeyCeremony = errors.New("auth: passkey ceremony state is invalid")
	ErrPasskeyConfig   = errors.New("auth: passkey relying party is misconfigured")
)

// PasskeyCredential is a registered credential as the store keeps it.
type PasskeyCredential struct {
	ID         []byte // the credential id chosen by the authenticator
	UserHandle []byte // the random user handle the credential was created for
	PublicKey  []byte // COSE key
	SignCount  uint32
	AAGUID     []byte
	Transports []string
	// Flags holds the backup eligibility and state and the user-verified
	// flag of the registration (PasskeyFlag*): the library refuses a login
	// whose backup eligibility differs from the registered one.
	Flags           uint8
	AttestationType string
}

// Bits of PasskeyCredential.Flags.
const (
	PasskeyFlagUserVerified uint8 = 1 << iota
	PasskeyFlagBackupEligible
	PasskeyFlagBackupState
)

// PasskeyUser is an account as the relying party sees it.
type PasskeyUser struct {
	Handle      []byte // random, see NewPasskeyUserHandle
	Name        string // the sign-in name (email), shown by the authenticator
	DisplayName string
	Credentials []PasskeyCredential
}

// PasskeyAssertion is the outcome of a successful login ceremony.
type PasskeyAssertion struct {
	CredentialID []byte
	UserHandle   []byte
	// SignCount is the counter the authenticator sent. Regressed is true when
	// it did not grow past the stored one while either is non-zero: the
	// caller flags the credential and refuses the login.
	SignCount    uint32
	Regressed    bool
	UserVerified bool
	Flags        uint8
}

// NewPasskeyUserHandle returns a fresh random user handle.
func NewPasskeyUserHandle() ([]byte, error) {
	h := make([]byte, PasskeyUserHandleSize)
	if _, err := rand.Read(h); err != nil {
		return nil, fmt.Errorf("auth: user handle: %w", err)
	}
	return h, nil
}

// RelyingParty runs WebAuthn ceremonies for one RP ID. It is safe for
// concurrent use; SetOrigins may be called while ceremonies run.
type RelyingParty struct {
	rpID, name string
	wa         atomic.Pointer[webauthn.WebAuthn]
}

// NewRelyingParty returns a relying party for rpID (the public host name
// without port, e.g. "crm.example.com" or "localhost") and the origins
// ("https://crm.example.com") browsers may use. Origins may be empty until
// the listener is open: every ceremony fails until SetOrigins is called.
func NewRelyingParty(rpID, displayName string, origins ...string) (*RelyingParty, error) {
	if displayName == "" {
		displayName = TOTPIssuer
	}
	rp := &RelyingParty{rpID: rpID, name: displayName}
	if err := rp.SetOrigins(origins...); err != nil {
		return nil, err
	}
	return rp, nil
}

// RPID returns the relying party id.
func (rp *RelyingParty) RPID() string { return rp.rpID }

// Origins returns the allowed origins.
func (rp *RelyingParty) Origins() []string {
	return append([]string(nil), rp.wa.Load().Config.RPOrigins...)
}

// SetOrigins replaces the allowed origins, e.g. with "https://localhost:41599"
// once a listener on a random port is open. Each must be an https origin, or
// http for localhost (a secure context in browsers).
func (rp *RelyingParty) SetOrigins(origins ...string) error {
	clean := make([]string, 0, len(origins))
	for _, o := range origins {
		o = strings.TrimSuffix(o, "/")
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://localhost") {
			return fmt.Errorf("%w: origin %q is not https", ErrPasskeyConfig, o)
		}
		clean = append(clean, o)
	}
	if len(clean) == 0 {
		// The library wants at least one origin; this one matches no browser.
		clean = []string{"https://" + rp.rpID + ":0"}
	}
	no := false
	cfg := &webauthn.Config{
		RPID:                  rp.rpID,
		RPDisplayName:         rp.name,
		RPOrigins:             clean,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &no,
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			UserVerification:   protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: PasskeyTimeout, TimeoutUVD: PasskeyTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: PasskeyTimeout, TimeoutUVD: PasskeyTimeout},
		},
	}
	wa, err := webauthn.New(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPasskeyConfig, err)
	}
	rp.wa.Store(wa)
	return nil
}

// BeginRegistration starts adding a credential for u. It returns the options
// for navigator.credentials.create (JSON, {"publicKey": ...}) and the
// ceremony state to keep on the server. The user's existing credentials are
// excluded, so one authenticator is not registered twice.
func (rp *RelyingParty) BeginRegistration(u *PasskeyUser) (options, ceremony []byte, err error) {
	if len(u.Handle) == 0 || len(u.Handle) > 64 {
		return nil, nil, fmt.Errorf("%w: user handle of %d bytes", ErrPasskeyConfig, len(u.Handle))
	}
	wu := waUser{u}
	creation, session, err := rp.wa.Load().BeginRegistration(wu,
		webauthn.WithExclusions(webauthn.Credentials(wu.WebAuthnCredentials()).CredentialDescriptors()))
	if err != nil {
		return nil, nil, fmt.Errorf("auth: begin registration: %w", err)
	}
	return encodeCeremony(creation, session)
}

// FinishRegistration checks the client's response (the JSON of the
// PublicKeyCredential) against the stored ceremony and returns the new
// credential for the caller to store. A user without a handle gets the one
// the ceremony began with.
func (rp *RelyingParty) FinishRegistration(u *PasskeyUser, ceremony, response []byte) (*PasskeyCredential, error) {
	session, err := decodeCeremony(ceremony)
	if err != nil {
		return nil, err
	}
	if len(u.Handle) == 0 {
		// A user's first passkey: the handle chosen at the beginning is the
		// one in the server-side ceremony state.
		cp := *u
		cp.Handle = session.UserID
		u = &cp
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPasskeyInvalid, err)
	}
	c, err := rp.wa.Load().CreateCredential(waUser{u}, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPasskeyInvalid, err)
	}
	pc := &PasskeyCredential{
		ID:              c.ID,
		UserHandle:      u.Handle,
		PublicKey:       c.PublicKey,
		SignCount:       c.Authenticator.SignCount,
		AAGUID:          c.Authenticator.AAGUID,
		Flags:           flagsOf(c.Flags),
		AttestationType: c.AttestationType,
	}
	for _, t := range c.Transport {
		pc.Transports = append(pc.Transports, string(t))
	}
	return pc, nil
}

// BeginLogin starts a second-factor ceremony for u, who has passed the
// password step: only u's credentials are allowed and user verification
// is preferred.
func (rp *RelyingParty) BeginLogin(u *PasskeyUser) (options, ceremony []byte, err error) {
	if len(u.Credentials) == 0 {
		return nil, nil, fmt.Errorf("%w: the user has no passkey", ErrPasskeyInvalid)
	}
	assertion, session, err := rp.wa.Load().BeginLogin(waUser{u},
		webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, nil, fmt.Errorf("auth: begin login: %w", err)
	}
	return encodeCeremony(assertion, session)
}

// FinishLogin checks a second-factor assertion against the ceremony begun
// by BeginLogin for the same user.
func (rp *RelyingParty) FinishLogin(u *PasskeyUser, ceremony, response []byte) (*PasskeyAssertion, error) {
	session, err := decodeCeremony(ceremony)
	if err != nil {
		return nil, err
	}
	if len(session.UserID) == 0 {
		return nil, fmt.Errorf("%w: not a second-factor ceremony", ErrPasskeyCeremony)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPasskeyInvalid, err)
	}
	c, err := rp.wa.Load().ValidateLogin(waUser{u}, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPasskeyInvalid, err)
	}
	return assertionOf(u, c, parsed), nil
}

// BeginPasswordlessLogin starts a login with a discoverable credential: no
// user is known yet, the browser offers the passkeys it has for this RP,
// and user verification is required.
func (rp *RelyingParty) BeginPasswordlessLogin() (options, ceremony []byte, err error) {
	assertion, session, err := rp.wa.Load().BeginDiscoverableLogin(
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, nil, fmt.Errorf("auth: begin passwordless login: %w", err)
	}
	return encodeCeremony(assertion, session)
}

// PasskeyLookup finds the account of a credential id and user handle for
// passwordless login. It returns an error when there is none, or when the
// handle is not the one the credential was registered with.
type PasskeyLookup func(credentialID, userHandle []byte) (*PasskeyUser, error)

// FinishPasswordlessLogin checks an assertion of a discoverable credential
// and returns the account found by lookup. The user must have been verified
// by the authenticator (PIN or biometrics).
func (rp *RelyingParty) FinishPasswordlessLogin(lookup PasskeyLookup, ceremony, response []byte) (*PasskeyUser, *PasskeyAssertion, error) {
	session, err := decodeCeremony(ceremony)
	if err != nil {
		return nil, nil, err
	}
	if len(session.UserID) != 0 || session.UserVerification != protocol.VerificationRequired {
		return nil, nil, fmt.Errorf("%w: not a passwordless ceremony", ErrPasskeyCeremony)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPasskeyInvalid, err)
	}
	var found *PasskeyUser
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		u, err := lookup(rawID, userHandle)
		if err != nil {
			return nil, err
		}
		if u == nil || !bytes.Equal(u.Handle, userHandle) {
			return nil, errors.New("no account for this passkey")
		}
		found = u
		return waUser{u}, nil
	}
	_, c, err := rp.wa.Load().ValidatePasskeyLogin(handler, *session, parsed)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPasskeyInvalid, err)
	}
	a := assertionOf(found, c, parsed)
	if !a.UserVerified { // the library checks it too; this is the policy
		return nil, nil, fmt.Errorf("%w: user not verified", ErrPasskeyInvalid)
	}
	return found, a, nil
}

func assertionOf(u *PasskeyUser, c *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) *PasskeyAssertion {
	f := parsed.Response.AuthenticatorData.Flags
	return &PasskeyAssertion{
		CredentialID: c.ID,
		UserHandle:   u.Handle,
		SignCount:    parsed.Response.AuthenticatorData.Counter,
		Regressed:    c.Authenticator.CloneWarning,
		UserVerified: f.HasUserVerified(),
		Flags:        flagsOf(webauthn.NewCredentialFlags(f)),
	}
}

func flagsOf(f webauthn.CredentialFlags) uint8 {
	var b uint8
	if f.UserVerified {
		b |= PasskeyFlagUserVerified
	}
	if f.BackupEligible {
		b |= PasskeyFlagBackupEligible
	}
	if f.BackupState {
		b |= PasskeyFlagBackupState
	}
	return b
}

// ceremonyState is what the server keeps between begin and finish.
type ceremonyState struct {
	Session webauthn.SessionData `json:"s"`
}

func encodeCeremony(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: encode options: %w", err)
	}
	state, err := json.Marshal(ceremonyState{Session: *session})
	if err != nil {
		return nil, nil, fmt.Errorf("auth: encode ceremony: %w", err)
	}
	return opts, state, nil
}

func decodeCeremony(b []byte) (*webauthn.SessionData, error) {
	var st ceremonyState
	if err := json.Unmarshal(b, &st); err != nil || st.Session.Challenge == "" {
		return nil, ErrPasskeyCeremony
	}
	if st.Session.Expires.IsZero() || time.Now().After(st.Session.Expires) {
		return nil, fmt.Errorf("%w: expired", ErrPasskeyCeremony)
	}
	return &st.Session, nil
}

// waUser adapts PasskeyUser to the library's User.
type waUser struct{ u *PasskeyUser }

func (w waUser) WebAuthnID() []byte          { return w.u.Handle }
func (w waUser) WebAuthnName() string        { return w.u.Name }
func (w waUser) WebAuthnDisplayName() string { return w.u.DisplayName }

func (w waUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(w.u.Credentials))
	for _, c := range w.u.Credentials {
		wc := webauthn.Credential{
			ID:              c.ID,
			PublicKey:       c.PublicKey,
			AttestationType: c.AttestationType,
			Flags: webauthn.CredentialFlags{
				UserVerified:   c.Flags&PasskeyFlagUserVerified != 0,
				BackupEligible: c.Flags&PasskeyFlagBackupEligible != 0,
				BackupState:    c.Flags&PasskeyFlagBackupState != 0,
			},
			Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
		}
		for _, t := range c.Transports {
			wc.Transport = append(wc.Transport, protocol.AuthenticatorTransport(t))
		}
		out = append(out, wc)
	}
	return out
}
