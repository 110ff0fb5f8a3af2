package sqlite

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// Only the SHA-256 of an API token's secret is stored, in secret_hash.

var (
	sqlInsertToken = static(`INSERT INTO tokens (user_id, name, scope, prefix, secret_hash,
		created_at, expires_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlTokenByHash = static(`SELECT ` + sqlkit.Qualify("t", sqlkit.TokenCols) + `, ` + sqlkit.Qualify("u", sqlkit.UserCols) + `
		FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`)
	sqlTokenByID    = static(`SELECT ` + sqlkit.TokenCols + ` FROM tokens WHERE id = ?`)
	sqlTokensAll    = static(`SELECT ` + sqlkit.TokenCols + ` FROM tokens ORDER BY id`)
	sqlTokensByUser = static(`SELECT ` + sqlkit.TokenCols + ` FROM tokens WHERE user_id = ? ORDER BY id`)
	sqlTouchToken   = static(`UPDATE tokens SET last_used_at = ?, last_used_ip = ? WHERE id = ?`)
	sqlRevokeToken  = static(`UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`)
)

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
	if err := t.queryRow(ctx, sqlTokenByHash, hash).Scan(append(tr.Dest(), ur.Dest()...)...); err != nil {
		return nil, nil, rowError(err, "token by hash", "token")
	}
	return tr.Token(), ur.User(), nil
}

// TokenByID returns a token. ENOTFOUND if there is none.
func (t *tx) TokenByID(ctx context.Context, id int64) (*crm.Token, error) {
	tk, err := sqlkit.ScanToken(t.queryRow(ctx, sqlTokenByID, id))
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
	rows, err := t.query(ctx, query, args...)
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
