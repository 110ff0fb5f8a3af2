package crm

import (
	"context"
	"time"
)

// OneTimePurpose says what a one-time token is for (AUTH-8).
type OneTimePurpose string

// The purposes of one-time tokens.
const (
	PurposeInvite OneTimePurpose = "invite" // join as a new user with Email and Role
	PurposeReset  OneTimePurpose = "reset"  // set a new password for UserID
	PurposeEmail  OneTimePurpose = "email"  // change UserID's address to NewEmail
	// PurposeEnrol lets UserID, whose role requires a second factor and
	// who has none, sign in with the password to enrol one (AUTH-2): the
	// password alone never enrols a factor for such an account.
	PurposeEnrol OneTimePurpose = "enrol"
)

// How long one-time links work.
const (
	InviteTTL      = 72 * time.Hour
	ResetTTL       = 30 * time.Minute
	EmailChangeTTL = 24 * time.Hour
	EnrolTTL       = 72 * time.Hour
)

// OneTimeToken is a single-use link secret: an invitation, a password
// reset or an email-change confirmation. Only the SHA-256 of the secret is
// stored; the secret itself exists only in the mail that carries the link.
type OneTimeToken struct {
	ID         int64
	Purpose    OneTimePurpose
	UserID     int64  // reset and email: the user; invite: 0
	Email      string // invite: the invited address
	Role       Role   // invite: the role the new user gets
	Name       string // invite: the suggested display name
	NewEmail   string // email: the address to change to
	CreatedBy  int64  // who created it (the inviting admin, or the user); 0 for none
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// Usable reports whether t can still be used at now.
func (t *OneTimeToken) Usable(now time.Time) bool {
	return t.UsedAt == nil && now.Before(t.ExpiresAt)
}

// Invitation is what an administrator sees of an invitation they sent: never
// the link, which only the invitee receives (ASVS v5.0.0-6.4.6: an admin
// must not be able to choose a user's password).
type Invitation struct {
	Email     string    `json:"email"`
	Role      Role      `json:"role"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
}

// RecoveryService covers invitations, password resets and email changes
// (AUTH-8). Links carry 256-bit single-use secrets; every failure to use
// one (unknown, expired, used, wrong purpose) is the same EINVALID error
// naming the field "token".
type RecoveryService interface {
	// InviteUser mails a 72-hour invitation link to email. Administrators
	// only. ECONFLICT (field email) when the address is already a user's.
	InviteUser(ctx context.Context, p *Principal, email string, role Role, name string) (*Invitation, error)
	// InvitationByToken returns the invitation behind a link without using it.
	InvitationByToken(ctx context.Context, token string) (*Invitation, error)
	// AcceptInvitation uses the link and creates the user; it does not sign
	// in. When the user's role requires a second factor it also returns the
	// secret of an enrolment link (PurposeEnrol), where the user signs in
	// to enrol one; "" otherwise.
	AcceptInvitation(ctx context.Context, token, name, password, lang string) (*User, string, error)
	// StartEnrolment signs in through an enrolment link with the password
	// of the link's user: the session may enrol a second factor (MFAEnrol).
	// The link works once; a wrong password is a failed login, throttled
	// alike.
	StartEnrolment(ctx context.Context, token, password, ip, userAgent string) (*User, *Session, string, error)
	// EnrolmentLinkUser returns the user an enrolment link is for, without
	// using it (the page shows the address).
	EnrolmentLinkUser(ctx context.Context, token string) (*User, error)
	// IssueEnrolmentLink makes a new enrolment link for a user who has no
	// second factor, replacing earlier ones. The system (the CLI) gets the
	// link's URL; an administrator (with a step-up) gets "", and the link
	// goes by mail to the user alone. ECONFLICT when the user has a factor.
	IssueEnrolmentLink(ctx context.Context, p *Principal, userID int64) (string, error)
	// RequestPasswordReset mails a 30-minute link if email belongs to an
	// enabled account. It answers the same for every address; only a
	// flood from one IP gets ERATELIMITED.
	RequestPasswordReset(ctx context.Context, email, ip string) error
	// CheckResetToken reports, without using it, whether a reset link works.
	CheckResetToken(ctx context.Context, token string) error
	// ResetPassword uses the link, sets the password, ends every session and
	// API token of the user and mails a notice. It does not sign in.
	ResetPassword(ctx context.Context, token, newPassword string) error
	// RequestEmailChange mails a confirmation link to newEmail and a notice
	// to the current address. Browser sessions only.
	RequestEmailChange(ctx context.Context, p *Principal, newEmail string) error
	// ConfirmEmailChange uses the link and changes the address.
	ConfirmEmailChange(ctx context.Context, token string) (*User, error)
}
