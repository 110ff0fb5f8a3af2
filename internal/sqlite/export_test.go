package sqlite

import (
	"context"
	"database/sql"
	"github.com/custos-crm/custos/internal/schema"

	"github.com/custos-crm/custos/internal/crm"
)

// Writer and Reader expose the pools to the external tests.
func Writer(db *DB) *sql.DB { return db.writer }

// Reader returns the read pool.
func Reader(db *DB) *sql.DB { return db.reader }

// Waiting returns the number of writers waiting for the turn.
func Waiting(db *DB) int64 { return db.waiting.Load() }

// Commits returns the number of write transactions committed.
func Commits(db *DB) int64 { return db.commits.Load() }

// AbortTx ends the transaction under a Write behind the Tx's back, as
// SQLite does on an I/O error or a full disk.
func AbortTx(t crm.Tx) error {
	_, err := t.(*tx).sqlTx.Exec("ROLLBACK")
	return err
}

// ReadWaiting is the number of Reads waiting for a turn.
func ReadWaiting(db *DB) int64 { return db.readWait.Load() }

// Readers is how many Read functions run at once.
func Readers() int { return readers() }

// MaxGroup is the most writes one transaction holds.
const MaxGroup = maxGroup

// MigrateTo applies the migrations up to version v, as an older binary
// left the database, for upgrade tests.
func MigrateTo(t interface{ Fatal(...any) }, db *DB, v int) {
	if _, err := db.writer.Exec(sqlCreateSchemaMigrations); err != nil {
		t.Fatal(err)
	}
	if err := schema.Migrate(context.Background(), migrator{db}, migrations[:v]); err != nil {
		t.Fatal(err)
	}
}

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int { return len(migrations) }
