package service

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/testkit"
)

// Benchmarks of the service's share of a request's hot path (issue 3):
// validating a contact, and resolving the bearer token that every API
// request carries. The store's own reads are benchmarked in internal/sqlite;
// `custos bench` measures whole requests.

func benchService(b *testing.B, store crm.Store) *Service {
	b.Helper()
	return New(store, Options{Logger: slog.New(slog.DiscardHandler),
		Hasher: auth.NewHasher(auth.Params{Memory: 8 * 1024, Time: 1, Threads: 1}, 2)})
}

func BenchmarkValidateContact(b *testing.B) {
	s := benchService(b, nil)
	create := crm.ContactInput{
		FirstName: bptr("Наталья"), LastName: bptr("Соловьёва"), Email: bptr("Natalya.Soloveva@Mail.example"),
		Phone: bptr("+44 20 7946 0123"), Title: bptr("Главный бухгалтер"), Address: bptr("Невский проспект, 28, Санкт-Петербург"),
		Birthday: bptr("1984-03-17"), Notes: bptr("Prefers calls after 10:00.\nSpeaks English and Russian."),
		Tags:        &[]string{"Customer", "VIP", "event-2026"},
		Preferences: &crm.PreferencesInput{Channel: bptr("phone"), Language: bptr("ru"), DoNotContact: bptr(false)},
	}
	for _, bc := range []struct {
		name   string
		in     crm.ContactInput
		create bool
	}{
		{"create", create, true},
		{"create-no-phone", func() crm.ContactInput { in := create; in.Phone = nil; return in }(), true},
		{"update-title", crm.ContactInput{Title: bptr("CFO")}, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := &crm.Contact{FirstName: "A", LastName: "B"}
				if err := s.applyContact(c, bc.in, bc.create); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSearchText(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := searchText("  Иван Петр "); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateToken resolves an API token: two reads of the store
// on every request. In `custos bench` it is a quarter of the server's CPU
// time for a contact read (docs/performance.md).
func BenchmarkAuthenticateToken(b *testing.B) {
	ctx := context.Background()
	db := testkit.SQLite(b)
	s := benchService(b, db)
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

func bptr[T any](v T) *T { return &v }
