package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlite"
)

// outcome is what one Write of a queue returned.
type outcome struct {
	err      error
	panicked any
	exited   bool // the fn called runtime.Goexit
}

// queue holds the writer's turn with a Write of its own (which sets
// "first"), queues one Write per fn behind it, in order, and then lets the
// first finish, so that every queued Write finds the others waiting: group
// commit then puts them all in one transaction. firstErr is what the first
// fn returns. It returns the outcome of each fn and the first Write's error.
func queue(t *testing.T, db *sqlite.DB, firstErr error, ctxs []context.Context, fns ...func(crm.Tx) error) ([]outcome, error) {
	t.Helper()
	inWrite, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		firstDone <- db.Write(t.Context(), func(tx crm.Tx) error {
			if err := tx.SetSetting(t.Context(), "first", "v"); err != nil {
				return err
			}
			close(inWrite)
			<-release
			return firstErr
		})
	}()
	<-inWrite
	outs := make([]outcome, len(fns))
	done := make(chan struct{}, len(fns))
	for i, fn := range fns {
		ctx := t.Context()
		if ctxs != nil && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		go func() {
			exited := true
			defer func() {
				outs[i].exited = exited
				outs[i].panicked = recover()
				done <- struct{}{}
			}()
			outs[i].err = db.Write(ctx, fn)
			exited = false
		}()
		waitFor(t, func() bool { return sqlite.Waiting(db) == int64(i+1) })
	}
	close(release)
	err := <-firstDone
	for range fns {
		<-done
	}
	return outs, err
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

func set(key string) func(crm.Tx) error {
	return func(tx crm.Tx) error { return tx.SetSetting(context.Background(), key, "v") }
}

