package sqlstore

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// One-time links (AUTH-8): invitations, password resets, email changes and
// enrolment links. Only the SHA-256 of a token's secret is stored. Using a
// token is one conditional UPDATE … RETURNING: of two concurrent uses,
// exactly one changes the row (ASVS v5.0.0-15.4.2); on PostgreSQL the
// second waits for the first's row lock, then re-checks used_at IS NULL on
// the row the first committed and changes nothing.

const oneTimeCols = `id, purpose, user_id, email, role, name, new_email, created_by,
	secret_hash, created_at, expires_at, used_at`

var (
	sqlInsertOneTime = Statement(`INSERT INTO one_time_tokens (purpose, user_id, email, role, name,
		new_email, created_by, secret_hash, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlOneTimeByHash = Statement(`SELECT ` + oneTimeCols + ` FROM one_time_tokens
		WHERE purpose = ? AND secret_hash = ?`)
	sqlUseOneTime = Statement(`UPDATE one_time_tokens SET used_at = ?
		WHERE purpose = ? AND secret_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING ` + oneTimeCols)
	sqlDiscardOneTimeByUser = Statement(`UPDATE one_time_tokens SET used_at = ?
		WHERE purpose = ? AND user_id = ? AND used_at IS NULL`)
	sqlDiscardOneTimeByEmail = Statement(`UPDATE one_time_tokens SET used_at = ?
		WHERE purpose = ? AND email = ? AND used_at IS NULL`)
	sqlCountOneTime = Statement(`SELECT count(*) FROM one_time_tokens
		WHERE purpose = ? AND user_id = ? AND created_at >= ?`)
	sqlDeleteOneTime = Statement(`DELETE FROM one_time_tokens WHERE expires_at < ?`)
)

func scanOneTime(sc Row) (*crm.OneTimeToken, error) {
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
	o.CreatedAt, o.ExpiresAt, o.UsedAt = FromMicros(created), FromMicros(expires), TimePtr(used)
	return &o, nil
}

// InsertOneTimeToken stores a new one-time token and sets o.ID.
func (t Tx) InsertOneTimeToken(ctx context.Context, o *crm.OneTimeToken) error {
	id, err := t.C.Insert(ctx, sqlInsertOneTime, string(o.Purpose), NullZero(o.UserID), o.Email, string(o.Role),
		o.Name, o.NewEmail, NullZero(o.CreatedBy), o.SecretHash, Micros(o.CreatedAt), Micros(o.ExpiresAt),
		NullMicros(o.UsedAt))
	if err != nil {
		return t.C.DBError(err, "insert one-time token", "one-time token", "")
	}
	o.ID = id
	return nil
}

// OneTimeTokenByHash returns the token of purpose whose secret hashes to
// hash, used and expired ones included. ENOTFOUND if there is none.
func (t Tx) OneTimeTokenByHash(ctx context.Context, purpose crm.OneTimePurpose, hash []byte) (*crm.OneTimeToken, error) {
	o, err := scanOneTime(t.C.QueryRow(ctx, sqlOneTimeByHash, string(purpose), hash))
	if err != nil {
		return nil, t.C.RowError(err, "one-time token by hash", "one-time token")
	}
	return o, nil
}

// UseOneTimeToken marks the token used at now if it is unused and not
// expired, and returns it; ENOTFOUND otherwise.
func (t Tx) UseOneTimeToken(ctx context.Context, purpose crm.OneTimePurpose, hash []byte, now time.Time) (*crm.OneTimeToken, error) {
	o, err := scanOneTime(t.C.QueryRow(ctx, sqlUseOneTime, Micros(now), string(purpose), hash, Micros(now)))
	if err != nil {
		return nil, t.C.RowError(err, "use one-time token", "one-time token")
	}
	return o, nil
}

// DiscardOneTimeTokens marks used at now every unused token of purpose for
// userID, or, when userID is 0, for the invited address email.
func (t Tx) DiscardOneTimeTokens(ctx context.Context, purpose crm.OneTimePurpose, userID int64, email string, now time.Time) (int64, error) {
	query, key := sqlDiscardOneTimeByUser, any(userID)
	if userID == 0 {
		query, key = sqlDiscardOneTimeByEmail, email
	}
	n, err := t.C.Exec(ctx, query, Micros(now), string(purpose), key)
	if err != nil {
		return 0, t.C.DBError(err, "discard one-time tokens", "one-time token", "")
	}
	return n, nil
}

// CountOneTimeTokens counts the tokens of purpose for userID created at or
// after since, used or not.
func (t Tx) CountOneTimeTokens(ctx context.Context, purpose crm.OneTimePurpose, userID int64, since time.Time) (int, error) {
	var n int
	if err := t.C.QueryRow(ctx, sqlCountOneTime, string(purpose), userID, Micros(since)).Scan(&n); err != nil {
		return 0, t.C.DBError(err, "count one-time tokens", "one-time token", "")
	}
	return n, nil
}

// DeleteOneTimeTokens removes the tokens that expired before before.
func (t Tx) DeleteOneTimeTokens(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.C.Exec(ctx, sqlDeleteOneTime, Micros(before))
	if err != nil {
		return 0, t.C.DBError(err, "delete one-time tokens", "one-time token", "")
	}
	return n, nil
}
