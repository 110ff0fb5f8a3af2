package sqlite_test

import (
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/sqlstore"
	"github.com/custos-crm/custos/internal/storetest"
)

// TestListPlans explains every list statement the store runs, by every
// sort, for a rep who owns most records, the same rep with shares, a
// manager of six teams and an admin, and fails when a plan sorts the rows
// of a scope: a "USE TEMP B-TREE FOR ORDER BY" at a level that reads the
// entity's table other than by rowid (ACL-4 and the performance part of
// issue 11: the cost of a page must not grow with the records the caller
// may see). Sorting the few rows of a merge of limited branches, or of
// records found by id, is what a merge is for and passes.
func TestListPlans(t *testing.T) {
	db := open(t, t.TempDir())
	plans := storetest.ListPlans(t, db, sqlstore.WithListTrace, func() {
		if _, err := sqlite.Writer(db).Exec("ANALYZE"); err != nil {
			t.Fatal(err)
		}
	})
	for _, p := range plans {
		rows, err := sqlite.Reader(db).Query("EXPLAIN QUERY PLAN "+p.Query, p.Args...)
		if err != nil {
			t.Fatalf("%s: explain: %v", p.Name, err)
		}
		var nodes []node
		for rows.Next() {
			var n node
			var unused int
			if err := rows.Scan(&n.id, &n.parent, &unused, &n.detail); err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, n)
		}
		rows.Close()
		var plan strings.Builder
		for _, n := range nodes {
			plan.WriteString("\n  " + n.detail)
		}
		if bad := sortsScope(p.Table, nodes); bad != "" {
			t.Errorf("%s sorts its scope (%s):%s\n%s", p.Name, bad, plan.String(), p.Query)
		}
	}
}

// node is a row of EXPLAIN QUERY PLAN.
type node struct {
	id, parent int
	detail     string
}

// sortsScope returns the read of table that a level of the plan sorts,
// "" if none: a "USE TEMP B-TREE FOR ORDER BY" whose level reads table by
// a scan or along an index (directly or in the arms of a MULTI-INDEX OR),
// not by rowid. The levels of subqueries (the limited branches of a merge,
// the list of shared ids) are levels of their own.
func sortsScope(table string, nodes []node) string {
	children := map[int][]node{}
	for _, n := range nodes {
		children[n.parent] = append(children[n.parent], n)
	}
	var reads func(parent int) string
	reads = func(parent int) string {
		for _, n := range children[parent] {
			d := n.detail
			switch {
			case (strings.HasPrefix(d, "SCAN "+table) || strings.HasPrefix(d, "SEARCH "+table+" ")) &&
				!strings.Contains(d, "INTEGER PRIMARY KEY (rowid=?)"):
				return d
			case d == "MULTI-INDEX OR" || strings.HasPrefix(d, "INDEX "):
				if r := reads(n.id); r != "" {
					return r
				}
			}
		}
		return ""
	}
	for _, n := range nodes {
		if n.detail == "USE TEMP B-TREE FOR ORDER BY" {
			if r := reads(n.parent); r != "" {
				return r
			}
		}
	}
	return ""
}

// TestScopedSortManyShares pages through scopes of every part with the
// shared part read along the sort index (sqlstore.ManyShares at 0: as for
// a principal with thousands of shares), against the order computed apart.
func TestScopedSortManyShares(t *testing.T) {
	old := sqlstore.ManyShares.Load()
	sqlstore.ManyShares.Store(0)
	t.Cleanup(func() { sqlstore.ManyShares.Store(old) })
	storetest.RunScopedSorts(t, func(t *testing.T) crm.Store { return open(t, t.TempDir()) })
}
