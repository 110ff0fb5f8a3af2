package sqlstore

import (
	"context"
	"slices"
)

// Tags are kept twice (tags.go): setTags keeps the rows of the tags table in
// step with the record's tags column.

var sqlDeleteTags = Statement(`DELETE FROM tags WHERE entity = ? AND record_id = ?`)

// setTags makes the tag rows of one record equal tags, in one statement for
// all of them; a tag given twice is stored once. replace is false for a new
// record, which has none yet.
func (t Tx) setTags(ctx context.Context, entity string, id int64, tags []string, replace bool) error {
	if replace {
		if _, err := t.C.Exec(ctx, sqlDeleteTags, entity, id); err != nil {
			return t.C.DBError(err, "delete "+entity+" tags", entity, "")
		}
	}
	if len(tags) == 0 {
		return nil
	}
	from, arg := t.C.Values(tags)
	if _, err := t.C.Exec(ctx, sqlInsertTags(from), entity, id, arg); err != nil {
		return t.C.DBError(err, "insert "+entity+" tags", entity, "")
	}
	return nil
}

// sqlInsertTags is the insert of a record's tag rows from the rows of from
// (Dialect.Values). WHERE true: without it SQLite would read ON CONFLICT as
// the join's.
func sqlInsertTags(from string) string {
	return `INSERT INTO tags (entity, record_id, tag) SELECT ?, ?, value FROM ` +
		from + ` WHERE true ON CONFLICT DO NOTHING`
}

// tagFilter adds the condition of the tag filter for entity.
func tagFilter(w *where, entity, tag string) {
	if tag != "" {
		w.and("id IN (SELECT record_id FROM tags WHERE entity = '"+entity+"' AND tag = ?)", tag)
	}
}

var sqlTagRows = Statement(`SELECT tag FROM tags WHERE entity = ? AND record_id = ?`)

// sameTagRows reports whether the tag rows of one record are tags (in any
// order, a tag given twice counted once).
func (t Tx) sameTagRows(ctx context.Context, entity string, id int64, tags []string) (bool, error) {
	rows, err := t.C.Query(ctx, sqlTagRows, entity, id)
	if err != nil {
		return false, t.C.DBError(err, "read "+entity+" tags", entity, "")
	}
	defer rows.Close()
	var stored []string
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return false, t.C.RowError(err, "read "+entity+" tags", entity)
		}
		stored = append(stored, tag)
	}
	if err := rows.Err(); err != nil {
		return false, t.C.RowError(err, "read "+entity+" tags", entity)
	}
	want := slices.Compact(slices.Sorted(slices.Values(tags)))
	slices.Sort(stored)
	return slices.Equal(stored, want), nil
}
