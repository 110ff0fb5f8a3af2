package sqlite

import (
	"context"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/sqlkit"
)

var (
	sqlUserByID    = static(`SELECT ` + sqlkit.UserCols + ` FROM users WHERE id = ?`)
	sqlUserByEmail = static(`SELECT ` + sqlkit.UserCols + ` FROM users WHERE email = ?`)
	sqlUsers       = static(`SELECT ` + sqlkit.UserCols + ` FROM users ORDER BY id`)
	sqlCountUsers  = static(`SELECT count(*) FROM users`)
	sqlInsertUser  = static(`INSERT INTO users (email, name, role, language, disabled,
		password_hash, created_at, updated_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlUpdateUser = static(`UPDATE users SET email = ?, name = ?, role = ?, language = ?,
		disabled = ?, password_hash = ?, updated_at = ?, last_login_at = ? WHERE id = ?`)
)

// UserByID returns a user. ENOTFOUND if there is none.
func (t *tx) UserByID(ctx context.Context, id int64) (*crm.User, error) {
	u, err := sqlkit.ScanUser(t.queryRow(ctx, sqlUserByID, id))
	if err != nil {
		return nil, rowError(err, "user by id", "user")
	}
	return u, nil
}

// UserByEmail returns the user with the email, compared in lower case.
// ENOTFOUND if there is none.
func (t *tx) UserByEmail(ctx context.Context, email string) (*crm.User, error) {
	u, err := sqlkit.ScanUser(t.queryRow(ctx, sqlUserByEmail, strings.ToLower(email)))
	if err != nil {
		return nil, rowError(err, "user by email", "user")
	}
	return u, nil
}

// Users returns every user, by id.
func (t *tx) Users(ctx context.Context) ([]*crm.User, error) {
	rows, err := t.query(ctx, sqlUsers)
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
	if err := t.queryRow(ctx, sqlCountUsers).Scan(&n); err != nil {
		return 0, rowError(err, "count users", "user")
	}
	return n, nil
}

// InsertUser stores a new user and sets u.ID. The email is stored (and left
// in u) in lower case; a taken one is ECONFLICT on "email".
func (t *tx) InsertUser(ctx context.Context, u *crm.User) error {
	u.Email = strings.ToLower(u.Email)
	id, err := t.insert(ctx, sqlInsertUser, u.Email, u.Name, string(u.Role), u.Language,
		boolInt(u.Disabled), u.PasswordHash, micros(u.CreatedAt), micros(u.UpdatedAt),
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
		boolInt(u.Disabled), u.PasswordHash, micros(u.UpdatedAt), nullMicros(u.LastLoginAt), u.ID)
	if err != nil {
		return dbError(err, "update user", "user", "email")
	}
	if !ok {
		return crm.NotFound("user")
	}
	return nil
}
