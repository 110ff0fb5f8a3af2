package postgres

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

const userCols = `id, email, name, role, language, disabled, password_hash, created_at,
	updated_at, last_login_at, locked_until`

const (
	sqlUserByID    = `SELECT ` + userCols + ` FROM users WHERE id = $1`
	sqlUserByEmail = `SELECT ` + userCols + ` FROM users WHERE email = $1`
	sqlUsers       = `SELECT ` + userCols + ` FROM users ORDER BY id`
	sqlCountUsers  = `SELECT count(*) FROM users`
	sqlInsertUser  = `INSERT INTO users (email, name, role, language, disabled,
		password_hash, created_at, updated_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id`
	sqlUpdateUser = `UPDATE users SET email = $1, name = $2, role = $3, language = $4,
		disabled = $5, password_hash = $6, updated_at = $7, last_login_at = $8 WHERE id = $9`
)

// A user row has no version, and the service updates what it read (role,
// disabled flag, password), so inside a Write the reads by key lock the
// row: FOR NO KEY UPDATE, which does not block the foreign-key checks of
// rows that refer to the user.
const lockUser = "FOR NO KEY UPDATE"

// userRow receives the columns of userCols.
type userRow struct {
	u                      crm.User
	created, updated       int64
	lastLogin, lockedUntil *int64
}

func (r *userRow) dest() []any {
	return []any{&r.u.ID, &r.u.Email, &r.u.Name, &r.u.Role, &r.u.Language, &r.u.Disabled,
		&r.u.PasswordHash, &r.created, &r.updated, &r.lastLogin, &r.lockedUntil}
}

func (r *userRow) user() *crm.User {
	r.u.CreatedAt, r.u.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	r.u.LastLoginAt, r.u.LockedUntil = timePtr(r.lastLogin), timePtr(r.lockedUntil)
	return &r.u
}

func scanUser(sc scanner) (*crm.User, error) {
	var r userRow
	if err := sc.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.user(), nil
}

// UserByID returns a user. ENOTFOUND if there is none. Inside a Write the
// row stays locked until the transaction ends.
func (t *tx) UserByID(ctx context.Context, id int64) (*crm.User, error) {
	u, err := scanUser(t.q.QueryRow(ctx, sqlUserByID+t.lock(lockUser), id))
	if err != nil {
		return nil, rowError(err, "user by id", "user")
	}
	return u, nil
}

// UserByEmail returns the user with the email, compared in lower case.
// ENOTFOUND if there is none. Inside a Write the row stays locked until the
// transaction ends.
func (t *tx) UserByEmail(ctx context.Context, email string) (*crm.User, error) {
	u, err := scanUser(t.q.QueryRow(ctx, sqlUserByEmail+t.lock(lockUser), strings.ToLower(email)))
	if err != nil {
		return nil, rowError(err, "user by email", "user")
	}
	return u, nil
}

// Users returns every user, by id.
func (t *tx) Users(ctx context.Context) ([]*crm.User, error) {
	rows, err := t.q.Query(ctx, sqlUsers)
	if err != nil {
		return nil, dbError(err, "users", "user", "")
	}
	defer rows.Close()
	list := []*crm.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, rowError(err, "scan user", "user")
		}
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, rowError(err, "users", "user")
	}
	return list, nil
}

// CountUsers returns the number of users (0 before setup).
func (t *tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := t.q.QueryRow(ctx, sqlCountUsers).Scan(&n); err != nil {
		return 0, rowError(err, "count users", "user")
	}
	return n, nil
}

// InsertUser stores a new user and sets u.ID. The email is stored (and left
// in u) in lower case; a taken one is ECONFLICT on "email".
func (t *tx) InsertUser(ctx context.Context, u *crm.User) error {
	u.Email = strings.ToLower(u.Email)
	id, err := t.insert(ctx, sqlInsertUser, u.Email, u.Name, string(u.Role), u.Language,
		u.Disabled, u.PasswordHash, micros(u.CreatedAt), micros(u.UpdatedAt),
		nullMicros(u.LastLoginAt))
	if err != nil {
		return dbError(err, "insert user", "user", "email")
	}
	u.ID = id
	return nil
}

// UpdateUser stores u (all but CreatedAt). ENOTFOUND if it does not exist,
// ECONFLICT on "email" if the new email is taken.
func (t *tx) UpdateUser(ctx context.Context, u *crm.User) error {
	u.Email = strings.ToLower(u.Email)
	ok, err := t.update(ctx, sqlUpdateUser, u.Email, u.Name, string(u.Role), u.Language,
		u.Disabled, u.PasswordHash, micros(u.UpdatedAt), nullMicros(u.LastLoginAt), u.ID)
	if err != nil {
		return dbError(err, "update user", "user", "email")
	}
	if !ok {
		return crm.NotFound("user")
	}
	return nil
}
