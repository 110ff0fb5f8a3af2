package crm

import (
	"context"
	"time"
)

// Passkeys and security keys (AUTH-3, WebAuthn). A user registers any
// number of them, each named. A passkey is a second factor after the
// password (it settles a half-authenticated session, see mfa.go) and a
// step-up; one that verified its user (PIN or biometrics) also signs in
// alone, without a password, through a discoverable credential: the
// browser offers the passkeys it holds for this site and the server finds
// the account from the credential.
//
// The challenge of every ceremony stays on the server (PasskeyCeremony),
// bound to the session or, for a passwordless login, to a random id in a
// cookie, and is taken by the step that finishes it: an assertion is
// accepted at most once. A signature counter that does not grow flags the
// passkey (a possibly cloned authenticator) and it signs in no more.

// Passkey is a registered WebAuthn credential.
type Passkey struct {
	ID           int64      `json:"id"`
	UserID       int64      `json:"user_id"`
	Name         string     `json:"name"`
	CredentialID []byte     `json:"-"`
	UserHandle   []byte     `json:"-"` // the random WebAuthn user handle, never the user id
	PublicKey    []byte     `json:"-"` // COSE
	SignCount    int64      `json:"-"`
	AAGUID       []byte     `json:"-"`
	Transports   []string   `json:"transports"`
	Flags        int        `json:"-"` // backup eligibility and state, user verified (auth.PasskeyFlag*)
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty"`
	// FlaggedAt is set when an assertion's signature counter did not grow.
	FlaggedAt *time.Time `json:"flagged_at,omitempty"`
}

// Kinds of PasskeyCeremony.
const (
	CeremonyRegister = "register" // adding a passkey, bound to a full session
	CeremonyVerify   = "verify"   // second factor or step-up, bound to the session
	CeremonyLogin    = "login"    // passwordless login, bound to a cookie
)

// PasskeyCeremony is a begun WebAuthn ceremony as the server keeps it.
type PasskeyCeremony struct {
	ID        string // CeremonyKind + ":" + session id, or "login:" + hex SHA-256 of the cookie
	Kind      string
	UserID    int64  // 0 for a passwordless login
	SessionID string // "" for a passwordless login
	State     []byte // auth.RelyingParty's opaque ceremony state
	ExpiresAt time.Time
}

// PasskeyChallenge is what the browser needs to run a ceremony.
type PasskeyChallenge struct {
	// Options is the JSON for navigator.credentials.create or get, with
	// byte strings in base64url: {"publicKey": {...}}.
	Options []byte
	// Ceremony is the secret id of a passwordless login, for a cookie; ""
	// when the ceremony is bound to the session.
	Ceremony string
}

// PasskeyService registers and checks passkeys. Unless said otherwise a
// method needs a fully signed-in session principal (API tokens manage no
// factors).
type PasskeyService interface {
	// Passkeys lists the principal's passkeys, oldest first.
	Passkeys(ctx context.Context, p *Principal) ([]*Passkey, error)
	// BeginPasskeyRegistration starts adding a passkey. Needs a step-up.
	BeginPasskeyRegistration(ctx context.Context, p *Principal) (*PasskeyChallenge, error)
	// FinishPasskeyRegistration checks the browser's response (the JSON of
	// the PublicKeyCredential) against the begun ceremony and stores the
	// passkey under name. EINVALID for a refused response or a bad name,
	// ECONFLICT when no ceremony is pending or the key is registered.
	FinishPasskeyRegistration(ctx context.Context, p *Principal, name string, response []byte) (*Passkey, error)
	// RenamePasskey renames one of the principal's passkeys.
	RenamePasskey(ctx context.Context, p *Principal, id int64, name string) (*Passkey, error)
	// DeletePasskey removes one of the principal's passkeys. Needs a step-up.
	DeletePasskey(ctx context.Context, p *Principal, id int64) error
	// BeginPasskeyVerification starts a second-factor check: for a half
	// session (its second step) or a full one (a step-up). Only the
	// principal's own passkeys are allowed. ECONFLICT when it has none.
	BeginPasskeyVerification(ctx context.Context, p *Principal) (*PasskeyChallenge, error)
	// FinishPasskeyVerification checks the assertion and returns the new
	// session, at AAL2 and stepped up, that replaces the principal's.
	// EINVALID for a refused, replayed or flagged passkey.
	FinishPasskeyVerification(ctx context.Context, p *Principal, response []byte) (*SignIn, error)
	// BeginPasskeyLogin starts a passwordless login; anyone may call it.
	BeginPasskeyLogin(ctx context.Context) (*PasskeyChallenge, error)
	// FinishPasskeyLogin checks the assertion of a discoverable credential
	// with user verification against the ceremony of the cookie and
	// returns a full session of the passkey's owner. EUNAUTHENTICATED for
	// anything refused, with the same message whatever the reason.
	FinishPasskeyLogin(ctx context.Context, ceremony string, response []byte, ip, userAgent string) (*SignIn, error)
}
