package sqlstore

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
		got, err := DecodeTags(EncodeTags(tt.in))
		if err != nil {
			t.Fatalf("DecodeTags(EncodeTags(%q)): %v", tt.in, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DecodeTags(EncodeTags(%q)) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := DecodeTags(`["a"`); err == nil {
		t.Error("DecodeTags accepted a broken array")
	}
}

// FuzzTags checks the hand-written decoder against encoding/json.
func FuzzTags(f *testing.F) {
	f.Add("a", "b")
	f.Add(`","`, `\`)
	f.Fuzz(func(t *testing.T, a, b string) {
		s := EncodeTags([]string{a, b})
		got, err := DecodeTags(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := decodeTagsJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeTags(%s) = %q, encoding/json says %q", s, got, want)
		}
	})
}
