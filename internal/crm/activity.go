package crm

import (
	"context"
	"time"
)

// Activity types: together they form a client's interaction history.
const (
	ActivityCall    = "call"
	ActivityMeeting = "meeting"
	ActivityEmail   = "email"
	ActivityNote    = "note"
)

// ActivityTypes lists the valid activity types.
var ActivityTypes = []string{ActivityCall, ActivityMeeting, ActivityEmail, ActivityNote}

// Activity is one interaction with a client, linked to a contact, a company
// and/or a deal (at least one).
type Activity struct {
	ID          int64      `json:"id"`
	Type        string     `json:"type"`
	Subject     string     `json:"subject"`
	Body        string     `json:"body,omitempty"`
	OccurredAt  time.Time  `json:"occurred_at"`
	DurationMin int        `json:"duration_minutes,omitempty"`
	ContactID   *int64     `json:"contact_id,omitempty"`
	CompanyID   *int64     `json:"company_id,omitempty"`
	DealID      *int64     `json:"deal_id,omitempty"`
	OwnerID     int64      `json:"owner_id"`
	TeamID      *int64     `json:"team_id,omitempty"`
	Version     int64      `json:"version"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
	// Masked names the fields shown masked to this caller (ACL-3); a field
	// hidden from it is absent.
	Masked []string `json:"masked,omitempty"`
}

// ActivityInput is the client-settable part of an activity.
type ActivityInput struct {
	Type        *string         `json:"type"`
	Subject     *string         `json:"subject"`
	Body        *string         `json:"body"`
	OccurredAt  *time.Time      `json:"occurred_at"`
	DurationMin *int            `json:"duration_minutes"`
	ContactID   Nullable[int64] `json:"contact_id"`
	CompanyID   Nullable[int64] `json:"company_id"`
	DealID      Nullable[int64] `json:"deal_id"`
	OwnerID     *int64          `json:"owner_id"`
}

// ActivityFilter selects activities.
type ActivityFilter struct {
	Type      string
	ContactID int64
	CompanyID int64
	DealID    int64
	OwnerID   int64
	Q         string // words, each starting a word of the subject
	Deleted   bool
}

// ActivityService reads and writes activities.
type ActivityService interface {
	FindActivityByID(ctx context.Context, p *Principal, id int64) (*Activity, error)
	FindActivities(ctx context.Context, p *Principal, f ActivityFilter, o ListOptions) (*Page[*Activity], error)
	CreateActivity(ctx context.Context, p *Principal, in ActivityInput) (*Activity, error)
	UpdateActivity(ctx context.Context, p *Principal, id int64, in ActivityInput, ifVersion int64) (*Activity, error)
	DeleteActivity(ctx context.Context, p *Principal, id int64) error
	RestoreActivity(ctx context.Context, p *Principal, id int64) (*Activity, error)
}
