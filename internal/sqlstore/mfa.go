package sqlstore

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Second factors and throttling (migrations 0003 and 0008). The TOTP
// secret is stored as the caller gives it, in a table of its own: wrapped
// by the key-encryption key (seal.Secrets) before it comes here; recovery
// codes only as hashes.
//
// Several instances check codes at once, so single use rests on atomic
// statements: a TOTP step moves forward only by an UPDATE … WHERE
// last_step < ?, and a recovery code is used by an UPDATE … WHERE used_at
// IS NULL; under READ COMMITTED the second of two such updates waits for
// the first, re-reads the row and changes nothing. A throttle check locks
// its key's row (made first if missing), so that the check and the count
// of concurrent attempts run one after the other.

var (
	sqlTOTPByUser = Statement(`SELECT user_id, secret, created_at, confirmed_at, last_step
		FROM totp WHERE user_id = ?`)
	sqlPutTOTP = Statement(`INSERT INTO totp (user_id, secret, created_at, confirmed_at, last_step)
		VALUES (?, ?, ?, NULL, 0)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at,
			confirmed_at = NULL, last_step = 0`)
	sqlConfirmTOTP = Statement(`UPDATE totp SET confirmed_at = ?, last_step = ?
		WHERE user_id = ? AND confirmed_at IS NULL`)
	sqlDeleteTOTP = Statement(`DELETE FROM totp WHERE user_id = ?`)
	sqlTOTPsAfter = Statement(`SELECT user_id, secret, created_at, confirmed_at, last_step
		FROM totp WHERE user_id > ? ORDER BY user_id LIMIT ?`)
	sqlResealTOTP = Statement(`UPDATE totp SET secret = ? WHERE user_id = ? AND secret = ?`)
	// The compare-and-set that makes a TOTP code single use.
	sqlUseTOTPStep = Statement(`UPDATE totp SET last_step = ?
		WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`)

	sqlRecoveryCodes = Statement(`SELECT id, user_id, code_hash, created_at, used_at
		FROM recovery_codes WHERE user_id = ? ORDER BY id`)
	sqlDeleteRecoveryCodes = Statement(`DELETE FROM recovery_codes WHERE user_id = ?`)
	sqlInsertRecoveryCode  = Statement(`INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`)
	sqlUseRecoveryCode     = Statement(`UPDATE recovery_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`)

	sqlFailures = Statement(`SELECT count(*), coalesce(min(at), 0), coalesce(max(at), 0)
		FROM auth_attempts WHERE kind = ? AND name = ? AND at > ?`)
	// The upsert takes the key's row lock whether the row is new or not
	// (DO NOTHING would not lock an existing row), and holds it to the end
	// of the transaction: on PostgreSQL, concurrent admissions on one key,
	// from any instance, are decided one after the other. SQLite runs one
	// writer anyway; the row is made all the same, so both stores hold the
	// same rows.
	sqlLockFailureKey = Statement(`INSERT INTO auth_failures (kind, name) VALUES (?, ?)
		ON CONFLICT (kind, name) DO UPDATE SET kind = excluded.kind`)
	sqlAddFailure       = Statement(`INSERT INTO auth_attempts (kind, name, at) VALUES (?, ?, ?) RETURNING id`)
	sqlForgiveFailure   = Statement(`DELETE FROM auth_attempts WHERE id = ?`)
	sqlClearFailures    = Statement(`DELETE FROM auth_attempts WHERE kind = ? AND name = ?`)
	sqlPurgeFailures    = Statement(`DELETE FROM auth_attempts WHERE at < ?`)
	sqlPurgeFailureKeys = Statement(`DELETE FROM auth_failures WHERE NOT EXISTS (
		SELECT 1 FROM auth_attempts a WHERE a.kind = auth_failures.kind AND a.name = auth_failures.name)`)

	sqlSetUserLock = Statement(`UPDATE users SET locked_until = ? WHERE id = ?`)
)

