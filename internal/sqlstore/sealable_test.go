package sqlstore

import (
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/seal"
)

// TestSealableIsWhatSealSeals: SealFields writes exactly the columns the
// Seal hook encrypts (the upgrade pass and the rotation of a client's key
// write through it), so the two lists cannot drift apart.
func TestSealableIsWhatSealSeals(t *testing.T) {
	want := seal.SealedColumns()
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
