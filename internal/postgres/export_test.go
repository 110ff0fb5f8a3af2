package postgres

import (
	"context"
	"github.com/custos-crm/custos/internal/schema"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Writer exposes the write pool to the external tests, for what the store
// does not offer.
func Writer(db *DB) *pgxpool.Pool { return db.writer }

// Reader returns the read pool.
func Reader(db *DB) *pgxpool.Pool { return db.reader }

// MigrateTo applies the migrations up to version v, as an older binary
// left the database, for upgrade tests.
func MigrateTo(t interface{ Fatal(...any) }, db *DB, v int) {
	if err := schema.Migrate(context.Background(), migrator{db}, migrations[:v]); err != nil {
		t.Fatal(err)
	}
}

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int { return len(migrations) }
