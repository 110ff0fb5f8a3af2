// Package web is the HTTP edge of Custos: the REST API under /api/v1, the
// server-rendered UI, and the middleware that authenticates every request
// and puts the acting principal into the service calls. Handlers return
// errors; error.go renders them. All routes are in routes.go.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// Records is what the web layer needs of the client-record service.
type Records interface {
	crm.ContactService
	crm.CompanyService
	crm.DealService
	crm.ActivityService
	crm.TaskService
}

// Identity is what the web layer needs of the identity service: sign-in,
// sessions and tokens, users, recovery, second factors and passkeys.
type Identity interface {
	crm.IdentityService
	crm.RecoveryService // invitations, password resets, email changes
	crm.MFAService      // second factors, step-up, session administration
	crm.PasskeyService  // passkeys and security keys
	// SetupPending reports whether the first admin has yet to be created.
	SetupPending(ctx context.Context) (bool, error)
	// CompleteSetup creates the first admin with the printed setup code.
	// When it succeeds it returns the secret of the admin's enrolment link.
	CompleteSetup(ctx context.Context, code string, in crm.UserInput) (*crm.User, string, error)
}

// Options configure the HTTP layer.
type Options struct {
	Logger *slog.Logger
	// HSTS sends Strict-Transport-Security; on when serving TLS or behind a
	// TLS-terminating proxy.
	HSTS bool
	// Ready reports whether the server can take traffic (the database answers).
	Ready func(ctx context.Context) error
	// Version is shown by /healthz for monitoring.
	Version string
}

// Server serves the API and the UI.
type Server struct {
	records   Records
	identity  Identity
	log       *slog.Logger
	opts      Options
	handler   http.Handler
	started   time.Time
	routeList []string
}

// New returns a Server.
func New(records Records, identity Identity, o Options) *Server {
	s := &Server{records: records, identity: identity, log: o.Logger, opts: o, started: time.Now()}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.handler = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
