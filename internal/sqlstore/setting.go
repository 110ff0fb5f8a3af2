package sqlstore

import (
	"context"

	"github.com/custos-crm/custos/internal/crm"
)

// Settings: small values the deployment keeps, such as the hash of the
// setup code.

var (
	sqlSetting    = Statement(`SELECT value FROM settings WHERE key = ?`)
	sqlSetSetting = Statement(`INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
)

// Setting returns the value of a setting, "" when it is unset. Inside a
// write the row stays locked until the transaction ends where writes run
// at once (PostgreSQL): the setup code is read, checked and cleared in one
// write, and a second write with the same code must then read it cleared,
// not use it again.
func (t Tx) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := t.C.QueryRow(ctx, sqlSetting+t.C.Lock("FOR UPDATE"), key).Scan(&v)
	if err != nil {
		if err = t.C.RowError(err, "setting", "setting"); crm.ErrorCode(err) == crm.ENOTFOUND {
			return "", nil
		}
		return "", err
	}
	return v, nil
}

// SetSetting sets (or replaces) the value of a setting.
func (t Tx) SetSetting(ctx context.Context, key, value string) error {
	if _, err := t.C.Exec(ctx, sqlSetSetting, key, value); err != nil {
		return t.C.DBError(err, "set setting", "setting", "")
	}
	return nil
}
