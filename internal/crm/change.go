package crm

import (
	"context"
	"errors"
	"time"
)

// Change is one write of a client record as the store's change sequence
// tells it: triggers append one for every insert, update and delete of a
// contact, whoever makes it (the service, the upgrade pass, a rotation, an
// erasure, another instance). The in-memory index of each instance
// follows the sequence (ENC-4, docs/encryption.md).
type Change struct {
	Seq    int64
	Entity string // "contact"
	ID     int64
}

// ChangeMark is how far a reader has read the change sequence: every
// change up to Seq, except those of the transactions in Open and of those
// numbered Xmax or above. On PostgreSQL a transaction draws its sequence
// number when it writes and commits later, so a change with a lower number
// than one already read can still appear: Open lists the transactions
// that were running when the mark was taken, and Xmax is the first
// transaction number the reader's snapshot did not know of (a transaction
// that had its number but had not finished is in neither list when its
// number is above every finished one's). SQLite, with one writer whose
// changes commit in their order, leaves both empty.
type ChangeMark struct {
	Seq  int64
	Open []int64
	Xmax int64
}

// ChangeTx reads and prunes the change sequence.
type ChangeTx interface {
	// ChangeHead returns the mark of the sequence as it is now: a reader
	// that reads everything written so far, then every change after the
	// mark, misses nothing.
	ChangeHead(ctx context.Context) (ChangeMark, error)
	// Changes returns the changes after mark, in sequence order, and the
	// mark after them. It returns ErrChangesGone when the store has pruned
	// changes the reader has not read: it must read everything again.
	Changes(ctx context.Context, after ChangeMark) ([]Change, ChangeMark, error)
	// PruneChanges deletes the changes recorded before before.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
}

// ErrChangesGone is Changes' error for a reader too far behind.
var ErrChangesGone = errors.New("the store has pruned changes this reader has not read")
