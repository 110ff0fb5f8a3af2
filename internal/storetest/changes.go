package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The change sequence (crm.ChangeTx, ENC-4): every insert, update and
// delete of a contact, whoever makes it, is a change after the head a
// reader took; pruning past a reader's mark tells it so.

func testChanges(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	before := newContact(t, f, f.alice, func(*crm.Contact) {})
	head := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (crm.ChangeMark, error) { return tx.ChangeHead(ctx) })
	if head.Seq == 0 {
		t.Fatalf("ChangeHead after an insert = %+v, want a number", head)
	}
	changesAfter := func(mark crm.ChangeMark) ([]int64, crm.ChangeMark) {
		t.Helper()
		var ids []int64
		var next crm.ChangeMark
		mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (any, error) {
			ch, m, err := tx.Changes(ctx, mark)
			for _, c := range ch {
				if c.Entity != "contact" {
					t.Errorf("change %+v: entity %q", c, c.Entity)
				}
				ids = append(ids, c.ID)
			}
			next = m
			return nil, err
		})
		return ids, next
	}
	if ids, _ := changesAfter(head); len(ids) != 0 {
		t.Fatalf("changes after the head with nothing written = %v", ids)
	}
	ann := newContact(t, f, f.alice, func(*crm.Contact) {})
	ann.LastName, ann.Version = "Changed", ann.Version+1
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateContact(ctx, ann) })
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		_, err := tx.EraseClient(ctx, &crm.Erasure{Entity: "contact", RecordID: before.ID, ErasedAt: base, ErasedBy: f.alice})
		return err
	})
	ids, mark := changesAfter(head)
	if want := []int64{ann.ID, ann.ID, before.ID}; !slices.Equal(ids, want) {
		t.Fatalf("changes after the head = %v, want insert, update, erase %v", ids, want)
	}
	if mark.Seq <= head.Seq {
		t.Fatalf("mark after the changes = %+v, not past the head %+v", mark, head)
	}
	if again, _ := changesAfter(mark); len(again) != 0 {
		t.Fatalf("changes after the new mark = %v, want none", again)
	}

	// A rolled-back write leaves no change.
	_ = f.st.Write(t.Context(), func(tx crm.Tx) error {
		c := contactKind.make(f, f.alice, 99)
		if err := tx.InsertContact(t.Context(), c); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if again, _ := changesAfter(mark); len(again) != 0 {
		t.Fatalf("changes after a rolled-back insert = %v, want none", again)
	}

	// Pruning: nothing recorded before the cut-off stays; a reader whose
	// mark is older than what is left is told to read everything again.
	var pruned int64
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
		pruned, err = tx.PruneChanges(ctx, time.Now().Add(-time.Hour))
		return err
	})
	if pruned != 0 {
		t.Fatalf("PruneChanges an hour back removed %d fresh changes", pruned)
	}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
		pruned, err = tx.PruneChanges(ctx, time.Now().Add(2*time.Second))
		return err
	})
	if pruned < 4 {
		t.Fatalf("PruneChanges of everything removed %d changes, want at least 4", pruned)
	}
	newContact(t, f, f.alice, func(*crm.Contact) {})
	newContact(t, f, f.alice, func(*crm.Contact) {})
	err := f.st.Read(t.Context(), func(tx crm.Tx) error {
		_, _, err := tx.Changes(t.Context(), head)
		return err
	})
	if !errors.Is(err, crm.ErrChangesGone) {
		t.Fatalf("Changes after a pruned mark = %v, want ErrChangesGone", err)
	}
	// A reader that had read everything before the prune misses nothing
	// (the prune removed only what it had read); it gets the new ones.
	if ids, _ := changesAfter(mark); len(ids) != 2 {
		t.Fatalf("changes after the last mark, past a prune = %v, want the two new contacts", ids)
	}
}

