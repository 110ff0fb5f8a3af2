package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Tags are kept twice: as a JSON array in the record's tags column, so that
// reading a record or a page needs no join, and as rows of the tags table,
// so that the tag filter is an index lookup. setTags keeps the rows in step
// with the column on every insert and update; triggers drop the rows of
// purged records. The column's text is the sqlite package's, byte for byte.

// Tagged entities, as stored in tags.entity.
const (
	tagContact = "contact"
	tagCompany = "company"
	tagDeal    = "deal"
)

// encodeTags returns the JSON array of tags; nil is the empty array.
func encodeTags(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, err := json.Marshal(tags)
	if err != nil { // cannot happen for strings
		return "[]"
	}
	return string(b)
}

// decodeTags parses a tags column; the result is never nil, so that it
// encodes as [] rather than null. Lists decode it for every row, so the
// common form that encodeTags writes, strings without escapes, is split by
// hand; anything else goes through encoding/json.
func decodeTags(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return []string{}, nil
	}
	if strings.IndexByte(s, '\\') < 0 && strings.HasPrefix(s, `["`) && strings.HasSuffix(s, `"]`) {
		tags := strings.Split(s[2:len(s)-2], `","`)
		if !slices.ContainsFunc(tags, func(t string) bool { return strings.Contains(t, `"`) }) {
			return tags, nil
		}
	}
	return decodeTagsJSON(s)
}

func decodeTagsJSON(s string) ([]string, error) {
	tags := []string{}
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	return tags, nil
}

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
