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
//
// It is made of two parts over disjoint tables: RecordTx, the client
// records, and IdentityTx, the users and their credentials; and of the few
// methods of server state both need (leases, settings).
type Tx interface {
	RecordTx
	IdentityTx
	EraseTx
	ChangeTx

	// AcquireLease takes or renews the lease called name for holder until
	// the given time, and reports whether holder now holds it. It succeeds
	// when nobody holds the lease, when it has expired, or when holder
	// already holds it; of concurrent callers exactly one wins. Scheduled
	// jobs use it so that one instance runs each round (SCL-1).
	AcquireLease(ctx context.Context, name, holder string, until time.Time) (bool, error)

	// Setting and SetSetting keep small pieces of server state (the setup
	// code's hash, the cursor-sealing key, the demo seed marker). Setting
	// returns "" when unset.
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// UserLookup is the one identity read the client records need: whether an
// owner or assignee named in a record exists and is active.
type UserLookup interface {
	UserByID(ctx context.Context, id int64) (*User, error)
	// TeamOf returns the team of a user (nil for none), reading (and on
	// PostgreSQL share-locking) the user row: a record made in the same
	// transaction takes the team its owner has when it commits. ENOTFOUND
	// if there is no such user.
	TeamOf(ctx context.Context, userID int64) (*int64, error)
	// TeamExists reports whether there is such a team (a share's grantee).
	TeamExists(ctx context.Context, id int64) (bool, error)
}

// RecordTx is the client-record part of a Tx: contacts, companies, deals,
// activities, tasks, consents, pipelines. The client-record service uses
// it alone (and UserLookup, which it embeds).
type RecordTx interface {
	// Now is the transaction's time, fixed once, in UTC with microsecond precision.
	Now() time.Time
	UserLookup
	KeyTx

	ContactByID(ctx context.Context, s Scope, id int64, deleted bool) (*Contact, error)
	Contacts(ctx context.Context, s Scope, f ContactFilter, q ListQuery) ([]*Contact, string, error)
	InsertContact(ctx context.Context, c *Contact) error
	// UpdateContact stores c if the stored version is c.Version-1.
	UpdateContact(ctx context.Context, c *Contact) error
	ConsentsByContact(ctx context.Context, contactID int64) ([]*Consent, error)
	// DuplicateContacts returns up to limit groups of two or more live
	// contacts in s that share the blind-index token of col (email_token
	// or phone_token), for tokens after after, in token order: each with
	// its count and the ids of its first perGroup contacts by id.
	DuplicateContacts(ctx context.Context, s Scope, col, after string, limit, perGroup int) ([]Duplicates, error)
	InsertConsent(ctx context.Context, c *Consent) error

	// SharesByID returns the shares of ids that exist (any entity), in id
	// order; SharesAfter up to limit shares of entity with ids above
	// after, in id order. Expired ones included: the in-memory index keeps
	// every share of its entity, and judges expiry when it reads.
	SharesByID(ctx context.Context, ids []int64) ([]*Share, error)
	SharesAfter(ctx context.Context, entity string, after int64, limit int) ([]*Share, error)

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

	// Shares (ACL-2). The service checks the record's visibility and the
	// principal's control of it before it calls them.

	// SharesOf returns the shares of a record, by id, expired ones
	// included (marked at the transaction's time).
	SharesOf(ctx context.Context, entity string, recordID int64) ([]*Share, error)
	// PutShare stores sh as the share of its record with its grantee (its
	// UserID or TeamID), replacing the one there is, and sets sh.ID;
	// created reports whether it is new.
	PutShare(ctx context.Context, sh *Share) (created bool, err error)
	// DeleteShare removes the share id of the record; ENOTFOUND if the
	// record has no such share.
	DeleteShare(ctx context.Context, entity string, recordID, id int64) error

	// IDsAfter returns up to limit ids of the records of entity
	// ("contact", …), in every state, above after, in id order.
	IDsAfter(ctx context.Context, entity string, after int64, limit int) ([]int64, error)
	// DeletedBefore returns the ids of the records of entity ("contact",
	// …) soft-deleted before the given time: what PurgeDeleted removes.
	DeletedBefore(ctx context.Context, entity string, before time.Time) ([]int64, error)
	// PurgeDeleted removes records soft-deleted before the given time, with
	// their shares, and the shares that expired before it.
	PurgeDeleted(ctx context.Context, before time.Time) (int64, error)
}

// IdentityTx is the identity part of a Tx: users, sessions, API tokens,
// one-time links, second factors, passkeys and the throttle's failures.
type IdentityTx interface {
	// Now is the transaction's time, fixed once, in UTC with microsecond precision.
	Now() time.Time
	UserLookup

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
	// TokenBySecretHash returns the token (revoked and expired ones too)
	// and its user, in one round trip: every API request makes it.
	TokenBySecretHash(ctx context.Context, hash []byte) (*Token, *User, error)
	TokenByID(ctx context.Context, id int64) (*Token, error)
	Tokens(ctx context.Context, userID int64) ([]*Token, error) // userID 0: all
	TouchToken(ctx context.Context, id int64, lastUsed time.Time, ip string) error
	RevokeToken(ctx context.Context, id int64, at time.Time) error

	// One-time tokens (AUTH-8): invitations, password resets and
	// email-change confirmations, found by the SHA-256 of their secret.
	// Used and expired tokens stay until DeleteOneTimeTokens removes them.
	InsertOneTimeToken(ctx context.Context, t *OneTimeToken) error
	// OneTimeTokenByHash returns the token of purpose with that hash, used
	// or expired ones included (the caller checks). ENOTFOUND otherwise.
	OneTimeTokenByHash(ctx context.Context, purpose OneTimePurpose, hash []byte) (*OneTimeToken, error)
	// UseOneTimeToken marks the token used at now, in one conditional
	// UPDATE, only if it is unused and expires after now, and returns it;
	// ENOTFOUND otherwise. Of concurrent uses exactly one succeeds.
	UseOneTimeToken(ctx context.Context, purpose OneTimePurpose, hash []byte, now time.Time) (*OneTimeToken, error)
	// DiscardOneTimeTokens marks used at now every unused token of purpose
	// of userID or, when userID is 0, of the invited address email.
	DiscardOneTimeTokens(ctx context.Context, purpose OneTimePurpose, userID int64, email string, now time.Time) (int64, error)
	// CountOneTimeTokens counts userID's tokens of purpose created at or
	// after since, used or not (the per-account rate limit).
	CountOneTimeTokens(ctx context.Context, purpose OneTimePurpose, userID int64, since time.Time) (int, error)
	// DeleteOneTimeTokens removes the tokens that expired before before.
	DeleteOneTimeTokens(ctx context.Context, before time.Time) (int64, error)

	// ---- Teams (ACL-2): the identity service's team.go is their caller ----

	// Teams returns every team, by id, with its members.
	Teams(ctx context.Context) ([]*Team, error)
	// TeamByID returns a team with its members (locked inside a write).
	// ENOTFOUND if there is none.
	TeamByID(ctx context.Context, id int64) (*Team, error)
	// InsertTeam stores a new team and sets its ID; ECONFLICT on "name"
	// when another team has the name in any case.
	InsertTeam(ctx context.Context, t *Team) error
	// UpdateTeam stores t if the stored version is t.Version-1.
	UpdateTeam(ctx context.Context, t *Team) error
	// DeleteTeam removes a team; its records lose the team.
	DeleteTeam(ctx context.Context, id int64) error
	// SetUserTeam makes the user a member of team (nil: none) and moves
	// the records the user owns in team from (nil: in none) to team.
	SetUserTeam(ctx context.Context, userID int64, from, team *int64) error
	// SetSeesTeams sets the teams whose records the user sees as a manager.
	SetSeesTeams(ctx context.Context, userID int64, teams []int64) error
	// LockTeams makes every other team change wait until this transaction
	// ends. Each team change takes it first.
	LockTeams(ctx context.Context) error

	// ---- Custom roles (ACL-1): the identity service's role.go is their caller ----

	// Roles returns the custom roles by name.
	Roles(ctx context.Context) ([]*RoleDef, error)
	// RoleByName returns a custom role, compiled. ENOTFOUND if there is none.
	RoleByName(ctx context.Context, name Role) (*RoleDef, error)
	// InsertRole stores a new custom role; ECONFLICT on "name" when taken.
	InsertRole(ctx context.Context, d *RoleDef) error
	// UpdateRole stores d if the stored version is d.Version-1.
	UpdateRole(ctx context.Context, d *RoleDef) error
	// DeleteRole removes a custom role. ENOTFOUND if there is none.
	DeleteRole(ctx context.Context, name Role) error
	// RoleHolders counts the users who hold a role and the pending
	// invitations that would give it.
	RoleHolders(ctx context.Context, name Role) (users, invites int, err error)
	// RoleUserIDs returns the ids of the users who hold a role.
	RoleUserIDs(ctx context.Context, name Role) ([]int64, error)
	// CountActiveAdmins counts the enabled users of the built-in admin role.
	CountActiveAdmins(ctx context.Context) (int, error)
	// LockRoles makes every other role change, and every change of a
	// user's role or disabled flag, wait until this transaction ends.
	LockRoles(ctx context.Context) error

	// ---- Multi-factor authentication and throttling (AUTH-2, AUTH-4, AUTH-6) ----
	// The service's mfa.go and throttle.go are their only callers.

	// TOTPByUser returns the user's TOTP, confirmed or pending. ENOTFOUND if none.
	TOTPByUser(ctx context.Context, userID int64) (*TOTP, error)
	// PutTOTP stores t as the user's pending TOTP (ConfirmedAt nil,
	// LastStep 0), replacing any: a restarted enrolment.
	PutTOTP(ctx context.Context, t *TOTP) error
	// ConfirmTOTP activates the user's pending TOTP at at, with step as its
	// last accepted step. ENOTFOUND when none is pending.
	ConfirmTOTP(ctx context.Context, userID int64, at time.Time, step int64) error
	// DeleteTOTP removes the user's TOTP. ENOTFOUND if none.
	DeleteTOTP(ctx context.Context, userID int64) error
	// TOTPsAfter returns up to limit TOTP rows, confirmed or pending, of
	// users with ids above after, by user id.
	TOTPsAfter(ctx context.Context, after int64, limit int) ([]*TOTP, error)
	// ResealTOTP replaces the user's stored secret old by new if it is
	// still old (a compare-and-set), and reports whether it did.
	ResealTOTP(ctx context.Context, userID int64, old, new string) (bool, error)
	// UseTOTPStep records step as the last accepted step of the user's
	// confirmed TOTP if it is later than the stored one, in one conditional
	// UPDATE, and reports whether it did. false is a replay: of concurrent
	// callers with one step, on any instance, exactly one gets true.
	UseTOTPStep(ctx context.Context, userID, step int64) (bool, error)

	// RecoveryCodes returns the user's recovery codes, used ones included, by id.
	RecoveryCodes(ctx context.Context, userID int64) ([]*RecoveryCode, error)
	// ReplaceRecoveryCodes deletes the user's recovery codes and stores the
	// hashes as new ones created at at (none: the user has no codes).
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks the code used at at if it is unused, in one
	// conditional UPDATE, and reports whether it did.
	UseRecoveryCode(ctx context.Context, id int64, at time.Time) (bool, error)

	// Failures returns the failed attempts of a key of kind (FailAccount,
	// FailIP) recorded after since; the zero count if there are none. Inside
	// a Write it first locks the key (creating its lock row if needed) until
	// the end of the transaction, so that concurrent check-then-count
	// sequences on one key, from any instance, run one after the other.
	Failures(ctx context.Context, kind, key string, since time.Time) (FailureCount, error)
	// AddFailure records one failed attempt of the key at at and returns
	// its id, by which ForgiveFailure takes it back.
	AddFailure(ctx context.Context, kind, key string, at time.Time) (int64, error)
	// ForgiveFailure deletes the attempt id (nothing if it is gone).
	ForgiveFailure(ctx context.Context, id int64) error
	// ClearFailures deletes every attempt of the key.
	ClearFailures(ctx context.Context, kind, key string) error
	// PurgeFailures deletes the attempts made before before, and the lock
	// rows of keys left with none, and returns how many attempts.
	PurgeFailures(ctx context.Context, before time.Time) (int64, error)
	// SetUserLock sets (or, with nil, clears) the user's LockedUntil.
	// ENOTFOUND if there is no such user.
	SetUserLock(ctx context.Context, userID int64, until *time.Time) error
	// ---- end of multi-factor authentication ----

	// ---- Passkeys (AUTH-3) ----
	// The service's webauthn.go is their only caller.

	// PasskeysByUser returns the user's passkeys by id (none: empty).
	PasskeysByUser(ctx context.Context, userID int64) ([]*Passkey, error)
	// PasskeyByCredentialID returns the passkey with that WebAuthn
	// credential id, whoever owns it. ENOTFOUND if none.
	PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*Passkey, error)
	// InsertPasskey stores k and sets its ID. ECONFLICT on "credential_id"
	// when the credential is registered already, to anyone.
	InsertPasskey(ctx context.Context, k *Passkey) error
	// RenamePasskey renames the user's passkey id. ENOTFOUND when the user
	// has no such passkey (another user's included).
	RenamePasskey(ctx context.Context, userID, id int64, name string) error
	// DeletePasskey removes the user's passkey id. ENOTFOUND as RenamePasskey.
	DeletePasskey(ctx context.Context, userID, id int64) error
	// UsePasskey records an assertion with signature counter count at at,
	// in one conditional UPDATE, if the passkey is not flagged and count is
	// above the stored counter (or both are 0: authenticators without a
	// counter), and reports whether it did. Of concurrent callers with one
	// counter exactly one gets true.
	UsePasskey(ctx context.Context, id, count int64, at time.Time) (bool, error)
	// FlagPasskey marks the passkey flagged at at, unless it is already.
	FlagPasskey(ctx context.Context, id int64, at time.Time) error
	// PutPasskeyCeremony stores c, replacing the ceremony with its ID.
	PutPasskeyCeremony(ctx context.Context, c *PasskeyCeremony) error
	// TakePasskeyCeremony deletes the ceremony id and returns it if it
	// expires after now; ENOTFOUND otherwise. Of concurrent callers exactly
	// one gets it: a challenge is answered once.
	TakePasskeyCeremony(ctx context.Context, id string, now time.Time) (*PasskeyCeremony, error)
	// DeletePasskeyCeremonies removes the ceremonies that expired before
	// before, and returns how many.
	DeletePasskeyCeremonies(ctx context.Context, before time.Time) (int64, error)
	// ---- end of passkeys ----
}