// testDealChanges: every write of a deal or a task is in the change
// sequence (the service's indexes follow it), a purge too, and their rows
// are read by id in any state, in scope.
func testDealChanges(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	head := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (crm.ChangeMark, error) { return tx.ChangeHead(ctx) })
	d := newDeal(t, f, f.alice, func(*crm.Deal) {})
	other := newDeal(t, f, f.bob, func(*crm.Deal) {})
	d.Title, d.Version, d.DeletedAt = "Changed", d.Version+1, ptr(base)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateDeal(ctx, d) })
	task := taskKind.mustInsert(t, f, taskKind.make(f, f.alice, 0))
	bobs := taskKind.mustInsert(t, f, taskKind.make(f, f.bob, 1))
	task.Title, task.Version, task.DeletedAt = "Changed", task.Version+1, ptr(base)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateTask(ctx, task) })
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		_, err := tx.PurgeDeleted(ctx, base.Add(time.Hour))
		return err
	})
	got := map[string][]int64{}
	mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (any, error) {
		ch, _, err := tx.Changes(ctx, head)
		for _, c := range ch {
			got[c.Entity] = append(got[c.Entity], c.ID)
		}
		return nil, err
	})
	if want := []int64{d.ID, other.ID, d.ID, d.ID}; !slices.Equal(got["deal"], want) {
		t.Fatalf("deal changes = %v, want insert, insert, update, purge %v", got["deal"], want)
	}
	if want := []int64{task.ID, bobs.ID, task.ID, task.ID}; !slices.Equal(got["task"], want) {
		t.Fatalf("task changes = %v, want insert, insert, update, purge %v", got["task"], want)
	}
	rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Deal, error) {
		r, _, err := tx.Deals(ctx, crm.Scope{OwnerID: f.bob}, crm.DealFilter{IDs: []int64{d.ID, other.ID, 999999}, AnyState: true}, crm.ListQuery{})
		return r, err
	})
	if len(rows) != 1 || rows[0].ID != other.ID {
		t.Fatalf("deals by id in bob's scope = %v, want only his", rows)
	}
	tasks := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Task, error) {
		r, _, err := tx.Tasks(ctx, crm.Scope{OwnerID: f.bob}, crm.TaskFilter{IDs: []int64{task.ID, bobs.ID, 999999}, AnyState: true}, crm.ListQuery{})
		return r, err
	})
	if len(tasks) != 1 || tasks[0].ID != bobs.ID {
		t.Fatalf("tasks by id in bob's scope = %v, want only his", tasks)
	}
}

