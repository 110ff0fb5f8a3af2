package sqlstore

import (
	"context"
	"time"
)

// Job leases: of several instances, one runs the periodic jobs at a time.

var sqlAcquireLease = Statement(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE leases.expires_at < ? OR leases.holder = excluded.holder`)

// AcquireLease implements crm.Tx. The conditional upsert is one statement
// (on PostgreSQL it locks the row), so of concurrent callers exactly one
// changes the row.
func (t Tx) AcquireLease(ctx context.Context, name, holder string, until time.Time) (bool, error) {
	n, err := t.C.Exec(ctx, sqlAcquireLease, name, holder, Micros(until), Micros(t.C.Now()))
	if err != nil {
		return false, t.C.DBError(err, "acquire lease", "lease", "")
	}
	return n == 1, nil
}
