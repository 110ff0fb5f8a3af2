// Package web is the HTTP edge of Custos: the server that mounts every
// route of the JSON API (package api) and the UI (package ui) in one
// function (routes.go), and the base middleware every request passes
// (request id, security headers, panic recovery, access log). What the API
// and the UI share (request context, authentication, JSON, query parsing,
// the error-to-status mapping) is package httpx. It must not reach a store
// or hold a rule of access: it calls the two services alone.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/custos-crm/custos/internal/web/api"
	"github.com/custos-crm/custos/internal/web/httpx"
	"github.com/custos-crm/custos/internal/web/ui"
)

// Records is what the HTTP edge needs of the client-record service.
type Records = httpx.Records

// Identity is what the HTTP edge needs of the identity service.
type Identity = httpx.Identity

// SessionCookie is the session cookie's name.
const SessionCookie = httpx.SessionCookie

// Options configure the HTTP layer.
type Options struct {
	Logger *slog.Logger
	// HSTS sends Strict-Transport-Security; on when serving TLS or behind a
	// TLS-terminating proxy.
	HSTS bool
	// Ready reports whether the server can take traffic (the database answers).
	Ready func(ctx context.Context) error
	// Status adds what the operator should know to /readyz's answer (the
	// field-encryption upgrade in progress); nothing secret or personal.
	Status func() map[string]string
	// Version is shown by /healthz for monitoring.
	Version string
}

// Server serves the API and the UI.
type Server struct {
	api       *api.API
	ui        *ui.UI
	records   Records
	log       *slog.Logger
	opts      Options
	handler   http.Handler
	started   time.Time
	routeList []string
}

// New returns a Server.
func New(records Records, identity Identity, o Options) *Server {
	s := &Server{records: records, log: o.Logger, opts: o, started: time.Now()}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.api = api.New(records, identity, s.log)
	s.ui = ui.New(records, identity, s.log)
	s.handler = s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes lists the server's "METHOD /path" patterns.
func (s *Server) Routes() []string { return append([]string(nil), s.routeList...) }
