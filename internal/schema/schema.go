// Package schema holds what the two stores share about their migrations:
// loading the embedded, numbered SQL files (one set per backend, held
// equal by the postgres package's equivalence test), the runner that
// applies them (run.go) over the few statements a Backend offers, and the
// error for a database that a newer binary has migrated. It opens nothing
// and knows no driver.
package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one embedded migration file, NNNN_what.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// MustLoad reads dir/*.sql from fsys in version order and panics unless
// they are numbered from 1 without gaps, so a bad file fails every test at
// once. store names the store in the panic message.
func MustLoad(fsys fs.FS, dir, store string) []Migration {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		panic(err)
	}
	var list []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic(fmt.Sprintf("%s: migration %s is not named NNNN_name.sql", store, base))
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			panic(err)
		}
		list = append(list, Migration{Version: v, Name: base, SQL: string(b)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Version < list[j].Version })
	for i, m := range list {
		if m.Version != i+1 {
			panic(fmt.Sprintf("%s: migration %s: want version %d", store, m.Name, i+1))
		}
	}
	return list
}

// ErrNewer is matched (errors.Is) by a *NewerError.
var ErrNewer = errors.New("database schema is newer than this binary")

// NewerError reports a database schema newer than the binary's latest
// migration. The stores refuse such a database: an older binary could
// corrupt data it does not understand.
type NewerError struct {
	Current int // the database's version
	Latest  int // this binary's latest migration
}

// Error implements the error interface.
func (e *NewerError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this binary's %d; upgrade custos", e.Current, e.Latest)
}

// Is reports whether target is ErrNewer.
func (e *NewerError) Is(target error) bool { return target == ErrNewer }
