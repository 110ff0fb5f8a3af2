package sqlstore

import (
	"context"

	"github.com/custos-crm/custos/internal/crm"
)

const companyCols = `id, name, domain, industry, phone, address, notes, tags,
	owner_id, team_id, version, created_at, updated_at, deleted_at`

var (
	sqlInsertCompany = Statement(`INSERT INTO companies (name, domain, industry,
		phone, address, notes, tags, owner_id, team_id, version, created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlInsertCompanyID = withID(sqlInsertCompany)
	sqlUpdateCompany   = Statement(`UPDATE companies SET name = ?, domain = ?, industry = ?, phone = ?, address = ?, notes = ?, tags = ?, owner_id = ?, team_id = ?,
		version = ?, updated_at = ?, deleted_at = ?
		WHERE id = ? AND version = ?`)
)

// scanCompany scans the columns of companyCols, then extra.
func scanCompany(sc Row, extra ...any) (*crm.Company, error) {
	var (
		c                crm.Company
		deletedAt        *int64
		tags             string
		created, updated int64
	)
	dest := []any{&c.ID, &c.Name, &c.Domain, &c.Industry, &c.Phone, &c.Address, &c.Notes,
		&tags, &c.OwnerID, &c.TeamID, &c.Version, &created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if c.Tags, err = DecodeTags(tags); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = FromMicros(created), FromMicros(updated)
	c.DeletedAt = TimePtr(deletedAt)
	return &c, nil
}

// CompanyByID returns the company visible in s; with deleted, only if it is
// soft-deleted. ENOTFOUND otherwise.
func (t Tx) CompanyByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Company, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("company")
	}
	query, args := byIDSQL(t.C, "company", companyCols, deleted), byIDArgs(t.C, "company", s, id, Micros(t.C.Now()))
	c, err := scanCompany(t.C.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, t.C.RowError(err, "company by id", "company")
	}
	return c, nil
}

// Companies lists the companies visible in s that match f: its ids,
// owner, tag and state (crm.CompanyFilter says which filters and orders
// are the service's). With ids it returns every one of them in scope, in
// no order and on one page.
func (t Tx) Companies(ctx context.Context, s crm.Scope, f crm.CompanyFilter, q crm.ListQuery) ([]*crm.Company, string, error) {
	if f.Name != "" || f.Domain != "" || f.Q != "" || f.NoSearch != nil {
		// Sealed values: a caller that asks must not get every company.
		return nil, "", crm.Errorf(crm.EINVALID, "the store cannot filter companies by name, domain or words: they are sealed (the service's index does)")
	}
	var w where
	if !t.scoped(ctx, &w, "company", s, f.IDs) {
		return []*crm.Company{}, "", nil
	}
	if !f.AnyState {
		w.deleted(f.Deleted)
	}
	if f.IDs != nil {
		w.and(t.C.InIDs("id", f.IDs))
	}
	eqInt(&w, "owner_id", f.OwnerID)
	tagFilter(&w, TagCompany, f.Tag)
	if f.IDs != nil {
		rows, err := byIDs(ctx, t.C, "companies", companyCols, &w, "company", scanCompany)
		return rows, "", err
	}
	l, err := buildList(t.C, "companies", "companies", companyCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t.C, l, "company", scanCompany, func(c *crm.Company) int64 { return c.ID })
}

func companyArgs(c *crm.Company) []any {
	return []any{c.Name, c.Domain, c.Industry,
		c.Phone, c.Address, c.Notes, EncodeTags(c.Tags), c.OwnerID, NullID(c.TeamID), c.Version}
}

// InsertCompany stores a new company and sets c.ID.
func (t Tx) InsertCompany(ctx context.Context, c *crm.Company) error {
	args := append(companyArgs(c), Micros(c.CreatedAt), Micros(c.UpdatedAt), NullMicros(c.DeletedAt))
	id, err := t.insertRecord(ctx, sqlInsertCompany, sqlInsertCompanyID, c.ID, args...)
	if err != nil {
		return t.C.DBError(err, "insert company", "company", "")
	}
	if err := t.setTags(ctx, TagCompany, id, c.Tags, false); err != nil {
		return err
	}
	c.ID = id
	return nil
}

// UpdateCompany stores c if the stored version is c.Version-1; EPRECONDITION
// otherwise.
func (t Tx) UpdateCompany(ctx context.Context, c *crm.Company) error {
	args := append(companyArgs(c), Micros(c.UpdatedAt), NullMicros(c.DeletedAt), c.ID, c.Version-1)
	ok, err := t.changed(ctx, sqlUpdateCompany, args...)
	if err != nil {
		return t.C.DBError(err, "update company", "company", "")
	}
	if !ok {
		return Stale("company")
	}
	return t.setTags(ctx, TagCompany, c.ID, c.Tags, true)
}
