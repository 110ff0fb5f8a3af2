package service

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/memindex"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

var contactOps = ops[*crm.Contact]{
	entity: "contact",
	list:   "contacts",
	id:     func(v *crm.Contact) int64 { return v.ID },
	insert: func(ctx context.Context, tx crm.RecordTx, v *crm.Contact) error { return tx.InsertContact(ctx, v) },
	byID: func(ctx context.Context, tx crm.RecordTx, s crm.Scope, id int64, deleted bool) (*crm.Contact, error) {
		return tx.ContactByID(ctx, s, id, deleted)
	},
	update: func(ctx context.Context, tx crm.RecordTx, c *crm.Contact) error { return tx.UpdateContact(ctx, c) },
	stamp:  func(c *crm.Contact) (*int64, *time.Time, **time.Time) { return &c.Version, &c.UpdatedAt, &c.DeletedAt },
}

// FindContactByID implements crm.ContactService.
func (s *Service) FindContactByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Contact, error) {
	return findRecord(ctx, s, p, contactOps, id)
}

// FindContacts implements crm.ContactService. Its lists are answered by
// the in-memory index (index.go): the store holds names, email and phone
// sealed.
func (s *Service) FindContacts(ctx context.Context, p *crm.Principal, f crm.ContactFilter, o crm.ListOptions) (*crm.Page[*crm.Contact], error) {
	began := time.Now()
	var err error
	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	if err := s.fieldFilters(p, "contact", map[string]bool{"email": f.Email != "", "phone": f.Phone != ""}); err != nil {
		return nil, err
	}
	f.NoSearch = s.unsearchable(p, "contact", "first_name", "last_name", "email", "phone")
	if f.Phone != "" {
		v := validate.New()
		if f.Phone = v.Phone("phone", f.Phone, s.phoneRegion); v.Err() != nil {
			return nil, v.Err()
		}
	}
	f.Tag = strings.ToLower(strings.TrimSpace(f.Tag))
	if f.Q, err = searchText(f.Q); err != nil {
		return nil, err
	}
	// A search by company name matches only companies the caller may read:
	// otherwise it would tell the names of hidden companies letter by letter.
	companies := s.pol.ReadScope(p, "company")
	f.CompanyScope = &companies
	if err := s.syncIndex(ctx, s.contacts, began); err != nil {
		return nil, err
	}
	if f.Q != "" {
		if err := s.syncIndex(ctx, s.companies, began); err != nil {
			return nil, err
		}
	}
	return listRecords(ctx, s, p, contactOps, "last_name", f.Deleted, o, func(tx crm.RecordTx, sc crm.Scope, q crm.ListQuery) ([]*crm.Contact, string, error) {
		return s.contactPage(ctx, tx, sc, f, q)
	})
}

// contactPage is one page of contacts in scope sc matching f: the ids from
// the index, then their rows, in scope, from the store.
func (s *Service) contactPage(ctx context.Context, tx crm.RecordTx, sc crm.Scope, f crm.ContactFilter, q crm.ListQuery) ([]*crm.Contact, string, error) {
	iq, err := indexQuery(q)
	if err != nil {
		return nil, "", err
	}
	iq.Deleted, iq.Owner, iq.Tag = f.Deleted, f.OwnerID, f.Tag
	if f.CompanyID != 0 {
		iq.Eq = append(iq.Eq, memindex.Eq{Attr: attrCompany, Value: f.CompanyID})
	}
	if f.Email != "" {
		iq.Exact = append(iq.Exact, memindex.Term{Field: termEmail, Text: f.Email})
	}
	if f.Phone != "" {
		iq.Exact = append(iq.Exact, memindex.Term{Field: termPhone, Text: strings.TrimPrefix(f.Phone, "+")})
	}
	for _, name := range f.NoSearch {
		iq.Skip = append(iq.Skip, searchedFields[name]...)
	}
	if f.Q != "" {
		if digits, ok := phoneQuery(f.Q); ok {
			iq.Words = []memindex.Word{{Text: digits, Attr: -1}}
		} else {
			companies := companyScope(*f.CompanyScope, tx.Now())
			seen := map[string]bool{}
			for _, w := range strings.Fields(f.Q) {
				if seen[w] {
					continue
				}
				seen[w] = true
				var ids []int64
				if utf8.RuneCountInString(w) >= minCompanyWord {
					var err error
					if ids, err = s.companiesNamed(companies, w); err != nil {
						return nil, "", err
					}
				}
				iq.Words = append(iq.Words, memindex.Word{Text: w, Attr: attrCompany, In: ids})
			}
		}
	}
	return indexPage(s.contacts, sc, tx.Now(), iq, func(ids []int64) ([]*crm.Contact, error) {
		rows, _, err := tx.Contacts(ctx, sc, crm.ContactFilter{IDs: ids, Deleted: f.Deleted}, crm.ListQuery{Sort: "created_at", Limit: len(ids)})
		return rows, err
	}, func(c *crm.Contact) int64 { return c.ID })
}

