package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testUsers(t *testing.T, newStore func(t *testing.T) crm.Store) {
	st := newStore(t)
	n := mustRead(t, st, func(ctx context.Context, tx crm.Tx) (int, error) { return tx.CountUsers(ctx) })
	if n != 0 {
		t.Fatalf("CountUsers() of a new store = %d, want 0", n)
	}
	alice := insertUser(t, st, "alice@example.com")
	bob := insertUser(t, st, "bob@example.com")
	if alice.ID <= 0 || bob.ID <= alice.ID {
		t.Fatalf("user ids %d, %d: want increasing and > 0", alice.ID, bob.ID)
	}

	byID := func(id int64) (*crm.User, error) {
		return read(t, st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByID(ctx, id) })
	}
	byEmail := func(email string) (*crm.User, error) {
		return read(t, st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByEmail(ctx, email) })
	}
	got, err := byID(alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "UserByID", got, alice)
	got, err = byEmail("ALICE@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "UserByEmail in another case", got, alice)
	_, err = byID(bob.ID + 100)
	wantCode(t, "UserByID of a missing user", err, crm.ENOTFOUND)
	_, err = byEmail("carol@example.com")
	wantCode(t, "UserByEmail of a missing user", err, crm.ENOTFOUND)

	users := mustRead(t, st, func(ctx context.Context, tx crm.Tx) ([]*crm.User, error) { return tx.Users(ctx) })
	wantEqual(t, "Users", users, []*crm.User{alice, bob})
	n = mustRead(t, st, func(ctx context.Context, tx crm.Tx) (int, error) { return tx.CountUsers(ctx) })
	if n != 2 {
		t.Errorf("CountUsers() = %d, want 2", n)
	}

	dup := &crm.User{Email: "Alice@Example.COM", Role: crm.RoleAdmin, CreatedAt: base, UpdatedAt: base}
	err = write(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertUser(ctx, dup) })
	wantField(t, "InsertUser with a taken email", err, crm.ECONFLICT, "email")

	bob.Name, bob.Role, bob.Language, bob.Disabled = "Robert", crm.RoleManager, "ru", true
	bob.PasswordHash, bob.UpdatedAt, bob.LastLoginAt = "$argon2id$y", at(5), ptr(at(4))
	mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateUser(ctx, bob) })
	got, err = byID(bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "user after update", got, bob)

	taken := *bob
	taken.Email = "alice@example.com"
	err = write(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateUser(ctx, &taken) })
	wantField(t, "UpdateUser to a taken email", err, crm.ECONFLICT, "email")
	missing := *bob
	missing.ID, missing.Email = bob.ID+100, "dave@example.com"
	err = write(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.UpdateUser(ctx, &missing) })
	wantCode(t, "UpdateUser of a missing user", err, crm.ENOTFOUND)
}

func testSessions(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	session := func(id string, user int64, seen, expires int) *crm.Session {
		return &crm.Session{ID: id, UserID: user, SecretHash: hash(id),
			CreatedAt: at(0), LastSeenAt: at(seen), ExpiresAt: at(expires), IP: "192.0.2.7", UserAgent: "Firefox", AAL: crm.AAL1}
	}
	insert := func(ss ...*crm.Session) {
		t.Helper()
		for _, s := range ss {
			mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertSession(ctx, s) })
		}
	}
	byHash := func(h []byte) (*crm.Session, error) {
		return read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Session, error) { return tx.SessionBySecretHash(ctx, h) })
	}
	byUser := func(id int64) []*crm.Session {
		t.Helper()
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Session, error) { return tx.SessionsByUser(ctx, id) })
	}
	s1, s2, s3 := session("s1", f.alice, 0, 600), session("s2", f.alice, 5, 600), session("s3", f.bob, 50, 100)
	// The CSRF token is derived from the secret, never stored: a token
	// handed to InsertSession does not come back.
	s1.CSRFToken = "csrf-s1"
	insert(s1, s2, s3)
	s1.CSRFToken = ""

	got, err := byHash(hash("s1"))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "SessionBySecretHash", got, s1)
	_, err = byHash(hash("nope"))
	wantCode(t, "SessionBySecretHash of an unknown secret", err, crm.ENOTFOUND)
	wantEqual(t, "SessionsByUser, last seen first", byUser(f.alice), []*crm.Session{s2, s1})

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.TouchSession(ctx, "s1", at(10)) })
	s1.LastSeenAt = at(10)
	got, err = byHash(hash("s1"))
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "session after TouchSession", got, s1)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.TouchSession(ctx, "nope", at(10)) })
	wantCode(t, "TouchSession of a missing session", err, crm.ENOTFOUND)

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteUserSessions(ctx, f.alice, "s1") })
	wantEqual(t, "sessions after DeleteUserSessions", byUser(f.alice), []*crm.Session{s1})
	wantEqual(t, "other user's sessions", byUser(f.bob), []*crm.Session{s3})

	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteSession(ctx, "s1") })
	_, err = byHash(hash("s1"))
	wantCode(t, "SessionBySecretHash after DeleteSession", err, crm.ENOTFOUND)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.DeleteSession(ctx, "s1") })
	wantCode(t, "DeleteSession of a missing session", err, crm.ENOTFOUND)

	idle, expired, live := session("idle", f.alice, 1, 100), session("expired", f.alice, 50, 60), session("live", f.alice, 50, 100)
	insert(idle, expired, live)
	var n int64
	mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) (err error) {
		n, err = tx.DeleteExpiredSessions(ctx, at(10), at(70))
		return err
	})
	if n != 2 {
		t.Errorf("DeleteExpiredSessions() = %d, want 2", n)
	}
	wantEqual(t, "sessions after DeleteExpiredSessions", byUser(f.alice), []*crm.Session{live})
	wantEqual(t, "other sessions after DeleteExpiredSessions", byUser(f.bob), []*crm.Session{s3})
}

