package sqlstore

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRebind: placeholders are numbered in order, the rest of the text is
// kept, and every shared statement rebinds to as many $n as it has ?.
func TestRebind(t *testing.T) {
	if got := Rebind(`UPDATE t SET a = ?, b = ? WHERE id = ? AND c <> 'x'`); got != `UPDATE t SET a = $1, b = $2 WHERE id = $3 AND c <> 'x'` {
		t.Errorf("Rebind: %q", got)
	}
	if got := Rebind(`SELECT 1`); got != `SELECT 1` {
		t.Errorf("no placeholders: %q", got)
	}
	if len(statements) < 50 {
		t.Fatalf("%d statements registered", len(statements))
	}
	for _, q := range statements {
		n := strings.Count(q, "?")
		if r := Rebind(q); strings.Contains(r, "?") || (n > 0 && !strings.Contains(r, "$"+strconv.Itoa(n))) || strings.Contains(r, "$"+strconv.Itoa(n+1)) {
			t.Errorf("statement %q rebinds to %q", q, r)
		}
	}
	// A query built per request is rebound but not kept: no request can
	// grow the table.
	n := len(rebound)
	if got := Rebind(`SELECT id FROM contacts WHERE id IN (?, ?)`); got != `SELECT id FROM contacts WHERE id IN ($1, $2)` || len(rebound) != n {
		t.Errorf("unregistered query: %q, table %d → %d", got, n, len(rebound))
	}
}

// TestMicros: times round-trip through their column form in whole
// microseconds, UTC; NULL is nil both ways.
func TestMicros(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 123456789, time.FixedZone("MSK", 3*3600))
	if got := FromMicros(Micros(at)); !got.Equal(at.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("round trip: %v", got)
	}
	if NullMicros(nil) != nil || TimePtr(nil) != nil {
		t.Error("NULL")
	}
	v := Micros(at)
	if p := TimePtr(&v); p == nil || !p.Equal(FromMicros(v)) || NullMicros(p) != v {
		t.Errorf("nullable: %v", p)
	}
}
