package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// Data keys and reserved ids (crm.KeyTx, issue 12).

func testDataKeys(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	var keys []*crm.DataKey
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		for i := range 5 {
			k := &crm.DataKey{ID: int64(1000 + i*7), Subject: fmt.Sprintf("contact:%d", i+1), KEKVersion: 1 + i%2,
				Wrapped: []byte{byte(i), 0, 0xff}, CreatedAt: at(i)}
			if err := tx.InsertDataKey(ctx, k); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return nil
	})
	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertDataKey(ctx, &crm.DataKey{ID: 5, Subject: "contact:1", KEKVersion: 1, Wrapped: []byte{1}, CreatedAt: base})
	})
	wantCode(t, "a second key of a subject", err, crm.ECONFLICT)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertDataKey(ctx, &crm.DataKey{ID: 1000, Subject: "contact:77", KEKVersion: 1, Wrapped: []byte{1}, CreatedAt: base})
	})
	wantCode(t, "a key under a taken id", err, crm.ECONFLICT)

	got := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.DataKey, error) { return tx.DataKeyOf(ctx, "contact:3") })
	if got.ID != keys[2].ID || got.KEKVersion != 1 || !slices.Equal(got.Wrapped, []byte{2, 0, 0xff}) || !got.CreatedAt.Equal(at(2)) || got.RotatedAt != nil {
		t.Fatalf("DataKeyOf = %+v", got)
	}
	_, err = read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.DataKey, error) { return tx.DataKeyOf(ctx, "contact:99") })
	wantCode(t, "the key of a subject without one", err, crm.ENOTFOUND)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		k, err := tx.LockDataKey(ctx, "contact:3")
		if err != nil || k.ID != keys[2].ID {
			t.Errorf("LockDataKey = %+v, %v", k, err)
		}
		_, err = tx.LockDataKey(ctx, "contact:99")
		wantCode(t, "locking the key of a subject without one", err, crm.ENOTFOUND)
		return nil
	})

	byID := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.DataKey, error) {
		return tx.DataKeysByID(ctx, []int64{keys[4].ID, keys[0].ID, 999999})
	})
	var subjects []string
	for _, k := range byID {
		subjects = append(subjects, k.Subject)
	}
	slices.Sort(subjects)
	wantEqual(t, "DataKeysByID", subjects, []string{"contact:1", "contact:5"})

	versions := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (map[int]int64, error) { return tx.DataKeyVersions(ctx) })
	wantEqual(t, "versions", versions, map[int]int64{1: 3, 2: 2})

	// A rotation to version 2 pages through the keys of version 1 only.
	var batch []int64
	after := int64(0)
	for {
		ks := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.DataKey, error) {
			return tx.DataKeysBelow(ctx, 2, after, 2)
		})
		if len(ks) == 0 {
			break
		}
		for _, k := range ks {
			batch = append(batch, k.ID)
			mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.RewrapDataKey(ctx, k.ID, 2, []byte("new")) })
		}
		after = ks[len(ks)-1].ID
	}
	wantEqual(t, "keys rewrapped", batch, []int64{keys[0].ID, keys[2].ID, keys[4].ID})
	versions = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (map[int]int64, error) { return tx.DataKeyVersions(ctx) })
	wantEqual(t, "versions after the rotation", versions, map[int]int64{2: 5})
	got = mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.DataKey, error) { return tx.DataKeyOf(ctx, "contact:1") })
	if string(got.Wrapped) != "new" || got.RotatedAt == nil {
		t.Fatalf("after the rewrap: %+v", got)
	}
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.RewrapDataKey(ctx, 999999, 2, []byte("x")) })
	wantCode(t, "rewrap of a missing key", err, crm.ENOTFOUND)
}

// testReserveID: a reserved id is new, a record inserted with it keeps
// it, and the table's own numbering goes on after it.
func testReserveID(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	first := contactKind.mustInsert(t, f, contactKind.make(f, f.alice, 0))
	var reserved int64
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		id, err := tx.ReserveID(ctx, "contact")
		if err != nil {
			return err
		}
		if id <= first.ID {
			return fmt.Errorf("reserved %d, not after %d", id, first.ID)
		}
		reserved = id
		c := contactKind.make(f, f.alice, 1)
		c.ID = id
		return tx.InsertContact(ctx, c)
	})
	back, err := contactKind.get(t, f, all, reserved, false)
	if err != nil || back.LastName != "adams" {
		t.Fatalf("the contact of a reserved id: %v %+v", err, back)
	}
	next := contactKind.mustInsert(t, f, contactKind.make(f, f.alice, 2))
	if next.ID <= reserved {
		t.Fatalf("an insert after a reserved id got %d, want > %d", next.ID, reserved)
	}
	for _, entity := range []string{"company", "deal", "activity", "task", "consent"} {
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
			id, err := tx.ReserveID(ctx, entity)
			if err == nil && id <= 0 {
				err = fmt.Errorf("%s: reserved %d", entity, id)
			}
			return err
		})
	}
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { _, err := tx.ReserveID(ctx, "users"); return err })
	wantCode(t, "an id of a table that is not a record's", err, crm.EINVALID)
}
