package identity_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/testkit"
)

// BenchmarkAuthenticateToken resolves an API token: two reads of the store
// on every request. In `custos bench` it is a quarter of the server's CPU
// time for a contact read (docs/performance.md).
func BenchmarkAuthenticateToken(b *testing.B) {
	ctx := context.Background()
	db := testkit.SQLite(b)
	s := identity.New(db, identity.Options{Logger: slog.New(slog.DiscardHandler), Hasher: testkit.Hasher()})
	email, role, pw := "sales@example.com", crm.RoleSales, "correct horse battery staple"
	u, err := s.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
	if err != nil {
		b.Fatal(err)
	}
	nt, err := s.CreateToken(ctx, crm.SystemPrincipal(), u.ID, "bench", crm.ScopeWrite, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.AuthenticateToken(ctx, nt.Secret, "192.0.2.200"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
