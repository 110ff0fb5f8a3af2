package sqlite

import "database/sql"

// Writer and Reader expose the pools to the external tests.
func Writer(db *DB) *sql.DB { return db.writer }

// Reader returns the read pool.
func Reader(db *DB) *sql.DB { return db.reader }
