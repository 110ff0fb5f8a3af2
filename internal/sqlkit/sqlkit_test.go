package sqlkit

import (
	"strings"
	"testing"
	"unicode"

	"github.com/custos-crm/custos/internal/crm"
)

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		p, end string
		ok     bool
	}{
		{"ab", "ac", true},
		{"иван", "ивао", true},
		{"a\uD7FF", "a\uE000", true},
		{"a" + string(unicode.MaxRune), "b", true},
		{string(unicode.MaxRune), "", false},
		{"", "", false},
	}
	for _, c := range cases {
		end, ok := PrefixEnd(c.p)
		if end != c.end || ok != c.ok {
			t.Errorf("PrefixEnd(%q) = %q, %v; want %q, %v", c.p, end, ok, c.end, c.ok)
		}
		if ok && !(c.p < end) {
			t.Errorf("PrefixEnd(%q) = %q is not above it", c.p, end)
		}
	}
	// Every string starting with p sorts below the bound.
	for _, s := range []string{"ab", "abz", "ab" + string(unicode.MaxRune)} {
		if end, _ := PrefixEnd("ab"); !(s < end) {
			t.Errorf("%q not below %q", s, end)
		}
	}
}

func TestSearchText(t *testing.T) {
	if got := SearchText("  ИВАН\x00\xff "); got != "иван" {
		t.Errorf("SearchText = %q", got)
	}
	if strings.Contains(SearchText("a\x00b"), "\x00") {
		t.Error("NUL kept")
	}
}

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
