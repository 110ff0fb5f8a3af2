package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testTextOrder checks that text sorts and prefix searches are by code
// point (UTF-8 byte order) of the lower-case form, not by a locale's
// collation, which ignores punctuation and spaces and puts accented
// letters beside their base letters: the fixtures of the other tests are
// plain letters, on which the two agree. It pages with small pages, so that
// the cursors carry such keys too. It lists tasks, whose titles the
// store sorts and searches; a contact's names, a company's name and a
// deal's title are sealed, and the service's in-memory index orders them
// (internal/service).
func testTextOrder(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	names := []string{"O'Brien", "Obrien", "o brien", "Ärger", "Zed", "zz", "Élan", "Иванов", "ab",
		"a-b", "A_b", "a b", "Ab", "éa", "e", "ob"}
	var rows []*crm.Task
	for i, name := range names {
		tk := taskKind.make(f, f.alice, i)
		tk.Title = name
		rows = append(rows, taskKind.mustInsert(t, f, tk))
	}
	for _, desc := range []bool{false, true} {
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, func(a, b *crm.Task) int {
			c := cmp.Or(strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)), cmp.Compare(a.ID, b.ID))
			if desc {
				c = -c
			}
			return c
		})
		var want []int64
		for _, c := range sorted {
			want = append(want, c.ID)
		}
		for _, limit := range []int{2, 5} {
			got := pageAll(t, f, taskKind, "title", desc, limit)
			wantEqual(t, fmt.Sprintf("tasks by title, desc=%v limit=%d", desc, limit), got, want)
		}
	}

	byName := map[string]int64{}
	for _, d := range rows {
		byName[d.Title] = d.ID
	}
	q := func(s string) crm.TaskFilter { return crm.TaskFilter{Q: s} }
	checkFilters(t, f, taskKind, []filterCase[crm.TaskFilter]{
		{all, q("o'"), []int64{byName["O'Brien"]}},
		{all, q("ob"), []int64{byName["Obrien"], byName["ob"]}},
		{all, q("a-"), []int64{byName["a-b"]}},
		{all, q("a_"), []int64{byName["A_b"]}},
		{all, q("ab"), []int64{byName["ab"], byName["Ab"]}},
		{all, q("é"), []int64{byName["Élan"], byName["éa"]}},
		{all, q("e"), []int64{byName["e"]}},
		{all, q("ä"), []int64{byName["Ärger"]}},
		{all, q("a"), []int64{byName["ab"], byName["a-b"], byName["A_b"], byName["a b"], byName["Ab"]}},
	}, crm.Tx.Tasks)
}
