package schema

import (
	"errors"
	"testing"
	"testing/fstest"
)

func TestMustLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
	}
	list := MustLoad(fsys, "m", "test")
	if len(list) != 2 || list[0].SQL != "A" || list[1].Version != 2 || list[1].Name != "0002_b.sql" {
		t.Fatalf("loaded %+v", list)
	}
	for name, bad := range map[string]fstest.MapFS{
		"gap":        {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"unnumbered": {"m/first.sql": {}},
		"zero":       {"m/0000_a.sql": {}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			MustLoad(bad, "m", "test")
		}()
	}
}

func TestNewerError(t *testing.T) {
	var err error = &NewerError{Current: 7, Latest: 3}
	if !errors.Is(err, ErrNewer) || err.Error() != "database schema version 7 is newer than this binary's 3; upgrade custos" {
		t.Errorf("%v", err)
	}
}

func TestRefuse(t *testing.T) {
	failed := errors.New("no database")
	if err := Refuse(3, 3, nil); err != nil {
		t.Errorf("current: %v", err)
	}
	if err := Refuse(2, 3, nil); err != nil {
		t.Errorf("older: %v", err)
	}
	var ne *NewerError
	if err := Refuse(4, 3, nil); !errors.As(err, &ne) || ne.Current != 4 || ne.Latest != 3 {
		t.Errorf("newer: %v", err)
	}
	if err := Refuse(9, 3, failed); err != failed {
		t.Errorf("an error: %v", err)
	}
}
