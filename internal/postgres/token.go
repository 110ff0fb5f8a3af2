package postgres

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// Only the SHA-256 of an API token's secret is stored, in secret_hash.

const tokenCols = `id, user_id, name, scope, prefix, secret_hash, created_at, expires_at,
	last_used_at, revoked_at`

const (
	sqlInsertToken = `INSERT INTO tokens (user_id, name, scope, prefix, secret_hash,
		created_at, expires_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id`
	sqlTokenByID    = `SELECT ` + tokenCols + ` FROM tokens WHERE id = $1`
	sqlTokensAll    = `SELECT ` + tokenCols + ` FROM tokens ORDER BY id`
	sqlTokensByUser = `SELECT ` + tokenCols + ` FROM tokens WHERE user_id = $1 ORDER BY id`
	sqlTouchToken   = `UPDATE tokens SET last_used_at = $1 WHERE id = $2`
	sqlRevokeToken  = `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2`
)

// tokenRow receives the columns of tokenCols.
type tokenRow struct {
	tk                crm.Token
	created, expires  int64
	lastUsed, revoked *int64
}

func (r *tokenRow) dest() []any {
	return []any{&r.tk.ID, &r.tk.UserID, &r.tk.Name, &r.tk.Scope, &r.tk.Prefix, &r.tk.SecretHash,
		&r.created, &r.expires, &r.lastUsed, &r.revoked}
}

func (r *tokenRow) token() *crm.Token {
	r.tk.CreatedAt, r.tk.ExpiresAt = fromMicros(r.created), fromMicros(r.expires)
	r.tk.LastUsedAt, r.tk.RevokedAt = timePtr(r.lastUsed), timePtr(r.revoked)
	return &r.tk
}

var sqlTokenByHash = `SELECT ` + sqlkit.Qualify("t", tokenCols) + `, ` + sqlkit.Qualify("u", userCols) + `
	FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1`

func scanToken(sc scanner) (*crm.Token, error) {
	var r tokenRow
	if err := sc.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.token(), nil
}

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
	var tr tokenRow
	var ur userRow
	if err := t.q.QueryRow(ctx, sqlTokenByHash, hash).Scan(append(tr.dest(), ur.dest()...)...); err != nil {
		return nil, nil, rowError(err, "token by hash", "token")
	}
	return tr.token(), ur.user(), nil
}

// TokenByID returns a token. ENOTFOUND if there is none. Inside a Write the
// row stays locked until the transaction ends, as a user's (see lockUser).
func (t *tx) TokenByID(ctx context.Context, id int64) (*crm.Token, error) {
	tk, err := scanToken(t.q.QueryRow(ctx, sqlTokenByID+t.lock("FOR NO KEY UPDATE"), id))
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
		tk, err := scanToken(rows)
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

// TouchToken sets a token's last-used time. ENOTFOUND if there is none.
func (t *tx) TouchToken(ctx context.Context, id int64, lastUsed time.Time) error {
	ok, err := t.update(ctx, sqlTouchToken, micros(lastUsed), id)
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