// companyScope is the index's scope of the companies the caller may read
// (sc); nil when they may read none.
func companyScope(sc crm.Scope, now time.Time) *memindex.Scope {
	if !sc.All && sc.OwnerID == 0 {
		return nil
	}
	scope := indexScope(sc, now)
	return &scope
}

// companiesNamed returns the ids of the live companies in scope with a
// word of their name starting with w, up to maxCompanyMatches (in name
// order): a contact search word matches the contacts of these companies.
func (s *Service) companiesNamed(scope *memindex.Scope, w string) ([]int64, error) {
	if scope == nil {
		return nil, nil
	}
	hits, _, err := s.companies.x().Page(*scope, memindex.Query{Sort: "name", Limit: maxCompanyMatches,
		Words: []memindex.Word{{Text: w, Attr: -1}}, Skip: []uint8{companyDomain, companyNameExact}})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids, nil
}

// searchText validates a q parameter: text of at most 100 characters in
// at most maxSearchWords words.
func searchText(q string) (string, error) {
	v := validate.New()
	q = v.Text("q", q, 100, false, false)
	if err := v.Err(); err != nil {
		return "", err
	}
	if len(strings.Fields(q)) > maxSearchWords {
		return "", crm.Invalid("q", fmt.Sprintf("at most %d words", maxSearchWords))
	}
	return strings.ToLower(q), nil
}

// checkIDs refuses an ids filter longer than a page.
func checkIDs(ids []int64) error {
	if len(ids) > crm.MaxLimit {
		return crm.Invalid("ids", fmt.Sprintf("at most %d ids", crm.MaxLimit))
	}
	return nil
}

// applyContact validates in and copies it onto c. create requires the
// mandatory fields.
func (s *Service) applyContact(c *crm.Contact, in crm.ContactInput, create bool) error {
	v := validate.New()
	if in.FirstName != nil || create {
		c.FirstName = v.Text("first_name", str(in.FirstName), validate.MaxName, false, false)
	}
	if in.LastName != nil || create {
		c.LastName = v.Text("last_name", str(in.LastName), validate.MaxName, false, false)
	}
	if c.FirstName == "" && c.LastName == "" && !v.Failed("first_name") && !v.Failed("last_name") {
		v.Add("last_name", "first_name or last_name is required")
	}
	if in.Email != nil {
		c.Email = v.Email("email", *in.Email, false)
	}
	if in.Phone != nil {
		c.Phone = v.Phone("phone", *in.Phone, s.phoneRegion)
	}
	if in.CompanyID.Set {
		c.CompanyID = in.CompanyID.Ptr()
		if c.CompanyID != nil {
			v.PositiveID("company_id", *c.CompanyID)
		}
	}
	if in.Title != nil {
		c.Title = v.Text("title", *in.Title, validate.MaxShort, false, false)
	}
	if in.Address != nil {
		c.Address = v.Text("address", *in.Address, validate.MaxAddress, false, true)
	}
	if in.Birthday != nil {
		c.Birthday = v.Date("birthday", *in.Birthday)
	}
	if in.Notes != nil {
		c.Notes = v.Text("notes", *in.Notes, validate.MaxText, false, true)
	}
	if in.Tags != nil {
		c.Tags = v.Tags("tags", *in.Tags)
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if pr := in.Preferences; pr != nil {
		if pr.Channel != nil {
			c.Preferences.Channel = v.OneOf("preferences.channel", *pr.Channel, crm.Channels, false)
		}
		if pr.Language != nil {
			c.Preferences.Language = v.Language("preferences.language", *pr.Language)
		}
		if pr.DoNotContact != nil {
			c.Preferences.DoNotContact = *pr.DoNotContact
		}
	}
	return v.Err()
}

// checkCompany fails unless id names a company the principal can see.
func (s *Service) checkCompany(ctx context.Context, tx crm.RecordTx, p *crm.Principal, field string, id *int64) error {
	if id == nil {
		return nil
	}
	if _, err := tx.CompanyByID(ctx, s.pol.ReadScope(p, "company"), *id, false); err != nil {
		return unknownRef(field, "company", err)
	}
	return nil
}

// unknownRef turns a failed reference lookup into a field error.
func unknownRef(field, entity string, err error) error {
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return crm.Invalid(field, "unknown "+entity)
	}
	return err
}

// CreateContact implements crm.ContactService.
func (s *Service) CreateContact(ctx context.Context, p *crm.Principal, in crm.ContactInput) (*crm.Contact, error) {
	c := &crm.Contact{}
	if err := s.require(p, policy.On("contact", policy.Create)); err != nil {
		return nil, err
	} else if err := s.applyContact(c, in, true); err != nil {
		return nil, err
	}
	return createRecord(ctx, s, p, contactOps, c, in, func(tx crm.RecordTx, now time.Time) (err error) {
		if c.OwnerID, c.TeamID, err = s.ownerFor(ctx, tx, p, "contact", 0, in.OwnerID, 0, nil); err != nil {
			return err
		}
		if err := s.checkCompany(ctx, tx, p, "company_id", c.CompanyID); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
		return nil
	})
}

