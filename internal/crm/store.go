package crm

import (
	"context"
	"time"
)

// Store is the persistence port. The sqlite package implements it (and the
// postgres package will); the service package is its only caller. A Store
// knows nothing of principals: it receives a Scope and builds it into its
// queries.
type Store interface {
	// Read runs fn over the store for reading. fn must not write.
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in one transaction, committed if fn returns nil and
	// rolled back otherwise, so a failing multi-row change writes nothing.
	Write(ctx context.Context, fn func(Tx) error) error
	// Close releases the store's resources.
	Close() error
}

// ListQuery is a decoded list request as the store sees it: Sort is a
// whitelisted field (see SortFields), After the decoded cursor or nil.
type ListQuery struct {
	Limit int
	Sort  string
	Desc  bool
	After *Cursor
}

// Tx is a unit of work on the store. Its methods return *Error values with
// ENOTFOUND for missing rows, ECONFLICT (with the field) for unique
// violations and EPRECONDITION when an update's expected version is stale.
// List methods return up to q.Limit items and the cursor of the next page,
// "" on the last page.
type Tx interface {
	// Now is the transaction's time, fixed once, in UTC with microsecond precision.
	Now() time.Time

	ContactByID(ctx context.Context, s Scope, id int64, deleted bool) (*Contact, error)
	Contacts(ctx context.Context, s Scope, f ContactFilter, q ListQuery) ([]*Contact, string, error)
	InsertContact(ctx context.Context, c *Contact) error
	// UpdateContact stores c if the stored version is c.Version-1.
	UpdateContact(ctx context.Context, c *Contact) error
	ConsentsByContact(ctx context.Context, contactID int64) ([]*Consent, error)
	InsertConsent(ctx context.Context, c *Consent) error

	CompanyByID(ctx context.Context, s Scope, id int64, deleted bool) (*Company, error)
	Companies(ctx context.Context, s Scope, f CompanyFilter, q ListQuery) ([]*Company, string, error)
	InsertCompany(ctx context.Context, c *Company) error
	UpdateCompany(ctx context.Context, c *Company) error

	Pipelines(ctx context.Context) ([]*Pipeline, error)
	StageByID(ctx context.Context, id int64) (*Stage, error)
	InsertPipeline(ctx context.Context, p *Pipeline) error

	DealByID(ctx context.Context, s Scope, id int64, deleted bool) (*Deal, error)
	Deals(ctx context.Context, s Scope, f DealFilter, q ListQuery) ([]*Deal, string, error)
	InsertDeal(ctx context.Context, d *Deal) error
	UpdateDeal(ctx context.Context, d *Deal) error

	ActivityByID(ctx context.Context, s Scope, id int64, deleted bool) (*Activity, error)
	Activities(ctx context.Context, s Scope, f ActivityFilter, q ListQuery) ([]*Activity, string, error)
	InsertActivity(ctx context.Context, a *Activity) error
	UpdateActivity(ctx context.Context, a *Activity) error

	// TaskByID and Tasks treat Scope.OwnerID as "owner or assignee".
	TaskByID(ctx context.Context, s Scope, id int64, deleted bool) (*Task, error)
	Tasks(ctx context.Context, s Scope, f TaskFilter, q ListQuery) ([]*Task, string, error)
	InsertTask(ctx context.Context, t *Task) error
	UpdateTask(ctx context.Context, t *Task) error

	// PurgeDeleted removes records soft-deleted before the given time.
	PurgeDeleted(ctx context.Context, before time.Time) (int64, error)

	UserByID(ctx context.Context, id int64) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	InsertUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error

	InsertSession(ctx context.Context, s *Session) error
	SessionBySecretHash(ctx context.Context, hash []byte) (*Session, error)
	SessionsByUser(ctx context.Context, userID int64) ([]*Session, error)
	TouchSession(ctx context.Context, id string, lastSeen time.Time) error
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions ends all of a user's sessions but exceptID's.
	DeleteUserSessions(ctx context.Context, userID int64, exceptID string) error
	DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int64, error)

	InsertToken(ctx context.Context, t *Token) error
	TokenBySecretHash(ctx context.Context, hash []byte) (*Token, error)
	TokenByID(ctx context.Context, id int64) (*Token, error)
	Tokens(ctx context.Context, userID int64) ([]*Token, error) // userID 0: all
	TouchToken(ctx context.Context, id int64, lastUsed time.Time) error
	RevokeToken(ctx context.Context, id int64, at time.Time) error

	// AcquireLease takes or renews the lease called name for holder until
	// the given time, and reports whether holder now holds it. It succeeds
	// when nobody holds the lease, when it has expired, or when holder
	// already holds it; of concurrent callers exactly one wins. Scheduled
	// jobs use it so that one instance runs each round (SCL-1).
	AcquireLease(ctx context.Context, name, holder string, until time.Time) (bool, error)

	// Setting and SetSetting keep small pieces of server state (the setup
	// code's hash, the demo seed marker). Setting returns "" when unset.
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}
