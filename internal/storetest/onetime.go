package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// testOneTimeTokens checks the one-time tokens of invitations, resets and
// email changes (AUTH-8): lookup by purpose and hash, single use, expiry,
// discarding, counting and the atomic use under concurrency (ASVS
// v5.0.0-15.4.2).
func testOneTimeTokens(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	st := f.st
	insert := func(o *crm.OneTimeToken) *crm.OneTimeToken {
		t.Helper()
		mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertOneTimeToken(ctx, o) })
		if o.ID <= 0 {
			t.Fatalf("InsertOneTimeToken: id %d", o.ID)
		}
		return o
	}
	use := func(p crm.OneTimePurpose, h []byte, now time.Time) (*crm.OneTimeToken, error) {
		var o *crm.OneTimeToken
		err := write(t, st, func(ctx context.Context, tx crm.Tx) (err error) {
			o, err = tx.UseOneTimeToken(ctx, p, h, now)
			return err
		})
		return o, err
	}
	byHash := func(p crm.OneTimePurpose, h []byte) (*crm.OneTimeToken, error) {
		return read(t, st, func(ctx context.Context, tx crm.Tx) (*crm.OneTimeToken, error) {
			return tx.OneTimeTokenByHash(ctx, p, h)
		})
	}

	inv := insert(&crm.OneTimeToken{Purpose: crm.PurposeInvite, Email: "new@example.com", Role: crm.RoleSupport,
		Name: "New Person", CreatedBy: f.alice, SecretHash: hash("invite-1"), CreatedAt: at(0), ExpiresAt: at(60)})
	got, err := byHash(crm.PurposeInvite, hash("invite-1"))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "OneTimeTokenByHash", got, inv)
	_, err = byHash(crm.PurposeReset, hash("invite-1"))
	wantCode(t, "OneTimeTokenByHash with another purpose", err, crm.ENOTFOUND)
	_, err = use(crm.PurposeReset, hash("invite-1"), at(1))
	wantCode(t, "UseOneTimeToken with another purpose", err, crm.ENOTFOUND)
	_, err = use(crm.PurposeInvite, hash("nothing"), at(1))
	wantCode(t, "UseOneTimeToken of an unknown hash", err, crm.ENOTFOUND)
	_, err = use(crm.PurposeInvite, hash("invite-1"), at(60))
	wantCode(t, "UseOneTimeToken at its expiry", err, crm.ENOTFOUND)

	got, err = use(crm.PurposeInvite, hash("invite-1"), at(2))
	if err != nil {
		t.Fatal(err)
	}
	want := clone(inv)
	want.UsedAt = ptr(at(2))
	wantEqual(t, "UseOneTimeToken", got, want)
	_, err = use(crm.PurposeInvite, hash("invite-1"), at(3))
	wantCode(t, "UseOneTimeToken twice", err, crm.ENOTFOUND)
	if got, _ := byHash(crm.PurposeInvite, hash("invite-1")); got == nil || got.UsedAt == nil || !got.UsedAt.Equal(at(2)) {
		t.Errorf("after a second use: %+v, want used at the first use", got)
	}

	// A failed Write rolls the use back.
	insert(&crm.OneTimeToken{Purpose: crm.PurposeReset, UserID: f.bob, CreatedBy: f.bob,
		SecretHash: hash("reset-rb"), CreatedAt: at(0), ExpiresAt: at(30)})
	err = write(t, st, func(ctx context.Context, tx crm.Tx) error {
		if _, err := tx.UseOneTimeToken(ctx, crm.PurposeReset, hash("reset-rb"), at(1)); err != nil {
			return err
		}
		return crm.Errorf(crm.EINVALID, "abort")
	})
	wantCode(t, "aborted Write", err, crm.EINVALID)
	if _, err := use(crm.PurposeReset, hash("reset-rb"), at(2)); err != nil {
		t.Errorf("use after a rolled-back use: %v", err)
	}

	// Concurrent uses: exactly one wins.
	insert(&crm.OneTimeToken{Purpose: crm.PurposeReset, UserID: f.alice, CreatedBy: f.alice,
		SecretHash: hash("reset-race"), CreatedAt: at(0), ExpiresAt: at(30)})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.Write(context.Background(), func(tx crm.Tx) error {
				_, err := tx.UseOneTimeToken(context.Background(), crm.PurposeReset, hash("reset-race"), at(1))
				return err
			})
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent uses succeeded, want 1 (errors %v)", wins, n, errs)
	}

	// Counting and discarding by user and by invited address.
	for i, h := range []string{"r1", "r2", "r3"} {
		insert(&crm.OneTimeToken{Purpose: crm.PurposeReset, UserID: f.bob, CreatedBy: f.bob,
			SecretHash: hash(h), CreatedAt: at(10 + i), ExpiresAt: at(40 + i)})
	}
	insert(&crm.OneTimeToken{Purpose: crm.PurposeEmail, UserID: f.bob, CreatedBy: f.bob, NewEmail: "robert@example.com",
		SecretHash: hash("e1"), CreatedAt: at(10), ExpiresAt: at(100)})
	count := func(p crm.OneTimePurpose, user int64, since time.Time) int {
		t.Helper()
		return mustRead(t, st, func(ctx context.Context, tx crm.Tx) (int, error) { return tx.CountOneTimeTokens(ctx, p, user, since) })
	}
	if got := count(crm.PurposeReset, f.bob, at(11)); got != 2 {
		t.Errorf("CountOneTimeTokens(reset, bob, since 11) = %d, want 2", got)
	}
	if got := count(crm.PurposeReset, f.bob, at(0)); got != 4 {
		t.Errorf("CountOneTimeTokens(reset, bob, since 0) = %d, want 4 (used ones count too)", got)
	}
	var discarded int64
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) (err error) {
		discarded, err = tx.DiscardOneTimeTokens(ctx, crm.PurposeReset, f.bob, "", at(20))
		return err
	})
	if discarded != 3 {
		t.Errorf("DiscardOneTimeTokens(reset, bob) = %d, want 3", discarded)
	}
	for _, h := range []string{"r1", "r2", "r3"} {
		_, err := use(crm.PurposeReset, hash(h), at(21))
		wantCode(t, "use of a discarded token", err, crm.ENOTFOUND)
	}
	if _, err := use(crm.PurposeEmail, hash("e1"), at(21)); err != nil {
		t.Errorf("an email token after discarding resets: %v", err)
	}
	insert(&crm.OneTimeToken{Purpose: crm.PurposeInvite, Email: "again@example.com", Role: crm.RoleSales,
		SecretHash: hash("inv-a"), CreatedAt: at(0), ExpiresAt: at(60)})
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) (err error) {
		discarded, err = tx.DiscardOneTimeTokens(ctx, crm.PurposeInvite, 0, "again@example.com", at(5))
		return err
	})
	if discarded != 1 {
		t.Errorf("DiscardOneTimeTokens(invite, again@) = %d, want 1", discarded)
	}

	// Constraints: the hash is unique; an invitation names no user.
	err = write(t, st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertOneTimeToken(ctx, &crm.OneTimeToken{Purpose: crm.PurposeReset, UserID: f.bob,
			SecretHash: hash("r1"), CreatedAt: at(0), ExpiresAt: at(1)})
	})
	wantCode(t, "InsertOneTimeToken with a taken hash", err, crm.ECONFLICT)
	err = write(t, st, func(ctx context.Context, tx crm.Tx) error {
		return tx.InsertOneTimeToken(ctx, &crm.OneTimeToken{Purpose: crm.PurposeReset,
			SecretHash: hash("no-user"), CreatedAt: at(0), ExpiresAt: at(1)})
	})
	wantCode(t, "InsertOneTimeToken of a reset without a user", err, crm.EINVALID)

	// Housekeeping deletes what expired before the given time.
	var deleted int64
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) (err error) {
		deleted, err = tx.DeleteOneTimeTokens(ctx, at(45))
		return err
	})
	if deleted == 0 {
		t.Error("DeleteOneTimeTokens removed nothing")
	}
	if _, err := byHash(crm.PurposeReset, hash("r1")); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("token expired before the cut-off: %v, want ENOTFOUND", err)
	}
	if _, err := byHash(crm.PurposeInvite, hash("invite-1")); err != nil {
		t.Errorf("token expiring after the cut-off: %v", err)
	}
}
