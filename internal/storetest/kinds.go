package storetest

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The sort fixtures: row i of every kind takes the i-th value, so that
// rows share keys (0, 2 and 5 are created at the same minute, and so on).
var (
	createdAt = []int{0, 1, 0, 2, 1, 0, 3}
	updatedAt = []int{5, 5, 4, 4, 3, 3, 3}
)

// timeKey is the sort key of a time; a missing one sorts last.
func timeKey(t *time.Time) any {
	if t == nil {
		return int64(math.MaxInt64)
	}
	return t.UnixMicro()
}

// commonKey returns the key of the sort fields all records have.
func commonKey(field string, created, updated time.Time) any {
	switch field {
	case "created_at":
		return created.UnixMicro()
	case "updated_at":
		return updated.UnixMicro()
	}
	panic("storetest: unknown sort field " + field)
}

var contactKind = kind[*crm.Contact]{
	list: "contacts",
	what: "contact",
	make: func(f *fixture, owner int64, i int) *crm.Contact {
		return &crm.Contact{
			FirstName: []string{"Ann", "bob", "ann", "Cid", "Bob", "ann", "dan"}[i%7],
			LastName:  []string{"Smith", "adams", "smith", "Brown", "adams", "Zed", "brown"}[i%7],
			Email:     []string{"a@x.test", "b@x.test", "a@x.test", "", "", "c@x.test", "b@x.test"}[i%7],
			Phone:     "+4420790000" + string(rune('0'+i%10)),
			Title:     "Buyer", Address: "1 High Street", Birthday: "1980-02-29", Notes: "met at a fair",
			Tags:        []string{"lead"},
			Preferences: crm.Preferences{Channel: "email", Language: "en"},
			OwnerID:     owner, Version: 1,
			CreatedAt: at(createdAt[i%7]), UpdatedAt: at(updatedAt[i%7]),
		}
	},
	meta: func(c *crm.Contact) meta {
		return meta{&c.ID, &c.Version, &c.OwnerID, &c.UpdatedAt, &c.DeletedAt, &c.TeamID}
	},
	change: func(f *fixture, c *crm.Contact) {
		c.FirstName, c.Email, c.Tags = "Änne", "anne@x.test", []string{"vip", "lead"}
		c.Preferences = crm.Preferences{Channel: "none", Language: "de", DoNotContact: true}
		c.Birthday, c.Phone = "", ""
	},
	key: func(c *crm.Contact, field string) any {
		switch field {
		case "last_name":
			return strings.ToLower(c.LastName)
		case "first_name":
			return strings.ToLower(c.FirstName)
		case "email":
			return c.Email
		}
		return commonKey(field, c.CreatedAt, c.UpdatedAt)
	},
	// The tag tokens (the seal hook's) are given to the store on a copy:
	// they are rows of the tags table, which a read does not return.
	insert: func(ctx context.Context, tx crm.Tx, c *crm.Contact) error {
		w := *c
		tagTokens(&w)
		err := tx.InsertContact(ctx, &w)
		c.ID = w.ID
		return err
	},
	update: func(ctx context.Context, tx crm.Tx, c *crm.Contact) error {
		w := *c
		tagTokens(&w)
		return tx.UpdateContact(ctx, &w)
	},
	byID: func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (*crm.Contact, error) {
		return tx.ContactByID(ctx, s, id, deleted)
	},
	all: func(ctx context.Context, tx crm.Tx, s crm.Scope, deleted bool, q crm.ListQuery) ([]*crm.Contact, string, error) {
		return tx.Contacts(ctx, s, crm.ContactFilter{Deleted: deleted}, q)
	},
}

