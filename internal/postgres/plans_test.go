package postgres_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/postgres"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/sqlstore"
	"github.com/custos-crm/custos/internal/storetest"
)

// TestListPlans explains every list statement the store runs, by every
// sort, for a rep who owns most records, the same rep with shares, a
// manager of six teams and an admin, after ANALYZE, and fails when a plan
// sorts the rows of a scope: a Sort node over a read of the entity's table
// that is neither by primary key nor under a Limit of its own (ACL-4 and
// the performance part of issue 11: the cost of a page must not grow with
// the records the caller may see). The SQLite store's test of the same
// name checks the same statements there.
func TestListPlans(t *testing.T) {
	db := postgrestest.New(t)
	plans := storetest.ListPlans(t, db, sqlstore.WithListTrace, func() {
		if _, err := postgres.Writer(db).Exec(t.Context(), "ANALYZE"); err != nil {
			t.Fatal(err)
		}
	})
	for _, p := range plans {
		var out string
		err := postgres.Reader(db).QueryRow(t.Context(), "EXPLAIN (FORMAT JSON) "+sqlstore.Rebind(p.Query), p.Args...).Scan(&out)
		if err != nil {
			t.Fatalf("%s: explain: %v", p.Name, err)
		}
		var plan []struct{ Plan pgNode }
		if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan) != 1 {
			t.Fatalf("%s: plan %q: %v", p.Name, out, err)
		}
		if bad := pgSortsScope(p.Table, plan[0].Plan, false); bad != "" {
			t.Errorf("%s sorts its scope (%s):\n%s\n%s", p.Name, bad, out, p.Query)
		}
	}
}

// pgNode is a node of EXPLAIN (FORMAT JSON).
type pgNode struct {
	Type     string   `json:"Node Type"`
	Relation string   `json:"Relation Name"`
	Index    string   `json:"Index Name"`
	Rows     float64  `json:"Plan Rows"`
	Plans    []pgNode `json:"Plans"`
}

// sortable is the most rows the planner may choose to sort rather than
// read in order: a few pages' worth, where a sort is cheaper than walking an
// index (a small team's records after the cursor). Every scope of the test
// has parts of thousands of rows, which must never be sorted.
const sortable = 500

// pgSortsScope returns the read of table that a Sort above it sorts, ""
// if none: under a Sort (sorting true), a scan of more than sortable rows
// of table other than by its primary key, not below a Limit of its own.
func pgSortsScope(table string, n pgNode, sorting bool) string {
	switch {
	case n.Type == "Limit":
		sorting = false
	case n.Type == "Sort":
		sorting = true
	case sorting && n.Relation == table && strings.HasSuffix(n.Type, "Scan") && !strings.HasSuffix(n.Index, "_pkey") &&
		n.Rows > sortable:
		return fmt.Sprintf("%s on %s %s, %.0f rows", n.Type, table, n.Index, n.Rows)
	}
	for _, c := range n.Plans {
		if bad := pgSortsScope(table, c, sorting); bad != "" {
			return bad
		}
	}
	return ""
}

// TestScopedSortManyShares: as the SQLite store's test of the same name.
func TestScopedSortManyShares(t *testing.T) {
	postgrestest.BaseDSN(t)
	old := sqlstore.ManyShares.Load()
	sqlstore.ManyShares.Store(0)
	t.Cleanup(func() { sqlstore.ManyShares.Store(old) })
	storetest.RunScopedSorts(t, func(t *testing.T) crm.Store { return postgrestest.New(t) })
}
