package crm

import (
	"context"
	"time"
)

// Company is an organisation that contacts belong to.
type Company struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Domain    string     `json:"domain,omitempty"`
	Industry  string     `json:"industry,omitempty"`
	Phone     string     `json:"phone,omitempty"` // E.164
	Address   string     `json:"address,omitempty"`
	Notes     string     `json:"notes,omitempty"`
	Tags      []string   `json:"tags"`
	OwnerID   int64      `json:"owner_id"`
	TeamID    *int64     `json:"team_id,omitempty"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// Masked names the fields shown masked to this caller (ACL-3); a field
	// hidden from it is absent.
	Masked []string `json:"masked,omitempty"`
}

// CompanyInput is the client-settable part of a company.
type CompanyInput struct {
	Name     *string   `json:"name"`
	Domain   *string   `json:"domain"`
	Industry *string   `json:"industry"`
	Phone    *string   `json:"phone"`
	Address  *string   `json:"address"`
	Notes    *string   `json:"notes"`
	Tags     *[]string `json:"tags"`
	OwnerID  *int64    `json:"owner_id"`
}

// CompanyFilter selects companies. A company's name and domain are
// sealed (ENC-2): the store filters by ids, owner, tag and state, in
// created_at or updated_at order; Name, Domain, Q and NoSearch, and the
// name order, are the service's (its in-memory index), and the store
// refuses them. With IDs the store returns every one of them in scope, in
// no order and on one page.
type CompanyFilter struct {
	IDs     []int64 // only these companies (at most MaxLimit), e.g. to name a page's links
	Name    string  // exact, case-insensitive
	Domain  string  // exact, case-insensitive
	OwnerID int64
	Tag     string
	Q       string // words, each starting a word of the name, or the domain's start
	Deleted bool
	// AnyState lists live and deleted companies alike (the in-memory
	// index reads them all); Deleted is then ignored.
	AnyState bool
	// NoSearch names the fields Q must not match ("domain"): those the
	// caller may not read (ACL-3). The service sets it.
	NoSearch []string
}

// CompanyService reads and writes companies; see ContactService for the rules.
type CompanyService interface {
	FindCompanyByID(ctx context.Context, p *Principal, id int64) (*Company, error)
	FindCompanies(ctx context.Context, p *Principal, f CompanyFilter, o ListOptions) (*Page[*Company], error)
	CreateCompany(ctx context.Context, p *Principal, in CompanyInput) (*Company, error)
	UpdateCompany(ctx context.Context, p *Principal, id int64, in CompanyInput, ifVersion int64) (*Company, error)
	DeleteCompany(ctx context.Context, p *Principal, id int64) error
	RestoreCompany(ctx context.Context, p *Principal, id int64) (*Company, error)
}
