package postgres

import (
	"context"
	"time"
)

const sqlAcquireLease = `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3)
	ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE leases.expires_at < $4 OR leases.holder = excluded.holder`

// AcquireLease implements crm.Tx. INSERT … ON CONFLICT DO UPDATE … WHERE
// locks the row, so of concurrent callers exactly one changes it.
func (t *tx) AcquireLease(ctx context.Context, name, holder string, until time.Time) (bool, error) {
	tag, err := t.q.Exec(ctx, sqlAcquireLease, name, holder, micros(until), micros(t.Now()))
	if err != nil {
		return false, dbError(err, "acquire lease", "lease", "")
	}
	return tag.RowsAffected() == 1, nil
}
