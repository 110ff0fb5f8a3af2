package seal_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// BenchmarkCipher measures the record service's get and list of contacts
// with the real cipher (every contact under its own data key, the key
// cache smaller than the clients, as at 100,000 contacts) against the
// null cipher (no Seal or Open), on the embedded store (issue 12: the
// ratio is in docs/performance.md).
//
//	go test -run '^$' -bench Cipher -benchtime 2000x ./internal/seal
func BenchmarkCipher(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "null"
		if sealed {
			name = "aes-gcm"
		}
		ro := service.Options{}
		if sealed {
			kek := testKEK(b)
			// 256 keys ready for 2,000 clients, every key held as bytes:
			// most reads make their client's key ready from its bytes, as
			// the default cache (16,384 ready, 262,144 as bytes) does at
			// 100,000 clients.
			ro.Hooks = service.WithSealing(service.NoHooks{}, seal.New(kek, 256, 4096))
		}
		f := testkit.NewFixture(b, ro, identity.Options{})
		ctx := context.Background()
		p := f.As("alice")
		var ids []int64
		for i := range 2000 {
			last, notes, title, addr := fmt.Sprintf("Client%05d", i), "met at the fair; call in spring", "Head of purchasing", "1 High Street, Moscow"
			c, err := f.Records.CreateContact(ctx, p, crm.ContactInput{LastName: &last, Notes: &notes, Title: &title, Address: &addr})
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		b.Run(name+"/get", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				c, err := f.Records.FindContactByID(ctx, p, ids[(i*7919)%len(ids)])
				if err != nil || c.Notes == "" {
					b.Fatal(c, err)
				}
			}
		})
		b.Run(name+"/list50", func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				page, err := f.Records.FindContacts(ctx, p, crm.ContactFilter{}, crm.ListOptions{Limit: 50, Sort: []string{"created_at", "-created_at", "updated_at"}[i%3]})
				if err != nil || len(page.Items) != 50 {
					b.Fatal(err)
				}
			}
		})
	}
}
