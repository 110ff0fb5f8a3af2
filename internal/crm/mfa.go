package crm

import (
	"context"
	"time"
)

// Multi-factor authentication (AUTH-2, AUTH-4), step-up (AUTH-4), session
// administration (AUTH-5) and lockout (AUTH-6).
//
// A login with the password alone gives a half-authenticated session when
// the user's role requires MFA or the user has enrolled a factor: its
// principal has Pending set and may do nothing but what its MFAStep names
// (verify a second factor, or enrol one), see its MFA status, and log out.
// The second factor replaces the half session with a new one (new id, new
// secret: a fixation defence). API tokens are made only from full sessions.

// Authenticator assurance levels of a session (NIST SP 800-63B §4).
const (
	AAL1 = 1 // the password alone
	AAL2 = 2 // the password and a second factor
)

// MFAStep is what a half-authenticated session still has to do.
type MFAStep string

// The steps of a half-authenticated session.
const (
	MFANone   MFAStep = ""      // a full session
	MFAVerify MFAStep = "mfa"   // prove a second factor (TOTP or a recovery code)
	MFAEnrol  MFAStep = "enrol" // the role requires MFA and the user has none: enrol TOTP
	// MFAEnrolLink: the role requires MFA, the user has none, and this
	// session came from the password alone: it reaches nothing until the
	// user signs in through an enrolment link (PurposeEnrol).
	MFAEnrolLink MFAStep = "enrol_link"
)

// EMFAREQUIRED is the error code of a half-authenticated session asking
// for anything but its MFA step (HTTP 401).
const EMFAREQUIRED = "mfa_required"

// ESTEPUPREQUIRED is the error code of a sensitive action without a recent
// step-up re-authentication (HTTP 403).
const ESTEPUPREQUIRED = "step_up_required"

// TOTP is a user's TOTP authenticator as stored. It is pending until the
// first correct code confirms it. Secret is the base32 seed (see the
// security notes: field encryption, ENC-2, will wrap it).
type TOTP struct {
	UserID      int64
	Secret      string
	CreatedAt   time.Time
	ConfirmedAt *time.Time // nil while enrolment is pending
	LastStep    int64      // the last accepted RFC 6238 time step; a code of a step at or before it is a replay
}

// RecoveryCode is one stored recovery code: the SHA-256 of the code bound
// to its user, never the code.
type RecoveryCode struct {
	ID        int64
	UserID    int64
	Hash      []byte
	CreatedAt time.Time
	UsedAt    *time.Time
}

// Failure kinds of the throttle counters (AUTH-6).
const (
	FailAccount = "account" // keyed "user:<id>", or "email:<address>" for unknown accounts
	FailIP      = "ip"      // keyed by client address (IPv6 by /64)
)

// FailureCount is the failed attempts of one key within a window.
type FailureCount struct {
	Count       int
	First, Last time.Time // the oldest and the newest counted attempt
}

// MFAStatus describes the principal's factors.
type MFAStatus struct {
	Required          bool       `json:"required"` // the user's role requires MFA
	TOTP              bool       `json:"totp"`     // a confirmed TOTP authenticator exists
	TOTPConfirmedAt   *time.Time `json:"totp_confirmed_at,omitempty"`
	TOTPPending       bool       `json:"totp_pending"` // an enrolment was begun and not confirmed
	RecoveryCodesLeft int        `json:"recovery_codes_left"`
	Passkeys          int        `json:"passkeys"`         // registered passkeys and security keys
	PasswordStepUp    bool       `json:"password_step_up"` // the password alone steps up: no second factor, none required
	Pending           MFAStep    `json:"pending"`          // this session's step; "" when fully signed in
	SteppedUpUntil    *time.Time `json:"stepped_up_until,omitempty"`
}

// TOTPEnrolment is a begun TOTP enrolment: what the user's app needs.
type TOTPEnrolment struct {
	Secret    string    `json:"secret"`     // base32, to type by hand
	URL       string    `json:"url"`        // otpauth://totp/...
	QRCodePNG []byte    `json:"-"`          // the URL as a QR code
	ExpiresAt time.Time `json:"expires_at"` // confirm before this
}

// SignIn is a new session handed out after a second factor, a step-up or
// a change of factors. The old session is gone; the caller sets Secret as
// the new cookie.
type SignIn struct {
	Session        *Session
	Secret         string
	SteppedUpUntil time.Time // the end of the step-up window the new session opens
}

// MFAService manages second factors, step-up and the sessions and locks of
// users. Unless said otherwise a method needs a session principal (API
// tokens manage no factors) that is fully signed in.
type MFAService interface {
	// MFAStatus describes the principal's factors; half sessions may ask.
	MFAStatus(ctx context.Context, p *Principal) (*MFAStatus, error)
	// BeginTOTP starts (or restarts) a TOTP enrolment. A half session whose
	// step is MFAEnrol may call it; a full session needs a recent step-up.
	// ECONFLICT when a confirmed TOTP exists (remove it first).
	BeginTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error)
	// PendingTOTP returns the begun enrolment again (for the QR image).
	// ENOTFOUND when none is pending or it expired.
	PendingTOTP(ctx context.Context, p *Principal) (*TOTPEnrolment, error)
	// ConfirmTOTP activates the pending TOTP with one correct code and
	// returns the ten recovery codes, shown this once, and a new session
	// that replaces the principal's (a half session becomes a full one).
	// The user's other sessions end. EINVALID on "code" for a wrong code.
	ConfirmTOTP(ctx context.Context, p *Principal, code string) ([]string, *SignIn, error)
	// RemoveTOTP removes the TOTP and the recovery codes. Needs a step-up.
	RemoveTOTP(ctx context.Context, p *Principal) error
	// RegenerateRecoveryCodes replaces the recovery codes and returns the
	// new ones, shown this once. Needs a step-up and a confirmed TOTP.
	RegenerateRecoveryCodes(ctx context.Context, p *Principal) ([]string, error)
	// VerifyMFA checks a TOTP or recovery code for a half session whose
	// step is MFAVerify and returns the full session that replaces it.
	// EINVALID on "code" for a wrong, used or replayed code and while the
	// account is locked; ERATELIMITED during back-off.
	VerifyMFA(ctx context.Context, p *Principal, code string) (*SignIn, error)
	// StepUp re-authenticates a full session: with a TOTP or recovery code
	// when the user has TOTP, else with the password. The new session it
	// returns counts as stepped up for the configured window. API tokens
	// never step up (EFORBIDDEN).
	StepUp(ctx context.Context, p *Principal, code string) (*SignIn, error)
	// RevokeOtherSessions ends all of the principal's sessions but the
	// current one and returns how many ended.
	RevokeOtherSessions(ctx context.Context, p *Principal) (int, error)
	// RevokeUserSessions ends all sessions of a user (administrators, with
	// a step-up; the incident-response kill switch, ASVS v5.0.0-7.4.5).
	RevokeUserSessions(ctx context.Context, p *Principal, userID int64) error
	// UnlockUser lifts a lockout (administrators with a step-up, the CLI).
	UnlockUser(ctx context.Context, p *Principal, userID int64) error
}
