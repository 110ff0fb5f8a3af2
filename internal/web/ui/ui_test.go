package ui

import "testing"

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/", "/contacts", "/contacts/1?x=y#z"} {
		if !localPath(p) {
			t.Errorf("localPath(%q) = false", p)
		}
	}
	for _, p := range []string{"", "//x", "/\\x", "\\/x", "http://x", "x", "/\nx", "/ x", "javascript:alert(1)", "/\x00"} {
		if localPath(p) {
			t.Errorf("localPath(%q) = true", p)
		}
	}
}
