package crm

import "time"

// Page limits for every list.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ListOptions are the paging and sorting options every list takes.
// Sort is a whitelisted field name, with a leading "-" for descending order.
// Cursor is the opaque value returned as NextCursor by the previous page.
type ListOptions struct {
	Limit  int
	Cursor string
	Sort   string
}

// Scope is the visibility predicate a store builds into its WHERE clause, so
// that paging and counts stay right (access is a query predicate, not an
// after-check). The zero Scope sees nothing.
type Scope struct {
	All     bool  // every record of the organisation
	OwnerID int64 // otherwise only records owned by this user
	// Teams adds the records of these teams (ACL-2: a manager's teams and
	// the teams below them, and the user's own team under a team default).
	// Ignored when OwnerID is 0, as are the fields below.
	Teams []int64
	// Shared adds the records shared with the user OwnerID or with one of
	// ShareTeams whose share has not expired; with ShareWrite only the
	// shares that allow changes.
	Shared     bool
	ShareWrite bool
	ShareTeams []int64
	// Assignee adds the tasks assigned to OwnerID (tasks only).
	Assignee bool
}

// Deleted records stay restorable for this long, then a job purges them.
const DeleteGracePeriod = 30 * 24 * time.Hour

// Page is one page of a list. NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}