// settings returns which of keys are stored (committed).
func settings(t *testing.T, db *sqlite.DB, keys ...string) string {
	t.Helper()
	var have []string
	err := db.Read(t.Context(), func(tx crm.Tx) error {
		for _, k := range keys {
			v, err := tx.Setting(t.Context(), k)
			if err != nil {
				return err
			}
			if v != "" {
				have = append(have, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(have, " ")
}

// TestGroupCommit: writes queued behind one another commit together, in
// groups of at most MaxGroup, and each is durable when its Write returns
// (PRF-1).
func TestGroupCommit(t *testing.T) {
	db := open(t, t.TempDir())
	var fns []func(crm.Tx) error
	var keys []string
	queued := sqlite.MaxGroup + 5 // with the first: one full group and six
	for i := range queued {
		keys = append(keys, fmt.Sprint("k", i))
		fns = append(fns, set(keys[i]))
	}
	before := sqlite.Commits(db)
	outs, firstErr := queue(t, db, nil, nil, fns...)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	for i, o := range outs {
		if o.err != nil || o.panicked != nil || o.exited {
			t.Errorf("write %d: %+v", i, o)
		}
	}
	if n := sqlite.Commits(db) - before; n != 2 {
		t.Errorf("%d commits for %d queued writes, want 2", n, queued+1)
	}
	if got, want := settings(t, db, append([]string{"first"}, keys...)...), "first "+strings.Join(keys, " "); got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestGroupCommitIsolatesFailures: inside a group, a write that fails, panics
// or exits its goroutine leaves nothing behind and costs the others nothing;
// a write whose context ended while it queued never runs.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := open(t, t.TempDir())
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel() // it queues all the same, and must not run when its turn comes
	ranCancelled := false
	before := sqlite.Commits(db)
	outs, firstErr := queue(t, db, nil,
		[]context.Context{nil, nil, nil, nil, cancelled, nil},
		set("a"),
		func(tx crm.Tx) error { _ = set("fails")(tx); return boom },
		func(tx crm.Tx) error { _ = set("panics")(tx); panic("panic in fn") },
		func(tx crm.Tx) error { _ = set("exits")(tx); runtime.Goexit(); return nil },
		func(tx crm.Tx) error { ranCancelled = true; return set("cancelled")(tx) },
		set("b"),
	)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	if outs[0].err != nil || outs[5].err != nil {
		t.Errorf("the healthy writes failed: %v, %v", outs[0].err, outs[5].err)
	}
	if !errors.Is(outs[1].err, boom) {
		t.Errorf("failing write returned %v, want its own error", outs[1].err)
	}
	if outs[2].panicked != "panic in fn" {
		t.Errorf("panicking write: recovered %v, want the fn's panic", outs[2].panicked)
	}
	if !outs[3].exited {
		t.Error("Goexit in fn did not end the caller's goroutine")
	}
	if outs[4].err == nil || ranCancelled {
		t.Errorf("cancelled write: err %v, ran %v; want context error and not run", outs[4].err, ranCancelled)
	}
	if got, want := settings(t, db, "first", "a", "fails", "panics", "exits", "cancelled", "b"), "first a b"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	if n := sqlite.Commits(db) - before; n != 1 {
		t.Errorf("%d commits, want 1", n)
	}
}

// TestGroupCommitFirstFails: when the first write of a group fails, its
// transaction is rolled back whole and the queued writes go on in the next.
func TestGroupCommitFirstFails(t *testing.T) {
	db := open(t, t.TempDir())
	boom := errors.New("boom")
	outs, firstErr := queue(t, db, boom, nil, set("a"), set("b"))
	if !errors.Is(firstErr, boom) {
		t.Errorf("first write returned %v, want its error", firstErr)
	}
	for i, o := range outs {
		if o.err != nil {
			t.Errorf("write %d: %v", i, o.err)
		}
	}
	if got, want := settings(t, db, "first", "a", "b"), "a b"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestGroupCommitBroken: when SQLite aborts a shared transaction (I/O error,
// full disk), no member of the group is told it succeeded, and writes after
// it start afresh.
func TestGroupCommitBroken(t *testing.T) {
	db := open(t, t.TempDir())
	outs, firstErr := queue(t, db, nil, nil,
		set("a"),
		func(tx crm.Tx) error {
			if err := set("aborts")(tx); err != nil {
				return err
			}
			return sqlite.AbortTx(tx)
		},
		set("b"),
	)
	if firstErr == nil || outs[0].err == nil || outs[1].err == nil {
		t.Errorf("members of the aborted group were told they succeeded: %v, %v, %v", firstErr, outs[0].err, outs[1].err)
	}
	if outs[2].err != nil {
		t.Errorf("the write after the aborted group: %v", outs[2].err)
	}
	if got, want := settings(t, db, "first", "a", "aborts", "b"), "b"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestWriteAfterClose fails cleanly instead of hanging.
func TestWriteAfterClose(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), set("k")); err == nil {
		t.Error("Write after Close succeeded")
	}
}

// TestBackgroundCheckpoint: committed pages reach the database file without
// any write paying for the copy: the writer's automatic checkpoint is only a
// distant backstop (PRF-1).
func TestBackgroundCheckpoint(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	var backstop int
	if err := sqlite.Writer(db).QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&backstop); err != nil {
		t.Fatal(err)
	}
	if backstop < 10000 {
		t.Errorf("writer wal_autocheckpoint = %d, want the large backstop", backstop)
	}
	var cache int
	if err := sqlite.Writer(db).QueryRow(`PRAGMA cache_size`).Scan(&cache); err != nil {
		t.Fatal(err)
	}
	if cache != -16384 {
		t.Errorf("writer cache_size = %d, want -16384 (16 MiB)", cache)
	}
	marker := fmt.Sprintf("checkpoint-marker-%d", time.Now().UnixNano())
	if err := db.Write(t.Context(), func(tx crm.Tx) error { return tx.SetSetting(t.Context(), "marker", marker) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, sqlite.FileName))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Contains(b, []byte(marker))
	})
}

// TestReadTurns: no more than the allowed number of Read functions run at
// once, the others wait, and one whose context ends while it waits gives
// up without running.
func TestReadTurns(t *testing.T) {
	db := open(t, t.TempDir())
	n := sqlite.Readers()
	var running, peak atomic.Int64
	release := make(chan struct{})
	done := make(chan error, n+3)
	for range n + 3 {
		go func() {
			done <- db.Read(t.Context(), func(crm.Tx) error {
				r := running.Add(1)
				for p := peak.Load(); r > p && !peak.CompareAndSwap(p, r); p = peak.Load() {
				}
				<-release
				running.Add(-1)
				return nil
			})
		}()
	}
	// n run and the other 3 wait at the gate: each Read is accounted for,
	// so none can have been admitted beyond the limit (no sleep needed).
	waitFor(t, func() bool { return running.Load() == int64(n) && sqlite.ReadWaiting(db) == 3 })
	if p := peak.Load(); p != int64(n) {
		t.Errorf("%d Reads ran at once, want %d", p, n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	errc := make(chan error, 1)
	go func() { errc <- db.Read(ctx, func(crm.Tx) error { ran = true; return nil }) }()
	waitFor(t, func() bool { return sqlite.ReadWaiting(db) == 4 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("a Read whose context ended while waiting: err %v, ran %v", err, ran)
	}
	if w := sqlite.ReadWaiting(db); w != 3 {
		t.Errorf("%d Reads waiting after one gave up, want 3", w)
	}
	close(release)
	for range n + 3 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestGroupCommitFirstAborted: when SQLite aborts the transaction under the
// first write of a group and its fn returns nil all the same, that write is
// not told it succeeded, and the writes queued behind it start afresh
// rather than committing on their own under an error.
func TestGroupCommitFirstAborted(t *testing.T) {
	db := open(t, t.TempDir())
	inWrite, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		firstDone <- db.Write(t.Context(), func(tx crm.Tx) error {
			if err := set("first")(tx); err != nil {
				return err
			}
			if err := sqlite.AbortTx(tx); err != nil {
				return err
			}
			close(inWrite)
			<-release
			return nil
		})
	}()
	<-inWrite
	errs := make(chan error, 2)
	for i, k := range []string{"a", "b"} {
		go func() { errs <- db.Write(t.Context(), set(k)) }()
		waitFor(t, func() bool { return sqlite.Waiting(db) == int64(i+1) })
	}
	close(release)
	if err := <-firstDone; err == nil {
		t.Error("the aborted first write was told it succeeded")
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("a write queued behind the aborted one: %v", err)
		}
	}
	if got, want := settings(t, db, "first", "a", "b"), "a b"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestQueuedWriteHonoursContext: a writer whose context ends while it waits
// for the turn gets its error at once, its fn never runs, and the writers
// after it are not stranded.
func TestQueuedWriteHonoursContext(t *testing.T) {
	db := open(t, t.TempDir())
	inWrite, release, firstDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		firstDone <- db.Write(t.Context(), func(tx crm.Tx) error {
			close(inWrite)
			<-release
			return set("first")(tx)
		})
	}()
	<-inWrite
	// The queued write's context ends while it waits (cancelled once it is
	// queued, rather than a deadline raced against the clock).
	ctx, cancel := context.WithCancel(t.Context())
	ran := false
	errc := make(chan error, 1)
	go func() { errc <- db.Write(ctx, func(tx crm.Tx) error { ran = true; return set("late")(tx) }) }()
	waitFor(t, func() bool { return sqlite.Waiting(db) == 1 })
	cancel()
	// It returns while the first write still holds the turn: not at the
	// end of the queue.
	if err := <-errc; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("queued write whose context ended: err %v, ran %v", err, ran)
	}
	after := make(chan error, 1)
	go func() { after <- db.Write(t.Context(), set("after")) }()
	waitFor(t, func() bool { return sqlite.Waiting(db) == 2 }) // the abandoned turn and "after"
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-after:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write after the abandoned one never ran")
	}
	if got, want := settings(t, db, "first", "late", "after"), "first after"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestUpdateNamesOnlyChangedColumns: an update that changes no indexed
// column does not name one in its SET list (SQLite would rewrite their
// index entries), and one that changes an email (its token) or restores a
// contact does. The names, sealed, have no index.
func TestUpdateNamesOnlyChangedColumns(t *testing.T) {
	db := open(t, t.TempDir())
	ctx := t.Context()
	if _, err := sqlite.Writer(db).Exec(`CREATE TRIGGER indexed_set AFTER UPDATE OF email_token,
		phone_token, company_id, owner_id, team_id, deleted_at ON contacts
		BEGIN INSERT INTO settings (key, value) VALUES ('indexed-' || NEW.version, 'set'); END`); err != nil {
		t.Fatal(err)
	}
	u := &crm.User{Email: "o@x.test", Name: "O", Role: crm.RoleSales, Language: "en", PasswordHash: "x"}
	c := &crm.Contact{FirstName: "Olga", LastName: "Ivanova", Email: "o@x.test", EmailToken: "tok1", Tags: []string{"vip"}, Version: 1}
	write := func(fn func(tx crm.Tx) error) {
		t.Helper()
		if err := db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx crm.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		c.OwnerID, c.CreatedAt, c.UpdatedAt = u.ID, tx.Now(), tx.Now()
		return tx.InsertContact(ctx, c)
	})
	update := func(change func()) {
		t.Helper()
		change()
		c.Version++
		write(func(tx crm.Tx) error { c.UpdatedAt = tx.Now(); return tx.UpdateContact(ctx, c) })
	}
	fired := func(version int64) bool {
		t.Helper()
		return settings(t, db, fmt.Sprint("indexed-", version)) != ""
	}
	update(func() { c.Title = "Director" })
	if fired(c.Version) {
		t.Error("a title-only update named an indexed column")
	}
	update(func() { c.LastName = "Petrova" })
	if fired(c.Version) {
		t.Error("a last-name update named an indexed column")
	}
	update(func() { c.Email, c.EmailToken = "p@x.test", "tok2" })
	if !fired(c.Version) {
		t.Error("an email update did not set its token")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	update(func() { c.DeletedAt = &now })
	if !fired(c.Version) {
		t.Error("a soft delete did not set deleted_at")
	}
	update(func() { c.Notes = "deleted, still" })
	if fired(c.Version) {
		t.Error("a notes update of a deleted contact named an indexed column")
	}
	update(func() { c.DeletedAt = nil })
	if !fired(c.Version) {
		t.Error("a restore did not set deleted_at")
	}
}

// TestGroupCommitStress: writers that succeed, fail, panic, exit their
// goroutine or run out of time, at random and at once. Afterwards exactly the
// writes whose Write returned nil are stored; then Close with writers still
// queued neither hangs nor races.
func TestGroupCommitStress(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		key string
		ok  bool // Write returned nil
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := range 150 {
				key := fmt.Sprintf("g%d-%d", g, i)
				kind := rng.IntN(10)
				ctx, cancel := context.WithCancel(context.Background())
				if kind == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(200))*time.Microsecond)
				}
				r := result{key: key}
				done := make(chan struct{})
				go func() { // its own goroutine, for the fn that calls Goexit
					defer close(done)
					defer func() { _ = recover() }()
					err := db.Write(ctx, func(tx crm.Tx) error {
						if err := set(key)(tx); err != nil {
							return err
						}
						switch kind {
						case 1:
							return errors.New("boom")
						case 2:
							panic("boom")
						case 3:
							runtime.Goexit()
						}
						return nil
					})
					r.ok = err == nil
				}()
				<-done
				cancel()
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		if stored := settings(t, db, r.key) != ""; stored != r.ok {
			t.Errorf("%s: Write succeeded %v, stored %v", r.key, r.ok, stored)
		}
	}
	var queued sync.WaitGroup
	for i := range 20 {
		queued.Go(func() {
			_ = db.Write(context.Background(), func(tx crm.Tx) error {
				time.Sleep(time.Millisecond)
				return set(fmt.Sprint("c", i))(tx)
			})
		})
	}
	// Close while writes are queued or running.
	waitFor(t, func() bool { return sqlite.Waiting(db) > 0 || sqlite.Commits(db) > 0 })
	if err := db.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	queued.Wait()
}
