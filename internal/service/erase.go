package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

var _ crm.ErasureService = (*Service)(nil)

// EraseClient implements crm.ErasureService (ENC-5, PRV-3). It takes
// policy.EraseActions (clients.erase, and delete with modify_all on the
// client's entity, on activities and on tasks: the erase deletes the
// client's activities and tasks whoever owns them), control of the record
// and a recent step-up. The record may be live or in the recycle bin. The rows,
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
// bin (controlled takes live records only): ENOTFOUND when p cannot see it
// at all, EFORBIDDEN when p sees but does not control it. It reads for the
// check alone (recordIn), and returns nothing of the record.
func (s *Service) erasable(ctx context.Context, tx crm.RecordTx, p *crm.Principal, entity string, id int64) error {
	either := func(sc crm.Scope) error {
		_, err := recordIn(ctx, tx, entity, sc, id, false)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			_, err = recordIn(ctx, tx, entity, sc, id, true)
		}
		return err
	}
	if err := either(s.pol.ControlScope(p, entity, policy.Delete)); err != nil {
		return s.writable(ctx, p, entity, err, either)
	}
	return nil
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
