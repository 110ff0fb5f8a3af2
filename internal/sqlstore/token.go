package sqlstore

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// API tokens (AUTH-7). Only the SHA-256 of a token's secret is stored, in
// secret_hash.

var (
	sqlInsertToken = Statement(`INSERT INTO tokens (user_id, name, scope, prefix, secret_hash,
		created_at, expires_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlTokenByHash = Statement(`SELECT ` + sqlkit.Qualify("t", sqlkit.TokenCols) + `, ` + sqlkit.Qualify("u", sqlkit.UserCols) + `
		FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`)
	sqlTokenByID    = Statement(`SELECT ` + sqlkit.TokenCols + ` FROM tokens WHERE id = ?`)
	sqlTokensAll    = Statement(`SELECT ` + sqlkit.TokenCols + ` FROM tokens ORDER BY id`)
	sqlTokensByUser = Statement(`SELECT ` + sqlkit.TokenCols + ` FROM tokens WHERE user_id = ? ORDER BY id`)
	sqlTouchToken   = Statement(`UPDATE tokens SET last_used_at = ?, last_used_ip = ? WHERE id = ?`)
	sqlRevokeToken  = Statement(`UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`)
)

// InsertToken stores a new API token and sets tk.ID.
func (t Tx) InsertToken(ctx context.Context, tk *crm.Token) error {
	id, err := t.C.Insert(ctx, sqlInsertToken, tk.UserID, tk.Name, string(tk.Scope), tk.Prefix,
		tk.SecretHash, Micros(tk.CreatedAt), Micros(tk.ExpiresAt), NullMicros(tk.LastUsedAt),
		NullMicros(tk.RevokedAt))
	if err != nil {
		return t.C.DBError(err, "insert token", "token", "")
	}
	tk.ID = id
	return nil
}

// TokenBySecretHash returns the token whose secret hashes to hash, revoked
// or expired ones included (the caller checks), and its user, in one
// statement: every API request makes it (PRF-1). ENOTFOUND if there is none.
func (t Tx) TokenBySecretHash(ctx context.Context, hash []byte) (*crm.Token, *crm.User, error) {
	var tr sqlkit.TokenRow
	var ur sqlkit.UserRow
	if err := t.C.QueryRow(ctx, sqlTokenByHash, hash).Scan(append(tr.Dest(), ur.Dest()...)...); err != nil {
		return nil, nil, t.C.RowError(err, "token by hash", "token")
	}
	return tr.Token(), ur.User(), nil
}

// TokenByID returns a token. ENOTFOUND if there is none. Inside a write on
// PostgreSQL the row stays locked until the transaction ends, as a user's.
func (t Tx) TokenByID(ctx context.Context, id int64) (*crm.Token, error) {
	tk, err := sqlkit.ScanToken(t.C.QueryRow(ctx, sqlTokenByID+t.C.Lock("FOR NO KEY UPDATE"), id))
	if err != nil {
		return nil, t.C.RowError(err, "token by id", "token")
	}
	return tk, nil
}

// Tokens returns a user's tokens, or every token for userID 0, by id.
func (t Tx) Tokens(ctx context.Context, userID int64) ([]*crm.Token, error) {
	query, args := sqlTokensByUser, []any{userID}
	if userID == 0 {
		query, args = sqlTokensAll, nil
	}
	rows, err := t.C.Query(ctx, query, args...)
	if err != nil {
		return nil, t.C.DBError(err, "tokens", "token", "")
	}
	defer rows.Close()
	list := []*crm.Token{}
	for rows.Next() {
		tk, err := sqlkit.ScanToken(rows)
		if err != nil {
			return nil, t.C.RowError(err, "scan token", "token")
		}
		list = append(list, tk)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "tokens", "token")
	}
	return list, nil
}

// TouchToken sets a token's last-used time and address. ENOTFOUND if
// there is none.
func (t Tx) TouchToken(ctx context.Context, id int64, lastUsed time.Time, ip string) error {
	return t.updateOne(ctx, "touch token", "token", "", sqlTouchToken, Micros(lastUsed), ip, id)
}

// RevokeToken marks a token revoked at the given time; a token revoked
// before keeps its first revocation time. ENOTFOUND if there is none.
func (t Tx) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	return t.updateOne(ctx, "revoke token", "token", "", sqlRevokeToken, Micros(at), id)
}
