package crm

import (
	"encoding/base64"
	"encoding/json"
)

// Cursor is the position after the last item of a page: the sort field, the
// item's sort key (as the store encodes it) and its id, which breaks ties.
type Cursor struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   int64  `json:"i"`
}

// EncodeCursor returns the opaque text form of c.
func EncodeCursor(c Cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses the text form for a list sorted by sort. A cursor that
// is malformed or was made for another sort is EINVALID.
func DecodeCursor(s, sort string) (*Cursor, error) {
	bad := &Error{Code: EINVALID, Message: "invalid cursor", Fields: map[string]string{"cursor": "invalid"}}
	if len(s) > 512 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort || c.ID <= 0 {
		return nil, bad
	}
	return &c, nil
}

// SortFields are the whitelisted sort fields per list; the first is the
// default. A leading "-" in the request sorts descending.
var SortFields = map[string][]string{
	"contacts":   {"last_name", "first_name", "email", "created_at", "updated_at"},
	"companies":  {"name", "created_at", "updated_at"},
	"deals":      {"created_at", "title", "expected_close", "amount", "updated_at"},
	"activities": {"occurred_at", "created_at", "updated_at"},
	"tasks":      {"due_at", "created_at", "updated_at", "title"},
}

// MemorySorts are the sort fields whose columns are sealed (ENC-4): the
// service's in-memory index orders them; the store cannot.
var MemorySorts = map[string]map[string]bool{
	"contacts":  {"last_name": true, "first_name": true, "email": true},
	"companies": {"name": true},
	"deals":     {"title": true},
	"tasks":     {"title": true},
}
