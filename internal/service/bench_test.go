package service

import (
	"log/slog"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// Benchmarks of the record service's share of a request's hot path (issue
// 3): validating a contact, and the search text. The identity package
// benchmarks the token every API request carries; the store's own reads are
// benchmarked in storetest.Bench; `custos bench` measures whole requests.

func benchService(b *testing.B, store crm.Store) *Service {
	b.Helper()
	return New(store, Options{Logger: slog.New(slog.DiscardHandler)})
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

func bptr[T any](v T) *T { return &v }
