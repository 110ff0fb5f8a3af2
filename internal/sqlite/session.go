package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Only the SHA-256 of a session's secret is stored, in secret_hash; the id is
// a separate public handle.

const sessionCols = `id, user_id, secret_hash, created_at, last_seen_at, expires_at,
	ip, user_agent, aal, mfa_pending, stepped_up_at, may_enrol`

var (
	sqlInsertSession = static(`INSERT INTO sessions (id, user_id, secret_hash,
		created_at, last_seen_at, expires_at, ip, user_agent, aal, mfa_pending, stepped_up_at, may_enrol)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlSessionByHash  = static(`SELECT ` + sessionCols + ` FROM sessions WHERE secret_hash = ?`)
	sqlSessionsByUser = static(`SELECT ` + sessionCols + ` FROM sessions WHERE user_id = ?
		ORDER BY last_seen_at DESC, id`)
	sqlTouchSession        = static(`UPDATE sessions SET last_seen_at = ? WHERE id = ?`)
	sqlDeleteSession       = static(`DELETE FROM sessions WHERE id = ?`)
	sqlDeleteUserSessions  = static(`DELETE FROM sessions WHERE user_id = ? AND id <> ?`)
	sqlDeleteExpiredSesses = static(`DELETE FROM sessions WHERE last_seen_at < ? OR expires_at < ?`)
)

func scanSession(sc scanner) (*crm.Session, error) {
	var (
		s                        crm.Session
		created, seen, expiresAt int64
		steppedUp                sql.NullInt64
	)
	if err := sc.Scan(&s.ID, &s.UserID, &s.SecretHash, &created, &seen, &expiresAt,
		&s.IP, &s.UserAgent, &s.AAL, &s.MFAPending, &steppedUp, &s.MayEnrol); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expiresAt)
	s.SteppedUpAt = timePtr(steppedUp)
	return &s, nil
}

// InsertSession stores a new session; its ID is set by the caller.
func (t *tx) InsertSession(ctx context.Context, s *crm.Session) error {
	_, err := t.exec(ctx, sqlInsertSession, s.ID, s.UserID, s.SecretHash,
		micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt), s.IP, s.UserAgent,
		s.AAL, boolInt(s.MFAPending), nullMicros(s.SteppedUpAt), boolInt(s.MayEnrol))
	if err != nil {
		return dbError(err, "insert session", "session", "")
	}
	return nil
}

// SessionBySecretHash returns the session whose secret hashes to hash.
// ENOTFOUND if there is none; expiry is the caller's check.
func (t *tx) SessionBySecretHash(ctx context.Context, hash []byte) (*crm.Session, error) {
	s, err := scanSession(t.queryRow(ctx, sqlSessionByHash, hash))
	if err != nil {
		return nil, rowError(err, "session by hash", "session")
	}
	return s, nil
}

// SessionsByUser returns a user's sessions, most recently seen first.
func (t *tx) SessionsByUser(ctx context.Context, userID int64) ([]*crm.Session, error) {
	rows, err := t.query(ctx, sqlSessionsByUser, userID)
	if err != nil {
		return nil, dbError(err, "sessions by user", "session", "")
	}
	defer rows.Close()
	list := []*crm.Session{}
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, rowError(err, "scan session", "session")
		}
		list = append(list, s)
	}
	if err := rows.Err(); err != nil {
		return nil, rowError(err, "sessions by user", "session")
	}
	return list, nil
}

// TouchSession sets a session's last-seen time. ENOTFOUND if it is gone.
func (t *tx) TouchSession(ctx context.Context, id string, lastSeen time.Time) error {
	ok, err := t.update(ctx, sqlTouchSession, micros(lastSeen), id)
	if err != nil {
		return dbError(err, "touch session", "session", "")
	} else if !ok {
		return crm.NotFound("session")
	}
	return nil
}

// DeleteSession ends a session. ENOTFOUND if it is gone.
func (t *tx) DeleteSession(ctx context.Context, id string) error {
	ok, err := t.update(ctx, sqlDeleteSession, id)
	if err != nil {
		return dbError(err, "delete session", "session", "")
	} else if !ok {
		return crm.NotFound("session")
	}
	return nil
}

// DeleteUserSessions ends all of a user's sessions but exceptID's ("" ends
// them all).
func (t *tx) DeleteUserSessions(ctx context.Context, userID int64, exceptID string) error {
	if _, err := t.exec(ctx, sqlDeleteUserSessions, userID, exceptID); err != nil {
		return dbError(err, "delete user sessions", "session", "")
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions idle since before idleBefore or
// past their absolute expiry at now, and returns how many.
func (t *tx) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int64, error) {
	res, err := t.exec(ctx, sqlDeleteExpiredSesses, micros(idleBefore), micros(now))
	if err != nil {
		return 0, dbError(err, "delete expired sessions", "session", "")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbError(err, "delete expired sessions", "session", "")
	}
	return n, nil
}
