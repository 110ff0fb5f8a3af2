package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The contract of the MFA and throttling methods (AUTH-2, AUTH-4, AUTH-6):
//
//   - a TOTP is pending until ConfirmTOTP; PutTOTP replaces any TOTP, as a
//     restarted enrolment does; UseTOTPStep moves the last step forward
//     only, atomically, and never on a pending TOTP;
//   - recovery codes are used at most once, also by concurrent callers;
//   - a failure run restarts when its last failure is older than runSince,
//     and concurrent check-then-count sequences inside Writes count every
//     attempt;
//   - the lock mark is written only by SetUserLock, never by UpdateUser.

func testTOTP(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	byUser := func(id int64) (*crm.TOTP, error) {
		return read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.TOTP, error) { return tx.TOTPByUser(ctx, id) })
	}
	_, err := byUser(f.alice)
	wantCode(t, "TOTPByUser without one", err, crm.ENOTFOUND)

	pending := &crm.TOTP{UserID: f.alice, Secret: "JBSWY3DPEHPK3PXP", CreatedAt: at(1)}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.PutTOTP(ctx, pending) })
	got, err := byUser(f.alice)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "pending TOTP", got, pending)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.PutTOTP(ctx, &crm.TOTP{UserID: f.bob + 100, Secret: "X", CreatedAt: at(1)})
	})
	wantCode(t, "PutTOTP of a missing user", err, crm.EINVALID)

	// A pending TOTP accepts no step.
	var ok bool
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
		ok, err = tx.UseTOTPStep(ctx, f.alice, 10)
		return err
	})
	if ok {
		t.Error("UseTOTPStep accepted a step of a pending TOTP")
	}

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.ConfirmTOTP(ctx, f.alice, at(2), 1000) })
	got, _ = byUser(f.alice)
	want := clone(pending)
	want.ConfirmedAt, want.LastStep = ptr(at(2)), 1000
	wantEqual(t, "confirmed TOTP", got, want)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.ConfirmTOTP(ctx, f.alice, at(3), 2000) })
	wantCode(t, "ConfirmTOTP of a confirmed TOTP", err, crm.ENOTFOUND)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.ConfirmTOTP(ctx, f.bob, at(3), 2000) })
	wantCode(t, "ConfirmTOTP without a TOTP", err, crm.ENOTFOUND)

	use := func(step int64) bool {
		t.Helper()
		var ok bool
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
			ok, err = tx.UseTOTPStep(ctx, f.alice, step)
			return err
		})
		return ok
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{1000, false}, {999, false}, {1001, true}, {1001, false}, {1003, true}, {1002, false}} {
		if got := use(c.step); got != c.want {
			t.Errorf("UseTOTPStep(%d) = %v, want %v", c.step, got, c.want)
		}
	}
	got, _ = byUser(f.alice)
	if got.LastStep != 1003 {
		t.Errorf("last step %d, want 1003", got.LastStep)
	}
	// Concurrent uses of one step: exactly one wins (a replay across
	// sessions and instances, attack 10).
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := f.st.Write(context.Background(), func(tx crm.Tx) (err error) {
				ok, err = tx.UseTOTPStep(context.Background(), f.alice, 2000)
				return err
			})
			if err != nil && crm.ErrorCode(err) != crm.ECONFLICT {
				t.Errorf("concurrent UseTOTPStep: %v", err)
			}
			mu.Lock()
			if ok {
				wins++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent uses of one step succeeded, want 1", wins)
	}

	// A restarted enrolment replaces the TOTP, pending again.
	again := &crm.TOTP{UserID: f.alice, Secret: "KRSXG5DJNZTQ", CreatedAt: at(5)}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.PutTOTP(ctx, again) })
	got, _ = byUser(f.alice)
	wantEqual(t, "replaced TOTP", got, again)

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteTOTP(ctx, f.alice) })
	_, err = byUser(f.alice)
	wantCode(t, "TOTPByUser after delete", err, crm.ENOTFOUND)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteTOTP(ctx, f.alice) })
	wantCode(t, "DeleteTOTP without one", err, crm.ENOTFOUND)
}

