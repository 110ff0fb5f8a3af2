package postgres

import (
	"context"
	"github.com/custos-crm/custos/internal/sqlstore"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

const taskCols = `id, title, description, due_at, status, assignee_id, contact_id, company_id,
	deal_id, owner_id, version, created_at, updated_at, deleted_at`

// A task is visible to its owner and to its assignee.
const (
	sqlTaskByID = `SELECT ` + taskCols + ` FROM tasks
		WHERE id = $1 AND deleted_at IS NULL AND ($2 OR owner_id = $3 OR assignee_id = $3)`
	sqlDeletedTaskByID = `SELECT ` + taskCols + ` FROM tasks
		WHERE id = $1 AND deleted_at IS NOT NULL AND ($2 OR owner_id = $3 OR assignee_id = $3)`
	sqlInsertTask = `INSERT INTO tasks (title, title_lc, description, due_at, status,
		assignee_id, contact_id, company_id, deal_id, owner_id, version, created_at, updated_at,
		deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`
	sqlUpdateTask = `UPDATE tasks SET title = $1, title_lc = $2, description = $3, due_at = $4,
		status = $5, assignee_id = $6, contact_id = $7, company_id = $8, deal_id = $9, owner_id = $10,
		version = $11, updated_at = $12, deleted_at = $13
		WHERE id = $14 AND version = $15`
)

// scanTask scans the columns of taskCols, then extra. An unassigned task
// has AssigneeID 0 (stored as NULL).
func scanTask(sc scanner, extra ...any) (*crm.Task, error) {
	var (
		t                            crm.Task
		dueAt, assigneeID, deletedAt *int64
		contactID, companyID, dealID *int64
		created, updated             int64
	)
	dest := []any{&t.ID, &t.Title, &t.Description, &dueAt, &t.Status, &assigneeID, &contactID,
		&companyID, &dealID, &t.OwnerID, &t.Version, &created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	t.DueAt = sqlstore.TimePtr(dueAt)
	if assigneeID != nil {
		t.AssigneeID = *assigneeID
	}
	t.ContactID, t.CompanyID, t.DealID = contactID, companyID, dealID
	t.CreatedAt, t.UpdatedAt = sqlstore.FromMicros(created), sqlstore.FromMicros(updated)
	t.DeletedAt = sqlstore.TimePtr(deletedAt)
	return &t, nil
}

// TaskByID returns the task whose owner or assignee is s.OwnerID (any task
// with s.All); with deleted, only if it is soft-deleted. ENOTFOUND otherwise.
func (t *tx) TaskByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Task, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("task")
	}
	query := sqlTaskByID
	if deleted {
		query = sqlDeletedTaskByID
	}
	task, err := scanTask(t.q.QueryRow(ctx, query, id, s.All, s.OwnerID))
	if err != nil {
		return nil, rowError(err, "task by id", "task")
	}
	return task, nil
}

// Tasks lists the tasks visible in s (owned or assigned) that match f; Q is
// a prefix of the title. Tasks without a due time sort after all others.
func (t *tx) Tasks(ctx context.Context, s crm.Scope, f crm.TaskFilter, q crm.ListQuery) ([]*crm.Task, string, error) {
	var w where
	if !w.scope(s, "(owner_id = %s OR assignee_id = %s)") {
		return []*crm.Task{}, "", nil
	}
	w.deleted(f.Deleted)
	eqText(&w, "status", f.Status)
	eqInt(&w, "assignee_id", f.AssigneeID)
	eqInt(&w, "contact_id", f.ContactID)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "deal_id", f.DealID)
	eqInt(&w, "owner_id", f.OwnerID)
	if q := searchText(f.Q); q != "" {
		w.and(prefix(&w, "title_lc", q))
	}
	l, err := buildList("tasks", "tasks", taskCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t, l, "task", scanTask, func(t *crm.Task) int64 { return t.ID })
}

func taskArgs(t *crm.Task) []any {
	return []any{t.Title, strings.ToLower(t.Title), t.Description, sqlstore.NullMicros(t.DueAt), t.Status,
		sqlstore.NullZero(t.AssigneeID), sqlstore.NullID(t.ContactID), sqlstore.NullID(t.CompanyID), sqlstore.NullID(t.DealID),
		t.OwnerID, t.Version}
}

// InsertTask stores a new task and sets task.ID.
func (t *tx) InsertTask(ctx context.Context, task *crm.Task) error {
	args := append(taskArgs(task), sqlstore.Micros(task.CreatedAt), sqlstore.Micros(task.UpdatedAt), sqlstore.NullMicros(task.DeletedAt))
	id, err := t.insert(ctx, sqlInsertTask, args...)
	if err != nil {
		return dbError(err, "insert task", "task", "")
	}
	task.ID = id
	return nil
}

// UpdateTask stores task if the stored version is task.Version-1;
// EPRECONDITION otherwise.
func (t *tx) UpdateTask(ctx context.Context, task *crm.Task) error {
	args := append(taskArgs(task), sqlstore.Micros(task.UpdatedAt), sqlstore.NullMicros(task.DeletedAt), task.ID, task.Version-1)
	ok, err := t.update(ctx, sqlUpdateTask, args...)
	if err != nil {
		return dbError(err, "update task", "task", "")
	}
	if !ok {
		return sqlstore.Stale("task")
	}
	return nil
}
