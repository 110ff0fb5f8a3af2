package auth

import (
	"regexp"
	"strings"
	"testing"
)

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	if len(codes) != RecoveryCodeCount || RecoveryCodeCount != 10 {
		t.Fatalf("%d codes, want 10", len(codes))
	}
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)
	seen := map[string]bool{}
	var hashes [][]byte
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("code %q has the wrong shape", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		hashes = append(hashes, HashRecoveryCode(7, c))
	}
	for i, c := range codes {
		if got := MatchRecoveryCode(7, c, hashes); got != i {
			t.Errorf("MatchRecoveryCode(%q) = %d, want %d", c, got, i)
		}
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if got := MatchRecoveryCode(7, typed, hashes); got != i {
			t.Errorf("MatchRecoveryCode(%q) = %d, want %d", typed, got, i)
		}
		// Bound to the user: the same code of another user does not match.
		if got := MatchRecoveryCode(8, c, hashes); got != -1 {
			t.Errorf("code of user 7 matched for user 8 at %d", got)
		}
	}
	for _, bad := range []string{"", "0000-0000-0000", "abc", codes[0] + "0", strings.Repeat("z", 100), "ёёёё-ёёёё-ёёёё"} {
		if got := MatchRecoveryCode(7, bad, hashes); got != -1 {
			t.Errorf("MatchRecoveryCode(%q) = %d, want -1", bad, got)
		}
	}
	if HashRecoveryCode(7, "not a code") != nil {
		t.Error("a malformed code hashes")
	}
}

func TestNormalizeRecoveryCode(t *testing.T) {
	cases := map[string]string{
		"7g2k-q9xm-4hcw":     "7g2kq9xm4hcw",
		" 7G2K Q9XM 4HCW ":   "7g2kq9xm4hcw",
		"7g2k-q9xm-4hcw\t":   "7g2kq9xm4hcw",
		"oO1l-Ii00-uUvv":     "00111100vvvv",
		"7g2kq9xm4hc":        "",
		"7g2k-q9xm-4hc!":     "",
		"7g2k-q9xm-4hcw-aaa": "",
	}
	for in, want := range cases {
		got, ok := NormalizeRecoveryCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
