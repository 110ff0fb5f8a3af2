package service

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/memindex"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/validate"
)

var taskOps = ops[*crm.Task]{
	entity: "task",
	list:   "tasks",
	id:     func(v *crm.Task) int64 { return v.ID },
	insert: func(ctx context.Context, tx crm.RecordTx, v *crm.Task) error { return tx.InsertTask(ctx, v) },
	byID: func(ctx context.Context, tx crm.RecordTx, s crm.Scope, id int64, deleted bool) (*crm.Task, error) {
		return tx.TaskByID(ctx, s, id, deleted)
	},
	update: func(ctx context.Context, tx crm.RecordTx, t *crm.Task) error { return tx.UpdateTask(ctx, t) },
	stamp:  func(t *crm.Task) (*int64, *time.Time, **time.Time) { return &t.Version, &t.UpdatedAt, &t.DeletedAt },
}

// taskStatusOps is taskOps for an assignee changing only the status: the
// write scope plus the tasks assigned to the principal. Everything else
// of a task is its owner's and their team's managers'.
var taskStatusOps = func() ops[*crm.Task] {
	o := taskOps
	o.writeScope = func(s *Service, p *crm.Principal) crm.Scope {
		sc := s.pol.WriteScope(p, "task")
		sc.Assignee = !sc.All && sc.OwnerID != 0
		return sc
	}
	return o
}()

// statusOnly reports whether a task update changes nothing but the status.
func statusOnly(in crm.TaskInput) bool {
	return in.Status != nil && in.Title == nil && in.Description == nil && !in.DueAt.Set && in.AssigneeID == nil &&
		!in.ContactID.Set && !in.CompanyID.Set && !in.DealID.Set && in.OwnerID == nil
}

// FindTaskByID implements crm.TaskService.
func (s *Service) FindTaskByID(ctx context.Context, p *crm.Principal, id int64) (*crm.Task, error) {
	return findRecord(ctx, s, p, taskOps, id)
}

// FindTasks implements crm.TaskService.
func (s *Service) FindTasks(ctx context.Context, p *crm.Principal, f crm.TaskFilter, o crm.ListOptions) (*crm.Page[*crm.Task], error) {
	began := time.Now()
	var err error
	if f.Status != "" {
		v := validate.New()
		if f.Status = v.OneOf("status", f.Status, crm.TaskStatuses, true); v.Err() != nil {
			return nil, v.Err()
		}
	}
	if f.Q, err = searchText(f.Q); err != nil {
		return nil, err
	}
	if err := checkIDs(f.IDs); err != nil {
		return nil, err
	}
	if err := s.syncIndex(ctx, s.tasks, began); err != nil {
		return nil, err
	}
	return listRecords(ctx, s, p, taskOps, "due_at", f.Deleted, o, func(tx crm.RecordTx, sc crm.Scope, q crm.ListQuery) ([]*crm.Task, string, error) {
		return s.taskPage(ctx, tx, sc, f, q)
	})
}

// taskPage is one page of tasks in scope sc matching f: the ids from the
// index (the store holds titles sealed), then their rows, in scope, from
// the store.
func (s *Service) taskPage(ctx context.Context, tx crm.RecordTx, sc crm.Scope, f crm.TaskFilter, q crm.ListQuery) ([]*crm.Task, string, error) {
	iq, err := indexQuery(q)
	if err != nil {
		return nil, "", err
	}
	iq.Deleted, iq.Owner, iq.IDs, iq.Words = f.Deleted, f.OwnerID, f.IDs, searchWords(f.Q)
	iq.Eq = eqs(map[int]int64{taskAssignee: f.AssigneeID, taskContact: f.ContactID, taskCompany: f.CompanyID, taskDeal: f.DealID})
	if f.Status != "" {
		iq.Eq = append(iq.Eq, memindex.Eq{Attr: taskStatus, Value: statusCode(f.Status)})
	}
	return indexPage(s.tasks, sc, tx.Now(), iq, func(ids []int64) ([]*crm.Task, error) {
		rows, _, err := tx.Tasks(ctx, sc, crm.TaskFilter{IDs: ids, Deleted: f.Deleted}, crm.ListQuery{Sort: "created_at", Limit: len(ids)})
		return rows, err
	}, func(t *crm.Task) int64 { return t.ID })
}

