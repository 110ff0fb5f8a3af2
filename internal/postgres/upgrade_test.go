package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/storetest"
)

// TestUpgradeAuthAttempts: migration 0008 turns each counted run of
// failures into that many attempts at the run's last failure, so an
// upgrade neither forgets a lock in progress nor invents failures.
func TestUpgradeAuthAttempts(t *testing.T) {
	ctx := context.Background()
	dsn, _ := postgrestest.Schema(t)
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	postgres.MigrateTo(t, db, 7)
	last := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	_, err = postgres.Writer(db).Exec(ctx, `INSERT INTO auth_failures (kind, name, failures, last_at) VALUES
		('account', 'user:1', 4, $1), ('ip', '192.0.2.1', 120, $1), ('account', 'user:2', 0, $1)`,
		last.UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.CheckUpgradedFailures(t, db, last)
}
