package crm

import (
	"context"
	"strconv"
	"time"
)

// DataKey is a client's data key as the store keeps it (ENC-2): wrapped by
// the key-encryption key of version KEKVersion, bound to its Subject
// ("contact:7", "company:3", "deal:9": the record whose client it
// encrypts). The store never holds it unwrapped.
type DataKey struct {
	ID         int64
	Subject    string
	KEKVersion int
	Wrapped    []byte
	CreatedAt  time.Time
	RotatedAt  *time.Time
}

// KeySubject names the data key of the record id of entity ("contact:7"):
// a client's, or an activity's or task's that names no client.
func KeySubject(entity string, id int64) string { return entity + ":" + strconv.FormatInt(id, 10) }

// KeyTx is the part of a transaction that keeps data keys and reserves
// record ids, for field encryption (issue 12): a field is sealed under a
// data key with its record's id bound in, so a new record's id is
// reserved before its fields are sealed and written.
type KeyTx interface {
	// ReserveID returns a new id of entity's table ("contact", …) that no
	// record has had; the record is then inserted with that ID set.
	ReserveID(ctx context.Context, entity string) (int64, error)
	// DataKeyOf returns the data key of subject; ENOTFOUND if it has none.
	DataKeyOf(ctx context.Context, subject string) (*DataKey, error)
	// DataKeysByID returns the data keys of ids that exist, in any order.
	DataKeysByID(ctx context.Context, ids []int64) ([]*DataKey, error)
	// InsertDataKey stores a new data key under its ID, which its maker
	// chooses at random (an id is never used twice, even by a write that
	// rolled back); ECONFLICT when its subject (or its id) has one already.
	InsertDataKey(ctx context.Context, k *DataKey) error
	// LockDataKey is DataKeyOf taking the key's row for a change (on
	// PostgreSQL, FOR UPDATE): writers sealing under it wait until the
	// transaction ends. Erasure, purge and the rotation of one client's
	// key take it before they read the client's records.
	LockDataKey(ctx context.Context, subject string) (*DataKey, error)
	// DeleteDataKey destroys the data key id (an erased client's, or one
	// replaced by a rotation of the client's key): ENOTFOUND when gone.
	DeleteDataKey(ctx context.Context, id int64) error
	// RewrapDataKey replaces the wrapped form of key id (a rotation):
	// ENOTFOUND when it is gone.
	RewrapDataKey(ctx context.Context, id int64, kekVersion int, wrapped []byte) error
	// DataKeysBelow returns up to limit data keys wrapped under a version
	// other than version, with ids above after, by id: a rotation's batch.
	DataKeysBelow(ctx context.Context, version int, after int64, limit int) ([]*DataKey, error)
	// DataKeyVersions counts the data keys per key-encryption key version.
	DataKeyVersions(ctx context.Context) (map[int]int64, error)
	// SealFields replaces personal fields of one record of entity
	// ("contact", …, "consent") stored in plain text by their sealed form,
	// if each still holds its old value (the upgrade pass of rows written
	// before field encryption: a concurrent update wins). fields maps a
	// column to its old and new values; it reports whether it wrote.
	SealFields(ctx context.Context, entity string, id int64, fields map[string][2]string) (bool, error)
	// SetTagTokens makes the rows of contact id in the tags table its tags'
	// blind-index tokens (the upgrade pass, when it seals tags stored in
	// plain text).
	SetTagTokens(ctx context.Context, contactID int64, tokens []string) error
}