func testTokens(t *testing.T, newStore func(t *testing.T) crm.Store) {
	f := newFixture(t, newStore)
	token := func(user int64, name string, scope crm.TokenScope) *crm.Token {
		tk := &crm.Token{UserID: user, Name: name, Scope: scope, Prefix: "cst_" + name,
			SecretHash: hash(name), CreatedAt: at(0), ExpiresAt: at(1000)}
		mustWrite(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.InsertToken(ctx, tk) })
		if tk.ID <= 0 {
			t.Fatalf("InsertToken: ID = %d, want > 0", tk.ID)
		}
		return tk
	}
	byID := func(id int64) (*crm.Token, error) {
		return read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Token, error) { return tx.TokenByID(ctx, id) })
	}
	list := func(user int64) []*crm.Token {
		t.Helper()
		return mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) ([]*crm.Token, error) { return tx.Tokens(ctx, user) })
	}
	mine, theirs := token(f.alice, "ci", crm.ScopeRead), token(f.bob, "sync", crm.ScopeWrite)

	var owner *crm.User
	got, err := read(t, f.st, func(ctx context.Context, tx crm.Tx) (tk *crm.Token, err error) {
		tk, owner, err = tx.TokenBySecretHash(ctx, hash("ci"))
		return tk, err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "TokenBySecretHash", got, mine)
	alice := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) { return tx.UserByID(ctx, f.alice) })
	wantEqual(t, "TokenBySecretHash's user", owner, alice)
	theirOwner := mustRead(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.User, error) {
		_, u, err := tx.TokenBySecretHash(ctx, hash("sync"))
		return u, err
	})
	if theirOwner.ID != f.bob {
		t.Errorf("TokenBySecretHash of bob's token returned user %d, want %d", theirOwner.ID, f.bob)
	}
	_, err = read(t, f.st, func(ctx context.Context, tx crm.Tx) (*crm.Token, error) {
		tk, _, err := tx.TokenBySecretHash(ctx, hash("nope"))
		return tk, err
	})
	wantCode(t, "TokenBySecretHash of an unknown secret", err, crm.ENOTFOUND)
	got, err = byID(theirs.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "TokenByID", got, theirs)
	_, err = byID(theirs.ID + 100)
	wantCode(t, "TokenByID of a missing token", err, crm.ENOTFOUND)
	wantEqual(t, "Tokens of a user", list(f.alice), []*crm.Token{mine})
	wantEqual(t, "Tokens of everyone", list(0), []*crm.Token{mine, theirs})

	if err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.TouchToken(ctx, mine.ID, at(5), "2001:db8::7") }); err != nil {
		t.Fatal(err)
	}
	if err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.RevokeToken(ctx, mine.ID, at(6)) }); err != nil {
		t.Fatal(err)
	}
	// A second revocation keeps the first time.
	if err := write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.RevokeToken(ctx, mine.ID, at(7)) }); err != nil {
		t.Fatal(err)
	}
	mine.LastUsedAt, mine.LastUsedIP, mine.RevokedAt = ptr(at(5)), "2001:db8::7", ptr(at(6))
	got, err = byID(mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "token after touch and revoke", got, mine)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.TouchToken(ctx, theirs.ID+100, at(5), "") })
	wantCode(t, "TouchToken of a missing token", err, crm.ENOTFOUND)
	err = write(t, f.st, func(ctx context.Context, tx crm.Tx) error { return tx.RevokeToken(ctx, theirs.ID+100, at(5)) })
	wantCode(t, "RevokeToken of a missing token", err, crm.ENOTFOUND)
}

func testSettings(t *testing.T, newStore func(t *testing.T) crm.Store) {
	st := newStore(t)
	get := func(key string) string {
		t.Helper()
		return mustRead(t, st, func(ctx context.Context, tx crm.Tx) (string, error) { return tx.Setting(ctx, key) })
	}
	set := func(key, value string) {
		t.Helper()
		mustWrite(t, st, func(ctx context.Context, tx crm.Tx) error { return tx.SetSetting(ctx, key, value) })
	}
	if v := get("setup_code_hash"); v != "" {
		t.Fatalf("unset setting = %q, want \"\"", v)
	}
	set("setup_code_hash", "h1")
	set("demo_seeded", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339))
	set("setup_code_hash", "h2")
	if v := get("setup_code_hash"); v != "h2" {
		t.Errorf("replaced setting = %q, want h2", v)
	}
	if v := get("demo_seeded"); v != "2026-01-01T00:00:00Z" {
		t.Errorf("other setting = %q, want 2026-01-01T00:00:00Z", v)
	}
}
