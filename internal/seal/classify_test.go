package seal

import "testing"

// TestColumnsOnce: the classification names each column once, every client
// table has its id plain, and the personal values the issue lists (ENC-2)
// are classed personal.
func TestColumnsOnce(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, c := range Columns {
		k := [2]string{c.Table, c.Name}
		if seen[k] {
			t.Errorf("%s.%s is classified twice", c.Table, c.Name)
		}
		seen[k] = true
	}
	for _, table := range []string{"contacts", "companies", "deals", "activities", "tasks", "consents"} {
		if c, ok := Of(table, "id"); !ok || c != Plain {
			t.Errorf("%s.id: %v %v, want plain", table, c, ok)
		}
	}
	for _, col := range [][2]string{{"contacts", "first_name"}, {"contacts", "last_name"}, {"contacts", "email"},
		{"contacts", "phone"}, {"contacts", "address"}, {"contacts", "birthday"}, {"contacts", "notes"},
		{"contacts", "title"}, {"contacts", "tags"}, {"activities", "subject"}, {"activities", "body"},
		{"tasks", "title"}, {"tasks", "description"}, {"consents", "source"}} {
		if c, ok := Of(col[0], col[1]); !ok || c != Personal {
			t.Errorf("%s.%s: %v %v, want personal", col[0], col[1], c, ok)
		}
	}
	if c, _ := Of("companies", "name"); c != CompanyPersonal {
		t.Errorf("companies.name: %v, want personal by setting", c)
	}
	if _, ok := Of("contacts", "no_such_column"); ok {
		t.Error("Of found a column that is not listed")
	}
}
