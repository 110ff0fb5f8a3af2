// Package storetest is the contract suite of crm.Store. Every backend (the
// sqlite and the postgres package) runs the same Run from its own tests, so
// that the service layer can rely on one behaviour:
//
//   - missing or invisible records are ENOTFOUND, a taken unique value is
//     ECONFLICT naming the field, a stale version is EPRECONDITION and
//     leaves the row alone, an unusable cursor is EINVALID on "cursor";
//   - the zero Scope sees nothing; an owner scope sees only the owner's
//     records (for tasks: owned or assigned);
//   - lists sort by the whitelisted fields of crm.SortFields, text fields by
//     their lower-case form in code-point (byte) order, missing values
//     (a task's due time, a deal's expected close) after all others, always
//     with the id as tie-breaker in the same direction; paging with the
//     returned cursors yields every row exactly once;
//   - search (the Q filters) is a case-insensitive prefix match;
//   - a Write whose function fails writes nothing.
//
// newStore must return a fresh, migrated store (with only the default
// "Sales" pipeline in it) and close it when the test ends.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Run runs the contract suite against stores made by newStore, one fresh
// store per subtest.
func Run(t *testing.T, newStore func(t *testing.T) crm.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newStore func(t *testing.T) crm.Store)
	}{
		{"Contacts", recordSuite(contactKind)},
		{"Companies", recordSuite(companyKind)},
		{"Deals", recordSuite(dealKind)},
		{"Activities", recordSuite(activityKind)},
		{"Tasks", recordSuite(taskKind)},
		{"ContactFilters", testContactFilters},
		{"ContactFieldUpdates", testContactFieldUpdates},
		{"CompanyFilters", testCompanyFilters},
		{"DealFilters", testDealFilters},
		{"ActivityFilters", testActivityFilters},
		{"TaskFilters", testTaskFilters},
		{"TaskAssigneeScope", testTaskAssigneeScope},
		{"SealedSearchRefused", testSealedSearchRefused}, // search.go
		{"DuplicateContacts", testDuplicateContacts},     // duplicates.go
		{"Tags", testTags},
		{"Consents", testConsents},
		{"Pipelines", testPipelines},
		{"PurgeReferences", testPurgeReferences},
		{"WriteRollback", testWriteRollback},
		{"ReadDuringWrite", testReadDuringWrite},
		{"Now", testNow},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Tokens", testTokens},
		{"Settings", testSettings},
		{"Teams", testTeams},       // team.go
		{"DataKeys", testDataKeys}, // keys.go
		{"ReserveID", testReserveID},
		{"Erasure", testErasure},         // erase.go
		{"Changes", testChanges},         // changes.go
		{"DealChanges", testDealChanges}, // changes.go
		{"IndexLookups", testIndexLookups},
		// Multi-factor authentication and throttling: mfa.go.
		{"TOTP", testTOTP},
		{"RecoveryCodes", testRecoveryCodes},
		{"Failures", testFailures},
		{"UserLock", testUserLock},
		{"SessionAuth", testSessionAuth},
		{"Leases", testLeases},
		{"CompanyIDs", testCompanyIDs},
		{"OneTimeTokens", testOneTimeTokens}, // onetime.go
		// Passkeys: webauthn.go.
		{"Passkeys", testPasskeys},
		{"PasskeyCeremonies", testPasskeyCeremonies},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore)
		})
	}
}

// base is the fixtures' clock: UTC, whole microseconds, as stores keep time.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// at returns base plus n minutes.
func at(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }

func ptr[T any](v T) *T { return &v }

// fixture is a fresh store with two users and the default pipeline.
type fixture struct {
	st         crm.Store
	alice, bob int64 // user ids
	pipeline   int64 // the default pipeline
	stages     []int64
}

func newFixture(t *testing.T, newStore func(t *testing.T) crm.Store) *fixture {
	t.Helper()
	f := &fixture{st: newStore(t)}
	f.alice = insertUser(t, f.st, "alice@example.com").ID
	f.bob = insertUser(t, f.st, "bob@example.com").ID
	ps := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Pipeline, error) {
		return tx.Pipelines(ctx)
	})
	if len(ps) == 0 || len(ps[0].Stages) == 0 {
		t.Fatalf("Pipelines() = %v, want the default pipeline with stages", ps)
	}
	f.pipeline = ps[0].ID
	for _, s := range ps[0].Stages {
		f.stages = append(f.stages, s.ID)
	}
	return f
}

func insertUser(t *testing.T, st crm.Store, email string) *crm.User {
	t.Helper()
	u := &crm.User{Email: email, Name: email, Role: crm.RoleSales, Language: "en",
		PasswordHash: "$argon2id$x", CreatedAt: base, UpdatedAt: base}
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertUser(ctx, u) })
	return u
}

// read runs fn in a Read and returns its result.
func read[T any](t *testing.T, st crm.Store, fn func(context.Context, crm.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := st.Read(t.Context(), func(tx crm.Tx) error {
		var err error
		v, err = fn(t.Context(), tx)
		return err
	})
	return v, err
}

// mustRead is read failing the test on error.
func mustRead[T any](t *testing.T, st crm.Store, fn func(context.Context, crm.Tx) (T, error)) T {
	t.Helper()
	v, err := read(t, st, fn)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return v
}

// write runs fn in a Write.
func write(t *testing.T, st crm.Store, fn func(context.Context, crm.Tx) error) error {
	t.Helper()
	return st.Write(t.Context(), func(tx crm.Tx) error { return fn(t.Context(), tx) })
}

// mustWrite is write failing the test on error.
func mustWrite(t *testing.T, st crm.Store, fn func(context.Context, crm.Tx) error) {
	t.Helper()
	if err := write(t, st, fn); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// wantCode fails unless err is a *crm.Error with code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *crm.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("%s: error = %v, want code %q", what, err, code)
	}
}

// wantField fails unless err is a *crm.Error with code naming field.
func wantField(t *testing.T, what string, err error, code, field string) {
	t.Helper()
	wantCode(t, what, err, code)
	if _, ok := crm.ErrorFields(err)[field]; !ok {
		t.Fatalf("%s: fields = %v, want %q", what, crm.ErrorFields(err), field)
	}
}

// wantEqual fails unless got and want are deeply equal.
func wantEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, deref(got), deref(want))
	}
}

// deref shows the struct behind a pointer in failure messages.
func deref(v any) any {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

// clone returns a shallow copy of the struct *v.
func clone[T any](v T) T {
	rv := reflect.ValueOf(v)
	c := reflect.New(rv.Elem().Type())
	c.Elem().Set(rv.Elem())
	return c.Interface().(T)
}
