package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// The contract of the passkey methods (AUTH-3):
//
//   - a credential id is registered once, across all users (ECONFLICT on
//     "credential_id"); a user has any number of passkeys, listed by id;
//   - renaming and deleting touch only the owner's passkey: another user's
//     is ENOTFOUND;
//   - UsePasskey moves the counter forward only (both zero passes, for
//     authenticators without a counter), never on a flagged passkey, and
//     of concurrent uses with one counter exactly one succeeds;
//   - a ceremony is taken once: of concurrent takers exactly one gets it,
//     and an expired one is ENOTFOUND.

func testPasskeys(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	newKey := func(user int64, id, name string) *crm.Passkey {
		return &crm.Passkey{UserID: user, Name: name, CredentialID: []byte(id), UserHandle: []byte("handle-" + name),
			PublicKey: []byte("cose"), AAGUID: make([]byte, 16), Transports: []string{"internal", "hybrid"}, Flags: 3, CreatedAt: at(1)}
	}
	list := func(user int64) []*crm.Passkey {
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Passkey, error) { return tx.PasskeysByUser(ctx, user) })
	}
	if got := list(f.alice); len(got) != 0 {
		t.Fatalf("PasskeysByUser of a new user: got %d, want 0", len(got))
	}
	a1, a2, b1 := newKey(f.alice, "cred-a1", "laptop"), newKey(f.alice, "cred-a2", "phone"), newKey(f.bob, "cred-b1", "key")
	a2.AAGUID, a2.Transports = nil, []string{}
	for _, k := range []*crm.Passkey{a1, a2, b1} {
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertPasskey(ctx, k) })
		if k.ID == 0 {
			t.Fatal("InsertPasskey set no id")
		}
	}
	err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertPasskey(ctx, newKey(f.bob, "cred-a1", "again"))
	})
	wantField(t, "InsertPasskey of a registered credential", err, crm.ECONFLICT, "credential_id")
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertPasskey(ctx, newKey(f.bob+100, "cred-x", "x"))
	})
	wantCode(t, "InsertPasskey of a missing user", err, crm.EINVALID)

	got := list(f.alice)
	wantEqual(t, "alice's passkeys", got, []*crm.Passkey{a1, a2})
	k, err := read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Passkey, error) {
		return tx.PasskeyByCredentialID(ctx, []byte("cred-b1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "PasskeyByCredentialID", k, b1)
	_, err = read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Passkey, error) {
		return tx.PasskeyByCredentialID(ctx, []byte("nope"))
	})
	wantCode(t, "PasskeyByCredentialID of an unknown id", err, crm.ENOTFOUND)

	// Only the owner renames and deletes.
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.RenamePasskey(ctx, f.bob, a1.ID, "mine") })
	wantCode(t, "RenamePasskey of another user's passkey", err, crm.ENOTFOUND)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeletePasskey(ctx, f.bob, a1.ID) })
	wantCode(t, "DeletePasskey of another user's passkey", err, crm.ENOTFOUND)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error {
		return tx.RenamePasskey(ctx, f.alice, a1.ID, "work laptop")
	})
	if got := list(f.alice); got[0].Name != "work laptop" {
		t.Errorf("renamed: got %q", got[0].Name)
	}

	// The counter only grows; zero stays acceptable for counterless keys.
	use := func(id, count int64, n int) bool {
		var ok bool
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
			ok, err = tx.UsePasskey(ctx, id, count, at(n))
			return err
		})
		return ok
	}
	if !use(a2.ID, 0, 2) || !use(a2.ID, 0, 3) {
		t.Error("UsePasskey refused a counterless key")
	}
	if !use(a1.ID, 5, 2) {
		t.Error("UsePasskey refused a growing counter")
	}
	if use(a1.ID, 5, 3) || use(a1.ID, 4, 3) || use(a1.ID, 0, 3) {
		t.Error("UsePasskey accepted a counter that did not grow")
	}
	// Counters are 32-bit unsigned: past 2^31 they still compare as
	// numbers (no 32-bit signed parameter anywhere).
	if !use(a2.ID, 3_000_000_000, 2) || use(a2.ID, 3_000_000_000, 3) || !use(a2.ID, 4_000_000_000, 2) {
		t.Error("UsePasskey with counters past 2^31")
	}
	got = list(f.alice)
	if got[0].SignCount != 5 || got[0].LastUsedAt == nil || !got[0].LastUsedAt.Equal(at(2)) {
		t.Errorf("after use: count %d, last used %v", got[0].SignCount, got[0].LastUsedAt)
	}
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.FlagPasskey(ctx, a1.ID, at(4)) })
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.FlagPasskey(ctx, a1.ID, at(5)) })
	if got = list(f.alice); got[0].FlaggedAt == nil || !got[0].FlaggedAt.Equal(at(4)) {
		t.Errorf("flagged at: got %v, want the first flag %v", got[0].FlaggedAt, at(4))
	}
	if use(a1.ID, 100, 6) {
		t.Error("UsePasskey accepted a flagged passkey")
	}

	// Concurrent uses with one counter: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := write(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
				ok, err = tx.UsePasskey(ctx, b1.ID, 7, at(7))
				return err
			})
			if err == nil && ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent UsePasskey with one counter: %d succeeded, want 1", wins)
	}

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeletePasskey(ctx, f.alice, a1.ID) })
	if got := list(f.alice); len(got) != 1 || got[0].ID != a2.ID {
		t.Errorf("after delete: %d passkeys", len(got))
	}
}

func testPasskeyCeremonies(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	take := func(id string, n int) (*crm.PasskeyCeremony, error) {
		var c *crm.PasskeyCeremony
		err := write(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
			c, err = tx.TakePasskeyCeremony(ctx, id, at(n))
			return err
		})
		return c, err
	}
	verify := &crm.PasskeyCeremony{ID: "verify:s1", Kind: crm.CeremonyVerify, UserID: f.alice, SessionID: "s1",
		State: []byte(`{"s":1}`), ExpiresAt: at(5)}
	login := &crm.PasskeyCeremony{ID: "login:abc", Kind: crm.CeremonyLogin, State: []byte(`{}`), ExpiresAt: at(5)}
	for _, c := range []*crm.PasskeyCeremony{verify, login} {
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.PutPasskeyCeremony(ctx, c) })
	}
	// A new ceremony of the session replaces the old one.
	verify2 := clone(verify)
	verify2.State = []byte(`{"s":2}`)
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.PutPasskeyCeremony(ctx, verify2) })

	got, err := take("verify:s1", 1)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "taken ceremony", got, verify2)
	_, err = take("verify:s1", 1)
	wantCode(t, "a ceremony taken twice", err, crm.ENOTFOUND)
	_, err = take("login:abc", 5)
	wantCode(t, "an expired ceremony", err, crm.ENOTFOUND)

	// Concurrent takers: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := take("login:abc", 1); err == nil && c != nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent takes: %d succeeded, want 1", wins)
	}

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.PutPasskeyCeremony(ctx, verify) })
	var n int64
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
		n, err = tx.DeletePasskeyCeremonies(ctx, at(6))
		return err
	})
	if n != 1 {
		t.Errorf("DeletePasskeyCeremonies: got %d, want 1", n)
	}
}
