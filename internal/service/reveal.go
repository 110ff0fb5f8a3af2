package service

import (
	"context"
	"slices"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

var _ crm.RevealService = (*Service)(nil)

// ActionReveal is the Subject action of a reveal (hooks.go).
const ActionReveal = "reveal"

// RevealField implements crm.RevealService. The record is read and
// opened like any other (Open hook), the event committed, and only then
// the value returned and the read reported to Subject.
func (s *Service) RevealField(ctx context.Context, p *crm.Principal, entity string, id int64, field string) (string, error) {
	if err := checkEntity(entity); err != nil {
		return "", err
	}
	if err := s.require(p, policy.On(entity, policy.Read)); err != nil {
		return "", err
	}
	if !slices.Contains(policy.Protected[entity], field) {
		return "", crm.Invalid("field", "must be one of the fields that can be masked: "+joinFields(policy.Protected[entity]))
	}
	switch s.pol.Field(p, entity, field) {
	case crm.FieldHidden:
		return "", &crm.Error{Code: crm.EFORBIDDEN, Message: "this field is hidden from your role", Fields: map[string]string{"field": "hidden"}}
	case crm.FieldRead, crm.FieldEdit:
		return "", crm.Invalid("field", "is not masked for you: read it from the record")
	}
	if err := s.requireStepUp(p); err != nil {
		return "", err
	}
	var value string
	err := s.writeEvents(ctx, func(tx crm.Tx, emit func(crm.Event) error) (err error) {
		if value, err = s.readField(ctx, tx, p, entity, id, field); err != nil {
			return err
		}
		e := event(p, "field.reveal", entity, id)
		e.Field = field
		return emit(e)
	})
	if err == nil {
		err = s.hooks.Subject(ctx, p, ActionReveal, entity, []int64{id})
	}
	if err != nil {
		return "", err
	}
	return value, nil
}

// readField reads one protected field of a record in p's read scope,
// through the Open hook.
func (s *Service) readField(ctx context.Context, tx crm.RecordTx, p *crm.Principal, entity string, id int64, field string) (string, error) {
	sc := s.pol.ReadScope(p, entity)
	switch entity {
	case "contact":
		c, err := readByID(ctx, s, tx, contactOps, sc, id, false)
		if err != nil {
			return "", err
		}
		return map[string]string{"email": c.Email, "phone": c.Phone, "title": c.Title, "address": c.Address,
			"birthday": c.Birthday, "notes": c.Notes}[field], nil
	case "company":
		c, err := readByID(ctx, s, tx, companyOps, sc, id, false)
		if err != nil {
			return "", err
		}
		return map[string]string{"domain": c.Domain, "phone": c.Phone, "address": c.Address, "notes": c.Notes}[field], nil
	case "deal":
		d, err := readByID(ctx, s, tx, dealOps, sc, id, false)
		if err != nil {
			return "", err
		}
		return d.Notes, nil
	case "activity":
		a, err := readByID(ctx, s, tx, activityOps, sc, id, false)
		if err != nil {
			return "", err
		}
		return a.Body, nil
	case "task":
		t, err := readByID(ctx, s, tx, taskOps, sc, id, false)
		if err != nil {
			return "", err
		}
		return t.Description, nil
	}
	return "", crm.Errorf(crm.EINTERNAL, "unknown entity %q", entity)
}

func joinFields(fields []string) string {
	out := ""
	for i, f := range fields {
		if i > 0 {
			out += ", "
		}
		out += f
	}
	return out
}
