package sqlstore

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// sqlPurge removes soft-deleted records, children first: activities and
// tasks refer to deals, contacts and companies; deals to contacts and
// companies; contacts to companies. Live records that refer to a purged one
// lose the reference (ON DELETE SET NULL); a purged contact's consents go
// with it (ON DELETE CASCADE), and triggers drop the tag rows.
var sqlPurge = []struct{ what, query string }{
	{"shares", Statement(`DELETE FROM shares WHERE (entity = 'activity' AND record_id IN (SELECT id FROM activities WHERE deleted_at IS NOT NULL AND deleted_at < ?))
		OR (entity = 'task' AND record_id IN (SELECT id FROM tasks WHERE deleted_at IS NOT NULL AND deleted_at < ?))
		OR (entity = 'deal' AND record_id IN (SELECT id FROM deals WHERE deleted_at IS NOT NULL AND deleted_at < ?))
		OR (entity = 'contact' AND record_id IN (SELECT id FROM contacts WHERE deleted_at IS NOT NULL AND deleted_at < ?))
		OR (entity = 'company' AND record_id IN (SELECT id FROM companies WHERE deleted_at IS NOT NULL AND deleted_at < ?))`)},
	{"activities", Statement(`DELETE FROM activities WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"tasks", Statement(`DELETE FROM tasks WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"deals", Statement(`DELETE FROM deals WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"contacts", Statement(`DELETE FROM contacts WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
	{"companies", Statement(`DELETE FROM companies WHERE deleted_at IS NOT NULL AND deleted_at < ?`)},
}

// PurgeDeleted hard-deletes the records soft-deleted before the given time
// and returns how many it removed (consents, tags and shares not counted),
// with the shares of those records and those expired before then. On
// PostgreSQL a record restored meanwhile by a concurrent transaction is
// left alone: READ COMMITTED re-checks the condition on the row it waited
// for.
func (t Tx) PurgeDeleted(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, p := range sqlPurge {
		args := []any{Micros(before)}
		if p.what == "shares" {
			// The shares of the records about to go, and those that
			// expired as long ago as the bin keeps records (below).
			args = []any{Micros(before), Micros(before), Micros(before), Micros(before), Micros(before)}
		}
		n, err := t.C.Exec(ctx, p.query, args...)
		if err != nil {
			return total, t.C.DBError(err, "purge "+p.what, p.what, "")
		}
		if p.what != "shares" {
			total += n
		}
	}
	if _, err := t.C.Exec(ctx, sqlPurgeShares, Micros(before)); err != nil {
		return total, t.C.DBError(err, "purge shares", "share", "")
	}
	return total, nil
}

// IDsAfter returns up to limit ids of the records of entity, in every
// state, above after, in id order: the service's index reads every record
// by them when it is built, along the primary key (records written in one
// transaction share their creation time, and a page by creation time
// would read each group of them again).
func (t Tx) IDsAfter(ctx context.Context, entity string, after int64, limit int) ([]int64, error) {
	table, ok := tables[entity]
	if !ok {
		return nil, crm.Errorf(crm.EINVALID, "no table for %q", entity)
	}
	return t.ids(ctx, entity, `SELECT id FROM `+table+` WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// ids runs query and returns the ids it selects (nil for none).
func (t Tx) ids(ctx context.Context, entity, query string, args ...any) ([]int64, error) {
	rows, err := t.C.Query(ctx, query, args...)
	if err != nil {
		return nil, t.C.DBError(err, "ids", entity, "")
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, t.C.RowError(err, "scan id", entity)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "ids", entity)
	}
	return ids, nil
}

// DeletedBefore returns the ids of the records of entity soft-deleted
// before the given time: what PurgeDeleted would remove of it.
func (t Tx) DeletedBefore(ctx context.Context, entity string, before time.Time) ([]int64, error) {
	table, ok := tables[entity]
	if !ok {
		return nil, crm.Errorf(crm.EINVALID, "no table for %q", entity)
	}
	return t.ids(ctx, entity, `SELECT id FROM `+table+` WHERE deleted_at IS NOT NULL AND deleted_at < ?`, Micros(before))
}

// Stale is the error of an update whose expected version is not stored.
func Stale(what string) error {
	return &crm.Error{Code: crm.EPRECONDITION, Message: what + " was changed by someone else; reload and try again"}
}
