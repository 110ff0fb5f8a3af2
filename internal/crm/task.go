package crm

import (
	"context"
	"time"
)

// Task statuses.
const (
	TaskOpen       = "open"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskCancelled  = "cancelled"
)

// TaskStatuses lists the valid task statuses.
var TaskStatuses = []string{TaskOpen, TaskInProgress, TaskDone, TaskCancelled}

// Task is a piece of work with a due time and an assignee.
type Task struct {
	ID          int64      `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	Status      string     `json:"status"`
	AssigneeID  int64      `json:"assignee_id"`
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

// TaskInput is the client-settable part of a task.
type TaskInput struct {
	Title       *string             `json:"title"`
	Description *string             `json:"description"`
	DueAt       Nullable[time.Time] `json:"due_at"`
	Status      *string             `json:"status"`
	AssigneeID  *int64              `json:"assignee_id"`
	ContactID   Nullable[int64]     `json:"contact_id"`
	CompanyID   Nullable[int64]     `json:"company_id"`
	DealID      Nullable[int64]     `json:"deal_id"`
	OwnerID     *int64              `json:"owner_id"`
}

// TaskFilter selects tasks.
type TaskFilter struct {
	Status     string
	AssigneeID int64
	ContactID  int64
	CompanyID  int64
	DealID     int64
	OwnerID    int64
	Q          string // words, each starting a word of the title
	Deleted    bool
	// IDs are only these tasks (at most MaxLimit): the store returns every
	// one of them in scope, in no order and on one page; with AnyState,
	// live and deleted alike (the in-memory index reads them all).
	IDs      []int64
	AnyState bool
}

// TaskService reads and writes tasks. A task is visible to its owner and
// to its assignee.
type TaskService interface {
	FindTaskByID(ctx context.Context, p *Principal, id int64) (*Task, error)
	FindTasks(ctx context.Context, p *Principal, f TaskFilter, o ListOptions) (*Page[*Task], error)
	CreateTask(ctx context.Context, p *Principal, in TaskInput) (*Task, error)
	UpdateTask(ctx context.Context, p *Principal, id int64, in TaskInput, ifVersion int64) (*Task, error)
	DeleteTask(ctx context.Context, p *Principal, id int64) error
	RestoreTask(ctx context.Context, p *Principal, id int64) (*Task, error)
}
