package seal_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// BenchmarkIndexStartup measures what `custos serve` does at start with
// field encryption on (ENC-4): read every contact from the embedded
// store, open its sealed names, email and phone, and build the in-memory
// index. n contacts (CUSTOS_INDEX_CONTACTS, 100,000 by default) are
// written sealed first, through the real store and seal hook, over 20
// owners. It reports the build's seconds and the heap the index and the
// key cache keep, in all and per contact. Run it alone:
//
//	CUSTOS_INDEX_CONTACTS=1000000 go test ./internal/seal -run '^$' -bench IndexStartup -benchtime 1x
func BenchmarkIndexStartup(b *testing.B) {
	n := 100_000
	if v := os.Getenv("CUSTOS_INDEX_CONTACTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("CUSTOS_INDEX_CONTACTS=%q", v)
		}
	}
	ctx := context.Background()
	kek := testKEK(b)
	sl := seal.New(kek, seal.CacheSize, seal.RawCacheSize)
	f := testkit.NewFixture(b, service.Options{Hooks: service.WithSealing(service.NoHooks{}, sl)}, identity.Options{})
	owners := []int64{f.Users["alice"].ID, f.Users["bob"].ID}
	first := []string{"Anna", "Ivan", "Olga", "Пётр", "Мария", "John", "Emma", "Sergei", "Ольга", "Noah"}
	last := []string{"Ivanova", "Smith", "Петров", "Kuznetsova", "Brown", "Соколов", "Novak", "Müller", "Lebedev", "Jones"}
	rnd := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC().Truncate(time.Microsecond)
	for done := 0; done < n; {
		err := f.Store.Write(ctx, func(tx crm.Tx) error {
			for i := 0; i < 2000 && done < n; i++ {
				fn, ln := first[rnd.IntN(len(first))], last[rnd.IntN(len(last))]+strconv.Itoa(rnd.IntN(10000))
				c := &crm.Contact{FirstName: fn, LastName: ln, Email: fmt.Sprintf("c%d@mail%d.example", done, done%50),
					Phone: fmt.Sprintf("+7916%07d", done), OwnerID: owners[done%len(owners)], Version: 1, Tags: []string{}}
				// One creation time per transaction of 2,000, as an
				// import's writes have (the build pages by id, not by
				// creation time, which read such groups again).
				c.CreatedAt = now.Add(time.Duration(done/2000) * time.Second)
				c.UpdatedAt = c.CreatedAt
				if err := sl.Seal(ctx, tx, "contact", c); err != nil {
					return err
				}
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		// A fresh start: a new sealer (no key cached) and service.
		cold := seal.New(kek, seal.CacheSize, seal.RawCacheSize)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		svc := service.New(f.Store, service.Options{Logger: slog.New(slog.DiscardHandler), Hooks: service.WithSealing(service.NoHooks{}, cold)})
		began := time.Now()
		got, err := svc.WarmIndexes(ctx)
		took := time.Since(began)
		if err != nil {
			b.Fatal(err)
		}
		if got < n {
			b.Fatalf("indexed %d records, want at least %d", got, n)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)
		b.ReportMetric(took.Seconds(), "s/build")
		b.ReportMetric(heap/(1<<20), "MiB-heap")
		b.ReportMetric(heap/float64(n), "B/contact")
		runtime.KeepAlive(svc)
	}
}
