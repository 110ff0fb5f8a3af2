package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Bench runs the store benchmarks against a store made by newStore: reads
// by id and list pages in creation order. (Contacts sorted and searched
// by name are the service's in-memory index: internal/memindex's
// benchmarks.)
func Bench(b *testing.B, newStore func(tb testing.TB) crm.Store) {
	b.Run("ContactByID", func(b *testing.B) { benchContactByID(b, newStore) })
	b.Run("Contacts", func(b *testing.B) { benchContacts(b, newStore) })
}

// seedOne fills db with n contacts of one sales owner and returns its id.
func seedOne(b *testing.B, db crm.Store, n int) int64 {
	b.Helper()
	ctx := context.Background()
	owner := &crm.User{Email: "owner@example.com", Role: crm.RoleSales, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	err := db.Write(ctx, func(tx crm.Tx) error { return tx.InsertUser(ctx, owner) })
	if err != nil {
		b.Fatal(err)
	}
	names := []string{"Ivanov", "Smith", "Müller", "Петров", "García", "Nakamura", "O'Brien", "Kowalski"}
	for start := 0; start < n; start += 1000 {
		err := db.Write(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				now := tx.Now()
				c := &crm.Contact{
					FirstName: fmt.Sprint("First", i%97), LastName: fmt.Sprint(names[i%len(names)], i%1013),
					Email: fmt.Sprintf("person%d@example.com", i), Phone: fmt.Sprintf("+4420%08d", i),
					Tags: []string{"lead"}, OwnerID: owner.ID, Version: 1, CreatedAt: now, UpdatedAt: now,
				}
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if o, ok := db.(interface{ Optimize(context.Context) error }); ok {
		if err := o.Optimize(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return owner.ID
}

func benchContactByID(b *testing.B, newStore func(tb testing.TB) crm.Store) {
	const n = 10000
	db := newStore(b)
	seedOne(b, db, n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		id := int64(1)
		for pb.Next() {
			err := db.Read(ctx, func(tx crm.Tx) error {
				_, err := tx.ContactByID(ctx, crm.Scope{All: true}, id, false)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
			id = id%n + 1
		}
	})
}

func benchContacts(b *testing.B, newStore func(tb testing.TB) crm.Store) {
	db := newStore(b)
	owner := seedOne(b, db, 10000)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		scope crm.Scope
	}{{"All", crm.Scope{All: true}}, {"Owner", crm.Scope{OwnerID: owner}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var after *crm.Cursor
			for b.Loop() {
				err := db.Read(ctx, func(tx crm.Tx) error {
					rows, next, err := tx.Contacts(ctx, bc.scope, crm.ContactFilter{},
						crm.ListQuery{Limit: 50, Sort: "created_at", After: after})
					if err != nil {
						return err
					}
					if len(rows) != 50 && next != "" {
						return fmt.Errorf("%d rows", len(rows))
					}
					// Walk the pages, starting over at the end.
					after = nil
					if next != "" {
						after, err = crm.DecodeCursor(next, "created_at")
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