func testRecoveryCodes(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	codes := func(id int64) []*crm.RecoveryCode {
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.RecoveryCode, error) { return tx.RecoveryCodes(ctx, id) })
	}
	if got := codes(f.alice); len(got) != 0 {
		t.Fatalf("RecoveryCodes of a new user = %v", got)
	}
	hashes := [][]byte{hash("a1"), hash("a2"), hash("a3")}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.ReplaceRecoveryCodes(ctx, f.alice, hashes, at(1))
	})
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.ReplaceRecoveryCodes(ctx, f.bob, [][]byte{hash("b1")}, at(1))
	})
	list := codes(f.alice)
	if len(list) != 3 {
		t.Fatalf("%d codes, want 3", len(list))
	}
	for i, c := range list {
		want := &crm.RecoveryCode{ID: c.ID, UserID: f.alice, Hash: hashes[i], CreatedAt: at(1)}
		wantEqual(t, "recovery code", c, want)
		if i > 0 && c.ID <= list[i-1].ID {
			t.Errorf("codes not by id: %d after %d", c.ID, list[i-1].ID)
		}
	}
	useCode := func(id int64, when time.Time) bool {
		t.Helper()
		var ok bool
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
			ok, err = tx.UseRecoveryCode(ctx, id, when)
			return err
		})
		return ok
	}
	if !useCode(list[1].ID, at(2)) {
		t.Fatal("UseRecoveryCode of an unused code = false")
	}
	if useCode(list[1].ID, at(3)) {
		t.Error("a used recovery code was used again")
	}
	if got := codes(f.alice)[1]; got.UsedAt == nil || !got.UsedAt.Equal(at(2)) {
		t.Errorf("used_at = %v, want %v", got.UsedAt, at(2))
	}
	// Concurrent uses of one code: exactly one wins.
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			_ = f.st.Write(context.Background(), func(tx crm.Tx) (err error) {
				ok, err = tx.UseRecoveryCode(context.Background(), list[2].ID, at(4))
				return err
			})
			mu.Lock()
			if ok {
				wins++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent uses of one code succeeded, want 1", wins)
	}
	// Replacing drops every old code, used or not; other users keep theirs.
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.ReplaceRecoveryCodes(ctx, f.alice, [][]byte{hash("a4")}, at(5))
	})
	if got := codes(f.alice); len(got) != 1 || string(got[0].Hash) != string(hash("a4")) || got[0].UsedAt != nil {
		t.Errorf("after replace: %+v", got)
	}
	if useCode(list[0].ID, at(6)) {
		t.Error("a replaced code was used")
	}
	if got := codes(f.bob); len(got) != 1 {
		t.Errorf("bob's codes after alice's replace: %d, want 1", len(got))
	}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.ReplaceRecoveryCodes(ctx, f.alice, nil, at(7)) })
	if got := codes(f.alice); len(got) != 0 {
		t.Errorf("after replace with none: %d codes", len(got))
	}
}

