package sqlkit

import (
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The identity rows both stores read the same way: the column lists of
// the tokens and users tables, and the types that receive them. Both
// drivers scan a NULL into a **int64 as nil. Timestamps are unix
// microseconds, as every store keeps them.

// TokenCols are the columns of a token, in the order TokenRow receives them.
const TokenCols = `id, user_id, name, scope, prefix, secret_hash, created_at, expires_at,
	last_used_at, last_used_ip, revoked_at`

// UserCols are the columns of a user, in the order UserRow receives them.
const UserCols = `id, email, name, role, language, disabled, password_hash, created_at,
	updated_at, last_login_at, locked_until, team_id, sees_teams`

// Scanner is a row of either driver.
type Scanner interface{ Scan(dest ...any) error }

// TokenRow receives one row of TokenCols.
type TokenRow struct {
	tk                crm.Token
	created, expires  int64
	lastUsed, revoked *int64
}

// Dest returns the scan destinations, in the order of TokenCols.
func (r *TokenRow) Dest() []any {
	return []any{&r.tk.ID, &r.tk.UserID, &r.tk.Name, &r.tk.Scope, &r.tk.Prefix, &r.tk.SecretHash,
		&r.created, &r.expires, &r.lastUsed, &r.tk.LastUsedIP, &r.revoked}
}

// Token returns the token scanned.
func (r *TokenRow) Token() *crm.Token {
	r.tk.CreatedAt, r.tk.ExpiresAt = fromMicros(r.created), fromMicros(r.expires)
	r.tk.LastUsedAt, r.tk.RevokedAt = timePtr(r.lastUsed), timePtr(r.revoked)
	return &r.tk
}

// ScanToken scans one row of TokenCols.
func ScanToken(sc Scanner) (*crm.Token, error) {
	var r TokenRow
	if err := sc.Scan(r.Dest()...); err != nil {
		return nil, err
	}
	return r.Token(), nil
}

// UserRow receives one row of UserCols.
type UserRow struct {
	u                      crm.User
	created, updated       int64
	lastLogin, lockedUntil *int64
	seesTeams              string
}

// Dest returns the scan destinations, in the order of UserCols.
func (r *UserRow) Dest() []any {
	return []any{&r.u.ID, &r.u.Email, &r.u.Name, &r.u.Role, &r.u.Language, &r.u.Disabled,
		&r.u.PasswordHash, &r.created, &r.updated, &r.lastLogin, &r.lockedUntil, &r.u.TeamID, &r.seesTeams}
}

// User returns the user scanned.
func (r *UserRow) User() *crm.User {
	r.u.CreatedAt, r.u.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	r.u.LastLoginAt, r.u.LockedUntil = timePtr(r.lastLogin), timePtr(r.lockedUntil)
	r.u.SeesTeams = DecodeIDs(r.seesTeams)
	return &r.u
}

// ScanUser scans one row of UserCols.
func ScanUser(sc Scanner) (*crm.User, error) {
	var r UserRow
	if err := sc.Scan(r.Dest()...); err != nil {
		return nil, err
	}
	return r.User(), nil
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func timePtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}

// EncodeIDs writes ids as a JSON array of numbers, the form of
// users.sees_teams.
func EncodeIDs(ids []int64) string {
	b := make([]byte, 0, 2+8*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// DecodeIDs reads what EncodeIDs wrote. Anything else reads as no ids: a
// damaged column grants nothing.
func DecodeIDs(s string) []int64 {
	inner, ok := strings.CutPrefix(s, "[")
	if !ok {
		return nil
	}
	if inner, ok = strings.CutSuffix(inner, "]"); !ok || inner == "" {
		return nil
	}
	parts := strings.Split(inner, ",")
	ids := make([]int64, 0, len(parts))
	for _, part := range parts {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil || id <= 0 {
			return nil
		}
		ids = append(ids, id)
	}
	return ids
}
