package postgres

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

const (
	sqlUserByID    = `SELECT ` + sqlkit.UserCols + ` FROM users WHERE id = $1`
	sqlUserByEmail = `SELECT ` + sqlkit.UserCols + ` FROM users WHERE email = $1`
	sqlUsers       = `SELECT ` + sqlkit.UserCols + ` FROM users ORDER BY id`
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

// UserByID returns a user. ENOTFOUND if there is none. Inside a Write the
// row stays locked until the transaction ends.
func (t *tx) UserByID(ctx context.Context, id int64) (*crm.User, error) {
	u, err := sqlkit.ScanUser(t.q.QueryRow(ctx, sqlUserByID+t.lock(lockUser), id))
	if err != nil {
		return nil, rowError(err, "user by id", "user")
	}
	return u, nil
}

// UserByEmail returns the user with the email, compared in lower case.
// ENOTFOUND if there is none. Inside a Write the row stays locked until the
// transaction ends.
func (t *tx) UserByEmail(ctx context.Context, email string) (*crm.User, error) {
	u, err := sqlkit.ScanUser(t.q.QueryRow(ctx, sqlUserByEmail+t.lock(lockUser), strings.ToLower(email)))
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
		u, err := sqlkit.ScanUser(rows)
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
