package mask

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMasks (ACL-3): what each mask keeps, for the forms Custos stores and
// for input it cannot parse, which is masked whole.
func TestMasks(t *testing.T) {
	for _, c := range []struct {
		f        func(string) string
		in, want string
	}{
		{Phone, "+79165551234", "+7 *** ***-12-34"},
		{Phone, "+442079460123", "+44 *** ***-01-23"},
		{Phone, "+12025550143", "+1 *** ***-01-43"},
		{Phone, "12345", Hidden},
		{Phone, "", ""},
		{Email, "ivan.petrov@example.com", "i***@example.com"},
		{Email, "юлия@пример.рф", "ю***@пример.рф"},
		{Email, "no-at-sign", Hidden},
		{Email, "@example.com", Hidden},
		{Birthday, "1985-05-14", "--05-14"},
		{Birthday, "14.05.1985", Hidden},
		{Address, "г. Москва, ул. Ленина, д. 5, кв. 10", "***, г. Москва"},
		{Address, "12 Baker Street, London", "***, London"},
		{Address, "100 Main St, Apt 3, Springfield, IL 62701", "***, Springfield"},
		{Address, "Москва, ул. Ленина, д. 5, кв. 10", "***, Москва"},
		{Address, "221B Baker Street, London, NW1 6XE", "***, London"},
		{Address, "Flat 2, Rose Court, Baker Street, London", "***, London"},
		{Address, "ул. Ленина, д. 5, кв. 10", Hidden},
		{Address, "Somewhere only", Hidden},
		{Address, "1, 2", Hidden},
		{Address, "Baker Street, 221B", Hidden},
		{Text, "Head of Sales", "H***"},
		{Text, "  ", ""},
	} {
		if got := c.f(c.in); got != c.want {
			t.Errorf("mask of %q: %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzMasks: every mask is total, gives valid UTF-8, and never gives the
// value back (a mask of a value at least 8 bytes long is never the value).
func FuzzMasks(f *testing.F) {
	for _, s := range []string{"+79165551234", "ivan@example.com", "1985-05-14", "г. Москва, ул. Ленина", "\xff\xfe", "a,b,c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, m := range map[string]func(string) string{"phone": Phone, "email": Email, "birthday": Birthday, "address": Address, "text": Text} {
			got := m(s)
			if !utf8.ValidString(got) {
				t.Errorf("%s(%q) = %q: not UTF-8", name, s, got)
			}
			if len(s) >= 8 && got == s && !strings.Contains(s, Hidden) {
				t.Errorf("%s(%q) gave the value back", name, s)
			}
		}
	})
}
