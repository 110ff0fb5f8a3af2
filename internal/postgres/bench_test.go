package postgres_test

import (
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/storetest"
)

// BenchmarkStore runs the store benchmarks (storetest.Bench) on a fresh
// schema.
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(tb testing.TB) crm.Store { return postgrestest.New(tb) })
}
