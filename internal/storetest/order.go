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
// the cursors carry such keys too.
func testTextOrder(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	names := []string{"O'Brien", "Obrien", "o brien", "Ärger", "Zed", "zz", "Élan", "Иванов", "ab",
		"a-b", "A_b", "a b", "Ab", "éa", "e", "ob"}
	var rows []*crm.Contact
	for _, name := range names {
		rows = append(rows, newContact(t, f, f.alice, func(c *crm.Contact) { c.FirstName, c.LastName, c.Email = "Quinn", name, "" }))
	}
	for _, desc := range []bool{false, true} {
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, func(a, b *crm.Contact) int {
			c := cmp.Or(strings.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName)), cmp.Compare(a.ID, b.ID))
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
			got := pageAll(t, f, contactKind, "last_name", desc, limit)
			wantEqual(t, fmt.Sprintf("contacts by last name, desc=%v limit=%d", desc, limit), got, want)
		}
	}

	byName := map[string]int64{}
	for _, c := range rows {
		byName[c.LastName] = c.ID
	}
	q := func(s string) crm.ContactFilter { return crm.ContactFilter{Q: s} }
	checkFilters(t, f, contactKind, []filterCase[crm.ContactFilter]{
		{all, q("o'"), []int64{byName["O'Brien"]}},
		{all, q("ob"), []int64{byName["Obrien"], byName["ob"]}},
		{all, q("a-"), []int64{byName["a-b"]}},
		{all, q("a_"), []int64{byName["A_b"]}},
		{all, q("ab"), []int64{byName["ab"], byName["Ab"]}},
		{all, q("é"), []int64{byName["Élan"], byName["éa"]}},
		{all, q("e"), []int64{byName["e"]}},
		{all, q("ä"), []int64{byName["Ärger"]}},
		{all, q("a"), []int64{byName["ab"], byName["a-b"], byName["A_b"], byName["a b"], byName["Ab"]}},
	}, crm.Tx.Contacts)
}
