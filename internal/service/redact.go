package service

import (
	"slices"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/mask"
	"github.com/custos-crm/custos/internal/policy"
)

// Field-level security on the way out (ACL-3): every record a principal
// gets passes redact (from deliver, hooks.go) after the transaction. A
// hidden field is emptied, so that it is absent from the JSON (every
// protected field is omitempty) and from every page; a masked one is
// replaced by its mask and named in the record's Masked list. Filters,
// sorts and searches on such fields are refused before the query runs
// (readable, below), so no list, count or cursor depends on them.

// maskers are the masks of the protected fields (policy.Protected): what a
// role that sees a field masked is shown of it. Free text has no mask that
// keeps it useful and private: masked notes, bodies and descriptions are
// hidden.
var maskers = map[string]func(string) string{
	"email": mask.Email, "phone": mask.Phone, "birthday": mask.Birthday, "address": mask.Address,
	"title": mask.Text, "domain": mask.Text,
	"notes": hideText, "body": hideText, "description": hideText,
}

func hideText(string) string { return "" }

// protect applies level to the field held at v, recording a mask in masked.
func protect(levels map[string]crm.FieldLevel, field string, v *string, masked *[]string) {
	switch levels[field] {
	case crm.FieldHidden:
		*v = ""
	case crm.FieldMasked:
		if *v == "" {
			return
		}
		// Free text has no useful mask: it is absent, and named in masked,
		// so that the caller knows there is a value to reveal.
		*v = maskers[field](*v)
		*masked = append(*masked, field)
	}
}

// redact applies p's field policy for entity to rec.
func (s *Service) redact(p *crm.Principal, entity string, rec any) {
	levels := s.pol.FieldLevels(p, entity)
	if levels == nil {
		return
	}
	switch r := rec.(type) {
	case *crm.Contact:
		for _, f := range []struct {
			name string
			v    *string
		}{{"email", &r.Email}, {"phone", &r.Phone}, {"title", &r.Title}, {"address", &r.Address},
			{"birthday", &r.Birthday}, {"notes", &r.Notes}} {
			protect(levels, f.name, f.v, &r.Masked)
		}
	case *crm.Company:
		for _, f := range []struct {
			name string
			v    *string
		}{{"domain", &r.Domain}, {"phone", &r.Phone}, {"address", &r.Address}, {"notes", &r.Notes}} {
			protect(levels, f.name, f.v, &r.Masked)
		}
	case *crm.Deal:
		protect(levels, "notes", &r.Notes, &r.Masked)
	case *crm.Activity:
		protect(levels, "body", &r.Body, &r.Masked)
	case *crm.Task:
		protect(levels, "description", &r.Description, &r.Masked)
	}
}

// readable refuses a filter, sort or search on a field of entity that p
// may not read (hidden or masked): 400 naming the parameter, before any
// query runs, so that no answer, count or page boundary depends on the
// value (ACL-3).
func (s *Service) readable(p *crm.Principal, entity, param, field string) error {
	if s.pol.Field(p, entity, field).Readable() {
		return nil
	}
	return crm.Invalid(param, "you may not filter, sort or search on "+field)
}

// sortable refuses a sort on a field p may not read.
func (s *Service) sortable(p *crm.Principal, entity string, o crm.ListOptions) error {
	field := o.Sort
	if len(field) > 0 && field[0] == '-' {
		field = field[1:]
	}
	if !slices.Contains(policy.Protected[entity], field) {
		return nil
	}
	return s.readable(p, entity, "sort", field)
}

// fieldFilters refuses the filters given (used[field]) on fields p may not
// read, naming each parameter.
func (s *Service) fieldFilters(p *crm.Principal, entity string, used map[string]bool) error {
	errs := crm.FieldErrors{}
	for field, on := range used {
		if on && !s.pol.Field(p, entity, field).Readable() {
			errs.Add(field, "you may not filter, sort or search on "+field)
		}
	}
	return errs.Err()
}

// unsearchable returns those of fields that a q search must not match for
// p: the ones p may not read.
func (s *Service) unsearchable(p *crm.Principal, entity string, fields ...string) []string {
	var out []string
	for _, f := range fields {
		if !s.pol.Field(p, entity, f).Readable() {
			out = append(out, f)
		}
	}
	return out
}

// FieldLevels returns, per entity, p's level of every field it may not
// edit (policy.FieldLevels); entities whose fields p edits all are left out.
func (s *Service) FieldLevels(p *crm.Principal) map[string]map[string]crm.FieldLevel {
	out := map[string]map[string]crm.FieldLevel{}
	for _, e := range policy.EntityOrder {
		if lv := s.pol.FieldLevels(p, e); lv != nil {
			out[e] = lv
		}
	}
	return out
}

// Permissions returns the actions p may perform: its role's, narrowed by
// an API token's scope (what /api/v1/me shows).
func (s *Service) Permissions(p *crm.Principal) []string {
	out := []string{}
	for _, a := range policy.Actions() {
		if s.pol.Can(p, a) {
			out = append(out, string(a))
		}
	}
	return out
}