func testFailures(t *testing.T, newStore func(t *testing.T) crm.Store) {
	st := newStore(t)
	get := func(kind, key string, since time.Time) crm.FailureCount {
		t.Helper()
		return mustRead(t, st, func(ctx context.Context, tx crm.Tx) (crm.FailureCount, error) {
			return tx.Failures(ctx, kind, key, since)
		})
	}
	// lockedGet reads as an admission does, inside a Write.
	lockedGet := func(kind, key string, since time.Time) (f crm.FailureCount) {
		t.Helper()
		mustWrite(t, st, func(ctx context.Context, tx crm.Tx) (err error) {
			f, err = tx.Failures(ctx, kind, key, since)
			return err
		})
		return f
	}
	add := func(kind, key string, when time.Time) int64 {
		t.Helper()
		var id int64
		mustWrite(t, st, func(ctx context.Context, tx crm.Tx) (err error) {
			id, err = tx.AddFailure(ctx, kind, key, when)
			return err
		})
		return id
	}
	forgive := func(id int64) {
		t.Helper()
		mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.ForgiveFailure(ctx, id) })
	}
	if got := get(crm.FailAccount, "user:1", at(-100)); got != (crm.FailureCount{}) {
		t.Fatalf("Failures of a new key = %+v", got)
	}
	if got := lockedGet(crm.FailAccount, "user:1", at(-100)); got != (crm.FailureCount{}) {
		t.Fatalf("Failures of a new key in a Write = %+v", got)
	}
	first := add(crm.FailAccount, "user:1", at(1))
	second := add(crm.FailAccount, "user:1", at(2))
	if first == 0 || second == first {
		t.Fatalf("attempt ids %d, %d: want distinct, non-zero", first, second)
	}
	wantEqual(t, "two failures", get(crm.FailAccount, "user:1", at(-14)), crm.FailureCount{Count: 2, First: at(1), Last: at(2)})
	// Each failure expires by its own time: a window that starts at the
	// first failure counts only the second (since is exclusive).
	wantEqual(t, "the window after the first", get(crm.FailAccount, "user:1", at(1)), crm.FailureCount{Count: 1, First: at(2), Last: at(2)})
	wantEqual(t, "a window after both", lockedGet(crm.FailAccount, "user:1", at(2)), crm.FailureCount{})
	// The kinds and keys are separate.
	add(crm.FailIP, "user:1", at(2))
	add(crm.FailAccount, "email:x@example.com", at(2))
	wantEqual(t, "ip failures", get(crm.FailIP, "user:1", at(-14)), crm.FailureCount{Count: 1, First: at(2), Last: at(2)})
	wantEqual(t, "account failures unchanged", get(crm.FailAccount, "user:1", at(-14)).Count, 2)

	// Forgiving an attempt deletes that one only, and leaves the others'
	// times alone: a later success never refreshes earlier failures.
	third := add(crm.FailAccount, "user:1", at(5))
	forgive(third)
	wantEqual(t, "after forgiving the newest", get(crm.FailAccount, "user:1", at(-14)), crm.FailureCount{Count: 2, First: at(1), Last: at(2)})
	forgive(first)
	wantEqual(t, "after forgiving the oldest", get(crm.FailAccount, "user:1", at(-14)), crm.FailureCount{Count: 1, First: at(2), Last: at(2)})
	forgive(first) // already gone
	forgive(987654321)
	wantEqual(t, "forgiving twice", get(crm.FailAccount, "user:1", at(-14)).Count, 1)

	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error {
		return tx.ClearFailures(ctx, crm.FailAccount, "email:x@example.com")
	})
	if got := get(crm.FailAccount, "email:x@example.com", at(-100)); got != (crm.FailureCount{}) {
		t.Errorf("cleared key: %+v", got)
	}
	if got := get(crm.FailIP, "user:1", at(-100)); got.Count != 1 {
		t.Errorf("clearing an account key cleared the address key of the same name: %+v", got)
	}
	// Purge drops the attempts made before its time, and only those.
	add(crm.FailAccount, "user:1", at(31))
	var n int64
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) (err error) { n, err = tx.PurgeFailures(ctx, at(10)); return err })
	if n != 2 {
		t.Errorf("PurgeFailures removed %d attempts, want 2", n)
	}
	if got := get(crm.FailIP, "user:1", at(-100)); got != (crm.FailureCount{}) {
		t.Errorf("purged attempts still there: %+v", got)
	}
	wantEqual(t, "a recent attempt after the purge", get(crm.FailAccount, "user:1", at(-100)), crm.FailureCount{Count: 1, First: at(31), Last: at(31)})
	// A key whose attempts were all purged is counted from nothing again.
	if got := lockedGet(crm.FailIP, "user:1", at(-100)); got != (crm.FailureCount{}) {
		t.Errorf("a purged key in a Write: %+v", got)
	}

	// Concurrent check-then-count sequences, as the throttle runs them,
	// are serialised by the key's lock: each sees the attempts of those
	// before it, so the counts seen are 0..9 once each.
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[int]int{}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := st.Write(context.Background(), func(tx crm.Tx) error {
				ctx := context.Background()
				f, err := tx.Failures(ctx, crm.FailAccount, "user:9", at(25))
				if err != nil {
					return err
				}
				if _, err := tx.AddFailure(ctx, crm.FailAccount, "user:9", at(40)); err != nil {
					return err
				}
				mu.Lock()
				seen[f.Count]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Errorf("concurrent attempt: %v", err)
			}
		}()
	}
	wg.Wait()
	if got := get(crm.FailAccount, "user:9", at(25)); got.Count != 10 {
		t.Errorf("10 concurrent attempts counted %d", got.Count)
	}
	for i := range 10 {
		if seen[i] != 1 {
			t.Errorf("concurrent admissions saw counts %v: want each of 0..9 once (the key's lock serialises them)", seen)
			break
		}
	}
}

