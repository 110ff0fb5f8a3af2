package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Background checkpoints (PRF-1).
//
// In WAL mode a commit appends the changed pages to the -wal file; a
// checkpoint copies them back into the database file and fsyncs it. SQLite
// by default checkpoints inside the commit that takes the WAL past 1,000
// pages, so one write in every few dozen paid for the copying and the fsync
// of all of them, while every other write queued behind it. Here a goroutine
// owned by the DB checkpoints instead, on a connection of its own, a short
// while after writes have committed; the writer goes on appending meanwhile
// (a PASSIVE checkpoint waits for nobody). A page changed by many writes in
// that while is copied once. The writer keeps SQLite's automatic checkpoint
// as a backstop, at walBackstopPages, should this loop fall behind.

const (
	// checkpointEvery is how often the loop looks for new commits.
	checkpointEvery = 200 * time.Millisecond
	// walBackstopPages is the writer's wal_autocheckpoint: 16,384 pages of
	// 4 KiB, a 64 MiB WAL.
	walBackstopPages = 16384
	// walSizeLimit is the size SQLite truncates the WAL to after reusing it.
	walSizeLimit = 64 << 20
)

// startCheckpoints opens the checkpointer's connection and starts the loop.
func (db *DB) startCheckpoints() error {
	ckpt, err := sql.Open("sqlite", dsn(db.path, roleCheckpointer))
	if err != nil {
		return fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)
	ckpt.SetConnMaxIdleTime(0)
	db.ckpt = ckpt
	db.ckptStop = make(chan struct{})
	db.ckptDone = make(chan struct{})
	go db.checkpointLoop()
	return nil
}

// checkpointLoop checkpoints whenever writes have committed since the last
// time, until stopCheckpoints.
func (db *DB) checkpointLoop() {
	defer close(db.ckptDone)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	var seen int64
	for {
		select {
		case <-db.ckptStop:
			return
		case <-tick.C:
		}
		if n := db.commits.Load(); n != seen {
			seen = n
			// A failure (say SQLITE_BUSY while another process
			// checkpoints) is left to the next round or the backstop.
			_ = db.checkpoint(context.Background())
		}
	}
}

// checkpoint copies the committed pages from the WAL into the database file
// without waiting for readers or the writer (PASSIVE).
func (db *DB) checkpoint(ctx context.Context) error {
	if _, err := db.ckpt.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return nil
}

// stopCheckpoints ends the loop, waits for it, and closes its connection.
func (db *DB) stopCheckpoints() {
	if db.ckpt == nil {
		return
	}
	close(db.ckptStop)
	<-db.ckptDone
	db.ckpt.Close()
	db.ckpt = nil
}
