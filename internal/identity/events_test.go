package identity_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/testkit"
)

// testClock is the settable clock of the service tests.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	// Ten seconds into a TOTP step, so that "the next step" is 30 s away.
	now := time.Now().UTC().Truncate(30 * time.Second).Add(10 * time.Second)
	return &testClock{t: now}
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// eventLog is the event sink of the service tests: it records the events
// emitted, checks that each comes with a live transaction, and fails the
// emission of the type named in fail.
type eventLog struct {
	mu     sync.Mutex
	events []identity.Event
	fail   string
}

var errSinkDown = errors.New("event sink down")

func (l *eventLog) Emit(ctx context.Context, tx crm.Tx, e identity.Event) error {
	if tx == nil {
		panic("event " + e.Type + " emitted without a transaction")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != "" && e.Type == l.fail {
		return errSinkDown
	}
	l.events = append(l.events, e)
	return nil
}

func (l *eventLog) failOn(typ string) { l.mu.Lock(); l.fail = typ; l.mu.Unlock() }

// all returns a copy of the recorded events.
func (l *eventLog) all() []identity.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]identity.Event(nil), l.events...)
}

// has reports whether an event of typ with detail in its Detail was recorded.
func (l *eventLog) has(typ, detail string) bool {
	for _, e := range l.all() {
		if e.Type == typ && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// types lists the recorded event types, in order.
func (l *eventLog) types() []string {
	var out []string
	for _, e := range l.all() {
		out = append(out, e.Type)
	}
	return out
}

// TestEventCommitsWithItsChange: a security event is emitted inside the
// transaction of its change, and a sink that cannot record it rolls the
// change back and fails the call (the ground of AUD-3): no token, no
// revocation, no role change, no session without its event; the log shows
// only what committed.
func TestEventCommitsWithItsChange(t *testing.T) {
	ctx := context.Background()
	events := &eventLog{}
	logs := &testkit.Buffer{}
	f := newFixture(t, identity.Options{Events: events, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	admin, alice := f.as("admin"), f.as("alice")

	// A token whose event cannot be recorded is not created.
	events.failOn("token.create")
	if _, err := f.svc.CreateToken(ctx, alice, alice.UserID, "ci", crm.ScopeRead, time.Hour); !errors.Is(err, errSinkDown) {
		t.Fatalf("create token with the sink down: %v, want the sink's error", err)
	}
	if list, err := f.svc.FindTokens(ctx, alice); err != nil || len(list) != 0 {
		t.Fatalf("tokens after a failed event: %d, %v; want none", len(list), err)
	}
	if strings.Contains(logs.String(), "token.create") {
		t.Errorf("the log shows a token.create that rolled back:\n%s", logs)
	}

	// With the sink up, it is created, and the event is in the log too.
	events.failOn("")
	tok, err := f.svc.CreateToken(ctx, alice, alice.UserID, "ci", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !events.has("token.create", "read") || !strings.Contains(logs.String(), "event=token.create") {
		t.Fatalf("token.create not recorded and logged: %v\n%s", events.types(), logs)
	}

	// A revocation whose event fails leaves the token live.
	events.failOn("token.revoke")
	if err := f.svc.RevokeToken(ctx, alice, tok.Token.ID); !errors.Is(err, errSinkDown) {
		t.Fatalf("revoke with the sink down: %v", err)
	}
	if p, err := f.svc.AuthenticateToken(ctx, tok.Secret, "192.0.2.1"); err != nil || p.UserID != alice.UserID {
		t.Fatalf("the token stopped working although its revocation rolled back: %v", err)
	}

	// A role change whose event fails leaves the role as it was.
	events.failOn("user.update")
	role := crm.RoleManager
	if _, err := f.svc.UpdateUser(ctx, admin, alice.UserID, crm.UserInput{Role: &role}); !errors.Is(err, errSinkDown) {
		t.Fatalf("role change with the sink down: %v", err)
	}
	if u, err := f.svc.FindUserByID(ctx, admin, alice.UserID); err != nil || u.Role != crm.RoleSales {
		t.Fatalf("role after a failed event: %v, %v; want sales", u.Role, err)
	}

	// A promotion into a role that needs a second factor emits user.update
	// and then enrol.link; when the second fails, the first, already
	// handed to the sink, rolls back with the change and is never logged.
	events.failOn("enrol.link")
	if _, err := f.svc.UpdateUser(ctx, admin, alice.UserID, crm.UserInput{Role: &role}); !errors.Is(err, errSinkDown) {
		t.Fatalf("promotion with the sink down: %v", err)
	}
	if u, err := f.svc.FindUserByID(ctx, admin, alice.UserID); err != nil || u.Role != crm.RoleSales {
		t.Fatalf("role after a failed enrol.link event: %v, %v; want sales", u.Role, err)
	}
	if strings.Contains(logs.String(), "event=user.update") {
		t.Errorf("the log shows a user.update that rolled back:\n%s", logs)
	}

	// A sign-in whose event fails opens no session.
	events.failOn("login.success")
	if _, _, _, err := f.svc.Login(ctx, "bob@example.com", testPassword, "192.0.2.1", "test"); !errors.Is(err, errSinkDown) {
		t.Fatalf("login with the sink down: %v", err)
	}
	var sessions []*crm.Session
	if err := f.store.Read(ctx, func(tx crm.Tx) (err error) {
		sessions, err = tx.SessionsByUser(ctx, f.users["bob"].ID)
		return err
	}); err != nil || len(sessions) != 0 {
		t.Fatalf("bob has %d sessions after a login whose event failed (%v)", len(sessions), err)
	}
}

// TestResetAnswersAlikeWithTheSinkDown: when the event of a password reset
// cannot be recorded, the link rolls back with it, and the caller hears
// what every request hears, for a known and an unknown address alike: an
// error for the known one alone would tell that the account exists
// (ASVS v5.0.0-6.3.8, attack 11).
func TestResetAnswersAlikeWithTheSinkDown(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	f.events.failOn("reset.request")
	for _, addr := range []string{"alice@example.com", "nobody@example.com"} {
		if err := f.svc.RequestPasswordReset(ctx, addr, "192.0.2.7"); err != nil {
			t.Errorf("%s with the sink down: %v, want the answer of every request", addr, err)
		}
	}
	f.svc.WaitMail()
	if n := len(f.smtp.Messages()); n != 0 {
		t.Errorf("%d mails: a link was sent although its event rolled back", n)
	}
	f.events.failOn("")
	if err := f.svc.RequestPasswordReset(ctx, "alice@example.com", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if m := f.mail(t, 1); len(m.To) != 1 || m.To[0] != "alice@example.com" {
		t.Errorf("mail to %v, want alice", m.To)
	}
}

// TestLockoutMarkCommitsWithItsEvent: the failure that reaches the limit
// marks the account locked in one transaction with its login.locked
// event; when the event cannot be recorded the mark rolls back with it,
// and when it can, both are there. The attempt is refused either way.
func TestLockoutMarkCommitsWithItsEvent(t *testing.T) {
	ctx := context.Background()
	events := &eventLog{}
	f := newFixture(t, identity.Options{Events: events, Throttle: auth.Throttle{AccountLimit: 3, BackoffAfter: 100}})
	admin := f.as("admin")
	lockedUntil := func(name string) *time.Time {
		t.Helper()
		u, err := f.svc.FindUserByID(ctx, admin, f.users[name].ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.LockedUntil
	}
	fail := func(name string, n int) {
		t.Helper()
		for i := range n {
			if _, _, _, err := f.svc.Login(ctx, name+"@example.com", "wrong password!!", "192.0.2.8", ""); crm.ErrorCode(err) != crm.EUNAUTHENTICATED {
				t.Fatalf("%s attempt %d: %v", name, i+1, err)
			}
		}
	}

	events.failOn("login.locked")
	fail("alice", 3)
	if at := lockedUntil("alice"); at != nil {
		t.Errorf("alice marked locked until %v although the lockout event rolled back", at)
	}

	events.failOn("")
	fail("bob", 3)
	if lockedUntil("bob") == nil || !events.has("login.locked", "login") {
		t.Errorf("bob: lock mark %v, events %v; want both", lockedUntil("bob"), events.types())
	}
}
