package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Writer exposes the write pool to the external tests, for what the store
// does not offer.
func Writer(db *DB) *pgxpool.Pool { return db.writer }

// Reader returns the read pool.
func Reader(db *DB) *pgxpool.Pool { return db.reader }
