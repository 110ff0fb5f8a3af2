package crm

import (
	"context"
	"time"
)

// ShareAccess is what a share lets its grantee do with the record.
type ShareAccess string

// The share accesses.
const (
	ShareRead  ShareAccess = "read"  // see the record (a contact: with its timeline and consents)
	ShareWrite ShareAccess = "write" // see and change it; never delete, transfer or share it
)

// Share gives one user, or the members and managers of one team, access to
// one record beyond what their role and teams give them (ACL-2), until
// ExpiresAt if set. Sharing a contact shares its timeline, not the other
// contacts of its company.
type Share struct {
	ID        int64       `json:"id"`
	Entity    string      `json:"entity"` // contact, company, deal, activity, task
	RecordID  int64       `json:"record_id"`
	UserID    *int64      `json:"user_id,omitempty"`
	TeamID    *int64      `json:"team_id,omitempty"`
	Access    ShareAccess `json:"access"`
	ExpiresAt *time.Time  `json:"expires_at,omitempty"`
	// Expired is true once ExpiresAt has passed: the share grants nothing
	// and is purged with the records deleted 30 days before.
	Expired   bool      `json:"expired"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// ShareInput shares a record: with a user or with a team (exactly one),
// for read or write, optionally until a time. Sharing again with the same
// grantee replaces that share's access and expiry.
type ShareInput struct {
	UserID    *int64              `json:"user_id"`
	TeamID    *int64              `json:"team_id"`
	Access    *string             `json:"access"`
	ExpiresAt Nullable[time.Time] `json:"expires_at"`
}

// ShareService shares client records. Listing a record's shares is for
// whoever controls it (owns it, manages its team, or holds modify_all);
// sharing and revoking need the entity's share verb on such a record and
// a recent step-up, and each is a security event.
type ShareService interface {
	// FindShares lists the record's shares, expired ones included.
	FindShares(ctx context.Context, p *Principal, entity string, recordID int64) ([]*Share, error)
	// ShareRecord creates a share, or replaces the grantee's share of the
	// record; created reports which.
	ShareRecord(ctx context.Context, p *Principal, entity string, recordID int64, in ShareInput) (sh *Share, created bool, err error)
	// RevokeShare deletes one share of the record. ENOTFOUND if the record
	// has no such share.
	RevokeShare(ctx context.Context, p *Principal, entity string, recordID, shareID int64) error
}
