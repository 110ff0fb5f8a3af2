package postgres

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// Only the SHA-256 of an API token's secret is stored, in secret_hash.

const (
	sqlInsertToken = `INSERT INTO tokens (user_id, name, scope, prefix, secret_hash,
		created_at, expires_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id`
	sqlTokenByID    = `SELECT ` + sqlkit.TokenCols + ` FROM tokens WHERE id = $1`
	sqlTokensAll    = `SELECT ` + sqlkit.TokenCols + ` FROM tokens ORDER BY id`
	sqlTokensByUser = `SELECT ` + sqlkit.TokenCols + ` FROM tokens WHERE user_id = $1 ORDER BY id`
	sqlTouchToken   = `UPDATE tokens SET last_used_at = $1, last_used_ip = $2 WHERE id = $3`
	sqlRevokeToken  = `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`
)

var sqlTokenByHash = `SELECT ` + sqlkit.Qualify("t", sqlkit.TokenCols) + `, ` + sqlkit.Qualify("u", sqlkit.UserCols) + `
	FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1`

// InsertToken stores a new API token and sets tk.ID.
func (t *tx) InsertToken(ctx context.Context, tk *crm.Token) error {
	id, err := t.insert(ctx, sqlInsertToken, tk.UserID, tk.Name, string(tk.Scope), tk.Prefix,
		tk.SecretHash, micros(tk.CreatedAt), micros(tk.ExpiresAt), nullMicros(tk.LastUsedAt),
		nullMicros(tk.RevokedAt))
	if err != nil {
		return dbError(err, "insert token", "token", "")
	}
	tk.ID = id
	return nil
}

// TokenBySecretHash returns the token whose secret hashes to hash, revoked
// or expired ones included (the caller checks), and its user, in one
// statement: every API request makes it (PRF-1). ENOTFOUND if there is none.
func (t *tx) TokenBySecretHash(ctx context.Context, hash []byte) (*crm.Token, *crm.User, error) {
	var tr sqlkit.TokenRow
	var ur sqlkit.UserRow
	if err := t.q.QueryRow(ctx, sqlTokenByHash, hash).Scan(append(tr.Dest(), ur.Dest()...)...); err != nil {
		return nil, nil, rowError(err, "token by hash", "token")
	}
	return tr.Token(), ur.User(), nil
}

// TokenByID returns a token. ENOTFOUND if there is none. Inside a Write the
// row stays locked until the transaction ends, as a user's (see lockUser).
func (t *tx) TokenByID(ctx context.Context, id int64) (*crm.Token, error) {
	tk, err := sqlkit.ScanToken(t.q.QueryRow(ctx, sqlTokenByID+t.lock("FOR NO KEY UPDATE"), id))
	if err != nil {
		return nil, rowError(err, "token by id", "token")
	}
	return tk, nil
}

// Tokens returns a user's tokens, or every token for userID 0, by id.
func (t *tx) Tokens(ctx context.Context, userID int64) ([]*crm.Token, error) {
	query, args := sqlTokensByUser, []any{userID}
	if userID == 0 {
		query, args = sqlTokensAll, nil
	}
	rows, err := t.q.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError(err, "tokens", "token", "")
	}
	defer rows.Close()
	list := []*crm.Token{}
	for rows.Next() {
		tk, err := sqlkit.ScanToken(rows)
		if err != nil {
			return nil, rowError(err, "scan token", "token")
		}
		list = append(list, tk)
	}
	if err := rows.Err(); err != nil {
		return nil, rowError(err, "tokens", "token")
	}
	return list, nil
}

// TouchToken sets a token's last-used time and address. ENOTFOUND if
// there is none.
func (t *tx) TouchToken(ctx context.Context, id int64, lastUsed time.Time, ip string) error {
	ok, err := t.update(ctx, sqlTouchToken, micros(lastUsed), ip, id)
	if err != nil {
		return dbError(err, "touch token", "token", "")
	} else if !ok {
		return crm.NotFound("token")
	}
	return nil
}

// RevokeToken marks a token revoked at the given time; a token revoked
// before keeps its first revocation time. ENOTFOUND if there is none.
func (t *tx) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	ok, err := t.update(ctx, sqlRevokeToken, micros(at), id)
	if err != nil {
		return dbError(err, "revoke token", "token", "")
	} else if !ok {
		return crm.NotFound("token")
	}
	return nil
}
