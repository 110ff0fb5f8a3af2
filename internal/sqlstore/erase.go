package sqlstore

import (
	"context"

	"github.com/custos-crm/custos/internal/crm"
)

// Crypto-shredding (crm.EraseTx, ENC-5). A client's rows are deleted with
// everything sealed under its data key (seal.clientOf: a contact's
// activities, tasks and consents; a company's activities and tasks that
// name no contact), then the data key, so that any copy of those rows
// left elsewhere (a WAL frame, a dump, an older backup once the ledger is
// re-applied) no longer opens. The ledger row commits with them.

// eraseSQL is, per client entity, its table and the condition that an
// activity or task row belongs to the client's data key.
var eraseSQL = map[string]struct {
	table, children, link string
}{
	"contact": {"contacts", "contact_id = ?", "contact_id"},
	"company": {"companies", "company_id = ? AND contact_id IS NULL", "company_id"},
}

var (
	sqlInsertErasure = Statement(`INSERT INTO erasures (entity, record_id, erased_at, erased_by) VALUES (?, ?, ?, ?)`)
	sqlErasures      = Statement(`SELECT id, entity, record_id, erased_at, erased_by FROM erasures
		WHERE id > ? ORDER BY id LIMIT ?`)
	sqlErased = Statement(`SELECT count(*) FROM erasures WHERE entity = ? AND record_id = ?`)
)

func (t Tx) EraseClient(ctx context.Context, e *crm.Erasure) (int64, error) {
	q, ok := eraseSQL[e.Entity]
	if !ok {
		return 0, crm.Invalid("entity", "only a contact or a company can be erased")
	}
	id := e.RecordID
	subject := crm.KeySubject(e.Entity, id)
	// The locks, on PostgreSQL, in the order writers take them: the data
	// key (a writer sealing under it holds it shared), then the record,
	// then the activities and tasks that name it, so that a write under
	// way finishes first and one that comes after sees the client gone; an
	// activity being unlinked from a contact of the company meanwhile is
	// not left sealed under a destroyed key.
	var keyID int64
	k, err := t.LockDataKey(ctx, subject)
	switch {
	case err == nil:
		keyID = k.ID
	case crm.ErrorCode(err) != crm.ENOTFOUND:
		return 0, err
	}
	var one int
	if err := t.C.QueryRow(ctx, `SELECT 1 FROM `+q.table+` WHERE id = ?`+t.C.Lock("FOR UPDATE"), id).Scan(&one); err != nil {
		return 0, t.C.RowError(err, "erase", e.Entity)
	}
	if lock := t.C.Lock("FOR UPDATE"); lock != "" {
		for _, table := range []string{"activities", "tasks"} {
			if _, err := t.C.Exec(ctx, `SELECT id FROM `+table+` WHERE `+q.link+` = ?`+lock, id); err != nil {
				return 0, t.C.DBError(err, "erase: lock "+table, e.Entity, "")
			}
		}
	}
	if e.Entity == "contact" {
		var consents int64
		if err := t.C.QueryRow(ctx, `SELECT count(*) FROM consents WHERE contact_id = ?`, id).Scan(&consents); err != nil {
			return 0, t.C.DBError(err, "erase: consents", "consent", "")
		}
		e.Records += consents // they go with the contact (ON DELETE CASCADE)
	}
	steps := []struct {
		what, query string
		args        []any
		count       bool
	}{
		{"shares", `DELETE FROM shares WHERE (entity = ? AND record_id = ?)
			OR (entity = 'activity' AND record_id IN (SELECT id FROM activities WHERE ` + q.children + `))
			OR (entity = 'task' AND record_id IN (SELECT id FROM tasks WHERE ` + q.children + `))`,
			[]any{e.Entity, id, id, id}, false},
		{"activities", `DELETE FROM activities WHERE ` + q.children, []any{id}, true},
		{"tasks", `DELETE FROM tasks WHERE ` + q.children, []any{id}, true},
		{q.table, `DELETE FROM ` + q.table + ` WHERE id = ?`, []any{id}, true},
	}
	for _, s := range steps {
		n, err := t.C.Exec(ctx, s.query, s.args...)
		if err != nil {
			return 0, t.C.DBError(err, "erase: "+s.what, e.Entity, "")
		}
		if s.count {
			e.Records += n
		}
	}
	if keyID != 0 {
		if err := t.DeleteDataKey(ctx, keyID); err != nil {
			return 0, err
		}
	}
	e.ErasedAt = t.C.Now()
	var by *int64
	if e.ErasedBy != 0 {
		by = &e.ErasedBy
	}
	if e.ID, err = t.C.Insert(ctx, sqlInsertErasure, e.Entity, id, Micros(e.ErasedAt), by); err != nil {
		return 0, t.C.DBError(err, "erase: ledger", "erasure", "")
	}
	return keyID, nil
}

func (t Tx) Erasures(ctx context.Context, after int64, limit int) ([]*crm.Erasure, error) {
	rows, err := t.C.Query(ctx, sqlErasures, after, limit)
	if err != nil {
		return nil, t.C.DBError(err, "erasures", "erasure", "")
	}
	defer rows.Close()
	list := []*crm.Erasure{}
	for rows.Next() {
		var (
			e  crm.Erasure
			at int64
			by *int64
		)
		if err := rows.Scan(&e.ID, &e.Entity, &e.RecordID, &at, &by); err != nil {
			return nil, t.C.RowError(err, "scan erasure", "erasure")
		}
		e.ErasedAt = FromMicros(at)
		if by != nil {
			e.ErasedBy = *by
		}
		list = append(list, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "erasures", "erasure")
	}
	return list, nil
}

func (t Tx) Erased(ctx context.Context, entity string, id int64) (bool, error) {
	var n int64
	if err := t.C.QueryRow(ctx, sqlErased, entity, id).Scan(&n); err != nil {
		return false, t.C.DBError(err, "erased", "erasure", "")
	}
	return n > 0, nil
}
