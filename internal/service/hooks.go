package service

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Hooks are the layers every client record passes on its one way between
// the store and a caller (issue 10, item 4). The generic record functions
// of record.go call them, and no other code of the service reads or writes
// client records, so a layer written here covers every route, page,
// export and command:
//
//   - Seal and Open (field encryption, ENC): Seal is called on each record
//     inside the write, just before the store writes it; Open on each
//     record the store returns, inside the transaction, before the service
//     looks at it (and again on a record just written, so that the caller
//     gets it as it was given).
//   - Redact (field-level security, ACL-3): on each record returned to a
//     principal, after the transaction, before anyone else sees it.
//   - Subject (the audit of reads, AUD-1): once a response, with what it
//     returns to the principal; an error refuses the response.
//
// A record is one of *crm.Contact, *crm.Company, *crm.Deal, *crm.Activity,
// *crm.Task or *crm.Consent; entity names its kind ("contact", …). The
// reference checks of a write (does the company a contact names exist in
// the caller's scope?) read records only for their existence and return
// nothing, and do not pass the hooks.
type Hooks interface {
	Seal(ctx context.Context, tx crm.RecordTx, entity string, rec any) error
	Open(ctx context.Context, tx crm.RecordTx, entity string, rec any) error
	Redact(ctx context.Context, p *crm.Principal, entity string, rec any) error
	Subject(ctx context.Context, p *crm.Principal, action, entity string, ids []int64) error
}

// The actions a Subject call names.
const (
	ActionRead    = "read"    // one record by id
	ActionList    = "list"    // a page of a list or search
	ActionCreate  = "create"  // the record a create returns
	ActionUpdate  = "update"  // the record an update returns
	ActionRestore = "restore" // the record a restore returns
)

// NoHooks is the default: every layer passes records as they are.
type NoHooks struct{}

func (NoHooks) Seal(context.Context, crm.RecordTx, string, any) error { return nil }

func (NoHooks) Open(context.Context, crm.RecordTx, string, any) error { return nil }

func (NoHooks) Redact(context.Context, *crm.Principal, string, any) error { return nil }

func (NoHooks) Subject(context.Context, *crm.Principal, string, string, []int64) error { return nil }

// Sealing is the field-encryption part of Hooks (internal/seal).
type Sealing interface {
	Seal(ctx context.Context, tx crm.RecordTx, entity string, rec any) error
	Open(ctx context.Context, tx crm.RecordTx, entity string, rec any) error
}

// prefetcher is a Sealing that can load the keys of many records at once,
// before they are opened one by one.
type prefetcher interface {
	Prefetch(ctx context.Context, tx crm.RecordTx, entity string, recs []any) error
}

// WithSealing returns h with its Seal and Open from sl.
func WithSealing(h Hooks, sl Sealing) Hooks { return sealing{h, sl} }

type sealing struct {
	Hooks
	sl Sealing
}

func (h sealing) Seal(ctx context.Context, tx crm.RecordTx, entity string, rec any) error {
	return h.sl.Seal(ctx, tx, entity, rec)
}

func (h sealing) Open(ctx context.Context, tx crm.RecordTx, entity string, rec any) error {
	return h.sl.Open(ctx, tx, entity, rec)
}

func (h sealing) Prefetch(ctx context.Context, tx crm.RecordTx, entity string, recs []any) error {
	if p, ok := h.sl.(prefetcher); ok {
		return p.Prefetch(ctx, tx, entity, recs)
	}
	return nil
}

// forgetter is a Sealing that keeps unwrapped data keys in memory and can
// drop one (an erased client's).
type forgetter interface {
	Forget(dataKey int64)
}

func (h sealing) Forget(dataKey int64) {
	if f, ok := h.sl.(forgetter); ok {
		f.Forget(dataKey)
	}
}

// prepurger is a Sealing whose keys the purge of the recycle bin destroys
// (seal.Sealer.BeforePurge).
type prepurger interface {
	BeforePurge(ctx context.Context, tx crm.Tx, before time.Time) ([]int64, error)
}

func (h sealing) BeforePurge(ctx context.Context, tx crm.Tx, before time.Time) ([]int64, error) {
	if p, ok := h.sl.(prepurger); ok {
		return p.BeforePurge(ctx, tx, before)
	}
	return nil, nil
}

// prefetch lets the hooks load at once what opening recs needs (their
// data keys), when they can and there are several.
func prefetch[T any](ctx context.Context, s *Service, tx crm.RecordTx, entity string, recs []T) error {
	p, ok := s.hooks.(prefetcher)
	if !ok || len(recs) < 2 {
		return nil
	}
	all := make([]any, len(recs))
	for i, r := range recs {
		all[i] = r
	}
	return p.Prefetch(ctx, tx, entity, all)
}

// opened runs Open on records just read from the store.
func opened[T any](ctx context.Context, s *Service, tx crm.RecordTx, o ops[T], recs ...T) error {
	if err := prefetch(ctx, s, tx, o.entity, recs); err != nil {
		return err
	}
	for _, r := range recs {
		if err := s.hooks.Open(ctx, tx, o.entity, r); err != nil {
			return err
		}
	}
	return nil
}

// readByID reads one record of o in scope and opens it.
func readByID[T any](ctx context.Context, s *Service, tx crm.RecordTx, o ops[T], sc crm.Scope, id int64, deleted bool) (T, error) {
	v, err := o.byID(ctx, tx, sc, id, deleted)
	if err == nil {
		err = opened(ctx, s, tx, o, v)
	}
	return v, err
}

// store seals a record, writes it with write and opens it again.
func store[T any](ctx context.Context, s *Service, tx crm.RecordTx, o ops[T], v T, write func(ctx context.Context, tx crm.RecordTx, v T) error) error {
	if err := s.hooks.Seal(ctx, tx, o.entity, v); err != nil {
		return err
	}
	if err := write(ctx, tx, v); err != nil {
		return err
	}
	return s.hooks.Open(ctx, tx, o.entity, v)
}

// deliver applies p's field policy to the records a response returns to p
// (redact.go), passes them to the Redact hook and reports them to Subject;
// the response is refused when either fails.
func deliver[T any](ctx context.Context, s *Service, p *crm.Principal, o ops[T], action string, recs ...T) error {
	ids := make([]int64, len(recs))
	for i, r := range recs {
		s.redact(p, o.entity, r)
		if err := s.hooks.Redact(ctx, p, o.entity, r); err != nil {
			return err
		}
		ids[i] = o.id(r)
	}
	return s.hooks.Subject(ctx, p, action, o.entity, ids)
}
