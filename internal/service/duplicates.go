package service

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// The duplicates view (ENC-4): contacts that share an email or a phone,
// found by their blind-index tokens, never by opening every contact.
const (
	// DefaultDuplicateGroups and MaxDuplicateGroups bound a page's groups.
	DefaultDuplicateGroups = 20
	MaxDuplicateGroups     = 40
	// DuplicatesShown is how many contacts of a group a page shows (its
	// oldest); the group's count says how many there are.
	DuplicatesShown = 5
)

// duplicateMatches are the fields contacts are matched by, with their
// blind-index columns.
var duplicateMatches = map[string]string{"email": "email_token", "phone": "phone_token"}

// FindDuplicateContacts implements crm.ContactService: a page of groups of
// the live contacts in p's read scope that share an email (match
// "email") or a phone ("phone"), normalised as the tokens are (the email
// lower-cased, the phone in E.164). A field p may not read is refused, as
// a filter on it is: equal values would tell what it hides. The contacts
// are read, opened and delivered as every list's are.
func (s *Service) FindDuplicateContacts(ctx context.Context, p *crm.Principal, match string, o crm.ListOptions) (*crm.Page[*crm.DuplicateGroup], error) {
	if err := s.require(p, contactOps.verb(policy.Read)); err != nil {
		return nil, err
	}
	col, ok := duplicateMatches[match]
	if !ok {
		return nil, crm.Invalid("match", "must be email or phone")
	}
	if err := s.fieldFilters(p, "contact", map[string]bool{match: true}); err != nil {
		return nil, err
	}
	limit := o.Limit
	switch {
	case limit == 0:
		limit = DefaultDuplicateGroups
	case limit < 0 || limit > MaxDuplicateGroups:
		return nil, crm.Invalid("limit", "must be between 1 and 40")
	}
	if o.Sort != "" {
		return nil, crm.Invalid("sort", "duplicates come in one order")
	}
	after := ""
	if o.Cursor != "" {
		plain, err := s.openCursor(ctx, o.Cursor)
		if err != nil {
			return nil, err
		}
		var found bool
		if after, found = strings.CutPrefix(plain, "duplicates:"+match+":"); !found || after == "" {
			return nil, badCursor()
		}
	}
	scope := s.pol.ReadScope(p, "contact")
	var groups []crm.Duplicates
	contacts, err := readOpened(ctx, s, p, contactOps, func(tx crm.RecordTx) ([]*crm.Contact, error) {
		var err error
		if groups, err = tx.DuplicateContacts(ctx, scope, col, after, limit+1, DuplicatesShown); err != nil {
			return nil, err
		}
		var ids []int64
		for _, g := range groups[:min(len(groups), limit)] {
			ids = append(ids, g.IDs...)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		rows, _, err := tx.Contacts(ctx, scope, crm.ContactFilter{IDs: ids}, crm.ListQuery{Sort: "created_at", Limit: len(ids)})
		return rows, err
	})
	if err != nil {
		return nil, err
	}
	next := ""
	if len(groups) > limit {
		groups = groups[:limit]
		if next, err = s.sealCursor(ctx, "duplicates:"+match+":"+groups[limit-1].Token); err != nil {
			return nil, err
		}
	}
	byID := make(map[int64]*crm.Contact, len(contacts))
	for _, c := range contacts {
		byID[c.ID] = c
	}
	out := make([]*crm.DuplicateGroup, 0, len(groups))
	for _, g := range groups {
		dg := &crm.DuplicateGroup{Match: match, Count: g.Count, Contacts: make([]*crm.Contact, 0, len(g.IDs))}
		for _, id := range g.IDs {
			if c := byID[id]; c != nil {
				dg.Contacts = append(dg.Contacts, c)
			}
		}
		out = append(out, dg)
	}
	return page(out, next), nil
}
