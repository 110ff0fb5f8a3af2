package postgres_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
)

// checkedPasswords counts the wrong passwords the service actually
// checked, from its events (a lock answers like a wrong password, so the
// answers alone cannot tell).
type checkedPasswords struct{ n atomic.Int64 }

func (c *checkedPasswords) Emit(_ context.Context, _ crm.Tx, e identity.Event) error {
	if e.Type == "login.failure" && strings.HasPrefix(e.Detail, "password") {
		c.n.Add(1)
	}
	return nil
}

// TestThrottleBurstTwoInstances: a burst of 30 wrong passwords against a
// limit of 5, spread over two instances with pools of their own on one
// database, checks at most 5 (AUTH-6, ASVS v5.0.0-6.3.1, attack 9). On
// PostgreSQL, unlike SQLite's single writer, only the key's row lock keeps
// two admissions from both passing the check before either is counted:
// without it this test fails.
func TestThrottleBurstTwoInstances(t *testing.T) {
	dsn, _ := postgrestest.Schema(t)
	ctx := context.Background()
	th := auth.Throttle{AccountLimit: 5, BackoffAfter: 100}
	var checked checkedPasswords
	var svcs []*identity.Service
	for i := range 2 {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if i == 0 {
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		svcs = append(svcs, identity.New(db, identity.Options{
			Throttle: th, Events: &checked, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Hasher: auth.NewHasher(auth.Params{Memory: 8 * 1024, Time: 1, Threads: 1}, 32),
		}))
	}
	email, pw, role := "bob@example.com", "a long enough password", crm.RoleSales
	if _, err := svcs[0].CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Password: &pw, Role: &role}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, _, err := svcs[i%2].Login(ctx, email, "wrong password!!", "192.0.2.1", "")
			if code := crm.ErrorCode(err); code != crm.EUNAUTHENTICATED && code != crm.ERATELIMITED {
				t.Errorf("attempt %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := checked.n.Load(); n != 5 {
		t.Errorf("%d passwords checked in a burst of 30 over two instances, want 5", n)
	}
	// The account is locked on both instances, for the right password too.
	for i, s := range svcs {
		_, _, _, err := s.Login(ctx, email, pw, "192.0.2.2", "")
		if crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
			t.Errorf("instance %d after the burst, the right password: %v, want the lock", i, err)
		}
	}
}