// testIndexLookups: the shares, and the companies by id in any state,
// which the service's in-memory indexes ask the store for.
func testIndexLookups(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	acme := newCompany(t, f, f.alice, "Acme Tools")
	acorn := newCompany(t, f, f.bob, "Acorn")
	newCompany(t, f, f.alice, "Beta")
	gone := newCompany(t, f, f.alice, "Acme Gone")
	gone.DeletedAt, gone.Version = ptr(base), gone.Version+1
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateCompany(ctx, gone) })
	byIDs := func(f2 crm.CompanyFilter) []int64 {
		t.Helper()
		rows := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Company, error) {
			rows, _, err := tx.Companies(ctx, crm.Scope{All: true}, f2, crm.ListQuery{Sort: "created_at", Limit: 10})
			return rows, err
		})
		var ids []int64
		for _, c := range rows {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		return ids
	}
	want := []int64{acme.ID, acorn.ID, gone.ID}
	slices.Sort(want)
	if ids := byIDs(crm.CompanyFilter{IDs: []int64{acme.ID, acorn.ID, gone.ID, 999999}, AnyState: true}); !slices.Equal(ids, want) {
		t.Errorf("companies by id in any state = %v, want %v (the deleted one too)", ids, want)
	}
	if ids := byIDs(crm.CompanyFilter{IDs: []int64{acme.ID, gone.ID}}); !slices.Equal(ids, []int64{acme.ID}) {
		t.Errorf("live companies by id = %v, want Acme only", ids)
	}
	if ids := byIDs(crm.CompanyFilter{IDs: []int64{}, AnyState: true}); len(ids) != 0 {
		t.Errorf("companies of no ids = %v, want none", ids)
	}
	// Every company by id, the deleted one too, a page at a time.
	idsAfter := func(after int64, limit int) []int64 {
		t.Helper()
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]int64, error) {
			return tx.IDsAfter(ctx, "company", after, limit)
		})
	}
	every := idsAfter(0, 1000)
	if !slices.IsSorted(every) || !slices.Contains(every, acme.ID) || !slices.Contains(every, gone.ID) {
		t.Errorf("IDsAfter(0) = %v, want ids in order, %v among them", every, want)
	}
	var paged []int64
	for after := int64(0); ; {
		page := idsAfter(after, 2)
		if len(page) > 2 {
			t.Fatalf("IDsAfter(%d, 2) = %v: more than the limit", after, page)
		}
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		after = page[1]
	}
	if !slices.Equal(paged, every) {
		t.Errorf("IDsAfter by pages of 2 = %v, want %v", paged, every)
	}
	if err := f.st.Read(t.Context(), func(tx crm.Tx) error {
		_, err := tx.IDsAfter(t.Context(), "users; --", 0, 2)
		return err
	}); crm.ErrorCode(err) != crm.EINVALID {
		t.Errorf("IDsAfter of an unknown kind = %v, want invalid", err)
	}

	ann := newContact(t, f, f.alice, func(*crm.Contact) {})
	bea := newContact(t, f, f.alice, func(*crm.Contact) {})
	share := func(id int64, user, team int64, access crm.ShareAccess, expires *time.Time) {
		t.Helper()
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
			sh := &crm.Share{Entity: "contact", RecordID: id, Access: access, ExpiresAt: expires, CreatedBy: f.alice, CreatedAt: base}
			if user != 0 {
				sh.UserID = &user
			}
			if team != 0 {
				sh.TeamID = &team
			}
			_, err := tx.PutShare(ctx, sh)
			return err
		})
	}
	head := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (crm.ChangeMark, error) { return tx.ChangeHead(ctx) })
	tm := insertTeam(t, f.st, "Index", nil)
	share(ann.ID, f.bob, 0, crm.ShareRead, nil)
	share(bea.ID, f.bob, 0, crm.ShareWrite, ptr(time.Now().Add(-time.Hour)))
	share(bea.ID, 0, tm.ID, crm.ShareRead, nil)
	share(ann.ID, f.bob, 0, crm.ShareWrite, nil) // replaces bob's share of ann
	all := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Share, error) {
		return tx.SharesAfter(ctx, "contact", 0, 100)
	})
	if len(all) != 3 || all[0].RecordID != ann.ID || all[0].Access != crm.ShareWrite || !all[1].Expired || all[2].TeamID == nil {
		t.Fatalf("SharesAfter = %+v, want bob's of ann (write), bob's of bea (expired), the team's of bea", all)
	}
	if rest := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Share, error) {
		return tx.SharesAfter(ctx, "contact", all[0].ID, 1)
	}); len(rest) != 1 || rest[0].ID != all[1].ID {
		t.Fatalf("SharesAfter(the first, 1) = %+v, want the second", rest)
	}
	if none := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Share, error) {
		return tx.SharesAfter(ctx, "company", 0, 100)
	}); len(none) != 0 {
		t.Fatalf("SharesAfter(company) = %+v, want none", none)
	}
	byID := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Share, error) {
		return tx.SharesByID(ctx, []int64{all[2].ID, all[0].ID, 999999})
	})
	if len(byID) != 2 || byID[0].ID != all[0].ID || byID[1].ID != all[2].ID {
		t.Fatalf("SharesByID = %+v, want the two that exist, in id order", byID)
	}
	// Every write of a share is in the change sequence: the inserts, the
	// replacement, a revocation and those a deleted team takes with it.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteShare(ctx, "contact", bea.ID, all[1].ID) })
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteTeam(ctx, tm.ID) })
	var changed []int64
	mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (any, error) {
		ch, _, err := tx.Changes(ctx, head)
		for _, c := range ch {
			if c.Entity == "share" {
				changed = append(changed, c.ID)
			}
		}
		return nil, err
	})
	if want := []int64{all[0].ID, all[1].ID, all[2].ID, all[0].ID, all[1].ID, all[2].ID}; !slices.Equal(changed, want) {
		t.Fatalf("share changes = %v, want %v", changed, want)
	}
	if left := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Share, error) {
		return tx.SharesByID(ctx, []int64{all[0].ID, all[1].ID, all[2].ID})
	}); len(left) != 1 || left[0].ID != all[0].ID {
		t.Fatalf("shares left = %+v, want bob's of ann only", left)
	}
}
