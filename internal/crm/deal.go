package crm

import (
	"context"
	"time"
)

// Pipeline is a configurable sequence of deal stages.
type Pipeline struct {
	ID     int64    `json:"id"`
	Name   string   `json:"name"`
	Stages []*Stage `json:"stages"`
}

// Stage is one step of a pipeline. Kind is open, won or lost.
type Stage struct {
	ID          int64  `json:"id"`
	PipelineID  int64  `json:"pipeline_id"`
	Name        string `json:"name"`
	Position    int    `json:"position"`
	Probability int    `json:"probability"` // percent, 0..100
	Kind        string `json:"kind"`
}

// Stage kinds.
const (
	StageOpen = "open"
	StageWon  = "won"
	StageLost = "lost"
)

// PipelineInput creates a pipeline with its stages.
type PipelineInput struct {
	Name   *string      `json:"name"`
	Stages []StageInput `json:"stages"`
}

// StageInput is one stage of a new pipeline.
type StageInput struct {
	Name        *string `json:"name"`
	Probability *int    `json:"probability"`
	Kind        *string `json:"kind"`
}

// Deal is a sales opportunity moving through a pipeline. Amount is a decimal
// string in the currency's major unit ("1250.50"); it is stored in minor units
// so that no float ever touches money.
type Deal struct {
	ID            int64      `json:"id"`
	Title         string     `json:"title"`
	PipelineID    int64      `json:"pipeline_id"`
	StageID       int64      `json:"stage_id"`
	Amount        string     `json:"amount"`
	Currency      string     `json:"currency"`                 // ISO 4217
	ExpectedClose string     `json:"expected_close,omitempty"` // YYYY-MM-DD
	ContactID     *int64     `json:"contact_id,omitempty"`
	CompanyID     *int64     `json:"company_id,omitempty"`
	Notes         string     `json:"notes,omitempty"`
	Tags          []string   `json:"tags"`
	OwnerID       int64      `json:"owner_id"`
	TeamID        *int64     `json:"team_id,omitempty"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	DeletedAt     *time.Time `json:"deleted_at,omitempty"`
	// Masked names the fields shown masked to this caller (ACL-3); a field
	// hidden from it is absent.
	Masked []string `json:"masked,omitempty"`

	AmountMinor int64 `json:"-"` // the stored value; Amount is derived from it
}

// DealInput is the client-settable part of a deal.
type DealInput struct {
	Title         *string         `json:"title"`
	PipelineID    *int64          `json:"pipeline_id"`
	StageID       *int64          `json:"stage_id"`
	Amount        *string         `json:"amount"`
	Currency      *string         `json:"currency"`
	ExpectedClose *string         `json:"expected_close"`
	ContactID     Nullable[int64] `json:"contact_id"`
	CompanyID     Nullable[int64] `json:"company_id"`
	Notes         *string         `json:"notes"`
	Tags          *[]string       `json:"tags"`
	OwnerID       *int64          `json:"owner_id"`
}

// DealFilter selects deals.
type DealFilter struct {
	PipelineID int64
	StageID    int64
	ContactID  int64
	CompanyID  int64
	OwnerID    int64
	Tag        string
	Q          string // words, each starting a word of the title
	Deleted    bool
	// IDs are only these deals (at most MaxLimit): the store returns every
	// one of them in scope, in no order and on one page; with AnyState,
	// live and deleted alike (the in-memory index reads them all).
	IDs      []int64
	AnyState bool
}

// DealService reads and writes deals and pipelines.
type DealService interface {
	FindDealByID(ctx context.Context, p *Principal, id int64) (*Deal, error)
	FindDeals(ctx context.Context, p *Principal, f DealFilter, o ListOptions) (*Page[*Deal], error)
	CreateDeal(ctx context.Context, p *Principal, in DealInput) (*Deal, error)
	UpdateDeal(ctx context.Context, p *Principal, id int64, in DealInput, ifVersion int64) (*Deal, error)
	DeleteDeal(ctx context.Context, p *Principal, id int64) error
	RestoreDeal(ctx context.Context, p *Principal, id int64) (*Deal, error)
	// FindPipelines lists pipelines with their stages; any principal with
	// access to client data may read them.
	FindPipelines(ctx context.Context, p *Principal) ([]*Pipeline, error)
	// CreatePipeline is for admins and managers.
	CreatePipeline(ctx context.Context, p *Principal, in PipelineInput) (*Pipeline, error)
}