// TOTPByUser returns the user's TOTP, confirmed or pending. ENOTFOUND if none.
func (t Tx) TOTPByUser(ctx context.Context, userID int64) (*crm.TOTP, error) {
	var (
		o         crm.TOTP
		created   int64
		confirmed *int64
	)
	err := t.C.QueryRow(ctx, sqlTOTPByUser, userID).Scan(&o.UserID, &o.Secret, &created, &confirmed, &o.LastStep)
	if err != nil {
		return nil, t.C.RowError(err, "totp by user", "totp")
	}
	o.CreatedAt, o.ConfirmedAt = FromMicros(created), TimePtr(confirmed)
	return &o, nil
}

// TOTPsAfter returns up to limit TOTP rows of users with ids above after,
// by user id: the passes that wrap and re-wrap their secrets.
func (t Tx) TOTPsAfter(ctx context.Context, after int64, limit int) ([]*crm.TOTP, error) {
	rows, err := t.C.Query(ctx, sqlTOTPsAfter, after, limit)
	if err != nil {
		return nil, t.C.DBError(err, "totp rows", "totp", "")
	}
	defer rows.Close()
	var out []*crm.TOTP
	for rows.Next() {
		var (
			o         crm.TOTP
			created   int64
			confirmed *int64
		)
		if err := rows.Scan(&o.UserID, &o.Secret, &created, &confirmed, &o.LastStep); err != nil {
			return nil, t.C.RowError(err, "scan totp", "totp")
		}
		o.CreatedAt, o.ConfirmedAt = FromMicros(created), TimePtr(confirmed)
		out = append(out, &o)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "totp rows", "totp")
	}
	return out, nil
}

// ResealTOTP replaces the user's TOTP secret old by new (its wrapped form)
// if it is still old, and reports whether it did.
func (t Tx) ResealTOTP(ctx context.Context, userID int64, old, new string) (bool, error) {
	ok, err := t.changed(ctx, sqlResealTOTP, new, userID, old)
	if err != nil {
		return false, t.C.DBError(err, "reseal totp", "totp", "")
	}
	return ok, nil
}

// PutTOTP stores a pending TOTP for the user, replacing any.
func (t Tx) PutTOTP(ctx context.Context, o *crm.TOTP) error {
	if _, err := t.C.Exec(ctx, sqlPutTOTP, o.UserID, o.Secret, Micros(o.CreatedAt)); err != nil {
		return t.C.DBError(err, "put totp", "totp", "")
	}
	o.ConfirmedAt, o.LastStep = nil, 0
	return nil
}

// ConfirmTOTP activates the pending TOTP. ENOTFOUND when none is pending.
func (t Tx) ConfirmTOTP(ctx context.Context, userID int64, at time.Time, step int64) error {
	ok, err := t.changed(ctx, sqlConfirmTOTP, Micros(at), step, userID)
	if err != nil {
		return t.C.DBError(err, "confirm totp", "totp", "")
	} else if !ok {
		return crm.NotFound("pending totp")
	}
	return nil
}

// DeleteTOTP removes the user's TOTP. ENOTFOUND if none.
func (t Tx) DeleteTOTP(ctx context.Context, userID int64) error {
	ok, err := t.changed(ctx, sqlDeleteTOTP, userID)
	if err != nil {
		return t.C.DBError(err, "delete totp", "totp", "")
	} else if !ok {
		return crm.NotFound("totp")
	}
	return nil
}

// UseTOTPStep moves the confirmed TOTP's last step forward to step and
// reports whether it did.
func (t Tx) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	ok, err := t.changed(ctx, sqlUseTOTPStep, step, userID, step)
	if err != nil {
		return false, t.C.DBError(err, "use totp step", "totp", "")
	}
	return ok, nil
}

// RecoveryCodes returns the user's recovery codes by id.
func (t Tx) RecoveryCodes(ctx context.Context, userID int64) ([]*crm.RecoveryCode, error) {
	rows, err := t.C.Query(ctx, sqlRecoveryCodes, userID)
	if err != nil {
		return nil, t.C.DBError(err, "recovery codes", "recovery code", "")
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
			return nil, t.C.RowError(err, "scan recovery code", "recovery code")
		}
		c.CreatedAt, c.UsedAt = FromMicros(created), TimePtr(used)
		list = append(list, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "recovery codes", "recovery code")
	}
	return list, nil
}

