package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Passkeys (AUTH-3, migration 0005_webauthn.sql). A credential's counter
// moves only forward, by a conditional UPDATE, and a pending ceremony is
// taken by a DELETE … RETURNING: of two requests that answer one challenge,
// exactly one finds it.

const passkeyColumns = `id, user_id, credential_id, user_handle, public_key, sign_count, aaguid,
	transports, flags, name, created_at, last_used_at, flagged_at`

var (
	sqlPasskeysByUser        = static(`SELECT ` + passkeyColumns + ` FROM webauthn_credentials WHERE user_id = ? ORDER BY id`)
	sqlPasskeyByCredentialID = static(`SELECT ` + passkeyColumns + ` FROM webauthn_credentials WHERE credential_id = ?`)
	sqlInsertPasskey         = static(`INSERT INTO webauthn_credentials (user_id, credential_id, user_handle, public_key,
		sign_count, aaguid, transports, flags, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlRenamePasskey = static(`UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`)
	sqlDeletePasskey = static(`DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`)
	// Authenticators without a counter always send 0: that is no regression.
	sqlUsePasskey = static(`UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ?
		WHERE id = ? AND flagged_at IS NULL AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`)
	sqlFlagPasskey = static(`UPDATE webauthn_credentials SET flagged_at = coalesce(flagged_at, ?) WHERE id = ?`)

	sqlPutCeremony = static(`INSERT INTO webauthn_ceremonies (id, kind, user_id, session_id, state, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id,
			session_id = excluded.session_id, state = excluded.state, expires_at = excluded.expires_at`)
	sqlTakeCeremony = static(`DELETE FROM webauthn_ceremonies WHERE id = ?
		RETURNING id, kind, user_id, session_id, state, expires_at`)
	sqlDeleteCeremonies = static(`DELETE FROM webauthn_ceremonies WHERE expires_at < ?`)
)

func scanPasskey(sc interface{ Scan(...any) error }) (*crm.Passkey, error) {
	var (
		k                 crm.Passkey
		transports        string
		created           int64
		lastUsed, flagged sql.NullInt64
	)
	err := sc.Scan(&k.ID, &k.UserID, &k.CredentialID, &k.UserHandle, &k.PublicKey, &k.SignCount, &k.AAGUID,
		&transports, &k.Flags, &k.Name, &created, &lastUsed, &flagged)
	if err != nil {
		return nil, err
	}
	k.Transports = splitTransports(transports)
	k.CreatedAt, k.LastUsedAt, k.FlaggedAt = fromMicros(created), timePtr(lastUsed), timePtr(flagged)
	return &k, nil
}

func splitTransports(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// PasskeysByUser returns the user's passkeys by id.
func (t *tx) PasskeysByUser(ctx context.Context, userID int64) ([]*crm.Passkey, error) {
	rows, err := t.query(ctx, sqlPasskeysByUser, userID)
	if err != nil {
		return nil, dbError(err, "passkeys by user", "passkey", "")
	}
	defer rows.Close()
	list := []*crm.Passkey{}
	for rows.Next() {
		k, err := scanPasskey(rows)
		if err != nil {
			return nil, dbError(err, "passkeys by user", "passkey", "")
		}
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, "passkeys by user", "passkey", "")
	}
	return list, nil
}

// PasskeyByCredentialID returns the passkey of a credential id.
func (t *tx) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*crm.Passkey, error) {
	k, err := scanPasskey(t.queryRow(ctx, sqlPasskeyByCredentialID, credentialID))
	if err != nil {
		return nil, rowError(err, "passkey by credential id", "passkey")
	}
	return k, nil
}

// InsertPasskey stores a new passkey and sets its ID.
func (t *tx) InsertPasskey(ctx context.Context, k *crm.Passkey) error {
	id, err := t.insert(ctx, sqlInsertPasskey, k.UserID, k.CredentialID, k.UserHandle, k.PublicKey, k.SignCount,
		k.AAGUID, strings.Join(k.Transports, ","), k.Flags, k.Name, micros(k.CreatedAt))
	if err != nil {
		return dbError(err, "insert passkey", "passkey", "credential_id")
	}
	k.ID = id
	return nil
}

// RenamePasskey renames the user's passkey.
func (t *tx) RenamePasskey(ctx context.Context, userID, id int64, name string) error {
	ok, err := t.update(ctx, sqlRenamePasskey, name, id, userID)
	if err != nil {
		return dbError(err, "rename passkey", "passkey", "name")
	} else if !ok {
		return crm.NotFound("passkey")
	}
	return nil
}

// DeletePasskey removes the user's passkey.
func (t *tx) DeletePasskey(ctx context.Context, userID, id int64) error {
	ok, err := t.update(ctx, sqlDeletePasskey, id, userID)
	if err != nil {
		return dbError(err, "delete passkey", "passkey", "")
	} else if !ok {
		return crm.NotFound("passkey")
	}
	return nil
}

// UsePasskey moves the counter forward and records the use.
func (t *tx) UsePasskey(ctx context.Context, id, count int64, at time.Time) (bool, error) {
	ok, err := t.update(ctx, sqlUsePasskey, count, micros(at), id, count, count)
	if err != nil {
		return false, dbError(err, "use passkey", "passkey", "")
	}
	return ok, nil
}

// FlagPasskey marks a passkey whose counter went backwards.
func (t *tx) FlagPasskey(ctx context.Context, id int64, at time.Time) error {
	ok, err := t.update(ctx, sqlFlagPasskey, micros(at), id)
	if err != nil {
		return dbError(err, "flag passkey", "passkey", "")
	} else if !ok {
		return crm.NotFound("passkey")
	}
	return nil
}

// PutPasskeyCeremony stores a begun ceremony, replacing one with its id.
func (t *tx) PutPasskeyCeremony(ctx context.Context, c *crm.PasskeyCeremony) error {
	var user any
	if c.UserID != 0 {
		user = c.UserID
	}
	if _, err := t.exec(ctx, sqlPutCeremony, c.ID, c.Kind, user, c.SessionID, c.State, micros(c.ExpiresAt)); err != nil {
		return dbError(err, "put passkey ceremony", "passkey ceremony", "")
	}
	return nil
}

// TakePasskeyCeremony deletes the ceremony and returns it unless expired.
func (t *tx) TakePasskeyCeremony(ctx context.Context, id string, now time.Time) (*crm.PasskeyCeremony, error) {
	var (
		c       crm.PasskeyCeremony
		user    sql.NullInt64
		expires int64
	)
	err := t.queryRow(ctx, sqlTakeCeremony, id).Scan(&c.ID, &c.Kind, &user, &c.SessionID, &c.State, &expires)
	if err != nil {
		return nil, rowError(err, "take passkey ceremony", "passkey ceremony")
	}
	c.UserID, c.ExpiresAt = user.Int64, fromMicros(expires)
	if !now.Before(c.ExpiresAt) {
		return nil, crm.NotFound("passkey ceremony")
	}
	return &c, nil
}

// DeletePasskeyCeremonies removes the ceremonies that expired before before.
func (t *tx) DeletePasskeyCeremonies(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, sqlDeleteCeremonies, micros(before))
	if err != nil {
		return 0, dbError(err, "delete passkey ceremonies", "passkey ceremony", "")
	}
	return res.RowsAffected()
}
