package sqlstore

import (
	"context"

	"github.com/custos-crm/custos/internal/crm"
)

const taskCols = `id, title, description, due_at, status, assignee_id, contact_id, company_id,
	deal_id, owner_id, team_id, version, created_at, updated_at, deleted_at`

// A task is visible to its owner and to its assignee.
var (
	sqlInsertTask = Statement(`INSERT INTO tasks (title, description, due_at, status,
		assignee_id, contact_id, company_id, deal_id, owner_id, team_id, version, created_at, updated_at,
		deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlInsertTaskID = withID(sqlInsertTask)
	sqlUpdateTask   = Statement(`UPDATE tasks SET title = ?, description = ?, due_at = ?,
		status = ?, assignee_id = ?, contact_id = ?, company_id = ?, deal_id = ?, owner_id = ?, team_id = ?,
		version = ?, updated_at = ?, deleted_at = ?
		WHERE id = ? AND version = ?`)
)

// scanTask scans the columns of taskCols, then extra. An unassigned task
// has AssigneeID 0 (stored as NULL).
func scanTask(sc Row, extra ...any) (*crm.Task, error) {
	var (
		t                            crm.Task
		dueAt, assigneeID, deletedAt *int64
		contactID, companyID, dealID *int64
		created, updated             int64
	)
	dest := []any{&t.ID, &t.Title, &t.Description, &dueAt, &t.Status, &assigneeID, &contactID,
		&companyID, &dealID, &t.OwnerID, &t.TeamID, &t.Version, &created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	t.DueAt = TimePtr(dueAt)
	if assigneeID != nil {
		t.AssigneeID = *assigneeID
	}
	t.ContactID, t.CompanyID, t.DealID = contactID, companyID, dealID
	t.CreatedAt, t.UpdatedAt = FromMicros(created), FromMicros(updated)
	t.DeletedAt = TimePtr(deletedAt)
	return &t, nil
}

// TaskByID returns the task whose owner or assignee is s.OwnerID (any task
// with s.All); with deleted, only if it is soft-deleted. ENOTFOUND otherwise.
func (t Tx) TaskByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Task, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("task")
	}
	query, args := byIDSQL(t.C, "task", taskCols, deleted), byIDArgs(t.C, "task", s, id, Micros(t.C.Now()))
	task, err := scanTask(t.C.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, t.C.RowError(err, "task by id", "task")
	}
	return task, nil
}

// Tasks lists the tasks visible in s (owned or assigned) that match f; Q is
// a prefix of the title. Tasks without a due time sort after all others.
func (t Tx) Tasks(ctx context.Context, s crm.Scope, f crm.TaskFilter, q crm.ListQuery) ([]*crm.Task, string, error) {
	if f.Q != "" {
		// A sealed value: a caller that asks must not get every task.
		return nil, "", crm.Errorf(crm.EINVALID, "the store cannot search tasks by title: it is sealed (the service's index does)")
	}
	var w where
	if !t.scoped(ctx, &w, "task", s, f.IDs) {
		return []*crm.Task{}, "", nil
	}
	if f.IDs != nil {
		w.and(t.C.InIDs("id", f.IDs))
	}
	if !f.AnyState {
		w.deleted(f.Deleted)
	}
	eqText(&w, "status", f.Status)
	eqInt(&w, "assignee_id", f.AssigneeID)
	eqInt(&w, "contact_id", f.ContactID)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "deal_id", f.DealID)
	eqInt(&w, "owner_id", f.OwnerID)
	if f.IDs != nil {
		rows, err := byIDs(ctx, t.C, "tasks", taskCols, &w, "task", scanTask)
		return rows, "", err
	}
	l, err := buildList(t.C, "tasks", "tasks", taskCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t.C, l, "task", scanTask, func(t *crm.Task) int64 { return t.ID })
}

func taskArgs(t *crm.Task) []any {
	return []any{t.Title, t.Description, NullMicros(t.DueAt), t.Status,
		NullZero(t.AssigneeID), NullID(t.ContactID), NullID(t.CompanyID), NullID(t.DealID),
		t.OwnerID, NullID(t.TeamID), t.Version}
}

// InsertTask stores a new task and sets task.ID.
func (t Tx) InsertTask(ctx context.Context, task *crm.Task) error {
	args := append(taskArgs(task), Micros(task.CreatedAt), Micros(task.UpdatedAt), NullMicros(task.DeletedAt))
	id, err := t.insertRecord(ctx, sqlInsertTask, sqlInsertTaskID, task.ID, args...)
	if err != nil {
		return t.C.DBError(err, "insert task", "task", "")
	}
	task.ID = id
	return nil
}

// UpdateTask stores task if the stored version is task.Version-1;
// EPRECONDITION otherwise.
func (t Tx) UpdateTask(ctx context.Context, task *crm.Task) error {
	args := append(taskArgs(task), Micros(task.UpdatedAt), NullMicros(task.DeletedAt), task.ID, task.Version-1)
	ok, err := t.changed(ctx, sqlUpdateTask, args...)
	if err != nil {
		return t.C.DBError(err, "update task", "task", "")
	}
	if !ok {
		return Stale("task")
	}
	return nil
}
