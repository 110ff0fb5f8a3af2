package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Passkeys (AUTH-3, migration 0005_webauthn.sql). A credential's counter
// moves only forward, by a conditional UPDATE (on PostgreSQL a concurrent
// one waits for it and re-checks under READ COMMITTED), and a pending
// ceremony is taken by a DELETE … RETURNING: of two requests that answer
// one challenge, on any instance, exactly one finds it.

const passkeyColumns = `id, user_id, credential_id, user_handle, public_key, sign_count, aaguid,
	transports, flags, name, created_at, last_used_at, flagged_at`

var (
	sqlPasskeysByUser        = Statement(`SELECT ` + passkeyColumns + ` FROM webauthn_credentials WHERE user_id = ? ORDER BY id`)
	sqlPasskeyByCredentialID = Statement(`SELECT ` + passkeyColumns + ` FROM webauthn_credentials WHERE credential_id = ?`)
	sqlInsertPasskey         = Statement(`INSERT INTO webauthn_credentials (user_id, credential_id, user_handle, public_key,
		sign_count, aaguid, transports, flags, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlRenamePasskey = Statement(`UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`)
	sqlDeletePasskey = Statement(`DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ?`)
	// Authenticators without a counter always send 0: that is no regression.
	sqlUsePasskey = Statement(`UPDATE webauthn_credentials SET sign_count = ?, last_used_at = ?
		WHERE id = ? AND flagged_at IS NULL AND (sign_count < ? OR (sign_count = 0 AND CAST(? AS BIGINT) = 0))`)
	sqlFlagPasskey = Statement(`UPDATE webauthn_credentials SET flagged_at = coalesce(flagged_at, ?) WHERE id = ?`)

	sqlPutCeremony = Statement(`INSERT INTO webauthn_ceremonies (id, kind, user_id, session_id, state, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id,
			session_id = excluded.session_id, state = excluded.state, expires_at = excluded.expires_at`)
	sqlTakeCeremony = Statement(`DELETE FROM webauthn_ceremonies WHERE id = ?
		RETURNING id, kind, user_id, session_id, state, expires_at`)
	sqlDeleteCeremonies = Statement(`DELETE FROM webauthn_ceremonies WHERE expires_at < ?`)
)

func scanPasskey(sc Row) (*crm.Passkey, error) {
	var (
		k                 crm.Passkey
		transports        string
		created           int64
		lastUsed, flagged *int64
	)
	err := sc.Scan(&k.ID, &k.UserID, &k.CredentialID, &k.UserHandle, &k.PublicKey, &k.SignCount, &k.AAGUID,
		&transports, &k.Flags, &k.Name, &created, &lastUsed, &flagged)
	if err != nil {
		return nil, err
	}
	k.Transports = splitTransports(transports)
	k.CreatedAt, k.LastUsedAt, k.FlaggedAt = FromMicros(created), TimePtr(lastUsed), TimePtr(flagged)
	return &k, nil
}

func splitTransports(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// PasskeysByUser returns the user's passkeys by id.
func (t Tx) PasskeysByUser(ctx context.Context, userID int64) ([]*crm.Passkey, error) {
	rows, err := t.C.Query(ctx, sqlPasskeysByUser, userID)
	if err != nil {
		return nil, t.C.DBError(err, "passkeys by user", "passkey", "")
	}
	defer rows.Close()
	list := []*crm.Passkey{}
	for rows.Next() {
		k, err := scanPasskey(rows)
		if err != nil {
			return nil, t.C.DBError(err, "passkeys by user", "passkey", "")
		}
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.DBError(err, "passkeys by user", "passkey", "")
	}
	return list, nil
}

// PasskeyByCredentialID returns the passkey of a credential id.
func (t Tx) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*crm.Passkey, error) {
	k, err := scanPasskey(t.C.QueryRow(ctx, sqlPasskeyByCredentialID, credentialID))
	if err != nil {
		return nil, t.C.RowError(err, "passkey by credential id", "passkey")
	}
	return k, nil
}

// InsertPasskey stores a new passkey and sets its ID.
func (t Tx) InsertPasskey(ctx context.Context, k *crm.Passkey) error {
	id, err := t.C.Insert(ctx, sqlInsertPasskey, k.UserID, k.CredentialID, k.UserHandle, k.PublicKey, k.SignCount,
		k.AAGUID, strings.Join(k.Transports, ","), k.Flags, k.Name, Micros(k.CreatedAt))
	if err != nil {
		return t.C.DBError(err, "insert passkey", "passkey", "credential_id")
	}
	k.ID = id
	return nil
}

// RenamePasskey renames the user's passkey.
func (t Tx) RenamePasskey(ctx context.Context, userID, id int64, name string) error {
	return t.updateOne(ctx, "rename passkey", "passkey", "name", sqlRenamePasskey, name, id, userID)
}

// DeletePasskey removes the user's passkey.
func (t Tx) DeletePasskey(ctx context.Context, userID, id int64) error {
	return t.updateOne(ctx, "delete passkey", "passkey", "", sqlDeletePasskey, id, userID)
}

// UsePasskey moves the counter forward and records the use.
func (t Tx) UsePasskey(ctx context.Context, id, count int64, at time.Time) (bool, error) {
	n, err := t.C.Exec(ctx, sqlUsePasskey, count, Micros(at), id, count, count)
	if err != nil {
		return false, t.C.DBError(err, "use passkey", "passkey", "")
	}
	return n > 0, nil
}

// FlagPasskey marks a passkey whose counter went backwards.
func (t Tx) FlagPasskey(ctx context.Context, id int64, at time.Time) error {
	return t.updateOne(ctx, "flag passkey", "passkey", "", sqlFlagPasskey, Micros(at), id)
}

// PutPasskeyCeremony stores a begun ceremony, replacing one with its id.
func (t Tx) PutPasskeyCeremony(ctx context.Context, c *crm.PasskeyCeremony) error {
	var user any
	if c.UserID != 0 {
		user = c.UserID
	}
	if _, err := t.C.Exec(ctx, sqlPutCeremony, c.ID, c.Kind, user, c.SessionID, c.State, Micros(c.ExpiresAt)); err != nil {
		return t.C.DBError(err, "put passkey ceremony", "passkey ceremony", "")
	}
	return nil
}

// TakePasskeyCeremony deletes the ceremony and returns it unless expired.
func (t Tx) TakePasskeyCeremony(ctx context.Context, id string, now time.Time) (*crm.PasskeyCeremony, error) {
	var (
		c       crm.PasskeyCeremony
		user    *int64
		expires int64
	)
	err := t.C.QueryRow(ctx, sqlTakeCeremony, id).Scan(&c.ID, &c.Kind, &user, &c.SessionID, &c.State, &expires)
	if err != nil {
		return nil, t.C.RowError(err, "take passkey ceremony", "passkey ceremony")
	}
	if user != nil {
		c.UserID = *user
	}
	c.ExpiresAt = FromMicros(expires)
	if !now.Before(c.ExpiresAt) {
		return nil, crm.NotFound("passkey ceremony")
	}
	return &c, nil
}

// DeletePasskeyCeremonies removes the ceremonies that expired before before.
func (t Tx) DeletePasskeyCeremonies(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.C.Exec(ctx, sqlDeleteCeremonies, Micros(before))
	if err != nil {
		return 0, t.C.DBError(err, "delete passkey ceremonies", "passkey ceremony", "")
	}
	return n, nil
}
