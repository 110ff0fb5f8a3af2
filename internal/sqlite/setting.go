package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

var (
	sqlSetting    = static(`SELECT value FROM settings WHERE key = ?`)
	sqlSetSetting = static(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
)

// Setting returns the value of a setting, "" when it is unset.
func (t *tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := t.queryRow(ctx, sqlSetting, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", rowError(err, "setting", "setting")
	}
	return v, nil
}

// SetSetting sets (or replaces) the value of a setting.
func (t *tx) SetSetting(ctx context.Context, key, value string) error {
	if _, err := t.exec(ctx, sqlSetSetting, key, value); err != nil {
		return dbError(err, "set setting", "setting", "")
	}
	return nil
}