func testUserLock(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	user := func() *crm.User {
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByID(ctx, f.alice) })
	}
	if u := user(); u.LockedUntil != nil {
		t.Fatalf("a new user is locked until %v", u.LockedUntil)
	}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserLock(ctx, f.alice, ptr(at(15))) })
	u := user()
	if u.LockedUntil == nil || !u.LockedUntil.Equal(at(15)) {
		t.Fatalf("locked until %v, want %v", u.LockedUntil, at(15))
	}
	// UpdateUser leaves the mark alone, whatever the struct says.
	u.Name, u.LockedUntil = "Alice", nil
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateUser(ctx, u) })
	if got := user(); got.LockedUntil == nil || got.Name != "Alice" {
		t.Errorf("after UpdateUser: %+v", got)
	}
	users := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.User, error) { return tx.Users(ctx) })
	if users[0].LockedUntil == nil {
		t.Error("Users does not show the lock mark")
	}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserLock(ctx, f.alice, nil) })
	if got := user(); got.LockedUntil != nil {
		t.Errorf("after clearing: locked until %v", got.LockedUntil)
	}
	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.SetUserLock(ctx, f.bob+100, nil) })
	wantCode(t, "SetUserLock of a missing user", err, crm.ENOTFOUND)
}

func testSessionAuth(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	half := &crm.Session{ID: "half", UserID: f.alice, SecretHash: hash("h"), CreatedAt: at(0),
		LastSeenAt: at(0), ExpiresAt: at(15), AAL: crm.AAL1, MFAPending: true}
	full := &crm.Session{ID: "full", UserID: f.alice, SecretHash: hash("f"), CreatedAt: at(0),
		LastSeenAt: at(1), ExpiresAt: at(720), AAL: crm.AAL2, SteppedUpAt: ptr(at(1))}
	for _, s := range []*crm.Session{half, full} {
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertSession(ctx, s) })
		got := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Session, error) {
			return tx.SessionBySecretHash(ctx, s.SecretHash)
		})
		wantEqual(t, "session "+s.ID, got, s)
	}
	list := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Session, error) { return tx.SessionsByUser(ctx, f.alice) })
	wantEqual(t, "SessionsByUser", list, []*crm.Session{full, half})
	for _, aal := range []int{0, 3} {
		bad := clone(full)
		bad.ID, bad.SecretHash, bad.AAL = "bad", hash("b"), aal
		err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertSession(ctx, bad) })
		wantCode(t, "a session at AAL "+string(rune('0'+aal)), err, crm.EINVALID)
	}
}

// CheckUpgradedFailures checks a store that migration 0008 upgraded from
// runs counted before it (user:1 with 4 failures, the address 192.0.2.1
// with 120, user:2 with none, all last at last): each run became that many
// attempts at its last failure.
func CheckUpgradedFailures(t *testing.T, st crm.Store, last time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct {
		kind, key string
		want      int
	}{{crm.FailAccount, "user:1", 4}, {crm.FailIP, "192.0.2.1", 120}, {crm.FailAccount, "user:2", 0}} {
		var got crm.FailureCount
		err := st.Read(ctx, func(tx crm.Tx) (err error) {
			got, err = tx.Failures(ctx, c.kind, c.key, last.Add(-time.Minute))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != c.want || (c.want > 0 && !got.Last.Equal(last)) {
			t.Errorf("%s %s after the upgrade: %+v, want %d at %v", c.kind, c.key, got, c.want, last)
		}
	}
}
