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
	if len(Statements()) < 10 {
		t.Fatalf("%d statements registered", len(Statements()))
	}
	for _, q := range Statements() {
		n := strings.Count(q, "?")
		if r := Rebind(q); strings.Contains(r, "?") || (n > 0 && !strings.Contains(r, "$"+strconv.Itoa(n))) || strings.Contains(r, "$"+strconv.Itoa(n+1)) {
			t.Errorf("statement %q rebinds to %q", q, r)
		}
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
