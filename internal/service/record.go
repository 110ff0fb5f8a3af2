package service

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// ops tells the generic record operations how to reach one entity's rows,
// so that the read, write, delete and restore rules, and the hooks every
// record passes (hooks.go), exist once for all entities.
type ops[T any] struct {
	entity string // "contact"
	list   string // its list, as crm.SortFields names it: "contacts"
	id     func(v T) int64
	byID   func(ctx context.Context, tx crm.RecordTx, s crm.Scope, id int64, deleted bool) (T, error)
	insert func(ctx context.Context, tx crm.RecordTx, v T) error
	update func(ctx context.Context, tx crm.RecordTx, v T) error
	stamp  func(v T) (version *int64, updated *time.Time, deleted **time.Time)
	// writeScope, when set, replaces the policy's write scope (a task's
	// assignee may change its status alone).
	writeScope func(s *Service, p *crm.Principal) crm.Scope
	// partOf, when set, is the entity whose verbs govern this one: a
	// consent is read with its contact and recorded by whoever may change
	// the contact.
	partOf string
}

// verb is the action of v on o's records, for the policy.
func (o ops[T]) verb(v policy.Verb) policy.Action {
	if o.partOf != "" {
		if v == policy.Create {
			v = policy.Update
		}
		return policy.On(o.partOf, v)
	}
	return policy.On(o.entity, v)
}

// findRecord reads one record under the principal's read scope.
func findRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id int64) (T, error) {
	var v T
	if err := s.require(p, o.verb(policy.Read)); err != nil {
		return v, err
	}
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		v, err = readByID(ctx, s, tx, o, s.pol.ReadScope(p, o.entity), id, false)
		return err
	})
	if err == nil {
		err = deliver(ctx, s, p, o, ActionRead, v)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// lookupWritable loads a live record the principal may change: ENOTFOUND
// when it cannot see it, EFORBIDDEN when it can see but not change it.
func lookupWritable[T any](ctx context.Context, s *Service, tx crm.RecordTx, p *crm.Principal, o ops[T], id int64) (T, error) {
	sc := s.pol.WriteScope(p, o.entity)
	if o.writeScope != nil {
		sc = o.writeScope(s, p)
	}
	return lookupIn(ctx, s, tx, p, o, sc, id, false)
}

// lookupIn loads a record of o in scope sc (live, or with deleted only a
// soft-deleted one): ENOTFOUND when the principal cannot see it either,
// EFORBIDDEN when it can see it but sc does not hold it.
func lookupIn[T any](ctx context.Context, s *Service, tx crm.RecordTx, p *crm.Principal, o ops[T], sc crm.Scope, id int64, deleted bool) (T, error) {
	v, err := readByID(ctx, s, tx, o, sc, id, deleted)
	if err != nil {
		return v, s.writable(ctx, p, o.entity, err, func(sc crm.Scope) error { _, err := o.byID(ctx, tx, sc, id, deleted); return err })
	}
	return v, nil
}

// updateRecord runs a read-modify-write of one record in one transaction.
// ifVersion, when not zero, must equal the stored version (If-Match). A
// caller that gave no version never sees a conflict it did not ask about:
// when a concurrent writer wins the race (PostgreSQL runs writers
// concurrently; SQLite queues them), the change is read again and reapplied.
func updateRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id, ifVersion int64, in any, apply func(tx crm.RecordTx, v T) error) (T, error) {
	if err := s.require(p, o.verb(policy.Update)); err != nil {
		var zero T
		return zero, err
	} else if err := s.editable(p, o.entity, in); err != nil {
		var zero T
		return zero, err
	}
	for attempt := 0; ; attempt++ {
		v, err := updateOnce(ctx, s, p, o, id, ifVersion, apply)
		if ifVersion != 0 || attempt == 4 || crm.ErrorCode(err) != crm.EPRECONDITION {
			if err == nil {
				err = deliver(ctx, s, p, o, ActionUpdate, v)
			}
			if err != nil {
				var zero T
				return zero, err
			}
			return v, nil
		}
	}
}

