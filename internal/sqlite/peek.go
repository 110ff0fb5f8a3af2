package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
)

// PeekDataKey reads the data key of subject from the database in dir
// without opening the store: a read-only connection that neither migrates,
// analyses nor checkpoints, so that a start refused for a wrong key leaves
// the file as it was (ENC-3). found is false when the database, its
// data_keys table or the key is missing.
func PeekDataKey(ctx context.Context, dir, subject string) (version int, wrapped []byte, found bool, err error) {
	db, ok, err := peek(ctx, dir)
	if !ok {
		return 0, nil, false, err
	}
	defer db.Close()
	err = db.QueryRowContext(ctx, `SELECT kek_version, wrapped FROM data_keys WHERE subject = ?`, subject).Scan(&version, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, false, nil
	}
	return version, wrapped, err == nil, err
}

// PeekDataKeys counts the data keys of the database in dir as PeekDataKey
// reads: 0 when there is no database or no data_keys table.
func PeekDataKeys(ctx context.Context, dir string) (int64, error) {
	db, ok, err := peek(ctx, dir)
	if !ok {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM data_keys`).Scan(&n)
	return n, err
}

// peek opens the database of dir read-only; ok is false (and the database
// closed) when it has no data_keys table or no file.
func peek(ctx context.Context, dir string) (*sql.DB, bool, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	v := url.Values{}
	v.Set("mode", "ro")
	v.Add("_pragma", "busy_timeout(5000)")
	v.Add("_pragma", "query_only(ON)")
	u.RawQuery = v.Encode()
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, false, err
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'data_keys'`).Scan(&n); err != nil || n == 0 {
		db.Close()
		return nil, false, err
	}
	return db, true, nil
}
