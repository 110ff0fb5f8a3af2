package crm

import (
	"context"
	"time"
)

// Erasure is one entry of the erasure ledger (ENC-5, PRV-3): a client
// erased for good, named by entity ("contact" or "company") and id, with
// the time and the staff member who did it. It holds no personal data; it
// outlives the client so that restoring an older backup erases the client
// again.
type Erasure struct {
	ID       int64     `json:"id"`
	Entity   string    `json:"entity"`
	RecordID int64     `json:"record_id"`
	ErasedAt time.Time `json:"erased_at"`
	ErasedBy int64     `json:"erased_by,omitempty"`
	// Records counts what went with the client: the client's own row and
	// its activities, tasks and consents (set by the erase, not stored).
	Records int64 `json:"records,omitempty"`
}

// ErasableEntities are the clients that can be erased: a contact (with
// its activities, tasks and consents) and a company (with its notes and
// the activities and tasks that name it and no contact).
var ErasableEntities = []string{"contact", "company"}

// EraseTx is the part of a transaction that erases clients.
type EraseTx interface {
	// EraseClient deletes the client entity id (live or in the recycle
	// bin) with everything sealed under its data key, the shares of those
	// records and the data key itself, and appends e to the ledger, with
	// e.Records set. It returns the id of the data key it destroyed (0
	// when the client had none). ENOTFOUND when there is no such record.
	EraseClient(ctx context.Context, e *Erasure) (dataKey int64, err error)
	// Erasures returns the ledger's entries with ids above after, by id,
	// up to limit.
	Erasures(ctx context.Context, after int64, limit int) ([]*Erasure, error)
	// Erased reports whether entity id is in the ledger.
	Erased(ctx context.Context, entity string, id int64) (bool, error)
}

// ErasureService erases clients (ENC-5): a permission of its own
// (clients.erase), on a record the caller controls, after a recent
// step-up; each erasure is a security event (client.erase).
type ErasureService interface {
	// EraseClient erases the contact or company id for good. EFORBIDDEN
	// without the permission or the step-up; ENOTFOUND for a record the
	// caller cannot see.
	EraseClient(ctx context.Context, p *Principal, entity string, id int64) (*Erasure, error)
	// FindErasures lists the ledger, oldest first, from after (an id).
	FindErasures(ctx context.Context, p *Principal, after int64, limit int) ([]*Erasure, error)
}
