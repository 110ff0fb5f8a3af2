package service

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/memindex"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

var activityOps = ops[*crm.Activity]{
	entity: "activity",
	list:   "activities",
	id:     func(v *crm.Activity) int64 { return v.ID },
	insert: func(ctx context.Context, tx crm.RecordTx, v *crm.Activity) error { return tx.InsertActivity(ctx, v) },
	byID: func(ctx context.Context, tx crm.RecordTx, s crm.Scope, id int64, deleted bool) (*crm.Activity, error) {
		return tx.ActivityByID(ctx, s, id, deleted)
	},
	update: func(ctx context.Context, tx crm.RecordTx, a *crm.Activity) error { return tx.UpdateActivity(ctx, a) },
	stamp:  func(a *crm.Activity) (*int64, *time.Time, **time.Time) { return &a.Version, &a.UpdatedAt, &a.DeletedAt },
}

// FindActivityByID implements crm.ActivityService.
func (s *Service) FindActivityByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Activity, error) {
	return findRecord(ctx, s, p, activityOps, id)
}

// FindActivities implements crm.ActivityService.
func (s *Service) FindActivities(ctx context.Context, p *crm.Principal, f crm.ActivityFilter, o crm.ListOptions) (*crm.Page[*crm.Activity], error) {
	var err error
	if f.Type != "" {
		v := validate.New()
		if f.Type = v.OneOf("type", f.Type, crm.ActivityTypes, true); v.Err() != nil {
			return nil, v.Err()
		}
	}
	if f.Q, err = searchText(f.Q); err != nil {
		return nil, err
	}
	return listRecords(ctx, s, p, activityOps, "-occurred_at", f.Deleted, o, func(tx crm.RecordTx, sc crm.Scope, q crm.ListQuery) ([]*crm.Activity, string, error) {
		return s.activityPage(ctx, tx, sc, f, q)
	})
}

// scanBudget bounds the activities one page of a search reads and opens
// (a variable for the tests).
var scanBudget = 2000

// activityPage is one page of activities in scope sc matching f. An
// activity's subject is sealed (ENC-2) and its lists sort by times only,
// so a search (Q) reads the filtered list in its order, opens each
// subject and keeps those every word of Q starts a word of. A page reads
// at most scanBudget activities, whatever the caller's scope: when the
// budget is spent before the page is full, the page is short (empty,
// even) and its cursor goes on after the last activity read, so that the
// next page continues the search. Nothing about subjects rests on disk in
// a searchable form.
func (s *Service) activityPage(ctx context.Context, tx crm.RecordTx, sc crm.Scope, f crm.ActivityFilter, q crm.ListQuery) ([]*crm.Activity, string, error) {
	words := strings.Fields(f.Q)
	f.Q = ""
	if len(words) == 0 {
		return tx.Activities(ctx, sc, f, q)
	}
	out := []*crm.Activity{}
	after := q.After
	for scanned := 0; scanned < scanBudget; {
		rows, next, err := tx.Activities(ctx, sc, f, crm.ListQuery{Sort: q.Sort, Desc: q.Desc, After: after,
			Limit: min(crm.MaxLimit, scanBudget-scanned)})
		if err != nil {
			return nil, "", err
		}
		if err := prefetch(ctx, s, tx, "activity", rows); err != nil {
			return nil, "", err
		}
		for i, a := range rows {
			scanned++
			// The subject opened in a copy (the body left out: it is not
			// searched): the page's rows are opened once more on their
			// way out, as every list's are.
			c := *a
			c.Body = ""
			if err := s.hooks.Open(ctx, tx, "activity", &c); err != nil {
				return nil, "", err
			}
			if !wordsMatch(c.Subject, words) {
				continue
			}
			out = append(out, a)
			if len(out) == q.Limit {
				if i == len(rows)-1 && next == "" {
					return out, "", nil
				}
				return out, crm.EncodeCursor(activityCursor(q.Sort, a)), nil
			}
		}
		if next == "" {
			return out, "", nil
		}
		c := activityCursor(q.Sort, rows[len(rows)-1])
		after = &c
	}
	return out, crm.EncodeCursor(*after), nil
}

// activityCursor is the cursor of a list in the order sort that goes on
// after a, as the store's lists make it.
func activityCursor(sort string, a *crm.Activity) crm.Cursor {
	t := a.OccurredAt
	switch sort {
	case "created_at":
		t = a.CreatedAt
	case "updated_at":
		t = a.UpdatedAt
	}
	return crm.Cursor{Sort: sort, Key: strconv.FormatInt(t.UnixMicro(), 10), ID: a.ID}
}

// wordsMatch reports whether every one of words (lower case) starts a
// word of text, or text itself, as the in-memory index matches.
func wordsMatch(text string, words []string) bool {
	terms := appendWords(nil, 0, text)
	for _, w := range words {
		if !slices.ContainsFunc(terms, func(t memindex.Term) bool { return strings.HasPrefix(t.Text, w) }) {
			return false
		}
	}
	return true
}

func (s *Service) applyActivity(a *crm.Activity, in crm.ActivityInput, create bool) error {
	v := validate.New()
	if in.Type != nil || create {
		a.Type = v.OneOf("type", str(in.Type), crm.ActivityTypes, true)
	}
	if in.Subject != nil || create {
		a.Subject = v.Text("subject", str(in.Subject), validate.MaxShort, true, false)
	}
	if in.Body != nil {
		a.Body = v.Text("body", *in.Body, validate.MaxText, false, true)
	}
	if in.OccurredAt != nil {
		if in.OccurredAt.Year() < 1900 || in.OccurredAt.Year() > 2200 {
			v.Add("occurred_at", "out of range")
		}
		a.OccurredAt = in.OccurredAt.UTC().Truncate(time.Microsecond)
	}
	if in.DurationMin != nil {
		if *in.DurationMin < 0 || *in.DurationMin > 24*60 {
			v.Add("duration_minutes", "must be between 0 and 1440")
		}
		a.DurationMin = *in.DurationMin
	}
	setRef(v, "contact_id", in.ContactID, &a.ContactID)
	setRef(v, "company_id", in.CompanyID, &a.CompanyID)
	setRef(v, "deal_id", in.DealID, &a.DealID)
	if a.ContactID == nil && a.CompanyID == nil && a.DealID == nil {
		v.Add("contact_id", "link the activity to a contact, a company or a deal")
	}
	return v.Err()
}

