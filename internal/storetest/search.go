package storetest

import (
	"context"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testSealedSearchRefused: every text a list searched or sorted by in SQL
// is sealed now (a contact's names, email and phone, a company's name and
// domain, the titles of deals and tasks, an activity's subject), and the
// service searches and orders them (its in-memory index, or by opening a
// bounded run of a list). The store refuses a search or an order on any
// of them rather than answer every record.
func testSealedSearchRefused(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	ctx := context.Background()
	for name, list := range map[string]func(tx crm.Tx) error{
		"contacts q": func(tx crm.Tx) error {
			_, _, err := tx.Contacts(ctx, all, crm.ContactFilter{Q: "a"}, crm.ListQuery{})
			return err
		},
		"contacts by name": func(tx crm.Tx) error {
			_, _, err := tx.Contacts(ctx, all, crm.ContactFilter{}, crm.ListQuery{Sort: "last_name"})
			return err
		},
		"companies q": func(tx crm.Tx) error {
			_, _, err := tx.Companies(ctx, all, crm.CompanyFilter{Q: "a"}, crm.ListQuery{})
			return err
		},
		"companies by name": func(tx crm.Tx) error {
			_, _, err := tx.Companies(ctx, all, crm.CompanyFilter{}, crm.ListQuery{Sort: "name"})
			return err
		},
		"deals q": func(tx crm.Tx) error {
			_, _, err := tx.Deals(ctx, all, crm.DealFilter{Q: "a"}, crm.ListQuery{})
			return err
		},
		"deals by title": func(tx crm.Tx) error {
			_, _, err := tx.Deals(ctx, all, crm.DealFilter{}, crm.ListQuery{Sort: "title"})
			return err
		},
		"tasks q": func(tx crm.Tx) error {
			_, _, err := tx.Tasks(ctx, all, crm.TaskFilter{Q: "a"}, crm.ListQuery{})
			return err
		},
		"tasks by title": func(tx crm.Tx) error {
			_, _, err := tx.Tasks(ctx, all, crm.TaskFilter{}, crm.ListQuery{Sort: "title"})
			return err
		},
		"activities q": func(tx crm.Tx) error {
			_, _, err := tx.Activities(ctx, all, crm.ActivityFilter{Q: "a"}, crm.ListQuery{})
			return err
		},
	} {
		if err := f.st.Read(ctx, list); crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
