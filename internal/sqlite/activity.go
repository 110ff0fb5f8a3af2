package sqlite

import (
	"context"
	"database/sql"
	"github.com/custos-crm/custos/internal/sqlstore"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

const activityCols = `id, type, subject, body, occurred_at, duration_min, contact_id, company_id,
	deal_id, owner_id, version, created_at, updated_at, deleted_at`

var (
	sqlActivityByID = static(`SELECT ` + activityCols + ` FROM activities
		WHERE id = ? AND deleted_at IS NULL AND (? OR owner_id = ?)`)
	sqlDeletedActivityByID = static(`SELECT ` + activityCols + ` FROM activities
		WHERE id = ? AND deleted_at IS NOT NULL AND (? OR owner_id = ?)`)
	sqlInsertActivity = static(`INSERT INTO activities (type, subject, subject_lc, body, occurred_at,
		duration_min, contact_id, company_id, deal_id, owner_id, version, created_at, updated_at,
		deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateActivity = static(`UPDATE activities SET type = ?, subject = ?, subject_lc = ?, body = ?,
		occurred_at = ?, duration_min = ?, contact_id = ?, company_id = ?, deal_id = ?,
		owner_id = ?, version = ?, updated_at = ?, deleted_at = ?
		WHERE id = ? AND version = ?`)
)

// scanActivity scans the columns of activityCols, then extra.
func scanActivity(sc scanner, extra ...any) (*crm.Activity, error) {
	var (
		a                                       crm.Activity
		contactID, companyID, dealID, deletedAt sql.NullInt64
		occurred, created, updated              int64
	)
	dest := []any{&a.ID, &a.Type, &a.Subject, &a.Body, &occurred, &a.DurationMin, &contactID,
		&companyID, &dealID, &a.OwnerID, &a.Version, &created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	a.OccurredAt = sqlstore.FromMicros(occurred)
	a.ContactID, a.CompanyID, a.DealID = idPtr(contactID), idPtr(companyID), idPtr(dealID)
	a.CreatedAt, a.UpdatedAt = sqlstore.FromMicros(created), sqlstore.FromMicros(updated)
	a.DeletedAt = timePtr(deletedAt)
	return &a, nil
}

// ActivityByID returns the activity visible in s; with deleted, only if it
// is soft-deleted. ENOTFOUND otherwise.
func (t *tx) ActivityByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Activity, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("activity")
	}
	query := sqlActivityByID
	if deleted {
		query = sqlDeletedActivityByID
	}
	a, err := scanActivity(t.queryRow(ctx, query, id, s.All, s.OwnerID))
	if err != nil {
		return nil, rowError(err, "activity by id", "activity")
	}
	return a, nil
}

// Activities lists the activities visible in s that match f; Q is a prefix
// of the subject.
func (t *tx) Activities(ctx context.Context, s crm.Scope, f crm.ActivityFilter, q crm.ListQuery) ([]*crm.Activity, string, error) {
	var w where
	if !w.scope(s, "owner_id = ?", 1) {
		return []*crm.Activity{}, "", nil
	}
	w.deleted(f.Deleted)
	eqText(&w, "type", f.Type)
	eqInt(&w, "contact_id", f.ContactID)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "deal_id", f.DealID)
	eqInt(&w, "owner_id", f.OwnerID)
	if q := searchText(f.Q); q != "" {
		cond, args := prefix("subject_lc", q)
		w.and(cond, args...)
	}
	l, err := buildList("activities", "activities", activityCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t, l, "activity", scanActivity, func(a *crm.Activity) int64 { return a.ID })
}

func activityArgs(a *crm.Activity) []any {
	return []any{a.Type, a.Subject, strings.ToLower(a.Subject), a.Body, sqlstore.Micros(a.OccurredAt),
		a.DurationMin, sqlstore.NullID(a.ContactID), sqlstore.NullID(a.CompanyID), sqlstore.NullID(a.DealID), a.OwnerID, a.Version}
}

// InsertActivity stores a new activity and sets a.ID.
func (t *tx) InsertActivity(ctx context.Context, a *crm.Activity) error {
	args := append(activityArgs(a), sqlstore.Micros(a.CreatedAt), sqlstore.Micros(a.UpdatedAt), sqlstore.NullMicros(a.DeletedAt))
	id, err := t.insert(ctx, sqlInsertActivity, args...)
	if err != nil {
		return dbError(err, "insert activity", "activity", "")
	}
	a.ID = id
	return nil
}

// UpdateActivity stores a if the stored version is a.Version-1;
// EPRECONDITION otherwise.
func (t *tx) UpdateActivity(ctx context.Context, a *crm.Activity) error {
	args := append(activityArgs(a), sqlstore.Micros(a.UpdatedAt), sqlstore.NullMicros(a.DeletedAt), a.ID, a.Version-1)
	ok, err := t.update(ctx, sqlUpdateActivity, args...)
	if err != nil {
		return dbError(err, "update activity", "activity", "")
	}
	if !ok {
		return sqlstore.Stale("activity")
	}
	return nil
}
