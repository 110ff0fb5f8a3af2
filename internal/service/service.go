// Package service is the client-record service of Custos over a crm.Store:
// contacts, companies, deals, activities, tasks, consents and pipelines. It
// is the one path to client data: every method checks the principal's
// access through the policy package, validates input (package validate),
// and passes every record it reads or writes through the hooks (hooks.go)
// that field encryption, field-level security and audit fill. HTTP
// handlers, the CLI and the demo seeder all call it; none of them touch the
// store directly. It knows nothing of passwords, sessions or second
// factors: those are the identity package's, which it must not import.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// Options configure a Service. Zero values take the documented defaults.
type Options struct {
	Policy      policy.Policy
	Logger      *slog.Logger // default: slog.Default()
	PhoneRegion string       // region for phone numbers without a country code; default "RU"

	// Hooks are the layers every client record passes (hooks.go);
	// default NoHooks.
	Hooks Hooks

	// Events records the security events of the record service (shares,
	// reveals) inside their transaction (crm.EventSink); nil: the log alone.
	Events crm.EventSink
	// StepUpWindow is how long a re-authentication allows sharing and
	// revealing (AUTH-4); default policy.DefaultStepUpWindow. Now is the
	// clock it is judged by; default time.Now.
	StepUpWindow time.Duration
	Now          func() time.Time
}

// Service implements crm.ContactService, crm.CompanyService,
// crm.DealService, crm.ActivityService and crm.TaskService.
type Service struct {
	store       crm.Store
	pol         policy.Policy
	log         *slog.Logger
	phoneRegion string
	cursors     cursorKeys
	hooks       Hooks
	events      crm.EventSink
	stepUp      time.Duration
	now         func() time.Time
	contacts    *recordIndex // the in-memory indexes of contacts, companies, deals and tasks (index.go)
	companies   *recordIndex
	deals       *recordIndex
	tasks       *recordIndex
}

var (
	_ crm.ContactService  = (*Service)(nil)
	_ crm.CompanyService  = (*Service)(nil)
	_ crm.DealService     = (*Service)(nil)
	_ crm.ActivityService = (*Service)(nil)
	_ crm.TaskService     = (*Service)(nil)
)

// New returns a Service over store.
func New(store crm.Store, o Options) *Service {
	s := &Service{store: store, pol: o.Policy, log: o.Logger, phoneRegion: strings.ToUpper(o.PhoneRegion), hooks: o.Hooks,
		events: o.Events, stepUp: o.StepUpWindow, now: o.Now}
	s.contacts, s.companies, s.deals, s.tasks = s.newContactIndex(), s.newCompanyIndex(), s.newDealIndex(), s.newTaskIndex()
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.phoneRegion == "" {
		s.phoneRegion = "RU"
	}
	if s.hooks == nil {
		s.hooks = NoHooks{}
	}
	return s
}

// Policy returns the access policy the service enforces.
func (s *Service) Policy() policy.Policy { return s.pol }

func forbidden() error {
	return crm.Errorf(crm.EFORBIDDEN, "you are not allowed to do this")
}

// require is the policy's check of p for a (policy.Policy.Require).
func (s *Service) require(p *crm.Principal, a policy.Action) error { return s.pol.Require(p, a) }

// requireStepUp is the step-up guard of sharing and revealing (AUTH-4).
func (s *Service) requireStepUp(p *crm.Principal) error {
	return policy.RequireStepUp(p, s.now(), s.stepUp)
}