func (s *Service) applyTask(t *crm.Task, in crm.TaskInput, create bool) error {
	v := validate.New()
	if in.Title != nil || create {
		t.Title = v.Text("title", str(in.Title), validate.MaxShort, true, false)
	}
	if in.Description != nil {
		t.Description = v.Text("description", *in.Description, validate.MaxText, false, true)
	}
	if in.DueAt.Set {
		if in.DueAt.Valid && (in.DueAt.V.Year() < 1900 || in.DueAt.V.Year() > 2200) {
			v.Add("due_at", "out of range")
		}
		if t.DueAt = in.DueAt.Ptr(); t.DueAt != nil {
			*t.DueAt = t.DueAt.UTC().Truncate(time.Microsecond)
		}
	}
	if in.Status != nil || create {
		if in.Status == nil {
			t.Status = crm.TaskOpen
		} else {
			t.Status = v.OneOf("status", *in.Status, crm.TaskStatuses, true)
		}
	}
	if in.AssigneeID != nil {
		t.AssigneeID = v.PositiveID("assignee_id", *in.AssigneeID)
	}
	setRef(v, "contact_id", in.ContactID, &t.ContactID)
	setRef(v, "company_id", in.CompanyID, &t.CompanyID)
	setRef(v, "deal_id", in.DealID, &t.DealID)
	return v.Err()
}

// checkAssignee requires an active user; anyone who may write tasks may
// assign them to a colleague, who then sees the task (not its linked records).
func (s *Service) checkAssignee(ctx context.Context, tx crm.RecordTx, t *crm.Task, given bool) error {
	if !given {
		if t.AssigneeID == 0 {
			t.AssigneeID = t.OwnerID
		}
		return nil
	}
	if u, err := tx.UserByID(ctx, t.AssigneeID); err != nil || u.Disabled {
		if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
			return err
		}
		return crm.Invalid("assignee_id", "unknown user")
	}
	return nil
}

// CreateTask implements crm.TaskService.
func (s *Service) CreateTask(ctx context.Context, p *crm.Principal, in crm.TaskInput) (*crm.Task, error) {
	t := &crm.Task{}
	if err := s.require(p, policy.On("task", policy.Create)); err != nil {
		return nil, err
	} else if err := s.applyTask(t, in, true); err != nil {
		return nil, err
	}
	return createRecord(ctx, s, p, taskOps, t, in, func(tx crm.RecordTx, now time.Time) (err error) {
		if t.OwnerID, t.TeamID, err = s.ownerFor(ctx, tx, p, "task", 0, in.OwnerID, 0, nil); err != nil {
			return err
		}
		if err := s.checkAssignee(ctx, tx, t, in.AssigneeID != nil); err != nil {
			return err
		}
		if err := s.checkLinks(ctx, tx, p, in.ContactID, in.CompanyID, in.DealID); err != nil {
			return err
		}
		t.CreatedAt, t.UpdatedAt, t.Version = now, now, 1
		return nil
	})
}

// UpdateTask implements crm.TaskService.
func (s *Service) UpdateTask(ctx context.Context, p *crm.Principal, id int64, in crm.TaskInput, ifVersion int64) (*crm.Task, error) {
	o := taskOps
	if statusOnly(in) {
		o = taskStatusOps
	}
	return updateRecord(ctx, s, p, o, id, ifVersion, in, func(tx crm.RecordTx, t *crm.Task) (err error) {
		if in.AssigneeID != nil && *in.AssigneeID != t.AssigneeID {
			// Giving a task to someone gives them the task to read: that
			// is for whoever controls it, never for a sharee or a
			// team-default writer (who could pass it on, or keep it after
			// their share ends).
			if _, err := s.inScope(ctx, tx, "task", s.pol.ControlScope(p, "task", policy.Update), t.ID); crm.ErrorCode(err) == crm.ENOTFOUND {
				return &crm.Error{Code: crm.EFORBIDDEN, Message: "only the task's owner and their managers may give it to someone",
					Fields: map[string]string{"assignee_id": "not allowed"}}
			} else if err != nil {
				return err
			}
		}
		oldLinks := links{contact: t.ContactID, company: t.CompanyID, deal: t.DealID}
		if err := s.applyTask(t, in, false); err != nil {
			return err
		}
		if t.OwnerID, t.TeamID, err = s.ownerFor(ctx, tx, p, "task", t.ID, in.OwnerID, t.OwnerID, t.TeamID); err != nil {
			return err
		}
		if err := s.checkAssignee(ctx, tx, t, in.AssigneeID != nil); err != nil {
			return err
		}
		if err := s.checkLinks(ctx, tx, p, in.ContactID, in.CompanyID, in.DealID); err != nil {
			return err
		}
		return s.keepHiddenLinks(ctx, tx, p, oldLinks, in.ContactID, in.CompanyID, in.DealID)
	})
}

// DeleteTask implements crm.TaskService.
func (s *Service) DeleteTask(ctx context.Context, p *crm.Principal, id int64) error {
	return deleteRecord(ctx, s, p, taskOps, id)
}

// RestoreTask implements crm.TaskService.
func (s *Service) RestoreTask(ctx context.Context, p *crm.Principal, id int64) (*crm.Task, error) {
	return restoreRecord(ctx, s, p, taskOps, id)
}
