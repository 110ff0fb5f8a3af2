// Package archtest holds the test that the import graph is the one
// docs/architecture.md draws: each package imports only the project
// packages its row allows. A new import across a boundary (the identity
// service reading client records, the web layer opening a store, one
// backend importing the other) fails here before review.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/custos-crm/custos/"

// allowed lists, per package, the project packages its non-test files may
// import. A package missing here fails the test: every package has a row.
var allowed = map[string][]string{
	"internal/crm":                   {},
	"internal/auth":                  {},
	"internal/config":                {"internal/policy"},
	"internal/i18n":                  {},
	"internal/mail":                  {},
	"internal/mail/mailtest":         {"internal/mail"},
	"internal/schema":                {},
	"internal/tlsconf":               {},
	"internal/tlsconf/tlstest":       {},
	"internal/policy":                {"internal/crm"},
	"internal/validate":              {"internal/crm"},
	"internal/mask":                  {},
	"internal/vault":                 {},
	"internal/vault/transittest":     {},
	"internal/memindex":              {},
	"internal/seal":                  {"internal/crm", "internal/vault"},
	"internal/sqlkit":                {"internal/crm"},
	"internal/sqlstore":              {"internal/crm", "internal/sqlkit"},
	"internal/sqlite":                {"internal/crm", "internal/schema", "internal/sqlstore"},
	"internal/postgres":              {"internal/crm", "internal/schema", "internal/sqlstore"},
	"internal/postgres/postgrestest": {"internal/postgres"},
	"internal/storetest":             {"internal/crm", "internal/schema"},
	"internal/service":               {"internal/crm", "internal/mask", "internal/memindex", "internal/policy", "internal/validate"},
	"internal/identity":              {"internal/auth", "internal/crm", "internal/i18n", "internal/mail", "internal/policy", "internal/validate"},
	"internal/web":                   {"internal/crm", "internal/web/api", "internal/web/httpx", "internal/web/ui"},
	"internal/web/httpx":             {"internal/crm"},
	"internal/web/api":               {"internal/crm", "internal/web/httpx"},
	"internal/web/ui":                {"internal/crm", "internal/i18n", "internal/policy", "internal/web/httpx"},
	"internal/demo":                  {"internal/auth", "internal/crm", "internal/identity", "internal/service"},
	"internal/bench":                 {"internal/crm"},
	"internal/testkit":               {"internal/auth", "internal/crm", "internal/identity", "internal/service", "internal/sqlite"},
	"internal/archtest":              {},
	"cmd/custos":                     nil, // the wiring: imports what it must
}

func TestImportGraph(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		if !strings.HasPrefix(rel, "internal/") && !strings.HasPrefix(rel, "cmd/") {
			return nil // scripts: tools, not the product
		}
		seen[rel] = true
		ok, known := allowed[rel]
		if !known {
			t.Errorf("%s: a package with no row in the import rules (add it here and to docs/architecture.md)", rel)
			return nil
		}
		if ok == nil {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ours := strings.CutPrefix(p, module)
			if ours && !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s, which its row does not allow", filepath.ToSlash(mustRel(root, path)), dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowed {
		if !seen[pkg] && pkg != "internal/archtest" {
			t.Errorf("%s: a row for a package that has no non-test Go files", pkg)
		}
	}
}

func mustRel(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return rel
}
