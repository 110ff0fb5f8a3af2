package sqlite

import (
	"context"
	"fmt"
)

// Tags are kept twice (sqlstore/tags.go): setTags keeps the rows of the tags
// table in step with the record's tags column.

var (
	sqlDeleteTags = static(`DELETE FROM tags WHERE entity = ? AND record_id = ?`)
	sqlInsertTag  = static(`INSERT OR IGNORE INTO tags (entity, record_id, tag) VALUES (?, ?, ?)`)
)

// setTags makes the tag rows of one record equal tags. replace is false for
// a new record, which has none yet.
func (t *tx) setTags(ctx context.Context, entity string, id int64, tags []string, replace bool) error {
	if replace {
		if _, err := t.exec(ctx, sqlDeleteTags, entity, id); err != nil {
			return fmt.Errorf("sqlite: delete %s tags: %w", entity, err)
		}
	}
	for _, tag := range tags {
		if _, err := t.exec(ctx, sqlInsertTag, entity, id, tag); err != nil {
			return fmt.Errorf("sqlite: insert %s tag: %w", entity, err)
		}
	}
	return nil
}

// tagFilter returns the condition of the tag filter for entity.
func tagFilter(w *where, entity, tag string) {
	if tag != "" {
		w.and("id IN (SELECT record_id FROM tags WHERE entity = '"+entity+"' AND tag = ?)", tag)
	}
}
