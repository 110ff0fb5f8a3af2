package identity_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/identity"
	"github.com/custos-crm/custos/internal/service"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/testkit"
)

// fixture is the identity service (svc) over a fresh embedded store with
// one user per role (testkit.Fixture), and the record service beside it,
// for the checks that a principal reaches no client data.
type fixture struct {
	svc     *identity.Service
	records *service.Service
	store   *sqlite.DB
	users   map[string]*crm.User // by short name
	now     func() time.Time     // the service's clock
	kit     *testkit.Fixture
}

const testPassword = testkit.Password

var wantCode, wantField = testkit.WantCode, testkit.WantField

func newFixture(t *testing.T, o identity.Options) *fixture {
	t.Helper()
	k := testkit.NewFixture(t, service.Options{}, o)
	return &fixture{svc: k.Identity, records: k.Records, store: k.Store, users: k.Users, now: k.Now, kit: k}
}

// as returns a fully signed-in session principal of a fixture user.
func (f *fixture) as(name string) *crm.Principal { return f.kit.As(name) }

// newEmptyService is an identity service over a fresh store with no users.
func newEmptyService(t *testing.T) *identity.Service {
	t.Helper()
	return identity.New(testkit.SQLite(t), identity.Options{Hasher: testkit.Hasher(), Logger: slog.New(slog.DiscardHandler)})
}

func ptr[T any](v T) *T { return &v }
