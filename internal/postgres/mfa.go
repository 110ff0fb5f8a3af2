package postgres

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Second factors and throttling (migration 0002_mfa.sql). The TOTP secret
// is stored as it is, in a table of its own, until field encryption
// (ENC-2) wraps it; recovery codes only as hashes.
//
// Several instances check codes at once, so single use rests on atomic
// statements: a TOTP step moves forward only by an UPDATE … WHERE
// last_step < $1, and a recovery code is used by an UPDATE … WHERE used_at
// IS NULL; under READ COMMITTED the second of two such updates waits for
// the first, re-reads the row and changes nothing. A throttle check reads
// its counter row FOR UPDATE (created first if missing), so that the
// check and the count of concurrent attempts run one after the other.

const (
	sqlTOTPByUser = `SELECT user_id, secret, created_at, confirmed_at, last_step
		FROM totp WHERE user_id = $1`
	sqlPutTOTP = `INSERT INTO totp (user_id, secret, created_at, confirmed_at, last_step)
		VALUES ($1, $2, $3, NULL, 0)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at,
			confirmed_at = NULL, last_step = 0`
	sqlConfirmTOTP = `UPDATE totp SET confirmed_at = $1, last_step = $2
		WHERE user_id = $3 AND confirmed_at IS NULL`
	sqlDeleteTOTP  = `DELETE FROM totp WHERE user_id = $1`
	sqlUseTOTPStep = `UPDATE totp SET last_step = $1
		WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1`

	sqlRecoveryCodes = `SELECT id, user_id, code_hash, created_at, used_at
		FROM recovery_codes WHERE user_id = $1 ORDER BY id`
	sqlDeleteRecoveryCodes = `DELETE FROM recovery_codes WHERE user_id = $1`
	sqlInsertRecoveryCode  = `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`
	sqlUseRecoveryCode     = `UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL`

	sqlFailures = `SELECT count(*), coalesce(min(at), 0), coalesce(max(at), 0)
		FROM auth_attempts WHERE kind = $1 AND name = $2 AND at > $3`
	// The upsert takes the key's row lock whether the row is new or not
	// (DO NOTHING would not lock an existing row), and holds it to the end
	// of the transaction: concurrent admissions on one key, from any
	// instance, are decided one after the other.
	sqlLockFailureKey = `INSERT INTO auth_failures (kind, name) VALUES ($1, $2)
		ON CONFLICT (kind, name) DO UPDATE SET kind = excluded.kind`
	sqlAddFailure       = `INSERT INTO auth_attempts (kind, name, at) VALUES ($1, $2, $3) RETURNING id`
	sqlForgiveFailure   = `DELETE FROM auth_attempts WHERE id = $1`
	sqlClearFailures    = `DELETE FROM auth_attempts WHERE kind = $1 AND name = $2`
	sqlPurgeFailures    = `DELETE FROM auth_attempts WHERE at < $1`
	sqlPurgeFailureKeys = `DELETE FROM auth_failures f WHERE NOT EXISTS (
		SELECT 1 FROM auth_attempts a WHERE a.kind = f.kind AND a.name = f.name)`

	sqlSetUserLock = `UPDATE users SET locked_until = $1 WHERE id = $2`
)

// TOTPByUser returns the user's TOTP, confirmed or pending. ENOTFOUND if none.
func (t *tx) TOTPByUser(ctx context.Context, userID int64) (*crm.TOTP, error) {
	var (
		o         crm.TOTP
		created   int64
		confirmed *int64
	)
	err := t.q.QueryRow(ctx, sqlTOTPByUser, userID).Scan(&o.UserID, &o.Secret, &created, &confirmed, &o.LastStep)
	if err != nil {
		return nil, rowError(err, "totp by user", "totp")
	}
	o.CreatedAt, o.ConfirmedAt = fromMicros(created), timePtr(confirmed)
	return &o, nil
}

// PutTOTP stores a pending TOTP for the user, replacing any.
func (t *tx) PutTOTP(ctx context.Context, o *crm.TOTP) error {
	if _, err := t.q.Exec(ctx, sqlPutTOTP, o.UserID, o.Secret, micros(o.CreatedAt)); err != nil {
		return dbError(err, "put totp", "totp", "")
	}
	o.ConfirmedAt, o.LastStep = nil, 0
	return nil
}

// ConfirmTOTP activates the pending TOTP. ENOTFOUND when none is pending.
func (t *tx) ConfirmTOTP(ctx context.Context, userID int64, at time.Time, step int64) error {
	ok, err := t.update(ctx, sqlConfirmTOTP, micros(at), step, userID)
	if err != nil {
		return dbError(err, "confirm totp", "totp", "")
	} else if !ok {
		return crm.NotFound("pending totp")
	}
	return nil
}

// DeleteTOTP removes the user's TOTP. ENOTFOUND if none.
func (t *tx) DeleteTOTP(ctx context.Context, userID int64) error {
	ok, err := t.update(ctx, sqlDeleteTOTP, userID)
	if err != nil {
		return dbError(err, "delete totp", "totp", "")
	} else if !ok {
		return crm.NotFound("totp")
	}
	return nil
}

