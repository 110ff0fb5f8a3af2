package seal

import (
	"os"
	"strings"
	"testing"
)

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

// TestClassificationDocumented: docs/data-classification.md lists every
// column of Columns with its class, and nothing else.
func TestClassificationDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/data-classification.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[[2]string]string{}
	sealedNow := map[[2]string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || strings.TrimSpace(cells[1]) == "table" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		k := [2]string{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])}
		documented[k] = strings.TrimSpace(cells[3])
		sealedNow[k] = strings.TrimSpace(cells[4]) == "yes"
	}
	// The doc's "sealed at rest now" is what Seal encrypts.
	tables := map[string]string{"contact": "contacts", "company": "companies", "deal": "deals", "activity": "activities", "task": "tasks", "consent": "consents"}
	n := 0
	for entity, cols := range SealedColumns() {
		for _, col := range cols {
			n++
			if k := [2]string{tables[entity], col}; !sealedNow[k] {
				t.Errorf("%s.%s is sealed, and the doc does not say so", k[0], k[1])
			}
		}
	}
	for _, yes := range sealedNow {
		if yes {
			n--
		}
	}
	if n != 0 {
		t.Errorf("the doc says %d more columns are sealed at rest than Seal seals", -n)
	}
	for _, c := range Columns {
		got, ok := documented[[2]string{c.Table, c.Name}]
		if !ok {
			t.Errorf("%s.%s is not in docs/data-classification.md", c.Table, c.Name)
		} else if got != c.Class.String() {
			t.Errorf("%s.%s: the doc says %q, the code %q", c.Table, c.Name, got, c.Class)
		}
		delete(documented, [2]string{c.Table, c.Name})
	}
	for k := range documented {
		t.Errorf("docs/data-classification.md lists %s.%s, which the code does not", k[0], k[1])
	}
}