func updateOnce[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id, ifVersion int64, apply func(tx crm.RecordTx, v T) error) (T, error) {
	var v T
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
		return store(ctx, s, tx, o, v, o.update)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// deleteRecord soft-deletes a record; it stays restorable for
// crm.DeleteGracePeriod, after which PurgeDeleted removes it. Deleting is
// for whoever controls the record (policy.ControlScope).
func deleteRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id int64) error {
	if err := s.require(p, o.verb(policy.Delete)); err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx crm.Tx) error {
		v, err := lookupIn(ctx, s, tx, p, o, s.pol.ControlScope(p, o.entity, policy.Delete), id, false)
		if err != nil {
			return err
		}
		version, updated, deleted := o.stamp(v)
		now := tx.Now()
		*version++
		*updated, *deleted = now, &now
		return store(ctx, s, tx, o, v, o.update)
	})
}

// restoreRecord undoes a soft delete.
func restoreRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], id int64) (T, error) {
	var v T
	if err := s.require(p, o.verb(policy.Delete)); err != nil {
		return v, err
	}
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		sc := s.pol.ControlScope(p, o.entity, policy.Delete)
		if v, err = readByID(ctx, s, tx, o, sc, id, true); err != nil {
			return err
		}
		version, updated, deleted := o.stamp(v)
		*version++
		*updated, *deleted = tx.Now(), nil
		return store(ctx, s, tx, o, v, o.update)
	})
	if err == nil {
		err = deliver(ctx, s, p, o, ActionRestore, v)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// createRecord inserts the new record v, made from the input in, after
// prepare has validated its references and set its owner and times (now
// is the transaction's).
func createRecord[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], v T, in any, prepare func(tx crm.RecordTx, now time.Time) error) (T, error) {
	var zero T
	if err := s.require(p, o.verb(policy.Create)); err != nil {
		return zero, err
	} else if err := s.editable(p, o.entity, in); err != nil {
		return zero, err
	}
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		if err := prepare(tx, tx.Now()); err != nil {
			return err
		}
		return store(ctx, s, tx, o, v, o.insert)
	})
	if err == nil {
		err = deliver(ctx, s, p, o, ActionCreate, v)
	}
	if err != nil {
		return zero, err
	}
	return v, nil
}

// listRecords checks the principal and list options and runs a list query
// under the read scope (the write scope for the deleted-records bin).
func listRecords[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], defaultSort string, deleted bool, lo crm.ListOptions,
	list func(tx crm.RecordTx, sc crm.Scope, q crm.ListQuery) ([]T, string, error)) (*crm.Page[T], error) {
	if err := s.require(p, o.verb(policy.Read)); err != nil {
		return nil, err
	}
	if err := s.sortable(p, o.entity, lo); err != nil {
		return nil, err
	}
	var err error
	if lo.Cursor, err = s.openCursor(ctx, lo.Cursor); err != nil {
		return nil, err
	}
	q, err := listQuery(o.list, defaultSort, lo)
	if err != nil {
		return nil, err
	}
	scope := s.pol.ReadScope(p, o.entity)
	if deleted {
		// The bin shows what the caller could restore.
		if !s.pol.Can(p, o.verb(policy.Delete)) {
			return nil, forbidden()
		}
		scope = s.pol.ControlScope(p, o.entity, policy.Delete)
	}
	var next string
	items, err := readOpened(ctx, s, p, o, func(tx crm.RecordTx) (items []T, err error) {
		items, next, err = list(tx, scope, q)
		return items, err
	})
	if err != nil {
		return nil, err
	}
	if next, err = s.sealCursor(ctx, next); err != nil {
		return nil, err
	}
	return page(items, next), nil
}

// readRecords reads the records read returns (all of them: a record's
// consents) under the principal's read scope.
func readRecords[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], read func(tx crm.RecordTx, sc crm.Scope) ([]T, error)) ([]T, error) {
	if err := s.require(p, o.verb(policy.Read)); err != nil {
		return nil, err
	}
	scope := s.pol.ReadScope(p, o.entity)
	return readOpened(ctx, s, p, o, func(tx crm.RecordTx) ([]T, error) { return read(tx, scope) })
}

// readOpened runs read, opens what it returns inside the read, and
// delivers the records to p (Redact, Subject): the tail every read of
// several records shares.
func readOpened[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], read func(tx crm.RecordTx) ([]T, error)) ([]T, error) {
	var items []T
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if items, err = read(tx); err != nil {
			return err
		}
		return opened(ctx, s, tx, o, items...)
	})
	if err == nil {
		err = deliver(ctx, s, p, o, ActionList, items...)
	}
	if err != nil {
		return nil, err
	}
	return items, nil
}
