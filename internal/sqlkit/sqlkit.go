// Package sqlkit holds the parts of building list queries that do not
// depend on the SQL dialect, so that the sqlite and postgres stores sort,
// page and search alike: the whitelisted sort columns with their cursor key
// kinds and the sentinels for missing values, the upper bound of a prefix
// range, and the normalisation of search text. Only constant expressions
// from here ever reach SQL text; values are bound by each store.
package sqlkit

import (
	"strings"
)

// KeyKind is how a sort column's value is written in a cursor key.
type KeyKind int

const (
	TextKey KeyKind = iota // the text itself
	IntKey                 // a decimal integer (timestamps, amounts)
)

// SortCol is the SQL expression a sort field orders by. Nullable columns are
// wrapped in coalesce with a sentinel, identically in the indexes (see the
// migrations), in ORDER BY and in the cursor comparison.
type SortCol struct {
	Expr string
	Kind KeyKind
}

// Sentinels that sort missing values after all others.
const (
	MaxTime = "9223372036854775807"
	MaxDate = "'9999-12-31'"
)

// SortCols maps each list's whitelisted sort fields (crm.SortFields) to its
// columns, but for crm.MemorySorts.
var SortCols = map[string]map[string]SortCol{
	"contacts": {
		"created_at": {"created_at", IntKey},
		"updated_at": {"updated_at", IntKey},
	},
	"companies": {
		"created_at": {"created_at", IntKey},
		"updated_at": {"updated_at", IntKey},
	},
	"deals": {
		"created_at":     {"created_at", IntKey},
		"expected_close": {"coalesce(expected_close, " + MaxDate + ")", TextKey},
		"amount":         {"amount_minor", IntKey},
		"updated_at":     {"updated_at", IntKey},
	},
	"activities": {
		"occurred_at": {"occurred_at", IntKey},
		"created_at":  {"created_at", IntKey},
		"updated_at":  {"updated_at", IntKey},
	},
	"tasks": {
		"due_at":     {"coalesce(due_at, " + MaxTime + ")", IntKey},
		"created_at": {"created_at", IntKey},
		"updated_at": {"updated_at", IntKey},
	},
}

// Qualify prefixes every column of a comma-separated list with alias and a
// dot, for joins: Qualify("t", "id, name") is "t.id, t.name".
func Qualify(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}
