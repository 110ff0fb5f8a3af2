package sqlstore

import (
	"context"

	"github.com/custos-crm/custos/internal/crm"
)

const activityCols = `id, type, subject, body, occurred_at, duration_min, contact_id, company_id,
	deal_id, owner_id, team_id, version, created_at, updated_at, deleted_at`

var (
	sqlInsertActivity = Statement(`INSERT INTO activities (type, subject, body, occurred_at,
		duration_min, contact_id, company_id, deal_id, owner_id, team_id, version, created_at, updated_at,
		deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlInsertActivityID = withID(sqlInsertActivity)
	sqlUpdateActivity   = Statement(`UPDATE activities SET type = ?, subject = ?, body = ?,
		occurred_at = ?, duration_min = ?, contact_id = ?, company_id = ?, deal_id = ?,
		owner_id = ?, team_id = ?, version = ?, updated_at = ?, deleted_at = ?
		WHERE id = ? AND version = ?`)
)

// scanActivity scans the columns of activityCols, then extra.
func scanActivity(sc Row, extra ...any) (*crm.Activity, error) {
	var (
		a                                       crm.Activity
		contactID, companyID, dealID, deletedAt *int64
		occurred, created, updated              int64
	)
	dest := []any{&a.ID, &a.Type, &a.Subject, &a.Body, &occurred, &a.DurationMin, &contactID,
		&companyID, &dealID, &a.OwnerID, &a.TeamID, &a.Version, &created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	a.OccurredAt = FromMicros(occurred)
	a.ContactID, a.CompanyID, a.DealID = contactID, companyID, dealID
	a.CreatedAt, a.UpdatedAt = FromMicros(created), FromMicros(updated)
	a.DeletedAt = TimePtr(deletedAt)
	return &a, nil
}

// ActivityByID returns the activity visible in s; with deleted, only if it
// is soft-deleted. ENOTFOUND otherwise.
func (t Tx) ActivityByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Activity, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("activity")
	}
	query, args := byIDSQL(t.C, "activity", activityCols, deleted), byIDArgs(t.C, "activity", s, id, Micros(t.C.Now()))
	a, err := scanActivity(t.C.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, t.C.RowError(err, "activity by id", "activity")
	}
	return a, nil
}

// Activities lists the activities visible in s that match f. Their
// subjects are sealed: Q is the service's (it opens and matches them),
// and the store refuses it.
func (t Tx) Activities(ctx context.Context, s crm.Scope, f crm.ActivityFilter, q crm.ListQuery) ([]*crm.Activity, string, error) {
	if f.Q != "" {
		// A sealed value: a caller that asks must not get every activity.
		return nil, "", crm.Errorf(crm.EINVALID, "the store cannot search activities by subject: it is sealed (the service does)")
	}
	var w where
	if !t.scoped(ctx, &w, "activity", s, nil) {
		return []*crm.Activity{}, "", nil
	}
	w.deleted(f.Deleted)
	eqText(&w, "type", f.Type)
	eqInt(&w, "contact_id", f.ContactID)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "deal_id", f.DealID)
	eqInt(&w, "owner_id", f.OwnerID)
	l, err := buildList(t.C, "activities", "activities", activityCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t.C, l, "activity", scanActivity, func(a *crm.Activity) int64 { return a.ID })
}

func activityArgs(a *crm.Activity) []any {
	return []any{a.Type, a.Subject, a.Body, Micros(a.OccurredAt),
		a.DurationMin, NullID(a.ContactID), NullID(a.CompanyID), NullID(a.DealID), a.OwnerID, NullID(a.TeamID), a.Version}
}

// InsertActivity stores a new activity and sets a.ID.
func (t Tx) InsertActivity(ctx context.Context, a *crm.Activity) error {
	args := append(activityArgs(a), Micros(a.CreatedAt), Micros(a.UpdatedAt), NullMicros(a.DeletedAt))
	id, err := t.insertRecord(ctx, sqlInsertActivity, sqlInsertActivityID, a.ID, args...)
	if err != nil {
		return t.C.DBError(err, "insert activity", "activity", "")
	}
	a.ID = id
	return nil
}

// UpdateActivity stores a if the stored version is a.Version-1;
// EPRECONDITION otherwise.
func (t Tx) UpdateActivity(ctx context.Context, a *crm.Activity) error {
	args := append(activityArgs(a), Micros(a.UpdatedAt), NullMicros(a.DeletedAt), a.ID, a.Version-1)
	ok, err := t.changed(ctx, sqlUpdateActivity, args...)
	if err != nil {
		return t.C.DBError(err, "update activity", "activity", "")
	}
	if !ok {
		return Stale("activity")
	}
	return nil
}
