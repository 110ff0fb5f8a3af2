package postgres

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// One-time tokens (AUTH-8): invitations, password resets and email-change
// confirmations. Only the SHA-256 of the secret is stored, in secret_hash.
// Using a token is one conditional UPDATE: of two concurrent uses, the
// second waits for the first's row lock, then re-checks used_at IS NULL on
// the row the first committed and changes nothing (ASVS v5.0.0-15.4.2).

const oneTimeCols = `id, purpose, user_id, email, role, name, new_email, created_by,
	secret_hash, created_at, expires_at, used_at`

const (
	sqlInsertOneTime = `INSERT INTO one_time_tokens (purpose, user_id, email, role, name,
		new_email, created_by, secret_hash, created_at, expires_at, used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`
	sqlOneTimeByHash = `SELECT ` + oneTimeCols + ` FROM one_time_tokens
		WHERE purpose = $1 AND secret_hash = $2`
	sqlUseOneTime = `UPDATE one_time_tokens SET used_at = $1
		WHERE purpose = $2 AND secret_hash = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING ` + oneTimeCols
	sqlDiscardOneTimeByUser = `UPDATE one_time_tokens SET used_at = $1
		WHERE purpose = $2 AND user_id = $3 AND used_at IS NULL`
	sqlDiscardOneTimeByEmail = `UPDATE one_time_tokens SET used_at = $1
		WHERE purpose = $2 AND email = $3 AND used_at IS NULL`
	sqlCountOneTime = `SELECT count(*) FROM one_time_tokens
		WHERE purpose = $1 AND user_id = $2 AND created_at >= $3`
	sqlDeleteOneTime = `DELETE FROM one_time_tokens WHERE expires_at < $1`
)

func scanOneTime(sc scanner) (*crm.OneTimeToken, error) {
	var (
		o                 crm.OneTimeToken
		userID, createdBy *int64
		created, expires  int64
		used              *int64
	)
	if err := sc.Scan(&o.ID, &o.Purpose, &userID, &o.Email, &o.Role, &o.Name, &o.NewEmail, &createdBy,
		&o.SecretHash, &created, &expires, &used); err != nil {
		return nil, err
	}
	if userID != nil {
		o.UserID = *userID
	}
	if createdBy != nil {
		o.CreatedBy = *createdBy
	}
	o.CreatedAt, o.ExpiresAt, o.UsedAt = fromMicros(created), fromMicros(expires), timePtr(used)
	return &o, nil
}

// InsertOneTimeToken stores a new one-time token and sets o.ID.
func (t *tx) InsertOneTimeToken(ctx context.Context, o *crm.OneTimeToken) error {
	id, err := t.insert(ctx, sqlInsertOneTime, string(o.Purpose), nullZero(o.UserID), o.Email, string(o.Role),
		o.Name, o.NewEmail, nullZero(o.CreatedBy), o.SecretHash, micros(o.CreatedAt), micros(o.ExpiresAt),
		nullMicros(o.UsedAt))
	if err != nil {
		return dbError(err, "insert one-time token", "one-time token", "")
	}
	o.ID = id
	return nil
}

// OneTimeTokenByHash returns the token of purpose whose secret hashes to
// hash, used and expired ones included. ENOTFOUND if there is none.
func (t *tx) OneTimeTokenByHash(ctx context.Context, purpose crm.OneTimePurpose, hash []byte) (*crm.OneTimeToken, error) {
	o, err := scanOneTime(t.q.QueryRow(ctx, sqlOneTimeByHash, string(purpose), hash))
	if err != nil {
		return nil, rowError(err, "one-time token by hash", "one-time token")
	}
	return o, nil
}

// UseOneTimeToken marks the token used at now if it is unused and not
// expired, and returns it; ENOTFOUND otherwise.
func (t *tx) UseOneTimeToken(ctx context.Context, purpose crm.OneTimePurpose, hash []byte, now time.Time) (*crm.OneTimeToken, error) {
	o, err := scanOneTime(t.q.QueryRow(ctx, sqlUseOneTime, micros(now), string(purpose), hash))
	if err != nil {
		return nil, rowError(err, "use one-time token", "one-time token")
	}
	return o, nil
}

// DiscardOneTimeTokens marks used at now every unused token of purpose for
// userID, or, when userID is 0, for the invited address email.
func (t *tx) DiscardOneTimeTokens(ctx context.Context, purpose crm.OneTimePurpose, userID int64, email string, now time.Time) (int64, error) {
	query, key := sqlDiscardOneTimeByUser, any(userID)
	if userID == 0 {
		query, key = sqlDiscardOneTimeByEmail, email
	}
	tag, err := t.q.Exec(ctx, query, micros(now), string(purpose), key)
	if err != nil {
		return 0, dbError(err, "discard one-time tokens", "one-time token", "")
	}
	return tag.RowsAffected(), nil
}

// CountOneTimeTokens counts the tokens of purpose for userID created at or
// after since, used or not.
func (t *tx) CountOneTimeTokens(ctx context.Context, purpose crm.OneTimePurpose, userID int64, since time.Time) (int, error) {
	var n int
	if err := t.q.QueryRow(ctx, sqlCountOneTime, string(purpose), userID, micros(since)).Scan(&n); err != nil {
		return 0, dbError(err, "count one-time tokens", "one-time token", "")
	}
	return n, nil
}

// DeleteOneTimeTokens removes the tokens that expired before before.
func (t *tx) DeleteOneTimeTokens(ctx context.Context, before time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, sqlDeleteOneTime, micros(before))
	if err != nil {
		return 0, dbError(err, "delete one-time tokens", "one-time token", "")
	}
	return tag.RowsAffected(), nil
}
