package crm

import (
	"context"
	"time"
)

// User is a member of staff who signs in to Custos.
type User struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	Language    string     `json:"language"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	// LockedUntil is set when the throttle locked the account (AUTH-6); a
	// past time means the lock has ended. Only Tx.SetUserLock writes it.
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	PasswordHash string     `json:"-"`
	// TeamID is the team the user is a member of, if any (ACL-2).
	TeamID *int64 `json:"team_id,omitempty"`
	// SeesTeams are the teams whose records the user sees and edits as
	// their manager: the teams they manage and every team below them, kept
	// by the identity service on every team change.
	SeesTeams []int64 `json:"-"`
}

// StaffMember is a user as the staff directory shows them to everyone:
// what owner display needs, and no contact details, sign-in times or lock
// status (those are for administrators, in User).
type StaffMember struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	TeamID *int64 `json:"team_id,omitempty"`
}

// UserInput creates or changes a user. Only administrators call it.
type UserInput struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Role     *Role   `json:"role"`
	Language *string `json:"language"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// Session is a server-side browser session (AUTH-5). Only the SHA-256 of its
// secret is stored; ID is a separate public handle used to list and revoke.
type Session struct {
	ID         string `json:"id"`
	UserID     int64  `json:"user_id"`
	SecretHash []byte `json:"-"`
	// CSRFToken is derived from the session's secret (auth.CSRFToken) when
	// the session is made or authenticated; the stores never hold it.
	CSRFToken  string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"` // the absolute timeout
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	// AAL is AAL1 after the password alone, AAL2 after a second factor.
	AAL int `json:"aal"`
	// MFAPending marks a half-authenticated session: the password is
	// checked, the second factor is still due (see mfa.go).
	MFAPending bool `json:"mfa_pending"`
	// MayEnrol marks a session signed in through an enrolment link: a user
	// who must enrol a second factor may do so in it (and in no other).
	MayEnrol bool `json:"-"`
	// SteppedUpAt is the last re-authentication: sign-in, second factor or
	// step-up. Sensitive actions need a recent one.
	SteppedUpAt *time.Time `json:"stepped_up_at,omitempty"`
}

// Token is an API token (AUTH-7). The secret is shown once at creation and
// only its SHA-256 is stored.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Scope      TokenScope `json:"scope"`
	Prefix     string     `json:"prefix"` // the first characters, to recognise it
	SecretHash []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	LastUsedIP string     `json:"last_used_ip,omitempty"` // the address of that use
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// NewToken is a freshly created token together with its secret, which is
// never available again.
type NewToken struct {
	Token  *Token `json:"token"`
	Secret string `json:"secret"`
}

// IdentityService authenticates people and programs and manages users,
// sessions and tokens.
type IdentityService interface {
	// Login checks an email and password. It fails with EUNAUTHENTICATED and
	// the same message whether the account exists or not, in similar time.
	Login(ctx context.Context, email, password, ip, userAgent string) (*User, *Session, string, error)
	// Authenticate resolves a session secret to a principal and refreshes the
	// idle timeout. EUNAUTHENTICATED if missing, expired or revoked.
	Authenticate(ctx context.Context, sessionSecret string) (*Principal, *Session, error)
	// AuthenticateToken resolves a bearer token. EUNAUTHENTICATED otherwise.
	AuthenticateToken(ctx context.Context, secret, ip string) (*Principal, error)
	// FindUserTokens lists another user's tokens, with last use and its
	// address: administrators with a recent step-up, and the system.
	FindUserTokens(ctx context.Context, p *Principal, userID int64) ([]*Token, error)
	// Logout ends the session on the server.
	Logout(ctx context.Context, p *Principal) error

	// FindUsers and FindUserByID give whole user records (email, last
	// login, lock): user administrators and the system only.
	FindUsers(ctx context.Context, p *Principal) ([]*User, error)
	FindUserByID(ctx context.Context, p *Principal, id int64) (*User, error)
	// FindStaff is the staff directory every role may read (owner names
	// on records): ids, names and roles, nothing more.
	FindStaff(ctx context.Context, p *Principal) ([]*StaffMember, error)
	// FindStaffMember is one entry of the directory. ENOTFOUND if none.
	FindStaffMember(ctx context.Context, p *Principal, id int64) (*StaffMember, error)
	CreateUser(ctx context.Context, p *Principal, in UserInput) (*User, error)
	UpdateUser(ctx context.Context, p *Principal, id int64, in UserInput) (*User, error)

	// FindSessions lists the principal's own live sessions.
	FindSessions(ctx context.Context, p *Principal) ([]*Session, error)
	// RevokeSession ends one of the principal's own sessions.
	RevokeSession(ctx context.Context, p *Principal, id string) error

	FindTokens(ctx context.Context, p *Principal) ([]*Token, error)
	CreateToken(ctx context.Context, p *Principal, userID int64, name string, scope TokenScope, ttl time.Duration) (*NewToken, error)
	RevokeToken(ctx context.Context, p *Principal, id int64) error
}
