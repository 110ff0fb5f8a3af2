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
// Each fn runs inside a SAVEPOINT, so that its failure (an error it
// returns, a panic, or runtime.Goexit) rolls back its own work only. Should
// SQLite itself abort the transaction (an I/O error, a full disk), the
// savepoint is gone; the group is then broken and every member gets an
// error, as a failed commit would give them.
//
// Statements inside a write ignore the cancellation of the caller's
// context: interrupting one would make SQLite roll back the whole shared
// transaction. A caller whose context ends while it waits for its turn gets
// the context's error and its fn never runs; one whose fn has run waits for
// the group's commit, whatever its context, so that it never hears of a
// failure of work that was then committed.

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
// on. A caller whose context ends while it waits for its turn gets the
// context's error at once, and fn never runs. Writes queue for the one
// connection, so fn must not call Write itself.
func (db *DB) Write(ctx context.Context, fn func(crm.Tx) error) error {
	if err := db.takeTurn(ctx); err != nil {
		return err
	}
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
		g.tx = newTx(&tx{pool: db.writer, sqlTx: sqlTx, stmts: db.wstmts})
		st.open = g
	}
	t := *g.tx
	t.now = now()
	newTx(&t) // the shared statements use this copy, with its time
	// Every fn runs inside a savepoint, the first of a group too: its
	// RELEASE is how an abort of the transaction under fn (which SQLite
	// may do on an I/O error or a full disk) is noticed even when fn
	// returns nil.
	if _, err := t.exec(ctx, sqlSavepoint); err != nil {
		g.broken = fmt.Errorf("sqlite: savepoint: %w", err)
		db.pass(g, false)
		return g.broken
	}
	finished := false
	defer func() {
		if !finished { // fn panicked or called runtime.Goexit
			db.undo(g, &t)
			db.pass(g, false)
		}
	}()
	err := fn(&t)
	finished = true
	if err != nil {
		db.undo(g, &t)
		db.pass(g, false)
		return err
	}
	if _, err := t.exec(ctx, sqlRelease); err != nil {
		g.broken = fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	g.members++
	return db.pass(g, true)
}

// takeTurn waits for the turn on the writer connection. A writer counted
// in waiting must take the turn, since whoever holds it hands it on to a
// waiting writer; so when ctx ends first, a goroutine takes the turn in the
// caller's stead and passes it straight on.
func (db *DB) takeTurn(ctx context.Context) error {
	db.waiting.Add(1)
	select {
	case <-db.turn:
		db.waiting.Add(-1)
		return nil
	case <-ctx.Done():
		go func() {
			<-db.turn
			db.waiting.Add(-1)
			db.pass(db.ws.open, false)
		}()
		return fmt.Errorf("sqlite: write: %w", ctx.Err())
	}
}

// undo rolls back the work of the fn that just failed in g, to its
// savepoint; the work of the group's other members stays.
func (db *DB) undo(g *group, t *tx) {
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