var companyKind = kind[*crm.Company]{
	list: "companies",
	what: "company",
	make: func(f *fixture, owner int64, i int) *crm.Company {
		return &crm.Company{
			Name:   []string{"Acme", "beta", "acme", "Gamma", "Beta", "zeta", "gamma"}[i%7],
			Domain: "acme.test", Industry: "Anvils", Phone: "+4420790000" + string(rune('0'+i%10)),
			Address: "2 Low Road", Notes: "supplier",
			Tags:    []string{"supplier"},
			OwnerID: owner, Version: 1,
			CreatedAt: at(createdAt[i%7]), UpdatedAt: at(updatedAt[i%7]),
		}
	},
	meta: func(c *crm.Company) meta {
		return meta{&c.ID, &c.Version, &c.OwnerID, &c.UpdatedAt, &c.DeletedAt, &c.TeamID}
	},
	change: func(f *fixture, c *crm.Company) {
		c.Name, c.Domain, c.Tags, c.Notes = "Acme Holdings", "holdings.test", []string{}, ""
	},
	key: func(c *crm.Company, field string) any {
		if field == "name" {
			return strings.ToLower(c.Name)
		}
		return commonKey(field, c.CreatedAt, c.UpdatedAt)
	},
	insert: func(ctx context.Context, tx crm.Tx, c *crm.Company) error { return tx.InsertCompany(ctx, c) },
	update: func(ctx context.Context, tx crm.Tx, c *crm.Company) error { return tx.UpdateCompany(ctx, c) },
	byID: func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (*crm.Company, error) {
		return tx.CompanyByID(ctx, s, id, deleted)
	},
	all: func(ctx context.Context, tx crm.Tx, s crm.Scope, deleted bool, q crm.ListQuery) ([]*crm.Company, string, error) {
		return tx.Companies(ctx, s, crm.CompanyFilter{Deleted: deleted}, q)
	},
}

var dealKind = kind[*crm.Deal]{
	list: "deals",
	what: "deal",
	make: func(f *fixture, owner int64, i int) *crm.Deal {
		return &crm.Deal{
			Title:      []string{"Big", "alpha", "big", "Crab", "Alpha", "zulu", "crab"}[i%7],
			PipelineID: f.pipeline, StageID: f.stages[0],
			AmountMinor:   []int64{100, -5, 100, 0, 250000, -5, 0}[i%7],
			Currency:      "EUR",
			ExpectedClose: []string{"2026-03-01", "", "2026-03-01", "2026-01-15", "", "2027-12-31", "2026-01-15"}[i%7],
			Notes:         "renewal", Tags: []string{"q1"},
			OwnerID: owner, Version: 1,
			CreatedAt: at(createdAt[i%7]), UpdatedAt: at(updatedAt[i%7]),
		}
	},
	meta: func(d *crm.Deal) meta {
		return meta{&d.ID, &d.Version, &d.OwnerID, &d.UpdatedAt, &d.DeletedAt, &d.TeamID}
	},
	change: func(f *fixture, d *crm.Deal) {
		d.Title, d.StageID, d.AmountMinor, d.Currency = "Bigger", f.stages[1], 123456, "USD"
		d.ExpectedClose, d.Tags = "", []string{"q2"}
	},
	key: func(d *crm.Deal, field string) any {
		switch field {
		case "title":
			return strings.ToLower(d.Title)
		case "amount":
			return d.AmountMinor
		case "expected_close":
			if d.ExpectedClose == "" {
				return "9999-12-31" // missing sorts last
			}
			return d.ExpectedClose
		}
		return commonKey(field, d.CreatedAt, d.UpdatedAt)
	},
	insert: func(ctx context.Context, tx crm.Tx, d *crm.Deal) error { return tx.InsertDeal(ctx, d) },
	update: func(ctx context.Context, tx crm.Tx, d *crm.Deal) error { return tx.UpdateDeal(ctx, d) },
	byID: func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (*crm.Deal, error) {
		return tx.DealByID(ctx, s, id, deleted)
	},
	all: func(ctx context.Context, tx crm.Tx, s crm.Scope, deleted bool, q crm.ListQuery) ([]*crm.Deal, string, error) {
		return tx.Deals(ctx, s, crm.DealFilter{Deleted: deleted}, q)
	},
}

