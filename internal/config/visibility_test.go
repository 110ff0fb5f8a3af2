package config

import (
	"strings"
	"testing"
)

// TestRecordVisibility: the organisation-wide defaults are read from a
// flag or the environment, and a bad one is refused naming what is wrong.
func TestRecordVisibility(t *testing.T) {
	c, err := loadArgs(t, nil, "--record-visibility", "private,contacts=team-read,deals=team-write")
	if err != nil || c.RecordVisibility != "private,contacts=team-read,deals=team-write" {
		t.Fatalf("flag: %v %q", err, c.RecordVisibility)
	}
	c, err = loadArgs(t, map[string]string{"CUSTOS_RECORD_VISIBILITY": "team-read"})
	if err != nil || c.RecordVisibility != "team-read" {
		t.Fatalf("env: %v %+v", err, c)
	}
	for in, want := range map[string]string{
		"open":                                `"open"`,
		"private,contacts=open":               `"open"`,
		"private,users=team-read":             `"users"`,
		"contacts=team-read,contacts=private": "twice",
	} {
		_, err := loadArgs(t, nil, "--record-visibility", in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "record-visibility") {
			t.Errorf("%q: %v, want an error naming %s", in, err, want)
		}
	}
}
