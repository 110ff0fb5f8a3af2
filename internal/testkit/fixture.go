package testkit

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/sqlite"
)

// Password is the password of every fixture user.
const Password = "correct horse battery staple"

// Fixture is the record and the identity service over one fresh embedded
// store, with one user per role: admin, manager, alice and bob (sales),
// support, auditor, reader (read-only).
type Fixture struct {
	Records  *service.Service
	Identity *identity.Service
	Store    *sqlite.DB
	Users    map[string]*crm.User // by short name
	Now      func() time.Time     // the services' clock
}

// NewFixture builds a Fixture with the options given (a nil Logger
// discards, a nil Hasher is Hasher()).
func NewFixture(t testing.TB, ro service.Options, io identity.Options) *Fixture {
	t.Helper()
	ctx := context.Background()
	db := SQLite(t)
	if io.Hasher == nil {
		io.Hasher = Hasher()
	}
	if io.Logger == nil {
		io.Logger = slog.New(slog.DiscardHandler)
	}
	if ro.Logger == nil {
		ro.Logger = io.Logger
	}
	if ro.Now == nil {
		ro.Now = io.Clock
	}
	f := &Fixture{Records: service.New(db, ro), Identity: identity.New(db, io), Store: db, Users: map[string]*crm.User{}, Now: io.Clock}
	if f.Now == nil {
		f.Now = time.Now
	}
	for name, role := range map[string]crm.Role{
		"admin": crm.RoleAdmin, "manager": crm.RoleManager, "alice": crm.RoleSales, "bob": crm.RoleSales,
		"support": crm.RoleSupport, "auditor": crm.RoleAuditor, "reader": crm.RoleReadOnly,
	} {
		email, pw := name+"@example.com", Password
		u, err := f.Identity.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		f.Users[name] = u
	}
	return f
}

// As returns a session principal for a fixture user, fully signed in
// just now (so within the step-up window of sensitive actions).
func (f *Fixture) As(name string) *crm.Principal {
	u := f.Users[name]
	return &crm.Principal{Kind: crm.KindSession, UserID: u.ID, Role: u.Role, Email: u.Email,
		AAL: crm.AAL2, SteppedUpAt: f.Now().UTC()}
}

// WantCode fails the test unless err has the crm error code.
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := crm.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

// WantField fails the test unless err is EINVALID naming field.
func WantField(t testing.TB, err error, field string) {
	t.Helper()
	WantCode(t, err, crm.EINVALID)
	if _, ok := crm.ErrorFields(err)[field]; !ok {
		t.Fatalf("fields: got %v, want %q named", crm.ErrorFields(err), field)
	}
}

// Principal returns a session principal for the user with that email as
// the identity service resolves one on a request: with the user's role
// definition (built-in or custom), team and managed teams, fully signed
// in just now.
func (f *Fixture) Principal(t testing.TB, email string) *crm.Principal {
	t.Helper()
	ctx := context.Background()
	sys := crm.SystemPrincipal()
	u, err := f.Identity.FindUserByEmail(ctx, sys, email)
	if err != nil {
		t.Fatalf("principal %s: %v", email, err)
	}
	def, err := f.Identity.FindRole(ctx, sys, u.Role)
	if err != nil {
		t.Fatalf("principal %s: role %s: %v", email, u.Role, err)
	}
	p := &crm.Principal{Kind: crm.KindSession, UserID: u.ID, Role: u.Role, Email: u.Email, Name: u.Name,
		AAL: crm.AAL2, SteppedUpAt: f.Now().UTC(), Def: def.Compile(), Teams: u.SeesTeams}
	if u.TeamID != nil {
		p.TeamID = *u.TeamID
	}
	return p
}

// AddUser creates a user with role (built-in or custom) and returns it.
func (f *Fixture) AddUser(t testing.TB, name string, role crm.Role) *crm.User {
	t.Helper()
	email, pw := name+"@example.com", Password
	u, err := f.Identity.CreateUser(context.Background(), crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	f.Users[name] = u
	return u
}
