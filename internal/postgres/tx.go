package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlstore"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is the read pool or a write transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx implements crm.Tx over the read pool or inside one write transaction.
// pgx prepares each statement once per connection and keeps it (its
// statement cache), so the package needs no cache of its own.
type tx struct {
	sqlstore.Tx // the statements written once for both stores (conn.go)

	q     querier
	write bool // inside a Write: reads by key of unversioned rows lock them
	now   time.Time
}

var _ crm.Tx = (*tx)(nil)

// Now returns the time fixed when the Read or Write began.
func (t *tx) Now() time.Time { return t.now }

// lock returns the locking clause for a read of an unversioned row by key:
// inside a Write the row stays locked until the transaction ends, so that
// the update the caller makes of what it read cannot overwrite a change
// committed in between (see the package doc). Reads outside a Write, on
// the read-only pool, lock nothing.
func (t *tx) lock(clause string) string {
	if t.write {
		return " " + clause
	}
	return ""
}

// insert runs an INSERT ... RETURNING id and returns the new row's id.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, query, args...).Scan(&id)
	return id, err
}

// SQLSTATE codes the store maps; see dbError.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeNotNullViolation     = "23502"
	codeInvalidByteSequence  = "22021" // NUL, or not UTF-8
	codeUntranslatable       = "22P05"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// dbError turns a driver error into the crm error the Tx contract names, by
// the SQLSTATE PostgreSQL reports, never by message text. what names the
// record ("contact"), field the input field of its unique value, if any.
func dbError(err error, op, what, field string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			e := &crm.Error{Code: crm.ECONFLICT, Message: what + " already exists"}
			if field != "" {
				e.Fields = map[string]string{field: "already exists"}
			}
			return e
		case codeForeignKeyViolation:
			return &crm.Error{Code: crm.EINVALID, Message: what + " refers to a record that does not exist"}
		case codeCheckViolation, codeNotNullViolation, codeInvalidByteSequence, codeUntranslatable:
			return &crm.Error{Code: crm.EINVALID, Message: what + " has an invalid value"}
		case codeSerializationFailure, codeDeadlockDetected:
			// PostgreSQL broke a cycle of transactions waiting for each
			// other by failing this one; the others went through.
			return &crm.Error{Code: crm.ECONFLICT, Message: what + " was changed by someone else at the same time; try again"}
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// rowError maps pgx.ErrNoRows to crm.NotFound(what) and the rest as
// dbError does.
func rowError(err error, op, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return crm.NotFound(what)
	}
	return dbError(err, op, what, "")
}