var activityKind = kind[*crm.Activity]{
	list: "activities",
	what: "activity",
	make: func(f *fixture, owner int64, i int) *crm.Activity {
		return &crm.Activity{
			Type:    []string{"call", "meeting", "email", "note"}[i%4],
			Subject: "Follow-up", Body: "discussed prices",
			OccurredAt:  at([]int{3, 1, 3, 2, 1, 0, 2}[i%7]),
			DurationMin: 15 * (i % 3),
			OwnerID:     owner, Version: 1,
			CreatedAt: at(createdAt[i%7]), UpdatedAt: at(updatedAt[i%7]),
		}
	},
	meta: func(a *crm.Activity) meta {
		return meta{&a.ID, &a.Version, &a.OwnerID, &a.UpdatedAt, &a.DeletedAt, &a.TeamID}
	},
	change: func(f *fixture, a *crm.Activity) {
		a.Type, a.Subject, a.Body, a.DurationMin, a.OccurredAt = "meeting", "Demo", "", 90, at(-60)
	},
	key: func(a *crm.Activity, field string) any {
		if field == "occurred_at" {
			return a.OccurredAt.UnixMicro()
		}
		return commonKey(field, a.CreatedAt, a.UpdatedAt)
	},
	insert: func(ctx context.Context, tx crm.Tx, a *crm.Activity) error { return tx.InsertActivity(ctx, a) },
	update: func(ctx context.Context, tx crm.Tx, a *crm.Activity) error { return tx.UpdateActivity(ctx, a) },
	byID: func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (*crm.Activity, error) {
		return tx.ActivityByID(ctx, s, id, deleted)
	},
	all: func(ctx context.Context, tx crm.Tx, s crm.Scope, deleted bool, q crm.ListQuery) ([]*crm.Activity, string, error) {
		return tx.Activities(ctx, s, crm.ActivityFilter{Deleted: deleted}, q)
	},
}

var taskKind = kind[*crm.Task]{
	list: "tasks",
	what: "task",
	make: func(f *fixture, owner int64, i int) *crm.Task {
		due := []*time.Time{ptr(at(2)), nil, ptr(at(2)), ptr(at(1)), nil, ptr(at(5)), ptr(at(1))}[i%7]
		return &crm.Task{
			Title:       []string{"Call", "email", "call", "Demo", "Email", "zap", "demo"}[i%7],
			Description: "before Friday", DueAt: due, Status: crm.TaskOpen,
			OwnerID: owner, Version: 1,
			CreatedAt: at(createdAt[i%7]), UpdatedAt: at(updatedAt[i%7]),
		}
	},
	meta: func(t *crm.Task) meta {
		return meta{&t.ID, &t.Version, &t.OwnerID, &t.UpdatedAt, &t.DeletedAt, &t.TeamID}
	},
	change: func(f *fixture, t *crm.Task) {
		t.Title, t.Status, t.AssigneeID, t.DueAt = "Call back", crm.TaskDone, f.bob, ptr(at(99))
	},
	key: func(t *crm.Task, field string) any {
		switch field {
		case "title":
			return strings.ToLower(t.Title)
		case "due_at":
			return timeKey(t.DueAt)
		}
		return commonKey(field, t.CreatedAt, t.UpdatedAt)
	},
	insert: func(ctx context.Context, tx crm.Tx, t *crm.Task) error { return tx.InsertTask(ctx, t) },
	update: func(ctx context.Context, tx crm.Tx, t *crm.Task) error { return tx.UpdateTask(ctx, t) },
	byID: func(ctx context.Context, tx crm.Tx, s crm.Scope, id int64, deleted bool) (*crm.Task, error) {
		return tx.TaskByID(ctx, s, id, deleted)
	},
	all: func(ctx context.Context, tx crm.Tx, s crm.Scope, deleted bool, q crm.ListQuery) ([]*crm.Task, string, error) {
		return tx.Tasks(ctx, s, crm.TaskFilter{Deleted: deleted}, q)
	},
}
