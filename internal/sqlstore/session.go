package sqlstore

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Browser sessions (AUTH-5). Only the SHA-256 of a session's secret is
// stored, in secret_hash; the id is a separate public handle. The CSRF
// token is derived from the secret and never stored.

const sessionCols = `id, user_id, secret_hash, created_at, last_seen_at, expires_at,
	ip, user_agent, aal, mfa_pending, stepped_up_at, may_enrol`

var (
	sqlInsertSession = Statement(`INSERT INTO sessions (id, user_id, secret_hash,
		created_at, last_seen_at, expires_at, ip, user_agent, aal, mfa_pending, stepped_up_at, may_enrol)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlSessionByHash  = Statement(`SELECT ` + sessionCols + ` FROM sessions WHERE secret_hash = ?`)
	sqlSessionsByUser = Statement(`SELECT ` + sessionCols + ` FROM sessions WHERE user_id = ?
		ORDER BY last_seen_at DESC, id`)
	sqlTouchSession        = Statement(`UPDATE sessions SET last_seen_at = ? WHERE id = ?`)
	sqlDeleteSession       = Statement(`DELETE FROM sessions WHERE id = ?`)
	sqlDeleteUserSessions  = Statement(`DELETE FROM sessions WHERE user_id = ? AND id <> ?`)
	sqlDeleteExpiredSesses = Statement(`DELETE FROM sessions WHERE last_seen_at < ? OR expires_at < ?`)
)

func scanSession(sc Row) (*crm.Session, error) {
	var (
		s                        crm.Session
		created, seen, expiresAt int64
		steppedUp                *int64
	)
	if err := sc.Scan(&s.ID, &s.UserID, &s.SecretHash, &created, &seen, &expiresAt,
		&s.IP, &s.UserAgent, &s.AAL, &s.MFAPending, &steppedUp, &s.MayEnrol); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = FromMicros(created), FromMicros(seen), FromMicros(expiresAt)
	s.SteppedUpAt = TimePtr(steppedUp)
	return &s, nil
}

// InsertSession stores a new session; its ID is set by the caller.
func (t Tx) InsertSession(ctx context.Context, s *crm.Session) error {
	_, err := t.C.Exec(ctx, sqlInsertSession, s.ID, s.UserID, s.SecretHash,
		Micros(s.CreatedAt), Micros(s.LastSeenAt), Micros(s.ExpiresAt), s.IP, s.UserAgent,
		s.AAL, t.C.Bool(s.MFAPending), NullMicros(s.SteppedUpAt), t.C.Bool(s.MayEnrol))
	if err != nil {
		return t.C.DBError(err, "insert session", "session", "")
	}
	return nil
}

// SessionBySecretHash returns the session whose secret hashes to hash.
// ENOTFOUND if there is none; expiry is the caller's check.
func (t Tx) SessionBySecretHash(ctx context.Context, hash []byte) (*crm.Session, error) {
	s, err := scanSession(t.C.QueryRow(ctx, sqlSessionByHash, hash))
	if err != nil {
		return nil, t.C.RowError(err, "session by hash", "session")
	}
	return s, nil
}

// SessionsByUser returns a user's sessions, most recently seen first.
func (t Tx) SessionsByUser(ctx context.Context, userID int64) ([]*crm.Session, error) {
	rows, err := t.C.Query(ctx, sqlSessionsByUser, userID)
	if err != nil {
		return nil, t.C.DBError(err, "sessions by user", "session", "")
	}
	defer rows.Close()
	list := []*crm.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, t.C.RowError(err, "scan session", "session")
		}
		list = append(list, s)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "sessions by user", "session")
	}
	return list, nil
}

// TouchSession sets a session's last-seen time. ENOTFOUND if it is gone.
func (t Tx) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	return t.updateOne(ctx, "touch session", "session", "", sqlTouchSession, Micros(lastSeen), id)
}

// DeleteSession ends a session. ENOTFOUND if it is gone.
func (t Tx) DeleteSession(ctx context.Context, id string) error {
	return t.updateOne(ctx, "delete session", "session", "", sqlDeleteSession, id)
}

// DeleteUserSessions ends all of a user's sessions but exceptID's ("" ends
// them all).
func (t Tx) DeleteUserSessions(ctx context.Context, userID int64, exceptID string) error {
	if _, err := t.C.Exec(ctx, sqlDeleteUserSessions, userID, exceptID); err != nil {
		return t.C.DBError(err, "delete user sessions", "session", "")
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions idle since before idleBefore or
// past their absolute expiry at now, and returns how many.
func (t Tx) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int64, error) {
	n, err := t.C.Exec(ctx, sqlDeleteExpiredSesses, Micros(idleBefore), Micros(now))
	if err != nil {
		return 0, t.C.DBError(err, "delete expired sessions", "session", "")
	}
	return n, nil
}
