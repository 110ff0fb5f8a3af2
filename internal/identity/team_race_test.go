package identity_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/testkit"
)

// Races of team changes on PostgreSQL (ACL-2), where writes run at once
// under READ COMMITTED. Each test holds one transaction at a fixed point
// (its event, or the Seal hook of a record write) while another runs, so
// the interleaving is the same on every run. Without CUSTOS_TEST_POSTGRES
// they skip.

// gate holds the event or Seal whose key contains key until released.
type gate struct {
	mu      sync.Mutex
	key     string
	reached chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{reached: make(chan struct{}, 1), release: make(chan struct{})} }

func (g *gate) arm(key string) { g.mu.Lock(); g.key = key; g.mu.Unlock() }

func (g *gate) hit(key string) {
	g.mu.Lock()
	match := g.key != "" && strings.Contains(key, g.key)
	if match {
		g.key = ""
	}
	g.mu.Unlock()
	if match {
		g.reached <- struct{}{}
		<-g.release
	}
}

type gateSink struct{ g *gate }

func (s gateSink) Emit(ctx context.Context, tx crm.Tx, e identity.Event) error {
	s.g.hit(e.Type + " " + e.Detail)
	return nil
}

type gateHooks struct {
	service.NoHooks
	g *gate
}

func (h gateHooks) Seal(ctx context.Context, tx crm.RecordTx, entity string, rec any) error {
	if c, ok := rec.(*crm.Contact); ok {
		h.g.hit("seal " + c.LastName)
	}
	return nil
}

// raceSite is both services over a PostgreSQL store, with the gate in the
// event sink and the record hooks.
type raceSite struct {
	idn   *identity.Service
	rec   *service.Service
	users map[string]*crm.User
	g     *gate
}

func newRaceSite(t *testing.T) *raceSite {
	t.Helper()
	store := postgrestest.New(t)
	ctx := context.Background()
	g := newGate()
	s := &raceSite{g: g, users: map[string]*crm.User{}}
	s.idn = identity.New(store, identity.Options{Hasher: testkit.Hasher(), Logger: slog.New(slog.DiscardHandler), Events: gateSink{g}})
	s.rec = service.New(store, service.Options{Logger: slog.New(slog.DiscardHandler), Hooks: gateHooks{g: g}})
	for _, n := range []string{"m", "alice", "lead"} {
		email, role, pw := n+"@example.com", crm.RoleSales, testkit.Password
		u, err := s.idn.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		s.users[n] = u
	}
	return s
}

func (s *raceSite) token(t *testing.T, name string) *crm.Principal {
	t.Helper()
	return tokenPrincipal(t, s.idn, s.users[name].ID)
}

func (s *raceSite) team(t *testing.T, name string, parent, manager *int64) *crm.Team {
	t.Helper()
	return createTeam(t, s.idn, crm.SystemPrincipal(), name, parent, manager)
}

// during runs first until it reaches the gate armed with key, then second
// (in its own goroutine, given time to run into any lock), then lets first
// finish, and returns both errors.
func (s *raceSite) during(key string, first, second func() error) (error, error) {
	s.g.arm(key)
	done1, done2 := make(chan error, 1), make(chan error, 1)
	go func() { done1 <- first() }()
	<-s.g.reached
	go func() { done2 <- second() }()
	time.Sleep(300 * time.Millisecond)
	close(s.g.release)
	return <-done1, <-done2
}

// TestTeamRaceCycle: two moves at once cannot close a cycle that each
// alone would be refused for.
func TestTeamRaceCycle(t *testing.T) {
	s := newRaceSite(t)
	ctx, sys := context.Background(), crm.SystemPrincipal()
	a := s.team(t, "A", nil, nil)
	b := s.team(t, "B", nil, nil)
	c := s.team(t, "C", &b.ID, nil)
	err1, err2 := s.during("team.update team "+strconv.FormatInt(a.ID, 10),
		func() error {
			_, err := s.idn.UpdateTeam(ctx, sys, a.ID, crm.TeamInput{ParentID: crm.Value(c.ID)}, 0)
			return err
		},
		func() error {
			_, err := s.idn.UpdateTeam(ctx, sys, b.ID, crm.TeamInput{ParentID: crm.Value(a.ID)}, 0)
			return err
		})
	if err1 != nil {
		t.Fatalf("A below C: %v", err1)
	}
	if crm.ErrorCode(err2) != crm.EINVALID {
		t.Errorf("B below A after A went below C: %v, want a refused cycle", err2)
	}
}

