package sqlkit

import (
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestSortColsCoverCrmSortFields keeps the store sort table in step with
// the service's whitelist (crm.SortFields): every field has a column or
// is ordered in memory, never both.
func TestSortColsCoverCrmSortFields(t *testing.T) {
	for list, fields := range crm.SortFields {
		for _, f := range fields {
			_, col := SortCols[list][f]
			if col == crm.MemorySorts[list][f] {
				t.Errorf("%s.%s: a sort column %v, in memory %v: want exactly one", list, f, col, crm.MemorySorts[list][f])
			}
		}
		if len(SortCols[list])+len(crm.MemorySorts[list]) != len(fields) {
			t.Errorf("%s: %d sort columns and %d in memory for %d whitelisted fields", list, len(SortCols[list]), len(crm.MemorySorts[list]), len(fields))
		}
	}
}

func TestQualify(t *testing.T) {
	if got, want := Qualify("t", "id, user_id,\n\tname"), "t.id, t.user_id, t.name"; got != want {
		t.Errorf("Qualify = %q, want %q", got, want)
	}
}
