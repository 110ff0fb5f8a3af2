package sqlstore

import (
	"context"
	"slices"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// Data keys (crm.KeyTx, issue 12) and reserved record ids.

var (
	sqlDataKeyOf = Statement(`SELECT id, subject, kek_version, wrapped, created_at, rotated_at
		FROM data_keys WHERE subject = ?`)
	// ON CONFLICT DO NOTHING: a key made at the same moment by another
	// transaction (two first writes of one client, or a rotation of its
	// key) must not abort this one on PostgreSQL; the caller reads the
	// stored key instead.
	sqlInsertDataKey = Statement(`INSERT INTO data_keys (id, subject, kek_version, wrapped, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	sqlRewrapDataKey = Statement(`UPDATE data_keys SET kek_version = ?, wrapped = ?, rotated_at = ? WHERE id = ?`)
	sqlDataKeysBelow = Statement(`SELECT id, subject, kek_version, wrapped, created_at, rotated_at
		FROM data_keys WHERE kek_version <> ? AND id > ? ORDER BY id LIMIT ?`)
	sqlDataKeyVersions = Statement(`SELECT kek_version, count(*) FROM data_keys GROUP BY kek_version`)
	sqlDeleteDataKey   = Statement(`DELETE FROM data_keys WHERE id = ?`)
)

func scanDataKey(sc Row) (*crm.DataKey, error) {
	var k crm.DataKey
	var created int64
	var rotated *int64
	if err := sc.Scan(&k.ID, &k.Subject, &k.KEKVersion, &k.Wrapped, &created, &rotated); err != nil {
		return nil, err
	}
	k.CreatedAt = FromMicros(created)
	if rotated != nil {
		t := FromMicros(*rotated)
		k.RotatedAt = &t
	}
	return &k, nil
}

// ReserveID returns an id of entity's table no record has had (see
// Dialect.ReserveID).
func (t Tx) ReserveID(ctx context.Context, entity string) (int64, error) {
	table, ok := tables[entity]
	if !ok && entity == "consent" {
		table, ok = "consents", true
	}
	if !ok {
		return 0, crm.Errorf(crm.EINVALID, "no table for %q", entity)
	}
	query, args := t.C.ReserveID(table)
	var id int64
	if err := t.C.QueryRow(ctx, query, args...).Scan(&id); err != nil {
		return 0, t.C.DBError(err, "reserve id", entity, "")
	}
	return id, nil
}

// DataKeyOf reads subject's key; inside a write, with a share lock on
// PostgreSQL, so that a rotation of the client's key (which deletes the
// row) waits for the writes sealing under it, and they for it.
func (t Tx) DataKeyOf(ctx context.Context, subject string) (*crm.DataKey, error) {
	k, err := scanDataKey(t.C.QueryRow(ctx, sqlDataKeyOf+t.C.Lock("FOR SHARE"), subject))
	if err != nil {
		return nil, t.C.RowError(err, "data key", "data key")
	}
	return k, nil
}

func (t Tx) DataKeysByID(ctx context.Context, ids []int64) ([]*crm.DataKey, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cond, arg := t.C.InIDs("id", ids)
	rows, err := t.C.Query(ctx, `SELECT id, subject, kek_version, wrapped, created_at, rotated_at
		FROM data_keys WHERE `+cond, arg)
	if err != nil {
		return nil, t.C.DBError(err, "data keys", "data key", "")
	}
	return scanDataKeys(t.C, rows)
}

func scanDataKeys(c Conn, rows Rows) ([]*crm.DataKey, error) {
	defer rows.Close()
	var out []*crm.DataKey
	for rows.Next() {
		k, err := scanDataKey(rows)
		if err != nil {
			return nil, c.RowError(err, "scan data key", "data key")
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, c.RowError(err, "data keys", "data key")
	}
	return out, nil
}

func (t Tx) InsertDataKey(ctx context.Context, k *crm.DataKey) error {
	if k.ID <= 0 {
		return crm.Invalid("id", "a data key's id is chosen by its maker")
	}
	n, err := t.C.Exec(ctx, sqlInsertDataKey, k.ID, k.Subject, k.KEKVersion, k.Wrapped, Micros(k.CreatedAt))
	if err != nil {
		return t.C.DBError(err, "insert data key", "data key", "")
	}
	if n == 0 {
		return &crm.Error{Code: crm.ECONFLICT, Message: "the client already has a data key", Fields: map[string]string{"subject": "taken"}}
	}
	return nil
}

func (t Tx) LockDataKey(ctx context.Context, subject string) (*crm.DataKey, error) {
	k, err := scanDataKey(t.C.QueryRow(ctx, sqlDataKeyOf+t.C.Lock("FOR UPDATE"), subject))
	if err != nil {
		return nil, t.C.RowError(err, "data key", "data key")
	}
	return k, nil
}

func (t Tx) DeleteDataKey(ctx context.Context, id int64) error {
	n, err := t.C.Exec(ctx, sqlDeleteDataKey, id)
	if err != nil {
		return t.C.DBError(err, "delete data key", "data key", "")
	}
	if n == 0 {
		return crm.NotFound("data key")
	}
	return nil
}

func (t Tx) RewrapDataKey(ctx context.Context, id int64, kekVersion int, wrapped []byte) error {
	n, err := t.C.Exec(ctx, sqlRewrapDataKey, kekVersion, wrapped, Micros(t.C.Now()), id)
	if err != nil {
		return t.C.DBError(err, "rewrap data key", "data key", "")
	}
	if n == 0 {
		return crm.NotFound("data key")
	}
	return nil
}

func (t Tx) DataKeysBelow(ctx context.Context, version int, after int64, limit int) ([]*crm.DataKey, error) {
	rows, err := t.C.Query(ctx, sqlDataKeysBelow, version, after, limit)
	if err != nil {
		return nil, t.C.DBError(err, "data keys to rewrap", "data key", "")
	}
	return scanDataKeys(t.C, rows)
}

func (t Tx) DataKeyVersions(ctx context.Context) (map[int]int64, error) {
	rows, err := t.C.Query(ctx, sqlDataKeyVersions)
	if err != nil {
		return nil, t.C.DBError(err, "data key versions", "data key", "")
	}
	defer rows.Close()
	out := map[int]int64{}
	for rows.Next() {
		var v int
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, t.C.RowError(err, "data key versions", "data key")
		}
		out[v] = n
	}
	return out, rows.Err()
}

// withID returns the insert statement ins (INSERT INTO table (cols) VALUES
// (…)) with the id column first, for a record whose id was reserved.
func withID(ins string) string {
	i := strings.Index(ins, "(")
	j := strings.Index(ins, "VALUES (")
	return Statement(ins[:i+1] + "id, " + ins[i+1:j] + "VALUES (?, " + ins[j+len("VALUES ("):])
}

// insertRecord inserts with ins, or with insID (its withID form) when the
// record's id was reserved, and returns the id.
func (t Tx) insertRecord(ctx context.Context, ins, insID string, id int64, args ...any) (int64, error) {
	if id == 0 {
		return t.C.Insert(ctx, ins, args...)
	}
	if _, err := t.C.Exec(ctx, insID, append([]any{id}, args...)...); err != nil {
		return 0, err
	}
	return id, nil
}

// sealable are the columns SealFields may write, per entity: the personal
// text columns of each record table, and a contact's blind-index tokens.
var sealable = map[string]map[string]bool{
	"contact": {"first_name": true, "last_name": true, "email": true, "phone": true, "title": true, "address": true,
		"birthday": true, "notes": true, "tags": true, "email_token": true, "phone_token": true},
	"company":  {"name": true, "domain": true, "phone": true, "address": true, "notes": true},
	"deal":     {"title": true, "notes": true},
	"activity": {"subject": true, "body": true},
	"task":     {"title": true, "description": true},
	"consent":  {"source": true},
}

// SetTagTokens implements crm.KeyTx.
func (t Tx) SetTagTokens(ctx context.Context, contactID int64, tokens []string) error {
	return t.setTags(ctx, TagContact, contactID, tokens, true)
}

// SealFields implements crm.KeyTx: one UPDATE whose WHERE compares every
// field with its old value, so that a record changed meanwhile is left as
// its writer left it.
func (t Tx) SealFields(ctx context.Context, entity string, id int64, fields map[string][2]string) (bool, error) {
	table, ok := tables[entity]
	if entity == "consent" {
		table, ok = "consents", true
	}
	if !ok || len(fields) == 0 {
		return false, crm.Errorf(crm.EINVALID, "seal fields: no such record kind %q", entity)
	}
	cols := make([]string, 0, len(fields))
	for col := range fields {
		if !sealable[entity][col] {
			return false, crm.Errorf(crm.EINVALID, "seal fields: %s has no personal column %q", entity, col)
		}
		cols = append(cols, col)
	}
	slices.Sort(cols)
	var set, where []string
	var setArgs, whereArgs []any
	for _, col := range cols {
		set = append(set, col+" = ?")
		setArgs = append(setArgs, fields[col][1])
		where = append(where, col+" = ?")
		whereArgs = append(whereArgs, fields[col][0])
	}
	query := "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE id = ? AND " + strings.Join(where, " AND ")
	n, err := t.C.Exec(ctx, query, append(append(setArgs, id), whereArgs...)...)
	if err != nil {
		return false, t.C.DBError(err, "seal fields", entity, "")
	}
	return n == 1, nil
}
