package postgres

import "context"

// Tags are kept twice (sqlstore/tags.go): setTags keeps the rows of the tags
// table in step with the record's tags column.

const (
	sqlDeleteTags = `DELETE FROM tags WHERE entity = $1 AND record_id = $2`
	// One statement for all of a record's tags; a tag given twice is
	// stored once.
	sqlInsertTags = `INSERT INTO tags (entity, record_id, tag)
		SELECT $1, $2, tag FROM unnest($3::text[]) AS tag ON CONFLICT DO NOTHING`
)

// setTags makes the tag rows of one record equal tags. replace is false for
// a new record, which has none yet.
func (t *tx) setTags(ctx context.Context, entity string, id int64, tags []string, replace bool) error {
	if replace {
		if _, err := t.q.Exec(ctx, sqlDeleteTags, entity, id); err != nil {
			return dbError(err, "delete "+entity+" tags", entity, "")
		}
	}
	if len(tags) == 0 {
		return nil
	}
	if _, err := t.q.Exec(ctx, sqlInsertTags, entity, id, tags); err != nil {
		return dbError(err, "insert "+entity+" tags", entity, "")
	}
	return nil
}

// tagFilter adds the condition of the tag filter for entity.
func tagFilter(w *where, entity, tag string) {
	if tag != "" {
		w.and("id IN (SELECT record_id FROM tags WHERE entity = '" + entity + "' AND tag = " + w.arg(tag) + ")")
	}
}
