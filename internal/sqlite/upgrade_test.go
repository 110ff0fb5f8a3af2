package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestUpgradeDropsPlainIndexes (ENC-4): migration 0019 drops the indexes
// and lower-case copies that held a contact's names in plain text, and the
// pages they free are zeroed: after it (and a checkpoint), the lower-case
// names an older version wrote are in no byte of the database file or its
// WAL. (The names as typed stay in their rows until the upgrade pass of
// `custos serve` seals them: cmd/custos's TestUpgradeSealsOlderRows.)
func TestUpgradeDropsPlainIndexes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sqlite.MigrateTo(t, db, 18)
	w := sqlite.Writer(db)
	res, err := w.Exec(`INSERT INTO users (email, name, role, language, password_hash, created_at, updated_at)
		VALUES ('o@x.test', 'O', 'sales', 'en', 'x', 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := res.LastInsertId()
	// Enough contacts for the name indexes to span many pages.
	for i := range 2000 {
		first, last := fmt.Sprintf("Qzfirst%04dmark", i), fmt.Sprintf("Qzlast%04dmark", i)
		if _, err := w.Exec(`INSERT INTO contacts (first_name, last_name, first_name_lc, last_name_lc, email, phone, tags,
			owner_id, version, created_at, updated_at) VALUES (?, ?, ?, ?, '', '', '[]', ?, 1, 0, 0)`,
			first, last, strings.ToLower(first), strings.ToLower(last), owner); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	file := func() []byte {
		t.Helper()
		var all []byte
		for _, name := range []string{sqlite.FileName, sqlite.FileName + "-wal"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	if !bytes.Contains(file(), []byte("qzlast0999mark")) {
		t.Fatal("the file lacks the lower-case names before the migration: the scan proves nothing")
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	data := file()
	if !bytes.Contains(data, []byte("Qzlast0999mark")) {
		t.Fatal("the file lacks the names as typed, which stay in their rows: the scan proves nothing")
	}
	for i := range 2000 {
		for _, lc := range []string{fmt.Sprintf("qzfirst%04dmark", i), fmt.Sprintf("qzlast%04dmark", i)} {
			if bytes.Contains(data, []byte(lc)) {
				t.Fatalf("%s, a lower-case name of before 0019, is still in the file", lc)
			}
		}
	}
}