// writeEvents runs fn in one write transaction in which fn may emit
// events (through emit, into the sink, inside the transaction); once it
// has committed they go to the log.
func (s *Service) writeEvents(ctx context.Context, fn func(tx crm.Tx, emit func(crm.Event) error) error) error {
	var events []crm.Event
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		events = events[:0]
		return fn(tx, func(e crm.Event) error {
			if s.events != nil {
				if err := s.events.Emit(ctx, tx, e); err != nil {
					return fmt.Errorf("service: recording the %s event: %w", e.Type, err)
				}
			}
			events = append(events, e)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		s.log.LogAttrs(ctx, slog.LevelInfo, "security event", e.Attrs()...)
	}
	return nil
}

// event is an event of p's acting on a record.
func event(p *crm.Principal, typ, entity string, id int64) crm.Event {
	return crm.Event{Type: typ, ActorID: p.UserID, IP: p.IP, RequestID: p.RequestID, Entity: entity, RecordID: id}
}

// writable resolves the failure of a lookup under the write scope: a record
// the principal can read but not change is EFORBIDDEN, anything else stays
// ENOTFOUND so that existence does not leak.
func (s *Service) writable(ctx context.Context, p *crm.Principal, entity string, err error, lookup func(crm.Scope) error) error {
	if crm.ErrorCode(err) != crm.ENOTFOUND {
		return err
	}
	if lookup(s.pol.ReadScope(p, entity)) == nil {
		return forbidden()
	}
	return err
}

// ownerFor decides the owner of a new record of entity or a change of
// owner of record id, and the team that comes with it (ACL-2): a record's
// team is its owner's team, taken when the record is made or changes
// owner; otherwise it keeps currentTeam. Giving a record to someone else
// is the Transfer verb, on a record the principal controls
// (policy.ControlScope): a share or a team default lets one change a
// record, never give it away.
func (s *Service) ownerFor(ctx context.Context, tx crm.RecordTx, p *crm.Principal, entity string, id int64, requested *int64, current int64, currentTeam *int64) (int64, *int64, error) {
	if requested == nil {
		if current != 0 {
			return current, currentTeam, nil
		}
		if p.UserID == 0 {
			return 0, nil, crm.Invalid("owner_id", "required")
		}
		// The team from the user row, read (and on PostgreSQL locked) in
		// this transaction: the principal's may be older than a move.
		team, err := tx.TeamOf(ctx, p.UserID)
		if err != nil {
			return 0, nil, err
		}
		return p.UserID, team, nil
	}
	// Creating a record for oneself needs no special right; giving a record
	// to someone else, or changing the owner of an existing one, does.
	changes := (current == 0 && *requested != p.UserID) || (current != 0 && *requested != current)
	notAllowed := &crm.Error{Code: crm.EFORBIDDEN, Message: "you may not assign records to other users", Fields: map[string]string{"owner_id": "not allowed"}}
	if changes && !s.pol.Can(p, policy.On(entity, policy.Transfer)) {
		return 0, nil, notAllowed
	}
	if changes && current != 0 {
		if _, err := s.inScope(ctx, tx, entity, s.pol.ControlScope(p, entity, policy.Transfer), id); crm.ErrorCode(err) == crm.ENOTFOUND {
			return 0, nil, notAllowed
		} else if err != nil {
			return 0, nil, err
		}
	}
	u, err := tx.UserByID(ctx, *requested)
	if err != nil || u.Disabled {
		return 0, nil, crm.Invalid("owner_id", "unknown user")
	}
	if current != 0 && !changes {
		return u.ID, currentTeam, nil
	}
	return u.ID, u.TeamID, nil
}

// inScope checks that the live record id of entity is in sc and returns
// its owner; ENOTFOUND otherwise. It reads for the check alone and returns
// nothing of the record to anyone.
func (s *Service) inScope(ctx context.Context, tx crm.RecordTx, entity string, sc crm.Scope, id int64) (owner int64, err error) {
	return recordIn(ctx, tx, entity, sc, id, false)
}

// recordIn is inScope for a live record, or with deleted for one in the
// recycle bin.
func recordIn(ctx context.Context, tx crm.RecordTx, entity string, sc crm.Scope, id int64, deleted bool) (owner int64, err error) {
	switch entity {
	case "contact":
		var v *crm.Contact
		if v, err = tx.ContactByID(ctx, sc, id, deleted); err == nil {
			owner = v.OwnerID
		}
	case "company":
		var v *crm.Company
		if v, err = tx.CompanyByID(ctx, sc, id, deleted); err == nil {
			owner = v.OwnerID
		}
	case "deal":
		var v *crm.Deal
		if v, err = tx.DealByID(ctx, sc, id, deleted); err == nil {
			owner = v.OwnerID
		}
	case "activity":
		var v *crm.Activity
		if v, err = tx.ActivityByID(ctx, sc, id, deleted); err == nil {
			owner = v.OwnerID
		}
	case "task":
		var v *crm.Task
		if v, err = tx.TaskByID(ctx, sc, id, deleted); err == nil {
			owner = v.OwnerID
		}
	default:
		err = crm.Errorf(crm.EINTERNAL, "unknown entity %q", entity)
	}
	return owner, err
}

// controlled checks that p controls the live record id of entity for verb
// (policy.ControlScope) and returns its owner: ENOTFOUND when p cannot
// even see it, EFORBIDDEN when p sees but does not control it.
func (s *Service) controlled(ctx context.Context, tx crm.RecordTx, p *crm.Principal, entity string, verb policy.Verb, id int64) (int64, error) {
	owner, err := s.inScope(ctx, tx, entity, s.pol.ControlScope(p, entity, verb), id)
	if err != nil {
		return 0, s.writable(ctx, p, entity, err, func(sc crm.Scope) error { _, err := s.inScope(ctx, tx, entity, sc, id); return err })
	}
	return owner, nil
}

// editable refuses an input that sets a field of entity the principal may
// not edit (ACL-3): hidden, masked or read-only for its role. Every such
// field is named, with a 400, before anything is written.
func (s *Service) editable(p *crm.Principal, entity string, in any) error {
	levels := s.pol.FieldLevels(p, entity)
	if levels == nil {
		return nil
	}
	errs := crm.FieldErrors{}
	for _, f := range crm.GivenFields(in) {
		if _, ok := levels[f]; ok {
			errs.Add(f, "you may not change this field")
		}
	}
	return errs.Err()
}

// listQuery turns the API's list options into a store query for entity.
func listQuery(entity, defaultSort string, o crm.ListOptions) (crm.ListQuery, error) {
	q := crm.ListQuery{Limit: o.Limit}
	if q.Limit <= 0 {
		q.Limit = crm.DefaultLimit
	}
	if q.Limit > crm.MaxLimit {
		return q, crm.Invalid("limit", "must be between 1 and 200")
	}
	sort := o.Sort
	if sort == "" {
		sort = defaultSort
	}
	q.Desc = strings.HasPrefix(sort, "-")
	q.Sort = strings.TrimPrefix(sort, "-")
	ok := false
	for _, f := range crm.SortFields[entity] {
		ok = ok || f == q.Sort
	}
	if !ok {
		return q, crm.Invalid("sort", "must be one of "+strings.Join(crm.SortFields[entity], ", ")+", optionally prefixed by -")
	}
	if o.Cursor != "" {
		c, err := crm.DecodeCursor(o.Cursor, q.Sort)
		if err != nil {
			return q, err
		}
		q.After = c
	}
	return q, nil
}

// page wraps a store result.
func page[T any](items []T, next string) *crm.Page[T] {
	if items == nil {
		items = []T{}
	}
	return &crm.Page[T]{Items: items, NextCursor: next}
}

// ChangeRetention is how long the store keeps its change sequence: an
// instance that has not read it for longer reads every record again.
const ChangeRetention = 24 * time.Hour

// PurgeDeleted removes the records whose grace period is over
// (crm.DeleteGracePeriod), and the change sequence older than
// ChangeRetention. The server runs it periodically, with the identity
// service's Purge.
//
// With field encryption the purge shreds as an erasure does (ENC-5): the
// data keys of the clients it removes are destroyed in its transaction,
// after the records they sealed that outlive their client are sealed again
// under their new client's key.
func (s *Service) PurgeDeleted(ctx context.Context) (int64, error) {
	var n int64
	var keys []int64
	err := s.store.Write(ctx, func(tx crm.Tx) (err error) {
		before := tx.Now().Add(-crm.DeleteGracePeriod)
		keys = nil
		if p, ok := s.hooks.(prepurger); ok {
			if keys, err = p.BeforePurge(ctx, tx, before); err != nil {
				return err
			}
		}
		if n, err = tx.PurgeDeleted(ctx, before); err != nil {
			return err
		}
		if _, err := tx.PruneChanges(ctx, tx.Now().Add(-ChangeRetention)); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.DeleteDataKey(ctx, k); err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
				return err
			}
		}
		return nil
	})
	if f, ok := s.hooks.(forgetter); ok && err == nil {
		for _, k := range keys {
			f.Forget(k)
		}
	}
	return n, err
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// CheckRecord reports whether p may do verb ("read", "update", "delete",
// "transfer", "share") to the live record id of entity, without returning
// it: nil; EFORBIDDEN when p's role lacks the verb, or p may read the
// record but not do verb to it; ENOTFOUND when p may not read it. The UI
// asks it before it shows the form of a verb.
func (s *Service) CheckRecord(ctx context.Context, p *crm.Principal, entity string, id int64, verb string) error {
	if err := checkEntity(entity); err != nil {
		return err
	}
	v := policy.Verb(verb)
	if err := s.require(p, policy.On(entity, v)); err != nil {
		return err
	}
	var sc crm.Scope
	switch v {
	case policy.Read:
		sc = s.pol.ReadScope(p, entity)
	case policy.Update:
		sc = s.pol.WriteScope(p, entity)
	case policy.Delete, policy.Transfer, policy.Share:
		sc = s.pol.ControlScope(p, entity, v)
	default:
		return crm.Errorf(crm.EINTERNAL, "CheckRecord: unknown verb %q", verb)
	}
	return s.store.Read(ctx, func(tx crm.Tx) error {
		if _, err := s.inScope(ctx, tx, entity, sc, id); err != nil {
			return s.writable(ctx, p, entity, err, func(sc crm.Scope) error { _, err := s.inScope(ctx, tx, entity, sc, id); return err })
		}
		return nil
	})
}
