package crm

import (
	"context"
	"time"
)

// Role is a named permission set (ACL-1).
type Role string

// The built-in roles.
const (
	RoleAdmin    Role = "admin"    // everything, including user administration
	RoleManager  Role = "manager"  // own and managed teams' records; reassigns; pipelines
	RoleSales    Role = "sales"    // own (and managed teams') client records
	RoleSupport  Role = "support"  // own (and managed teams') records; no deletes
	RoleAuditor  Role = "auditor"  // audit only, never client data
	RoleReadOnly Role = "readonly" // reads client records, writes nothing
)

// Roles lists the built-in roles in display order.
var Roles = []Role{RoleAdmin, RoleManager, RoleSales, RoleSupport, RoleAuditor, RoleReadOnly}

// Valid reports whether r is a built-in role. A custom role (RoleDef) has
// a name of its own (ValidRoleName) and lives in the store.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// PrincipalKind tells how a principal authenticated.
type PrincipalKind string

// The ways a principal authenticates.
const (
	KindSession PrincipalKind = "session" // a browser session cookie
	KindToken   PrincipalKind = "token"   // an API bearer token
	KindSystem  PrincipalKind = "system"  // the program itself (CLI, demo seeding, jobs)
)

// TokenScope limits what an API token may do (AUTH-7).
type TokenScope string

// The token scopes.
const (
	ScopeRead  TokenScope = "read"  // GET only
	ScopeWrite TokenScope = "write" // reads and writes of client data
)

// Valid reports whether s is a known scope.
func (s TokenScope) Valid() bool { return s == ScopeRead || s == ScopeWrite }

// Principal is who is acting: a user through a session or a token, or the
// system. Every service method receives one; the policy package decides from
// it alone what the call may see and do.
type Principal struct {
	Kind      PrincipalKind
	UserID    int64
	Email     string
	Name      string
	Role      Role
	Language  string
	SessionID string     // the session's public id (not its secret), when Kind is KindSession
	TokenID   int64      // when Kind is KindToken
	Scope     TokenScope // when Kind is KindToken
	IP        string
	UserAgent string
	RequestID string
	// The session's authentication state (Kind KindSession only): its
	// assurance level, the MFA step it still has to take (MFANone for a
	// full session) and its last re-authentication (zero if none).
	AAL         int
	Pending     MFAStep
	SteppedUpAt time.Time
	// TeamID is the user's team (0 for none); Teams are the teams whose
	// records the user sees and edits as their manager (ACL-2), from the
	// user row.
	TeamID int64
	Teams  []int64
	// Def is the role's permission set (ACL-1): a built-in role's or a
	// custom role's, resolved by the identity service at authentication.
	// Nil means the built-in role named Role.
	Def *RoleDef
}

// SystemPrincipal is the principal of the program's own work (migrations,
// demo seeding, CLI administration). It never comes from a request.
func SystemPrincipal() *Principal {
	return &Principal{Kind: KindSystem, Role: RoleAdmin, Name: "system"}
}

type principalKey struct{}

// NewContextWithPrincipal returns a context that carries p. Only the HTTP edge
// (the authentication middleware) calls it.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal in ctx, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