// setRef applies a nullable reference field.
func setRef(v *validate.Fields, field string, in crm.Nullable[int64], dst **int64) {
	if !in.Set {
		return
	}
	if *dst = in.Ptr(); *dst != nil {
		v.PositiveID(field, **dst)
	}
}

// checkLinks checks that every newly set link names a visible record.
func (s *Service) checkLinks(ctx context.Context, tx crm.RecordTx, p *crm.Principal, contactID, companyID, dealID crm.Nullable[int64]) error {
	if contactID.Valid {
		if _, err := tx.ContactByID(ctx, s.pol.ReadScope(p, "contact"), contactID.V, false); err != nil {
			return unknownRef("contact_id", "contact", err)
		}
	}
	if companyID.Valid {
		if _, err := tx.CompanyByID(ctx, s.pol.ReadScope(p, "company"), companyID.V, false); err != nil {
			return unknownRef("company_id", "company", err)
		}
	}
	if dealID.Valid {
		if _, err := tx.DealByID(ctx, s.pol.ReadScope(p, "deal"), dealID.V, false); err != nil {
			return unknownRef("deal_id", "deal", err)
		}
	}
	return nil
}

// CreateActivity implements crm.ActivityService.
func (s *Service) CreateActivity(ctx context.Context, p *crm.Principal, in crm.ActivityInput) (*crm.Activity, error) {
	a := &crm.Activity{}
	if err := s.require(p, policy.On("activity", policy.Create)); err != nil {
		return nil, err
	} else if err := s.applyActivity(a, in, true); err != nil {
		return nil, err
	}
	return createRecord(ctx, s, p, activityOps, a, in, func(tx crm.RecordTx, now time.Time) (err error) {
		if a.OwnerID, a.TeamID, err = s.ownerFor(ctx, tx, p, "activity", 0, in.OwnerID, 0, nil); err != nil {
			return err
		}
		if err := s.checkLinks(ctx, tx, p, in.ContactID, in.CompanyID, in.DealID); err != nil {
			return err
		}
		if a.OccurredAt.IsZero() {
			a.OccurredAt = now
		}
		a.CreatedAt, a.UpdatedAt, a.Version = now, now, 1
		return nil
	})
}

// UpdateActivity implements crm.ActivityService.
func (s *Service) UpdateActivity(ctx context.Context, p *crm.Principal, id int64, in crm.ActivityInput, ifVersion int64) (*crm.Activity, error) {
	return updateRecord(ctx, s, p, activityOps, id, ifVersion, in, func(tx crm.RecordTx, a *crm.Activity) (err error) {
		oldLinks := links{contact: a.ContactID, company: a.CompanyID, deal: a.DealID}
		if err := s.applyActivity(a, in, false); err != nil {
			return err
		}
		if a.OwnerID, a.TeamID, err = s.ownerFor(ctx, tx, p, "activity", a.ID, in.OwnerID, a.OwnerID, a.TeamID); err != nil {
			return err
		}
		if err := s.checkLinks(ctx, tx, p, in.ContactID, in.CompanyID, in.DealID); err != nil {
			return err
		}
		return s.keepHiddenLinks(ctx, tx, p, oldLinks, in.ContactID, in.CompanyID, in.DealID)
	})
}

// DeleteActivity implements crm.ActivityService.
func (s *Service) DeleteActivity(ctx context.Context, p *crm.Principal, id int64) error {
	return deleteRecord(ctx, s, p, activityOps, id)
}

// RestoreActivity implements crm.ActivityService.
func (s *Service) RestoreActivity(ctx context.Context, p *crm.Principal, id int64) (*crm.Activity, error) {
	return restoreRecord(ctx, s, p, activityOps, id)
}

// links are a record's references to a contact, a company and a deal.
type links struct{ contact, company, deal *int64 }

// keepHiddenLinks refuses an update that changes or clears a reference
// whose current target the principal cannot read: one who may change a
// record through a share must not unlink it from a client they cannot see
// (and so cannot judge), nor learn by the error whether it exists. Each
// such field is named, with a 403.
func (s *Service) keepHiddenLinks(ctx context.Context, tx crm.RecordTx, p *crm.Principal, old links, contactID, companyID, dealID crm.Nullable[int64]) error {
	errs := map[string]string{}
	for _, l := range []struct {
		field, entity string
		old           *int64
		in            crm.Nullable[int64]
	}{{"contact_id", "contact", old.contact, contactID}, {"company_id", "company", old.company, companyID}, {"deal_id", "deal", old.deal, dealID}} {
		if !l.in.Set || l.old == nil || (l.in.Valid && l.in.V == *l.old) {
			continue
		}
		if _, err := s.inScope(ctx, tx, l.entity, s.pol.ReadScope(p, l.entity), *l.old); crm.ErrorCode(err) == crm.ENOTFOUND {
			errs[l.field] = "linked to a record you cannot see"
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return &crm.Error{Code: crm.EFORBIDDEN, Message: "you may not change a link to a record you cannot see", Fields: errs}
	}
	return nil
}
