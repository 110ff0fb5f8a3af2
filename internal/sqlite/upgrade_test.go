package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlite"
)

// TestUpgradeAuthAttempts: migration 0008 turns each counted run of
// failures into that many attempts at the run's last failure, so an
// upgrade neither forgets a lock in progress nor invents failures.
func TestUpgradeAuthAttempts(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlite.MigrateTo(t, db, 7)
	last := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	_, err = sqlite.Writer(db).Exec(`INSERT INTO auth_failures (kind, name, failures, last_at) VALUES
		('account', 'user:1', 4, ?), ('ip', '192.0.2.1', 120, ?), ('account', 'user:2', 0, ?)`,
		last.UnixMicro(), last.UnixMicro(), last.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind, key string
		want      int
	}{{crm.FailAccount, "user:1", 4}, {crm.FailIP, "192.0.2.1", 120}, {crm.FailAccount, "user:2", 0}} {
		var got crm.FailureCount
		err := db.Read(ctx, func(tx crm.Tx) (err error) {
			got, err = tx.Failures(ctx, c.kind, c.key, last.Add(-time.Minute))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != c.want || (c.want > 0 && !got.Last.Equal(last)) {
			t.Errorf("%s %s after the upgrade: %+v, want %d at %v", c.kind, c.key, got, c.want, last)
		}
	}
}
