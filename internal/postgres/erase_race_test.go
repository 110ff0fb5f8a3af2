package postgres_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
	"github.com/custos-crm/custos/internal/vault"
)

// Erasure (ENC-5) racing writers on PostgreSQL, where writes run at once:
// through the real service with field encryption, an erase must leave no
// row of the client and no key, never a live record sealed under the
// destroyed key, and never fail for a lock it took out of order.

// eraseWorld is the services over one PostgreSQL schema, with an
// administrator.
type eraseWorld struct {
	st    crm.Store
	svc   *service.Service
	admin *crm.User
}

func newEraseWorld(t *testing.T) *eraseWorld {
	t.Helper()
	st := postgrestest.New(t)
	kek, err := vault.KeyFile(filepath.Join(t.TempDir(), "custos.kek"), true)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	w := &eraseWorld{st: st, svc: service.New(st, service.Options{Logger: log, Hooks: service.WithSealing(service.NoHooks{}, seal.New(kek, 1024, 1024))})}
	idn := identity.New(st, identity.Options{Hasher: testkit.Hasher(), Logger: log})
	email, pw, role := "admin@example.com", testkit.Password, crm.RoleAdmin
	if w.admin, err = idn.CreateUser(context.Background(), crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw}); err != nil {
		t.Fatal(err)
	}
	return w
}

// as is the administrator, signed in with a second factor a moment ago.
func (w *eraseWorld) as() *crm.Principal {
	return &crm.Principal{Kind: crm.KindSession, UserID: w.admin.ID, Role: crm.RoleAdmin, Email: w.admin.Email, AAL: crm.AAL2, SteppedUpAt: time.Now()}
}

// TestEraseCompanyWhileUnlinking: an activity of a contact and a company
// whose contact is unlinked while the company is erased becomes the
// company's (sealed under its key) just as the key goes; the erase must
// take it with the company, or the unlink must see the company gone.
func TestEraseCompanyWhileUnlinking(t *testing.T) {
	ctx := context.Background()
	w := newEraseWorld(t)
	for i := range 40 {
		co, err := w.svc.CreateCompany(ctx, w.as(), crm.CompanyInput{Name: ptr("Doomed Ltd"), Notes: ptr("n")})
		if err != nil {
			t.Fatal(err)
		}
		y, err := w.svc.CreateContact(ctx, w.as(), crm.ContactInput{LastName: ptr("Y")})
		if err != nil {
			t.Fatal(err)
		}
		a, err := w.svc.CreateActivity(ctx, w.as(), crm.ActivityInput{Type: ptr("note"), Subject: ptr("s"), Body: ptr("secret"),
			ContactID: crm.Value(y.ID), CompanyID: crm.Value(co.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var eraseErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, eraseErr = w.svc.EraseClient(ctx, w.as(), "company", co.ID) }()
		go func() {
			defer wg.Done()
			_, _ = w.svc.UpdateActivity(ctx, w.as(), a.ID, crm.ActivityInput{ContactID: crm.Null[int64]()}, 0)
		}()
		wg.Wait()
		if eraseErr != nil {
			t.Fatalf("round %d: the erase failed: %v", i, eraseErr)
		}
		got, err := w.svc.FindActivityByID(ctx, w.as(), a.ID)
		if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Fatalf("round %d: the activity is left sealed under the destroyed key: %v", i, err)
		}
		if err == nil && got.Body != "secret" {
			t.Fatalf("round %d: the activity reads %q", i, got.Body)
		}
	}
}

// TestEraseContactRaces: two erasures of one contact, an update of it, a
// new activity and consent of it, and its activity moved to another
// contact, all at once: exactly one erase succeeds every round, nothing
// fails with an internal error, and nothing of the contact is left.
func TestEraseContactRaces(t *testing.T) {
	ctx := context.Background()
	w := newEraseWorld(t)
	for i := range 30 {
		y, err := w.svc.CreateContact(ctx, w.as(), crm.ContactInput{LastName: ptr("Other")})
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.svc.CreateContact(ctx, w.as(), crm.ContactInput{LastName: ptr("Doomed"), Notes: ptr("n")})
		if err != nil {
			t.Fatal(err)
		}
		a, err := w.svc.CreateActivity(ctx, w.as(), crm.ActivityInput{Type: ptr("note"), Subject: ptr("s"), Body: ptr("b"), ContactID: crm.Value(c.ID)})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		erased := 0
		run := func(what string, f func() error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := f()
				mu.Lock()
				defer mu.Unlock()
				if err != nil && crm.ErrorCode(err) == crm.EINTERNAL {
					t.Errorf("round %d: %s: %v", i, what, err)
				}
				if err == nil && what == "erase" {
					erased++
				}
			}()
		}
		for range 2 {
			run("erase", func() error { _, err := w.svc.EraseClient(ctx, w.as(), "contact", c.ID); return err })
		}
		run("create an activity", func() error {
			_, err := w.svc.CreateActivity(ctx, w.as(), crm.ActivityInput{Type: ptr("note"), Subject: ptr("s"), Body: ptr("late"), ContactID: crm.Value(c.ID)})
			return err
		})
		run("record a consent", func() error {
			_, err := w.svc.RecordConsent(ctx, w.as(), c.ID, crm.ConsentInput{Purpose: ptr("calls"), Granted: ptr(true), Source: ptr("web")})
			return err
		})
		run("update", func() error {
			_, err := w.svc.UpdateContact(ctx, w.as(), c.ID, crm.ContactInput{Notes: ptr("changed")}, 0)
			return err
		})
		run("move the activity", func() error {
			_, err := w.svc.UpdateActivity(ctx, w.as(), a.ID, crm.ActivityInput{ContactID: crm.Value(y.ID)}, 0)
			return err
		})
		wg.Wait()
		if erased != 1 {
			t.Fatalf("round %d: %d erasures succeeded, want 1", i, erased)
		}
		var left int
		var keyErr error
		err = w.st.Read(ctx, func(tx crm.Tx) error {
			acts, _, err := tx.Activities(ctx, crm.Scope{All: true}, crm.ActivityFilter{ContactID: c.ID}, crm.ListQuery{Limit: 100, Sort: "created_at"})
			left = len(acts)
			_, keyErr = tx.DataKeyOf(ctx, "contact:"+strconv.FormatInt(c.ID, 10))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if left > 0 || crm.ErrorCode(keyErr) != crm.ENOTFOUND {
			t.Fatalf("round %d: %d activities of the erased contact left; its key: %v", i, left, keyErr)
		}
		if got, err := w.svc.FindActivityByID(ctx, w.as(), a.ID); err == nil && got.Body != "b" {
			t.Fatalf("round %d: the moved activity reads %q", i, got.Body)
		} else if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
			t.Fatalf("round %d: the moved activity: %v", i, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
