package sqlstore

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

// Users (staff who sign in). A user row has no version, and the service
// updates what it read (role, disabled flag, password), so inside a write
// the reads by key lock the row where the backend runs writes at once
// (PostgreSQL: FOR NO KEY UPDATE, which does not block the foreign-key
// checks of rows that refer to the user).

const lockUser = "FOR NO KEY UPDATE"

var (
	sqlUserByID    = Statement(`SELECT ` + sqlkit.UserCols + ` FROM users WHERE id = ?`)
	sqlUserByEmail = Statement(`SELECT ` + sqlkit.UserCols + ` FROM users WHERE email = ?`)
	sqlUsers       = Statement(`SELECT ` + sqlkit.UserCols + ` FROM users ORDER BY id`)
	sqlCountUsers  = Statement(`SELECT count(*) FROM users`)
	sqlInsertUser  = Statement(`INSERT INTO users (email, name, role, language, disabled,
		password_hash, created_at, updated_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateUser = Statement(`UPDATE users SET email = ?, name = ?, role = ?, language = ?,
		disabled = ?, password_hash = ?, updated_at = ?, last_login_at = ? WHERE id = ?`)
)

// UserByID returns a user. ENOTFOUND if there is none.
func (t Tx) UserByID(ctx context.Context, id int64) (*crm.User, error) {
	u, err := sqlkit.ScanUser(t.C.QueryRow(ctx, sqlUserByID+t.C.Lock(lockUser), id))
	if err != nil {
		return nil, t.C.RowError(err, "user by id", "user")
	}
	return u, nil
}

// UserByEmail returns the user with the email, compared in lower case.
// ENOTFOUND if there is none.
func (t Tx) UserByEmail(ctx context.Context, email string) (*crm.User, error) {
	u, err := sqlkit.ScanUser(t.C.QueryRow(ctx, sqlUserByEmail+t.C.Lock(lockUser), strings.ToLower(email)))
	if err != nil {
		return nil, t.C.RowError(err, "user by email", "user")
	}
	return u, nil
}

// Users returns every user, by id.
func (t Tx) Users(ctx context.Context) ([]*crm.User, error) {
	rows, err := t.C.Query(ctx, sqlUsers)
	if err != nil {
		return nil, t.C.DBError(err, "users", "user", "")
	}
	defer rows.Close()
	list := []*crm.User{}
	for rows.Next() {
		u, err := sqlkit.ScanUser(rows)
		if err != nil {
			return nil, t.C.RowError(err, "scan user", "user")
		}
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "users", "user")
	}
	return list, nil
}

// CountUsers returns the number of users (0 before setup).
func (t Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := t.C.QueryRow(ctx, sqlCountUsers).Scan(&n); err != nil {
		return 0, t.C.RowError(err, "count users", "user")
	}
	return n, nil
}

// InsertUser stores a new user and sets u.ID. The email is stored (and left
// in u) in lower case; a taken one is ECONFLICT on "email".
func (t Tx) InsertUser(ctx context.Context, u *crm.User) error {
	u.Email = strings.ToLower(u.Email)
	id, err := t.C.Insert(ctx, sqlInsertUser, u.Email, u.Name, string(u.Role), u.Language,
		t.C.Bool(u.Disabled), u.PasswordHash, Micros(u.CreatedAt), Micros(u.UpdatedAt),
		NullMicros(u.LastLoginAt))
	if err != nil {
		return t.C.DBError(err, "insert user", "user", "email")
	}
	u.ID = id
	return nil
}

// UpdateUser stores u (all but CreatedAt and the lock mark). ENOTFOUND if
// it does not exist, ECONFLICT on "email" if the new email is taken.
func (t Tx) UpdateUser(ctx context.Context, u *crm.User) error {
	u.Email = strings.ToLower(u.Email)
	return t.updateOne(ctx, "update user", "user", "email", sqlUpdateUser, u.Email, u.Name, string(u.Role), u.Language,
		t.C.Bool(u.Disabled), u.PasswordHash, Micros(u.UpdatedAt), NullMicros(u.LastLoginAt), u.ID)
}
