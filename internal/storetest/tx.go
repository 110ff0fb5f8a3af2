package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// testWriteRollback checks that a Write whose function fails writes
// nothing, whether the function or the store fails.
func testWriteRollback(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	boom := errors.New("boom")
	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		for i := range 2 {
			if err := tx.InsertContact(ctx, contactKind.make(f, f.alice, i)); err != nil {
				return err
			}
		}
		// The transaction sees its own rows.
		rows, _, err := tx.Contacts(ctx, all, crm.ContactFilter{}, crm.ListQuery{Limit: 10})
		if err != nil {
			return err
		} else if len(rows) != 2 {
			t.Errorf("inside the Write: %d contacts, want 2", len(rows))
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write() = %v, want the function's error", err)
	}
	wantEqual(t, "contacts after a failed Write", contactKind.ids(t, f, all, false), []int64{})

	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		if err := tx.SetSetting(ctx, "marker", "set"); err != nil {
			return err
		}
		return tx.InsertUser(ctx, &crm.User{Email: "alice@example.com", Role: crm.RoleSales, CreatedAt: base, UpdatedAt: base})
	})
	wantField(t, "Write with a duplicate user", err, crm.ECONFLICT, "email")
	v := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (string, error) { return tx.Setting(ctx, "marker") })
	if v != "" {
		t.Errorf("setting after a failed Write = %q, want none", v)
	}
}

// testNow checks that Now is fixed per call, UTC, in whole microseconds.
func testNow(t *testing.T, newStore func(t *testing.T) crm.Store) {
	st := newStore(t)
	check := func(name string, tx crm.Tx) {
		t.Helper()
		now := tx.Now()
		if now.Location() != time.UTC {
			t.Errorf("%s: Now() location = %v, want UTC", name, now.Location())
		}
		if !now.Equal(now.Truncate(time.Microsecond)) {
			t.Errorf("%s: Now() = %v, want whole microseconds", name, now)
		}
		if d := time.Since(now); d < 0 || d > time.Minute {
			t.Errorf("%s: Now() = %v, %v from the clock", name, now, d)
		}
		time.Sleep(2 * time.Microsecond)
		if again := tx.Now(); !again.Equal(now) {
			t.Errorf("%s: Now() changed from %v to %v", name, now, again)
		}
	}
	if err := st.Read(t.Context(), func(tx crm.Tx) error { check("Read", tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(t.Context(), func(tx crm.Tx) error { check("Write", tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

// testReadDuringWrite checks that reads go on beside an open write, and see
// only what is committed.
func testReadDuringWrite(t *testing.T, newStore func(t *testing.T) crm.Store) {
	db := newStore(t)
	ctx := t.Context()
	inWrite, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.Write(ctx, func(tx crm.Tx) error {
			if err := tx.SetSetting(ctx, "k", "v"); err != nil {
				return err
			}
			close(inWrite)
			<-release
			return nil
		})
	}()
	get := func() string {
		t.Helper()
		var v string
		if err := db.Read(ctx, func(tx crm.Tx) (err error) { v, err = tx.Setting(ctx, "k"); return err }); err != nil {
			t.Fatal(err)
		}
		return v
	}
	<-inWrite
	if v := get(); v != "" {
		t.Errorf("Read during the Write = %q, want the committed \"\"", v)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v := get(); v != "v" {
		t.Errorf("Read after the Write = %q, want v", v)
	}
}
