package storetest

import (
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// testTextOrder checks that prefix searches are by code point (UTF-8
// byte order) of the lower-case form, not by a locale's collation, which
// ignores punctuation and spaces and puts accented letters beside their
// base letters, and that LIKE's wildcards in a search are plain letters.
// It searches activities, whose subjects the store still searches; every
// text the store sorted by (a contact's names, a company's name, the
// titles of deals and tasks) is sealed now, and the service's in-memory
// index orders and searches it (internal/service, whose tests have these
// cases).
func testTextOrder(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	names := []string{"O'Brien", "Obrien", "o brien", "Ärger", "Zed", "zz", "Élan", "Иванов", "ab",
		"a-b", "A_b", "a b", "Ab", "éa", "e", "ob", "a%b"}
	byName := map[string]int64{}
	for i, name := range names {
		a := activityKind.make(f, f.alice, i)
		a.Subject = name
		byName[name] = activityKind.mustInsert(t, f, a).ID
	}
	q := func(s string) crm.ActivityFilter { return crm.ActivityFilter{Q: s} }
	checkFilters(t, f, activityKind, []filterCase[crm.ActivityFilter]{
		{all, q("o'"), []int64{byName["O'Brien"]}},
		{all, q("ob"), []int64{byName["Obrien"], byName["ob"]}},
		{all, q("a-"), []int64{byName["a-b"]}},
		{all, q("a_"), []int64{byName["A_b"]}},
		{all, q("a%"), []int64{byName["a%b"]}},
		{all, q("ab"), []int64{byName["ab"], byName["Ab"]}},
		{all, q("é"), []int64{byName["Élan"], byName["éa"]}},
		{all, q("e"), []int64{byName["e"]}},
		{all, q("ä"), []int64{byName["Ärger"]}},
		{all, q("иван"), []int64{byName["Иванов"]}},
		{all, q("a"), []int64{byName["ab"], byName["a-b"], byName["A_b"], byName["a b"], byName["Ab"], byName["a%b"]}},
	}, crm.Tx.Activities)
}
