package httpx

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// Query reads whitelisted query parameters. Unknown and repeated parameters
// are refused (ASVS v5.0.0-15.3.7, parameter pollution).
type Query struct {
	v  url.Values
	fe crm.FieldErrors
}

// ListParams are accepted by every list.
var ListParams = []string{"limit", "cursor", "sort", "q", "deleted"}

// ParseQuery reads the query string, refusing parameters not in allowed
// and parameters given twice, each named in the error.
func ParseQuery(r *http.Request, allowed ...string) (*Query, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, crm.Errorf(crm.EINVALID, "malformed query string")
	}
	q := &Query{v: v, fe: crm.FieldErrors{}}
	for name, vals := range v {
		known := false
		for _, a := range allowed {
			known = known || a == name
		}
		if !known {
			q.fe.Add(name, "unknown parameter")
		} else if len(vals) > 1 {
			q.fe.Add(name, "given more than once")
		}
	}
	return q, q.fe.Err()
}

// Str returns a parameter as given.
func (q *Query) Str(name string) string { return q.v.Get(name) }

// ID returns a parameter that must be a positive id, 0 when absent.
func (q *Query) ID(name string) int64 {
	s := q.v.Get(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		q.fe.Add(name, "must be a positive id")
	}
	return n
}

// Bool returns a true/false parameter.
func (q *Query) Bool(name string) bool {
	switch q.v.Get(name) {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	q.fe.Add(name, "must be true or false")
	return false
}

// List returns the paging and sort options every list takes.
func (q *Query) List() crm.ListOptions {
	o := crm.ListOptions{Cursor: q.v.Get("cursor"), Sort: q.v.Get("sort")}
	if s := q.v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > crm.MaxLimit {
			q.fe.Add("limit", "must be between 1 and 200")
		}
		o.Limit = n
	}
	return o
}

// Err returns every bad parameter found so far, or nil.
func (q *Query) Err() error { return q.fe.Err() }

// PathID parses the {id} path segment. A malformed id is "not found": it
// cannot name a record (or the passkey, session… that what names).
func PathID(r *http.Request, what string) (int64, error) { return PathIDOf(r, "id", what) }

// PathIDOf is PathID for the path segment called key (e.g. {user_id}).
func PathIDOf(r *http.Request, key, what string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(key), 10, 64)
	if err != nil || n <= 0 {
		return 0, crm.NotFound(what)
	}
	return n, nil
}

// IfMatch reads an If-Match precondition: `"v3"`, `W/"v3"` or `*`.
// It returns 0 for none.
func IfMatch(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	h = strings.TrimPrefix(h, "W/")
	h = strings.Trim(h, `"`)
	n, err := strconv.ParseInt(strings.TrimPrefix(h, "v"), 10, 64)
	if err != nil || n <= 0 {
		return 0, crm.Invalid("If-Match", `must be an ETag from this API, e.g. "v3"`)
	}
	return n, nil
}

// ETag is the entity tag of a record version.
func ETag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }
