package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/storetest"
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
	storetest.CheckUpgradedFailures(t, db, last)
}
