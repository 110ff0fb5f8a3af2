package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

var _ crm.ErasureService = (*Service)(nil)

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

// EraseClient implements crm.ErasureService (ENC-5, PRV-3). It takes the
// clients.erase permission, control of the record (as deleting does:
// policy.ControlScope; an administrator controls every record) and a
// recent step-up. The record may be live or in the recycle bin. The rows,
// the data key and the ledger entry go in one transaction with the
// client.erase event; then this instance drops the key from its memory.
func (s *Service) EraseClient(ctx context.Context, p *crm.Principal, entity string, id int64) (*crm.Erasure, error) {
	if !slices.Contains(crm.ErasableEntities, entity) {
		return nil, crm.Invalid("entity", "only a contact or a company can be erased")
	}
	for _, a := range policy.EraseActions(entity) {
		if err := s.require(p, a); err != nil {
			return nil, err
		}
	}
	if err := s.requireStepUp(p); err != nil {
		return nil, err
	}
	e := &crm.Erasure{Entity: entity, RecordID: id, ErasedBy: p.UserID}
	var dataKey int64
	err := s.writeEvents(ctx, func(tx crm.Tx, emit func(crm.Event) error) (err error) {
		if err := s.erasable(ctx, tx, p, entity, id); err != nil {
			return err
		}
		if dataKey, err = tx.EraseClient(ctx, e); err != nil {
			return err
		}
		ev := event(p, "client.erase", entity, id)
		ev.Detail = fmt.Sprintf("%d records erased", e.Records)
		return emit(ev)
	})
	if err != nil {
		return nil, err
	}
	if f, ok := s.hooks.(forgetter); ok && dataKey != 0 {
		f.Forget(dataKey)
	}
	return e, nil
}

// erasable checks that p controls the client entity id, live or in the
// bin (controlled takes live records only): ENOTFOUND when p cannot see it at all, EFORBIDDEN when p sees but
// does not control it. Only the record's existence is read (no hook).
func (s *Service) erasable(ctx context.Context, tx crm.RecordTx, p *crm.Principal, entity string, id int64) error {
	byID := func(sc crm.Scope, deleted bool) error {
		var err error
		switch entity {
		case "contact":
			_, err = contactOps.byID(ctx, tx, sc, id, deleted)
		case "company":
			_, err = companyOps.byID(ctx, tx, sc, id, deleted)
		default:
			err = crm.Errorf(crm.EINTERNAL, "unknown entity %q", entity)
		}
		return err
	}
	either := func(sc crm.Scope) error {
		err := byID(sc, false)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			err = byID(sc, true)
		}
		return err
	}
	err := either(s.pol.ControlScope(p, entity, policy.Delete))
	if crm.ErrorCode(err) == crm.ENOTFOUND && either(s.pol.ReadScope(p, entity)) == nil {
		return forbidden()
	}
	return err
}

// FindErasures implements crm.ErasureService: the ledger, for those who
// hold erasures.read (administrators and auditors by default).
func (s *Service) FindErasures(ctx context.Context, p *crm.Principal, after int64, limit int) ([]*crm.Erasure, error) {
	if err := s.require(p, policy.ReadErasures); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > crm.MaxLimit {
		limit = crm.MaxLimit
	}
	var list []*crm.Erasure
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		list, err = tx.Erasures(ctx, after, limit)
		return err
	})
	return list, err
}
