package sqlite

import (
	"context"
	"encoding/json"
	"time"
)

var sqlAcquireLease = static(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
	ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
	WHERE leases.expires_at < ? OR leases.holder = excluded.holder`)

// AcquireLease implements crm.Tx. The conditional upsert is one statement,
// so of concurrent callers exactly one changes the row.
func (t *tx) AcquireLease(ctx context.Context, name, holder string, until time.Time) (bool, error) {
	res, err := t.exec(ctx, sqlAcquireLease, name, holder, micros(until), micros(t.Now()))
	if err != nil {
		return false, dbError(err, "acquire lease", "lease", "")
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// idList encodes ids as a JSON array for json_each, so that a list of any
// length is one bound parameter.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}