// UseTOTPStep moves the confirmed TOTP's last step forward to step and
// reports whether it did.
func (t *tx) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	ok, err := t.update(ctx, sqlUseTOTPStep, step, userID)
	if err != nil {
		return false, dbError(err, "use totp step", "totp", "")
	}
	return ok, nil
}

// RecoveryCodes returns the user's recovery codes by id.
func (t *tx) RecoveryCodes(ctx context.Context, userID int64) ([]*crm.RecoveryCode, error) {
	rows, err := t.q.Query(ctx, sqlRecoveryCodes, userID)
	if err != nil {
		return nil, dbError(err, "recovery codes", "recovery code", "")
	}
	defer rows.Close()
	list := []*crm.RecoveryCode{}
	for rows.Next() {
		var (
			c       crm.RecoveryCode
			created int64
			used    *int64
		)
		if err := rows.Scan(&c.ID, &c.UserID, &c.Hash, &created, &used); err != nil {
			return nil, rowError(err, "scan recovery code", "recovery code")
		}
		c.CreatedAt, c.UsedAt = fromMicros(created), timePtr(used)
		list = append(list, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, rowError(err, "recovery codes", "recovery code")
	}
	return list, nil
}

// ReplaceRecoveryCodes replaces the user's codes by hashes.
func (t *tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error {
	if _, err := t.q.Exec(ctx, sqlDeleteRecoveryCodes, userID); err != nil {
		return dbError(err, "delete recovery codes", "recovery code", "")
	}
	for _, h := range hashes {
		if _, err := t.q.Exec(ctx, sqlInsertRecoveryCode, userID, h, micros(at)); err != nil {
			return dbError(err, "insert recovery code", "recovery code", "")
		}
	}
	return nil
}

// UseRecoveryCode marks a code used unless it was already.
func (t *tx) UseRecoveryCode(ctx context.Context, id int64, at time.Time) (bool, error) {
	ok, err := t.update(ctx, sqlUseRecoveryCode, micros(at), id)
	if err != nil {
		return false, dbError(err, "use recovery code", "recovery code", "")
	}
	return ok, nil
}

// Failures returns the key's failed attempts after since. Inside a Write
// the key's lock row is upserted first, which locks it until the
// transaction ends. (A purge may delete a lock row whose key has no
// attempts left; the next admission makes it again.)
func (t *tx) Failures(ctx context.Context, kind, key string, since time.Time) (crm.FailureCount, error) {
	var f crm.FailureCount
	if t.write {
		if _, err := t.q.Exec(ctx, sqlLockFailureKey, kind, key); err != nil {
			return f, dbError(err, "lock failure key", "failure count", "")
		}
	}
	var first, last int64
	if err := t.q.QueryRow(ctx, sqlFailures, kind, key, micros(since)).Scan(&f.Count, &first, &last); err != nil {
		return f, rowError(err, "failures", "failure count")
	}
	if f.Count > 0 {
		f.First, f.Last = fromMicros(first), fromMicros(last)
	}
	return f, nil
}

// AddFailure records a failed attempt and returns its id.
func (t *tx) AddFailure(ctx context.Context, kind, key string, at time.Time) (int64, error) {
	var id int64
	if err := t.q.QueryRow(ctx, sqlAddFailure, kind, key, micros(at)).Scan(&id); err != nil {
		return 0, dbError(err, "add failure", "failure count", "")
	}
	return id, nil
}

// ForgiveFailure deletes one attempt.
func (t *tx) ForgiveFailure(ctx context.Context, id int64) error {
	if _, err := t.q.Exec(ctx, sqlForgiveFailure, id); err != nil {
		return dbError(err, "forgive failure", "failure count", "")
	}
	return nil
}

// ClearFailures deletes the key's attempts.
func (t *tx) ClearFailures(ctx context.Context, kind, key string) error {
	if _, err := t.q.Exec(ctx, sqlClearFailures, kind, key); err != nil {
		return dbError(err, "clear failures", "failure count", "")
	}
	return nil
}

// PurgeFailures deletes the attempts made before before, then the lock
// rows of keys without attempts.
func (t *tx) PurgeFailures(ctx context.Context, before time.Time) (int64, error) {
	tag, err := t.q.Exec(ctx, sqlPurgeFailures, micros(before))
	if err != nil {
		return 0, dbError(err, "purge failures", "failure count", "")
	}
	if _, err := t.q.Exec(ctx, sqlPurgeFailureKeys); err != nil {
		return 0, dbError(err, "purge failure keys", "failure count", "")
	}
	return tag.RowsAffected(), nil
}

// SetUserLock sets or clears the user's lock mark. ENOTFOUND if no user.
func (t *tx) SetUserLock(ctx context.Context, userID int64, until *time.Time) error {
	ok, err := t.update(ctx, sqlSetUserLock, nullMicros(until), userID)
	if err != nil {
		return dbError(err, "set user lock", "user", "")
	} else if !ok {
		return crm.NotFound("user")
	}
	return nil
}
