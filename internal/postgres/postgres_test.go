package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/sqlstore"
	"github.com/custos-crm/custos/internal/storetest"
)

func TestStore(t *testing.T) {
	postgrestest.BaseDSN(t) // skip once rather than in every subtest
	storetest.Run(t, func(t *testing.T) crm.Store { return postgrestest.New(t) })
}

// open opens (without migrating) a store on the schema of dsn, closed when
// the test ends.
func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrations(t *testing.T) {
	storetest.RunMigrations(t, func(t *testing.T) storetest.Database {
		dsn, _ := postgrestest.Schema(t)
		return storetest.Database{
			Latest: postgres.LatestVersion(),
			Open:   func(t *testing.T) (storetest.Migrating, error) { return postgres.Open(t.Context(), dsn) },
			Exec: func(t *testing.T, db storetest.Migrating, query string, args ...any) error {
				_, err := postgres.Writer(db.(*postgres.DB)).Exec(t.Context(), sqlstore.Rebind(query), args...)
				return err
			},
			Count: func(t *testing.T, db storetest.Migrating, query string) int {
				return count(t, db.(*postgres.DB), query)
			},
		}
	})
}

// count runs a count(*) query on the write pool.
func count(t *testing.T, db *postgres.DB, query string) int {
	t.Helper()
	var n int
	if err := postgres.Writer(db).QueryRow(t.Context(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenBadDSN(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://custos:s3cret@127.0.0.1:notaport/x")
	if err == nil {
		t.Fatal("Open() of a malformed DSN succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") {
		t.Errorf("Open() error %q shows the password", msg)
	}
}

// TestConcurrentMigrate starts several servers on one empty schema at once:
// each migrates, one of them does the work, and none fails.
func TestConcurrentMigrate(t *testing.T) {
	dsn, _ := postgrestest.Schema(t)
	const servers = 4
	dbs := make([]*postgres.DB, servers)
	for i := range dbs {
		dbs[i] = open(t, dsn)
	}
	start := make(chan struct{})
	errs := make(chan error, servers)
	for _, db := range dbs {
		go func() {
			<-start
			errs <- db.Migrate(t.Context())
		}()
	}
	close(start)
	for range servers {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	rows, pipelines := count(t, dbs[0], `SELECT count(*) FROM schema_migrations`), count(t, dbs[0], `SELECT count(*) FROM pipelines`)
	if rows != postgres.LatestVersion() || pipelines != 1 {
		t.Errorf("after concurrent migrations: %d schema_migrations rows, %d pipelines; want %d, 1",
			rows, pipelines, postgres.LatestVersion())
	}
}

var all = crm.Scope{All: true}

// seedUser inserts a user and returns it.
func seedUser(t testing.TB, db *postgres.DB, email string) *crm.User {
	t.Helper()
	ctx := context.Background()
	u := &crm.User{Email: email, Name: "start", Role: crm.RoleSales, Language: "en", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.Write(ctx, func(tx crm.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestConcurrentPrecondition races writers that have all read the same
// version of a contact and then update it: in every round exactly one
// wins, and the others get EPRECONDITION and change nothing.
func TestConcurrentPrecondition(t *testing.T) {
	db := postgrestest.New(t)
	ctx := t.Context()
	owner := seedUser(t, db, "owner@example.com")
	c := &crm.Contact{FirstName: "Ann", OwnerID: owner.ID, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.Write(ctx, func(tx crm.Tx) error { return tx.InsertContact(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	// Every writer holds a connection of the write pool while it waits for
	// the others, so there are fewer writers than connections.
	const rounds, writers = 10, 3
	for round := range rounds {
		var read sync.WaitGroup
		read.Add(writers)
		type result struct {
			writer int
			err    error
		}
		results := make(chan result, writers)
		for w := range writers {
			go func() {
				err := db.Write(ctx, func(tx crm.Tx) error {
					got, err := tx.ContactByID(ctx, all, c.ID, false)
					read.Done()
					if err != nil {
						return err
					}
					read.Wait() // all writers have read the same version
					got.Version++
					got.FirstName, got.Tags = fmt.Sprintf("writer %d", w), []string{fmt.Sprint("round", round, "writer", w)}
					got.TagTokens = got.Tags // the store keeps the tokens it is given as tag rows
					got.UpdatedAt = tx.Now()
					return tx.UpdateContact(ctx, got)
				})
				results <- result{w, err}
			}()
		}
		winner := -1
		for range writers {
			r := <-results
			switch {
			case r.err == nil && winner < 0:
				winner = r.writer
			case r.err == nil:
				t.Fatalf("round %d: writers %d and %d both updated version %d", round, winner, r.writer, round+1)
			case crm.ErrorCode(r.err) != crm.EPRECONDITION:
				t.Fatalf("round %d: writer %d: %v, want EPRECONDITION", round, r.writer, r.err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		var got *crm.Contact
		var tagged []*crm.Contact
		err := db.Read(ctx, func(tx crm.Tx) (err error) {
			if got, err = tx.ContactByID(ctx, all, c.ID, false); err != nil {
				return err
			}
			tagged, _, err = tx.Contacts(ctx, all, crm.ContactFilter{TagToken: fmt.Sprint("round", round, "writer", winner)}, crm.ListQuery{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("writer %d", winner); got.Version != int64(round+2) || got.FirstName != want || len(tagged) != 1 {
			t.Fatalf("round %d: contact version %d, name %q, %d tagged by the winner; want %d, %q, 1",
				round, got.Version, got.FirstName, len(tagged), round+2, want)
		}
	}
}

// waitForLockWait waits until a connection of the test's schema waits for
// a lock (the schema's name is its connections' application_name).
func waitForLockWait(db *postgres.DB, schema string) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		err := postgres.Reader(db).QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, schema).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
	}
	return errors.New("no other transaction came to wait for a lock")
}

// TestWriteLocksUnversionedReads checks that a read-modify-write of a row
// without a version (a user, a setting) inside a Write loses no update: the
// second Write's read waits for the first Write and then sees its change.
func TestWriteLocksUnversionedReads(t *testing.T) {
	dsn, schema := postgrestest.Schema(t)
	db := open(t, dsn)
	ctx := t.Context()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := seedUser(t, db, "u@example.com")
	if err := db.Write(ctx, func(tx crm.Tx) error { return tx.SetSetting(ctx, "setup_code", "code") }); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		// first reads, calls read, and changes one thing; second reads,
		// then changes another thing on top of what it read.
		first         func(tx crm.Tx, read func()) error
		second, check func(tx crm.Tx) error
	}{{
		name: "user",
		first: func(tx crm.Tx, read func()) error {
			got, err := tx.UserByID(ctx, u.ID)
			read()
			if err != nil {
				return err
			}
			if err := waitForLockWait(db, schema); err != nil {
				return err
			}
			got.Name = "renamed"
			return tx.UpdateUser(ctx, got)
		},
		second: func(tx crm.Tx) error {
			got, err := tx.UserByEmail(ctx, u.Email)
			if err != nil {
				return err
			}
			got.Disabled = true
			return tx.UpdateUser(ctx, got)
		},
		check: func(tx crm.Tx) error {
			got, err := tx.UserByID(ctx, u.ID)
			if err == nil && (got.Name != "renamed" || !got.Disabled) {
				err = fmt.Errorf("user name %q, disabled %v; want both changes", got.Name, got.Disabled)
			}
			return err
		},
	}, {
		name: "setting",
		first: func(tx crm.Tx, read func()) error {
			v, err := tx.Setting(ctx, "setup_code")
			read()
			if err != nil || v != "code" {
				return fmt.Errorf("first read %q, %v", v, err)
			}
			if err := waitForLockWait(db, schema); err != nil {
				return err
			}
			return tx.SetSetting(ctx, "setup_code", "")
		},
		second: func(tx crm.Tx) error {
			v, err := tx.Setting(ctx, "setup_code")
			if err == nil && v != "" {
				err = fmt.Errorf("second Write read the code %q the first had used", v)
			}
			return err
		},
		check: func(tx crm.Tx) error { return nil },
	}} {
		t.Run(tt.name, func(t *testing.T) {
			firstRead := make(chan struct{})
			errs := make(chan error, 2)
			go func() {
				errs <- db.Write(ctx, func(tx crm.Tx) error {
					return tt.first(tx, func() { close(firstRead) })
				})
			}()
			go func() {
				<-firstRead
				errs <- db.Write(ctx, tt.second)
			}()
			for range 2 {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			if err := db.Read(ctx, tt.check); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestDeadlockIsConflict makes two Writes lock two users in opposite
// orders: PostgreSQL fails one of them, which must be ECONFLICT (try
// again), and the other commits.
func TestDeadlockIsConflict(t *testing.T) {
	db := postgrestest.New(t)
	ctx := t.Context()
	a, b := seedUser(t, db, "a@example.com"), seedUser(t, db, "b@example.com")
	var first sync.WaitGroup
	first.Add(2)
	errs := make(chan error, 2)
	for _, ids := range [][2]int64{{a.ID, b.ID}, {b.ID, a.ID}} {
		go func() {
			errs <- db.Write(ctx, func(tx crm.Tx) error {
				_, err := tx.UserByID(ctx, ids[0])
				first.Done()
				if err != nil {
					return err
				}
				first.Wait()
				_, err = tx.UserByID(ctx, ids[1])
				return err
			})
		}()
	}
	var codes []string
	for range 2 {
		codes = append(codes, crm.ErrorCode(<-errs))
	}
	if !(codes[0] == "" && codes[1] == crm.ECONFLICT) && !(codes[0] == crm.ECONFLICT && codes[1] == "") {
		t.Errorf("deadlocked Writes returned codes %q, want one nil and one %q", codes, crm.ECONFLICT)
	}
}

// TestReadIsReadOnly checks that a Read cannot write, as on SQLite.
func TestReadIsReadOnly(t *testing.T) {
	db := postgrestest.New(t)
	err := db.Read(t.Context(), func(tx crm.Tx) error { return tx.SetSetting(t.Context(), "x", "y") })
	if err == nil {
		t.Error("a write inside Read succeeded")
	}
	if _, err := postgres.Reader(db).Exec(t.Context(), `INSERT INTO settings (key, value) VALUES ('x', 'y')`); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestConsentsAppendOnly checks the triggers: no update, no delete while
// the contact lives, no truncate; the purge of the contact takes them.
func TestConsentsAppendOnly(t *testing.T) {
	db := postgrestest.New(t)
	ctx := t.Context()
	u := seedUser(t, db, "a@example.com")
	c := &crm.Contact{FirstName: "A", OwnerID: u.ID, Version: 1}
	err := db.Write(ctx, func(tx crm.Tx) error {
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		return tx.InsertConsent(ctx, &crm.Consent{ContactID: c.ID, Purpose: "p", RecordedBy: u.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := postgres.Writer(db)
	for _, stmt := range []string{`UPDATE consents SET granted = true`, `DELETE FROM consents`, `TRUNCATE consents`} {
		if _, err := raw.Exec(ctx, stmt); err == nil {
			t.Errorf("%s succeeded on the consent of a live contact", stmt)
		}
	}
	if _, err := raw.Exec(ctx, `DELETE FROM contacts WHERE id = $1`, c.ID); err != nil {
		t.Fatalf("deleting the contact: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM consents`); n != 0 {
		t.Errorf("%d consents after their contact was deleted, want 0", n)
	}
}

// TestErasuresAppendOnly: the erasure ledger (ENC-5) cannot be changed,
// deleted from or truncated, even by SQL written past the store.
func TestErasuresAppendOnly(t *testing.T) {
	db := postgrestest.New(t)
	ctx := t.Context()
	u := seedUser(t, db, "a@example.com")
	c := &crm.Contact{FirstName: "A", OwnerID: u.ID, Version: 1}
	err := db.Write(ctx, func(tx crm.Tx) error {
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		_, err := tx.EraseClient(ctx, &crm.Erasure{Entity: "contact", RecordID: c.ID, ErasedBy: u.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	raw := postgres.Writer(db)
	for _, stmt := range []string{`UPDATE erasures SET record_id = record_id + 1`, `DELETE FROM erasures`, `TRUNCATE erasures`} {
		if _, err := raw.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s on the erasure ledger: %v, want the trigger's refusal", stmt, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM erasures`); n != 1 {
		t.Errorf("ledger rows = %d, want 1", n)
	}
}

// TestInvalidText checks that text PostgreSQL cannot store (NUL, invalid
// UTF-8), which the service rejects before, is EINVALID here too, not an
// internal error.
func TestInvalidText(t *testing.T) {
	db := postgrestest.New(t)
	ctx := t.Context()
	u := seedUser(t, db, "a@example.com")
	for _, name := range []string{"nul\x00byte", "bad\xffutf8"} {
		err := db.Write(ctx, func(tx crm.Tx) error {
			return tx.InsertContact(ctx, &crm.Contact{FirstName: name, OwnerID: u.ID, Version: 1})
		})
		if code := crm.ErrorCode(err); code != crm.EINVALID {
			t.Errorf("InsertContact(%q) = %v, want code %q", name, err, crm.EINVALID)
		}
	}
	err := db.Read(ctx, func(tx crm.Tx) error {
		_, _, err := tx.Contacts(ctx, all, crm.ContactFilter{EmailToken: "a\x00\xff"}, crm.ListQuery{})
		return err
	})
	if crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("a token filter with NUL and invalid UTF-8: %v, want EINVALID", err)
	}
	err = db.Read(ctx, func(tx crm.Tx) error {
		_, _, err := tx.Deals(ctx, all, crm.DealFilter{}, crm.ListQuery{Sort: "expected_close", After: &crm.Cursor{Sort: "expected_close", Key: "a\x00", ID: 1}})
		return err
	})
	if _, ok := crm.ErrorFields(err)["cursor"]; !ok {
		t.Errorf("cursor with a NUL key: %v, want EINVALID on cursor", err)
	}
}

// TestOptimize: after a bulk load, Optimize gives every table of the
// schema planner statistics (and only this schema's tables).
func TestOptimize(t *testing.T) {
	db := postgrestest.New(t)
	never := `SELECT count(*) FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND last_analyze IS NULL`
	// last_analyze records manual ANALYZE only (autovacuum's go to
	// last_autoanalyze), and this schema is new: nothing has analysed it,
	// so every table starts without. Were that not so, the test could not
	// tell what Optimize did: fail rather than skip.
	if before := count(t, db, never); before == 0 {
		t.Fatal("a new schema's tables were analysed before Optimize ran: the test cannot observe it")
	}
	if err := db.Optimize(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The statistics collector reports asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for count(t, db, never) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d tables still never analysed", count(t, db, never))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
