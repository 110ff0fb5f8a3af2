package sqlstore

import (
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/seal"
)

// TestSealableIsWhatSealSeals: SealFields writes exactly the columns the
// Seal hook encrypts, and the blind-index tokens it makes (the upgrade
// pass and the rotation of a client's key write through it), so the lists
// cannot drift apart.
func TestSealableIsWhatSealSeals(t *testing.T) {
	want := seal.SealedColumns()
	for _, c := range seal.Columns {
		if c.Class == seal.Token && c.Table != "tags" {
			entity := map[string]string{"contacts": "contact"}[c.Table]
			if entity == "" {
				t.Fatalf("blind index %s.%s: add its entity here", c.Table, c.Name)
			}
			want[entity] = append(want[entity], c.Name)
		}
	}
	for entity, cols := range sealable {
		var have []string
		for c := range cols {
			have = append(have, c)
		}
		slices.Sort(have)
		w := slices.Sorted(slices.Values(want[entity]))
		if !slices.Equal(have, w) {
			t.Errorf("%s: SealFields may write %v, Seal seals %v", entity, have, w)
		}
		delete(want, entity)
	}
	for entity, cols := range want {
		t.Errorf("%s: Seal seals %v, and SealFields may write none of them", entity, cols)
	}
}
