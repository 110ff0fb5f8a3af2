package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

const (
	sqlSetting    = `SELECT value FROM settings WHERE key = $1`
	sqlSetSetting = `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

// Setting returns the value of a setting, "" when it is unset. Inside a
// Write the row stays locked until the transaction ends: the setup code is
// read, checked and cleared in one Write, and a second Write with the same
// code must then read it cleared, not use it again.
func (t *tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := t.q.QueryRow(ctx, sqlSetting+t.lock("FOR UPDATE"), key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", rowError(err, "setting", "setting")
	}
	return v, nil
}

// SetSetting sets (or replaces) the value of a setting.
func (t *tx) SetSetting(ctx context.Context, key, value string) error {
	if _, err := t.q.Exec(ctx, sqlSetSetting, key, value); err != nil {
		return dbError(err, "set setting", "setting", "")
	}
	return nil
}
