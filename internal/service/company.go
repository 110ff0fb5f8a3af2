package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/memindex"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

var companyOps = ops[*crm.Company]{
	entity: "company",
	list:   "companies",
	id:     func(v *crm.Company) int64 { return v.ID },
	insert: func(ctx context.Context, tx crm.RecordTx, v *crm.Company) error { return tx.InsertCompany(ctx, v) },
	byID: func(ctx context.Context, tx crm.RecordTx, s crm.Scope, id int64, deleted bool) (*crm.Company, error) {
		return tx.CompanyByID(ctx, s, id, deleted)
	},
	update: func(ctx context.Context, tx crm.RecordTx, c *crm.Company) error { return tx.UpdateCompany(ctx, c) },
	stamp:  func(c *crm.Company) (*int64, *time.Time, **time.Time) { return &c.Version, &c.UpdatedAt, &c.DeletedAt },
}

// FindCompanyByID implements crm.CompanyService.
func (s *Service) FindCompanyByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Company, error) {
	return findRecord(ctx, s, p, companyOps, id)
}

// FindCompanies implements crm.CompanyService.
func (s *Service) FindCompanies(ctx context.Context, p *crm.Principal, f crm.CompanyFilter, o crm.ListOptions) (*crm.Page[*crm.Company], error) {
	began := time.Now()
	var err error
	f.Name = fold(f.Name)
	f.Domain = strings.ToLower(strings.TrimSpace(f.Domain))
	f.Tag = strings.ToLower(strings.TrimSpace(f.Tag))
	if err := s.fieldFilters(p, "company", map[string]bool{"domain": f.Domain != ""}); err != nil {
		return nil, err
	}
	f.NoSearch = s.unsearchable(p, "company", "domain")
	if f.Q, err = searchText(f.Q); err != nil {
		return nil, err
	}
	if err := checkIDs(f.IDs); err != nil {
		return nil, err
	}
	if err := s.syncIndex(ctx, s.companies, began); err != nil {
		return nil, err
	}
	return listRecords(ctx, s, p, companyOps, "name", f.Deleted, o, func(tx crm.RecordTx, sc crm.Scope, q crm.ListQuery) ([]*crm.Company, string, error) {
		return s.companyPage(ctx, tx, sc, f, q)
	})
}

// companyPage is one page of companies in scope sc matching f: the ids
// from the index (the store holds names and domains sealed), then their
// rows, in scope, from the store. Each word of Q starts a word of the
// name or the domain.
func (s *Service) companyPage(ctx context.Context, tx crm.RecordTx, sc crm.Scope, f crm.CompanyFilter, q crm.ListQuery) ([]*crm.Company, string, error) {
	iq, err := indexQuery(q)
	if err != nil {
		return nil, "", err
	}
	iq.Deleted, iq.Owner, iq.Tag, iq.IDs = f.Deleted, f.OwnerID, f.Tag, f.IDs
	if f.Name != "" {
		iq.Exact = append(iq.Exact, memindex.Term{Field: companyNameExact, Text: f.Name})
	}
	if f.Domain != "" {
		iq.Exact = append(iq.Exact, memindex.Term{Field: companyDomain, Text: f.Domain})
	}
	iq.Skip = []uint8{companyNameExact}
	if slices.Contains(f.NoSearch, "domain") {
		iq.Skip = append(iq.Skip, companyDomain)
	}
	iq.Words = searchWords(f.Q)
	return indexPage(s.companies, sc, tx.Now(), iq, func(ids []int64) ([]*crm.Company, error) {
		rows, _, err := tx.Companies(ctx, sc, crm.CompanyFilter{IDs: ids, Deleted: f.Deleted}, crm.ListQuery{Sort: "created_at", Limit: len(ids)})
		return rows, err
	}, func(c *crm.Company) int64 { return c.ID })
}

func (s *Service) applyCompany(c *crm.Company, in crm.CompanyInput, create bool) error {
	v := validate.New()
	if in.Name != nil || create {
		c.Name = v.Text("name", str(in.Name), validate.MaxShort, true, false)
	}
	if in.Domain != nil {
		c.Domain = v.Domain("domain", *in.Domain)
	}
	if in.Industry != nil {
		c.Industry = v.Text("industry", *in.Industry, validate.MaxName, false, false)
	}
	if in.Phone != nil {
		c.Phone = v.Phone("phone", *in.Phone, s.phoneRegion)
	}
	if in.Address != nil {
		c.Address = v.Text("address", *in.Address, validate.MaxAddress, false, true)
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
	return v.Err()
}

// CreateCompany implements crm.CompanyService.
func (s *Service) CreateCompany(ctx context.Context, p *crm.Principal, in crm.CompanyInput) (*crm.Company, error) {
	c := &crm.Company{}
	if err := s.require(p, policy.On("company", policy.Create)); err != nil {
		return nil, err
	} else if err := s.applyCompany(c, in, true); err != nil {
		return nil, err
	}
	return createRecord(ctx, s, p, companyOps, c, in, func(tx crm.RecordTx, now time.Time) (err error) {
		if c.OwnerID, c.TeamID, err = s.ownerFor(ctx, tx, p, "company", 0, in.OwnerID, 0, nil); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
		return nil
	})
}

// UpdateCompany implements crm.CompanyService.
func (s *Service) UpdateCompany(ctx context.Context, p *crm.Principal, id int64, in crm.CompanyInput, ifVersion int64) (*crm.Company, error) {
	return updateRecord(ctx, s, p, companyOps, id, ifVersion, in, func(tx crm.RecordTx, c *crm.Company) (err error) {
		if err := s.applyCompany(c, in, false); err != nil {
			return err
		}
		c.OwnerID, c.TeamID, err = s.ownerFor(ctx, tx, p, "company", c.ID, in.OwnerID, c.OwnerID, c.TeamID)
		return err
	})
}

// DeleteCompany implements crm.CompanyService.
func (s *Service) DeleteCompany(ctx context.Context, p *crm.Principal, id int64) error {
	return deleteRecord(ctx, s, p, companyOps, id)
}

// RestoreCompany implements crm.CompanyService.
func (s *Service) RestoreCompany(ctx context.Context, p *crm.Principal, id int64) (*crm.Company, error) {
	return restoreRecord(ctx, s, p, companyOps, id)
}