// TestTeamRaceSees: a change that removes a manager and another team
// change at once: the removed manager loses the team.
func TestTeamRaceSees(t *testing.T) {
	s := newRaceSite(t)
	ctx, sys := context.Background(), crm.SystemPrincipal()
	m := s.users["m"].ID
	a := s.team(t, "A", nil, &m)
	b := s.team(t, "B", nil, &m)
	if _, err := s.idn.AddTeamMember(ctx, sys, a.ID, s.users["alice"].ID); err != nil {
		t.Fatal(err)
	}
	secret, err := s.rec.CreateContact(ctx, s.token(t, "alice"), crm.ContactInput{LastName: ptr("Secret of A")})
	if err != nil {
		t.Fatal(err)
	}
	name := "C"
	err1, err2 := s.during("team.update team "+strconv.FormatInt(a.ID, 10),
		func() error {
			_, err := s.idn.UpdateTeam(ctx, sys, a.ID, crm.TeamInput{ManagerID: crm.Null[int64]()}, 0)
			return err
		},
		func() error {
			_, err := s.idn.CreateTeam(ctx, sys, crm.TeamInput{Name: &name, ParentID: crm.Value(b.ID)})
			return err
		})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	mp := s.token(t, "m")
	if _, err := s.rec.FindContactByID(ctx, mp, secret.ID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("m is no longer A's manager but reads its contact (m sees %v): %v", mp.Teams, err)
	}
}

// TestTeamRaceMove: a record update in flight while its owner moves does
// not write the old team back.
func TestTeamRaceMove(t *testing.T) {
	s, kazan, alice := newMovingSite(t)
	ctx, sys := context.Background(), crm.SystemPrincipal()
	c, err := s.rec.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Racy")})
	if err != nil {
		t.Fatal(err)
	}
	err1, err2 := s.during("seal Racy",
		func() error {
			_, err := s.rec.UpdateContact(ctx, alice, c.ID, crm.ContactInput{Title: ptr("x")}, 0)
			return err
		},
		func() error { _, err := s.idn.AddTeamMember(ctx, sys, kazan.ID, s.users["alice"].ID); return err })
	if err2 != nil {
		t.Fatal(err2)
	}
	got, err := s.rec.FindContactByID(ctx, sys, c.ID)
	if err != nil || got.TeamID == nil || *got.TeamID != kazan.ID {
		t.Fatalf("after the move (the update: %v): %v %+v", err1, err, got)
	}
	if _, err := s.rec.FindContactByID(ctx, s.token(t, "lead"), c.ID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("Moscow's lead still reads the contact of a user who moved to Kazan: %v", err)
	}
}

// TestTeamRaceCreate: a record made while its owner moves ends in the
// owner's new team: the move waits for the create, then moves its record.
func TestTeamRaceCreate(t *testing.T) {
	s, kazan, alice := newMovingSite(t)
	ctx, sys := context.Background(), crm.SystemPrincipal()
	var made *crm.Contact
	err1, err2 := s.during("seal Born during a move",
		func() (err error) {
			made, err = s.rec.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Born during a move")})
			return err
		},
		func() error { _, err := s.idn.AddTeamMember(ctx, sys, kazan.ID, s.users["alice"].ID); return err })
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	got, err := s.rec.FindContactByID(ctx, sys, made.ID)
	if err != nil || got.TeamID == nil || *got.TeamID != kazan.ID {
		t.Fatalf("the contact made during alice's move: %v %+v", err, got)
	}
}

// newMovingSite is a race site where alice is a member of Moscow, whose
// lead is its manager, and Kazan exists without a manager; it returns Kazan
// and alice's principal.
func newMovingSite(t *testing.T) (*raceSite, *crm.Team, *crm.Principal) {
	t.Helper()
	s := newRaceSite(t)
	lead := s.users["lead"].ID
	moscow := s.team(t, "Moscow", nil, &lead)
	kazan := s.team(t, "Kazan", nil, nil)
	if _, err := s.idn.AddTeamMember(context.Background(), crm.SystemPrincipal(), moscow.ID, s.users["alice"].ID); err != nil {
		t.Fatal(err)
	}
	return s, kazan, s.token(t, "alice")
}
