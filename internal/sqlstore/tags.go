package sqlstore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Tags are kept twice: as a JSON array in the record's tags column, so that
// reading a record or a page needs no join, and as rows of the tags table,
// so that the tag filter is an index lookup. setTags keeps the rows in step
// with the column on every insert and update; triggers drop the rows of
// purged records.

// Tagged entities, as stored in tags.entity.
const (
	TagContact = "contact"
	TagCompany = "company"
	TagDeal    = "deal"
)

// EncodeTags returns the JSON array of tags; nil is the empty array.
func EncodeTags(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, err := json.Marshal(tags)
	if err != nil { // cannot happen for strings
		return "[]"
	}
	return string(b)
}

// DecodeTags parses a tags column; the result is never nil, so that it
// encodes as [] rather than null. Lists decode it for every row, so the
// common form that EncodeTags writes, strings without escapes, is split by
// hand; anything else goes through encoding/json.
func DecodeTags(s string) ([]string, error) {
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
