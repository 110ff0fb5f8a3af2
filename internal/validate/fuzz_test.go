package validate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidators feeds arbitrary text to the field validators (SHD-6): no
// panic, and whatever is accepted is clean.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"+7 916 123-45-67", "a@b.co", "Eve <e@x.io>", "2024-02-29", "12.5", "\x00", "ru-RU", "Ivan\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := New()
		if out := v.Text("f", s, 100, false, false); out != "" {
			if !utf8.ValidString(out) || utf8.RuneCountInString(out) > 100 || strings.ContainsAny(out, "\x00\n\r") {
				t.Fatalf("text accepted %q", out)
			}
		}
		if e := v.Email("email", s, false); e != "" && (e != strings.ToLower(e) || !strings.Contains(e, "@")) {
			t.Fatalf("email accepted %q as %q", s, e)
		}
		if p := v.Phone("phone", s, "RU"); p != "" && (p[0] != '+' || len(p) > 16) {
			t.Fatalf("phone accepted %q as %q", s, p)
		}
		v.Date("d", s)
		if n := v.Amount("amount", s); n < 0 {
			t.Fatalf("negative amount %d from %q", n, s)
		}
		v.Tags("tags", []string{s})
		v.Domain("domain", s)
		v.Language("lang", s)
	})
}
