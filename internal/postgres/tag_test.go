package postgres

import (
	"reflect"
	"testing"
)

func TestTagsRoundTrip(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{}, []string{}},
		{[]string{""}, []string{""}},
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]string{"Ä", "клиент"}, []string{"Ä", "клиент"}},
		{[]string{`say "hi"`, "x"}, []string{`say "hi"`, "x"}},
		{[]string{`a","b`}, []string{`a","b`}},
		{[]string{`back\slash`, "<b>&", "tab\there"}, []string{`back\slash`, "<b>&", "tab\there"}},
		{[]string{"[", "]", `"`, ","}, []string{"[", "]", `"`, ","}},
		{[]string{"\xff"}, []string{"\uFFFD"}}, // JSON has no invalid UTF-8
	} {
		got, err := decodeTags(encodeTags(tt.in))
		if err != nil {
			t.Fatalf("decodeTags(encodeTags(%q)): %v", tt.in, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decodeTags(encodeTags(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := decodeTags(`["a"`); err == nil {
		t.Error("decodeTags accepted a broken array")
	}
}

// FuzzTags checks the hand-written decoder against encoding/json.
func FuzzTags(f *testing.F) {
	f.Add("a", "b")
	f.Add(`","`, `\`)
	f.Fuzz(func(t *testing.T, a, b string) {
		s := encodeTags([]string{a, b})
		got, err := decodeTags(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := decodeTagsJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeTags(%s) = %q, encoding/json says %q", s, got, want)
		}
	})
}