// ReplaceRecoveryCodes replaces the user's codes by hashes.
func (t Tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error {
	if _, err := t.C.Exec(ctx, sqlDeleteRecoveryCodes, userID); err != nil {
		return t.C.DBError(err, "delete recovery codes", "recovery code", "")
	}
	for _, h := range hashes {
		if _, err := t.C.Exec(ctx, sqlInsertRecoveryCode, userID, h, Micros(at)); err != nil {
			return t.C.DBError(err, "insert recovery code", "recovery code", "")
		}
	}
	return nil
}

// UseRecoveryCode marks a code used unless it was already.
func (t Tx) UseRecoveryCode(ctx context.Context, id int64, at time.Time) (bool, error) {
	ok, err := t.changed(ctx, sqlUseRecoveryCode, Micros(at), id)
	if err != nil {
		return false, t.C.DBError(err, "use recovery code", "recovery code", "")
	}
	return ok, nil
}

// Failures returns the key's failed attempts after since. SQLite has one
// writer, so a Write already runs alone; the key's lock row is created all
// the same, so that both stores hold the same rows.
func (t Tx) Failures(ctx context.Context, kind, key string, since time.Time) (crm.FailureCount, error) {
	var f crm.FailureCount
	if t.C.Writing() {
		if _, err := t.C.Exec(ctx, sqlLockFailureKey, kind, key); err != nil {
			return f, t.C.DBError(err, "lock failure key", "failure count", "")
		}
	}
	var first, last int64
	if err := t.C.QueryRow(ctx, sqlFailures, kind, key, Micros(since)).Scan(&f.Count, &first, &last); err != nil {
		return f, t.C.RowError(err, "failures", "failure count")
	}
	if f.Count > 0 {
		f.First, f.Last = FromMicros(first), FromMicros(last)
	}
	return f, nil
}

// AddFailure records a failed attempt and returns its id.
func (t Tx) AddFailure(ctx context.Context, kind, key string, at time.Time) (int64, error) {
	var id int64
	if err := t.C.QueryRow(ctx, sqlAddFailure, kind, key, Micros(at)).Scan(&id); err != nil {
		return 0, t.C.DBError(err, "add failure", "failure count", "")
	}
	return id, nil
}

// ForgiveFailure deletes one attempt.
func (t Tx) ForgiveFailure(ctx context.Context, id int64) error {
	if _, err := t.C.Exec(ctx, sqlForgiveFailure, id); err != nil {
		return t.C.DBError(err, "forgive failure", "failure count", "")
	}
	return nil
}

// ClearFailures deletes the key's attempts.
func (t Tx) ClearFailures(ctx context.Context, kind, key string) error {
	if _, err := t.C.Exec(ctx, sqlClearFailures, kind, key); err != nil {
		return t.C.DBError(err, "clear failures", "failure count", "")
	}
	return nil
}

// PurgeFailures deletes the attempts made before before, then the lock
// rows of keys without attempts.
func (t Tx) PurgeFailures(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.C.Exec(ctx, sqlPurgeFailures, Micros(before))
	if err != nil {
		return 0, t.C.DBError(err, "purge failures", "failure count", "")
	}
	if _, err := t.C.Exec(ctx, sqlPurgeFailureKeys); err != nil {
		return 0, t.C.DBError(err, "purge failure keys", "failure count", "")
	}
	return n, nil
}

// SetUserLock sets or clears the user's lock mark. ENOTFOUND if no user.
func (t Tx) SetUserLock(ctx context.Context, userID int64, until *time.Time) error {
	ok, err := t.changed(ctx, sqlSetUserLock, NullMicros(until), userID)
	if err != nil {
		return t.C.DBError(err, "set user lock", "user", "")
	} else if !ok {
		return crm.NotFound("user")
	}
	return nil
}
