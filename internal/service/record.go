package service

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// ops tells the generic record operations how to reach one entity's rows,
// so that the write, delete and restore rules exist once for all entities.
type ops[T any] struct {
	byID   func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (T, error)
	update func(ctx context.Context, tx crm.Tx, v T) error
	stamp  func(v T) (version *int64, updated *time.Time, deleted **time.Time)
	// canWrite, when set, narrows the write scope further for records the
	// scope selects (a task's assignee sees the task but may not change it).
	canWrite func(s crm.Scope, v T) bool
}

// findRecord reads one record under the principal's read scope.
func findRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id int64) (T, error) {
	var v T
	if err := s.require(p, policy.ReadClients); err != nil {
		return v, err
	}
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		v, err = o.byID(ctx, tx, s.pol.ReadScope(p), id, false)
		return err
	})
	return v, err
}

// lookupWritable loads a live record the principal may change: ENOTFOUND
// when it cannot see it, EFORBIDDEN when it can see but not change it.
func lookupWritable[T any](ctx context.Context, s *Service, tx crm.Tx, p *crm.Principal, o ops[T], id int64) (T, error) {
	sc := s.pol.WriteScope(p)
	v, err := o.byID(ctx, tx, sc, id, false)
	if err != nil {
		return v, s.writable(ctx, p, err, func(sc crm.Scope) error { _, err := o.byID(ctx, tx, sc, id, false); return err })
	}
	if o.canWrite != nil && !o.canWrite(sc, v) {
		return v, forbidden()
	}
	return v, nil
}

// updateRecord runs a read-modify-write of one record in one transaction.
// ifVersion, when not zero, must equal the stored version (If-Match). A
// caller that gave no version never sees a conflict it did not ask about:
// when a concurrent writer wins the race (PostgreSQL runs writers
// concurrently; SQLite queues them), the change is read again and reapplied.
func updateRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id, ifVersion int64, apply func(tx crm.Tx, v T) error) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := updateOnce(ctx, s, p, o, id, ifVersion, apply)
		if ifVersion != 0 || attempt == 4 || crm.ErrorCode(err) != crm.EPRECONDITION {
			return v, err
		}
	}
}

func updateOnce[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id, ifVersion int64, apply func(tx crm.Tx, v T) error) (T, error) {
	var v T
	if err := s.require(p, policy.WriteClients); err != nil {
		return v, err
	}
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		if v, err = lookupWritable(ctx, s, tx, p, o, id); err != nil {
			return err
		}
		version, updated, _ := o.stamp(v)
		if ifVersion != 0 && ifVersion != *version {
			return stale()
		}
		if err := apply(tx, v); err != nil {
			return err
		}
		*version++
		*updated = tx.Now()
		return o.update(ctx, tx, v)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// deleteRecord soft-deletes a record; it stays restorable for
// crm.DeleteGracePeriod, after which PurgeDeleted removes it.
func deleteRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id int64) error {
	if err := s.require(p, policy.DeleteClients); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx crm.Tx) error {
		v, err := lookupWritable(ctx, s, tx, p, o, id)
		if err != nil {
			return err
		}
		version, updated, deleted := o.stamp(v)
		now := tx.Now()
		*version++
		*updated, *deleted = now, &now
		return o.update(ctx, tx, v)
	})
}

// restoreRecord undoes a soft delete.
func restoreRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id int64) (T, error) {
	var v T
	if err := s.require(p, policy.DeleteClients); err != nil {
		return v, err
	}
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		sc := s.pol.WriteScope(p)
		if v, err = o.byID(ctx, tx, sc, id, true); err != nil {
			return err
		}
		if o.canWrite != nil && !o.canWrite(sc, v) {
			return forbidden()
		}
		version, updated, deleted := o.stamp(v)
		*version++
		*updated, *deleted = tx.Now(), nil
		return o.update(ctx, tx, v)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// createRecord inserts a new record after prepare has validated references
// and set the owner.
func createRecord(ctx context.Context, s *Service, p *crm.Principal, insert func(ctx context.Context, tx crm.Tx, now time.Time) error) error {
	if err := s.require(p, policy.WriteClients); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx crm.Tx) error { return insert(ctx, tx, tx.Now()) })
}

// listRecords checks the principal and list options and runs a list query
// under the read scope (the write scope for the deleted-records bin).
func listRecords[T any](ctx context.Context, s *Service, p *crm.Principal, entity, defaultSort string, deleted bool, o crm.ListOptions,
	list func(tx crm.Tx, sc crm.Scope, q crm.ListQuery) ([]T, string, error)) (*crm.Page[T], error) {
	if err := s.require(p, policy.ReadClients); err != nil {
		return nil, err
	}
	var err error
	if o.Cursor, err = s.openCursor(ctx, o.Cursor); err != nil {
		return nil, err
	}
	q, err := listQuery(entity, defaultSort, o)
	if err != nil {
		return nil, err
	}
	scope := s.pol.ReadScope(p)
	if deleted {
		if !s.pol.Can(p, policy.DeleteClients) {
			return nil, forbidden()
		}
		scope = s.pol.WriteScope(p)
	}
	var items []T
	var next string
	err = s.store.Read(ctx, func(tx crm.Tx) (err error) {
		items, next, err = list(tx, scope, q)
		return err
	})
	if err != nil {
		return nil, err
	}
	if next, err = s.sealCursor(ctx, next); err != nil {
		return nil, err
	}
	return page(items, next), nil
}