// UpdateContact implements crm.ContactService.
func (s *Service) UpdateContact(ctx context.Context, p *crm.Principal, id int64, in crm.ContactInput, ifVersion int64) (*crm.Contact, error) {
	return updateRecord(ctx, s, p, contactOps, id, ifVersion, in, func(tx crm.RecordTx, c *crm.Contact) (err error) {
		oldCompany := c.CompanyID
		if err := s.applyContact(c, in, false); err != nil {
			return err
		}
		if c.OwnerID, c.TeamID, err = s.ownerFor(ctx, tx, p, "contact", c.ID, in.OwnerID, c.OwnerID, c.TeamID); err != nil {
			return err
		}
		if in.CompanyID.Valid && (oldCompany == nil || *oldCompany != *c.CompanyID) {
			if err := s.checkCompany(ctx, tx, p, "company_id", c.CompanyID); err != nil {
				return err
			}
		}
		return s.keepHiddenLinks(ctx, tx, p, links{company: oldCompany}, crm.Nullable[int64]{}, in.CompanyID, crm.Nullable[int64]{})
	})
}

func stale() error {
	return crm.Errorf(crm.EPRECONDITION, "the record was changed by someone else; reload it and apply your change again")
}

// DeleteContact implements crm.ContactService.
func (s *Service) DeleteContact(ctx context.Context, p *crm.Principal, id int64) error {
	return deleteRecord(ctx, s, p, contactOps, id)
}

// RestoreContact implements crm.ContactService.
func (s *Service) RestoreContact(ctx context.Context, p *crm.Principal, id int64) (*crm.Contact, error) {
	return restoreRecord(ctx, s, p, contactOps, id)
}

// FindTimeline implements crm.ContactService.
func (s *Service) FindTimeline(ctx context.Context, p *crm.Principal, contactID int64, o crm.ListOptions) (*crm.Page[*crm.Activity], error) {
	contacts := s.pol.ReadScope(p, "contact")
	return listRecords(ctx, s, p, activityOps, "-occurred_at", false, o, func(tx crm.RecordTx, _ crm.Scope, q crm.ListQuery) ([]*crm.Activity, string, error) {
		// The contact must be visible; it is not returned.
		if _, err := tx.ContactByID(ctx, contacts, contactID, false); err != nil {
			return nil, "", err
		}
		// Whoever sees the contact sees its whole timeline (ACL-2), the
		// activities others logged on it included: after a reassignment
		// the new owner reads the previous owner's notes, and a manager
		// their team's.
		return tx.Activities(ctx, crm.Scope{All: true}, crm.ActivityFilter{ContactID: contactID}, q)
	})
}

var consentOps = ops[*crm.Consent]{
	entity: "consent",
	partOf: "contact",
	id:     func(c *crm.Consent) int64 { return c.ID },
	insert: func(ctx context.Context, tx crm.RecordTx, c *crm.Consent) error { return tx.InsertConsent(ctx, c) },
}

// FindConsents implements crm.ContactService.
func (s *Service) FindConsents(ctx context.Context, p *crm.Principal, contactID int64) ([]*crm.Consent, error) {
	contacts := s.pol.ReadScope(p, "contact")
	out, err := readRecords(ctx, s, p, consentOps, func(tx crm.RecordTx, _ crm.Scope) ([]*crm.Consent, error) {
		if _, err := tx.ContactByID(ctx, contacts, contactID, false); err != nil {
			return nil, err
		}
		return tx.ConsentsByContact(ctx, contactID)
	})
	if out == nil && err == nil {
		out = []*crm.Consent{}
	}
	return out, err
}

// RecordConsent implements crm.ContactService.
func (s *Service) RecordConsent(ctx context.Context, p *crm.Principal, contactID int64, in crm.ConsentInput) (*crm.Consent, error) {
	if err := s.require(p, policy.On("contact", policy.Update)); err != nil {
		return nil, err
	}
	if p.UserID == 0 {
		return nil, crm.Errorf(crm.EINVALID, "consents are recorded by a user, not by the system")
	}
	v := validate.New()
	c := &crm.Consent{ContactID: contactID, RecordedBy: p.UserID}
	c.Purpose = strings.ToLower(v.Text("purpose", str(in.Purpose), 64, true, false))
	c.Source = v.Text("source", str(in.Source), validate.MaxShort, false, false)
	if in.Granted == nil {
		v.Add("granted", "required")
	} else {
		c.Granted = *in.Granted
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return createRecord(ctx, s, p, consentOps, c, nil, func(tx crm.RecordTx, now time.Time) error {
		// A consent is recorded by whoever may change the contact.
		if _, err := lookupWritable(ctx, s, tx, p, contactOps, contactID); err != nil {
			return err
		}
		c.RecordedAt = now
		return nil
	})
}
