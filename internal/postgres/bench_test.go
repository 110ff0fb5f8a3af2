package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
)

// seed returns a store on a fresh schema with n contacts, the same ones the
// sqlite package's benchmarks use, and refreshes the planner's statistics.
func seed(b *testing.B, n int) (*postgres.DB, int64) {
	b.Helper()
	db := postgrestest.New(b)
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
	if _, err := postgres.Writer(db).Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return db, owner.ID
}

func BenchmarkContactByID(b *testing.B) {
	const n = 10000
	db, _ := seed(b, n)
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

func BenchmarkContacts(b *testing.B) {
	db, owner := seed(b, 10000)
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
						crm.ListQuery{Limit: 50, Sort: "last_name", After: after})
					if err != nil {
						return err
					}
					if len(rows) != 50 && next != "" {
						return fmt.Errorf("%d rows", len(rows))
					}
					// Walk the pages, starting over at the end.
					after = nil
					if next != "" {
						after, err = crm.DecodeCursor(next, "last_name")
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

func BenchmarkContactSearch(b *testing.B) {
	db, _ := seed(b, 10000)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		err := db.Read(ctx, func(tx crm.Tx) error {
			_, _, err := tx.Contacts(ctx, crm.Scope{All: true}, crm.ContactFilter{Q: "петров1"},
				crm.ListQuery{Limit: 50, Sort: "last_name"})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
