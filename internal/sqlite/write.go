package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/custos-crm/custos/internal/crm"
)

// Group commit (PRF-1).
//
// SQLite has one writer, and most of a small write's time on it is the
// commit: the WAL frames of the table and index pages it changed. Writes
// therefore share transactions: the writers queue for a turn on the writer
// connection; a writer that finds others queued behind it when its fn is done
// does not commit but hands its turn, and the open transaction, to the next,
// and waits for the commit of the group. The last of the group (nobody
// queued, or maxGroup members) commits once for all of them. Each fn still
// sees the writes before it and runs alone on the connection, so the result
// is what running the fns one after the other would give; nobody hears of
// success before the commit that makes their write durable.
//
// A fn that joins a group in which others have already succeeded runs inside
// a SAVEPOINT, so that its failure (an error it returns, a panic, or
// runtime.Goexit) rolls back its own work only. The first fn of a group runs
// without one: when it fails, the whole transaction is rolled back. Should
// SQLite itself abort the transaction (an I/O error, a full disk), the
// savepoint is gone; the group is then broken and every member gets an
// error, as a failed commit would give them.
//
// Statements inside a write ignore the cancellation of the caller's
// context: interrupting one would make SQLite roll back the whole shared
// transaction. A caller whose context ends while it waits for its turn gets
// the context's error and its fn never runs.

// maxGroup bounds a group, so that a steady stream of writers still commits
// every so often, and a failed commit fails few. Smaller groups also keep
// the pipeline full: the members of a group wait for its commit, and while
// they do the rest of their requests' work (and their clients' next
// requests), the writer has little to do. Measured with 32 clients: 16
// gave 5 to 20% more creates per second than 64, 32 or 8 (PRF-1).
const maxGroup = 16

var (
	sqlSavepoint  = static(`SAVEPOINT custos_write`)
	sqlRollbackTo = static(`ROLLBACK TO custos_write`)
	sqlRelease    = static(`RELEASE custos_write`)
)

// errClosed is the error of a Write after Close.
var errClosed = errors.New("sqlite: database is closed")

// group is a transaction shared by several writes.
type group struct {
	tx      *tx
	members int           // fns whose work is in the transaction
	broken  error         // set when SQLite aborted the transaction
	done    chan struct{} // closed when the transaction has ended
	err     error         // the outcome for members; read after done
}

// writeState is the part of DB that only the holder of the turn touches.
type writeState struct {
	open   *group // the group whose transaction is open, if any
	closed bool
}

// Write runs fn in a BEGIN IMMEDIATE transaction on the writer connection,
// possibly shared with other writes (group commit, above), and returns once
// that transaction has committed (nil) or rolled back (an error). fn's
// changes are undone if it returns an error or panics, and the panic goes
// on. Writes queue for the one connection, so fn must not call Write itself.
func (db *DB) Write(ctx context.Context, fn func(crm.Tx) error) error {
	db.waiting.Add(1)
	<-db.turn // never abandoned: whoever holds the turn must pass it on
	db.waiting.Add(-1)
	st := &db.ws
	if st.closed {
		db.turn <- struct{}{}
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		db.pass(st.open, false)
		return fmt.Errorf("sqlite: write: %w", err)
	}
	g := st.open
	if g == nil {
		sqlTx, err := db.writer.BeginTx(context.Background(), nil)
		if err != nil {
			db.pass(nil, false)
			return fmt.Errorf("sqlite: begin: %w", err)
		}
		g = &group{done: make(chan struct{})}
		g.tx = &tx{pool: db.writer, sqlTx: sqlTx, stmts: db.wstmts}
		st.open = g
	}
	t := *g.tx
	t.now = now()
	guarded := g.members > 0
	if guarded {
		if _, err := t.exec(ctx, sqlSavepoint); err != nil {
			g.broken = fmt.Errorf("sqlite: savepoint: %w", err)
			return db.pass(g, false)
		}
	}
	finished := false
	defer func() {
		if !finished { // fn panicked or called runtime.Goexit
			db.undo(g, &t, guarded)
			db.pass(g, false)
		}
	}()
	err := fn(&t)
	finished = true
	if err != nil {
		db.undo(g, &t, guarded)
		db.pass(g, false)
		return err
	}
	if guarded {
		if _, err := t.exec(ctx, sqlRelease); err != nil {
			g.broken = fmt.Errorf("sqlite: release savepoint: %w", err)
		}
	}
	g.members++
	return db.pass(g, true)
}

// undo rolls back the work of the fn that just failed in g: to its
// savepoint, or, for the first fn of the group, the whole transaction.
func (db *DB) undo(g *group, t *tx, guarded bool) {
	if !guarded {
		db.end(g, false)
		return
	}
	if _, err := t.exec(context.Background(), sqlRollbackTo); err != nil {
		g.broken = fmt.Errorf("sqlite: roll back to savepoint: %w", err)
		return
	}
	if _, err := t.exec(context.Background(), sqlRelease); err != nil {
		g.broken = fmt.Errorf("sqlite: release savepoint: %w", err)
	}
}

// end commits (or rolls back) g's transaction, records the outcome for its
// members and closes it.
func (db *DB) end(g *group, commit bool) {
	if g.broken != nil {
		commit = false
		g.err = fmt.Errorf("%w (the transaction was shared with other writes)", g.broken)
	}
	if commit {
		if err := g.tx.sqlTx.Commit(); err != nil {
			g.err = fmt.Errorf("sqlite: commit: %w", err)
		} else {
			db.commits.Add(1)
		}
	} else {
		_ = g.tx.sqlTx.Rollback()
		if g.err == nil {
			g.err = errors.New("sqlite: transaction rolled back")
		}
	}
	db.ws.open = nil
	close(g.done)
}

// pass ends the holder's turn. While writers queue behind it and the group
// has room, the open transaction goes on to the next; otherwise the group
// commits here. joined reports whether the caller's work is in g: it then
// waits for the group's outcome and returns it.
func (db *DB) pass(g *group, joined bool) error {
	if g != nil && db.ws.open == g {
		if g.broken == nil && g.members < maxGroup && db.waiting.Load() > 0 {
			db.turn <- struct{}{}
			if !joined {
				return nil
			}
			<-g.done
			return g.err
		}
		db.end(g, g.members > 0)
	}
	db.turn <- struct{}{}
	if joined {
		return g.err
	}
	return nil
}

// closeWrites waits for the turn, ends any open group and makes every
// later Write fail.
func (db *DB) closeWrites() {
	if db.turn == nil {
		return
	}
	<-db.turn
	if g := db.ws.open; g != nil {
		db.end(g, g.members > 0)
	}
	db.ws.closed = true
	db.turn <- struct{}{}
}
