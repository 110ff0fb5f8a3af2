package sqlstore

import (
	"context"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

var (
	sqlPruneMark = Statement(`UPDATE changes_pruned SET through = coalesce(
		(SELECT max(seq) FROM changes WHERE at < ? AND seq > through), through) WHERE id = 1`)
	sqlPruneChanges = Statement(`DELETE FROM changes WHERE seq <= (SELECT through FROM changes_pruned WHERE id = 1)`)
)

// ChangeHead implements crm.ChangeTx.
func (t Tx) ChangeHead(ctx context.Context) (crm.ChangeMark, error) {
	_, mark, pruned, err := t.readChanges(ctx, crm.ChangeMark{}, true)
	// With every change pruned the table is empty: the head is then where
	// pruning stopped.
	mark.Seq = max(mark.Seq, pruned)
	return mark, err
}

// Changes implements crm.ChangeTx.
func (t Tx) Changes(ctx context.Context, after crm.ChangeMark) ([]crm.Change, crm.ChangeMark, error) {
	out, mark, pruned, err := t.readChanges(ctx, after, false)
	if err != nil {
		return nil, after, err
	}
	if pruned > after.Seq {
		return nil, after, crm.ErrChangesGone
	}
	if mark.Seq < after.Seq {
		mark.Seq = after.Seq
	}
	return out, mark, nil
}

func (t Tx) readChanges(ctx context.Context, after crm.ChangeMark, head bool) ([]crm.Change, crm.ChangeMark, int64, error) {
	query, args := t.C.Changes(after, head)
	rows, err := t.C.Query(ctx, query, args...)
	if err != nil {
		return nil, after, 0, t.C.DBError(err, "changes", "change", "")
	}
	defer rows.Close()
	var (
		out    []crm.Change
		mark   crm.ChangeMark
		pruned int64
	)
	for rows.Next() {
		var kind, seq, id int64
		var entity string
		if err := rows.Scan(&kind, &seq, &entity, &id); err != nil {
			return nil, after, 0, t.C.DBError(err, "changes", "change", "")
		}
		switch kind {
		case 0:
			out = append(out, crm.Change{Seq: seq, Entity: entity, ID: id})
			mark.Seq = max(mark.Seq, seq)
		case 1:
			mark.Open = append(mark.Open, id)
		case 2:
			pruned = id
		case 3:
			mark.Seq = seq
		case 4:
			mark.Xmax = id
		}
	}
	if err := rows.Err(); err != nil {
		return nil, after, 0, t.C.DBError(err, "changes", "change", "")
	}
	return out, mark, pruned, nil
}

// PruneChanges implements crm.ChangeTx: it moves the mark of what is
// pruned to the last change recorded before before, then deletes up to it.
func (t Tx) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	if _, err := t.C.Exec(ctx, sqlPruneMark, before.Unix()); err != nil {
		return 0, t.C.DBError(err, "prune changes", "change", "")
	}
	n, err := t.C.Exec(ctx, sqlPruneChanges)
	if err != nil {
		return 0, t.C.DBError(err, "prune changes", "change", "")
	}
	return n, nil
}
