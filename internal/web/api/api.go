// Package api is the JSON API under /api/v1: one handler per operation,
// grouped by file (contacts and the other client records, identity,
// second factors, passkeys, recovery), the generic collection of
// resource.go, and the OpenAPI document that describes it all.
//
// It owns the API's wrappers (authentication by bearer token or session
// cookie, the half-session rule, the query-parameter rule) and renders
// every error through httpx.WriteAPIError. It must not mount routes (the
// web package's routes.go mounts every route), render HTML, or reach a
// store: it calls the two services alone.
package api

import (
	"log/slog"
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// API holds the services the handlers call.
type API struct {
	records  httpx.Records
	identity httpx.Identity
	log      *slog.Logger
}

// New returns the API over the two services.
func New(records httpx.Records, identity httpx.Identity, log *slog.Logger) *API {
	if log == nil {
		log = slog.Default()
	}
	return &API{records: records, identity: identity, log: log}
}

// Error renders err as the API's JSON error body.
func (a *API) Error(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteAPIError(a.log, w, r, err)
}

// Auth wraps an API handler: it authenticates (401 without credentials,
// 401 mfa_required for a half-authenticated session), limits the body, and
// renders returned errors as JSON.
func (a *API) Auth(h httpx.Handler) http.Handler { return a.wrap(h, false, false) }

// AuthQuery wraps an API handler that reads query parameters: it checks
// them itself (httpx.ParseQuery names the ones it knows). Every other API
// route takes none, and refuses any with 400 naming each (the README's
// promise).
func (a *API) AuthQuery(h httpx.Handler) http.Handler { return a.wrap(h, false, true) }

// Half wraps the few API handlers a half-authenticated session may call:
// its MFA status and step, TOTP enrolment, logout (mfa.go).
func (a *API) Half(h httpx.Handler) http.Handler { return a.wrap(h, true, false) }

// Public wraps an API handler that needs no principal (the reset and
// passkey-login requests): it renders returned errors as JSON like Auth.
func (a *API) Public(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.Error(w, r, err)
		}
	})
}

func (a *API) wrap(h httpx.Handler, half, takesQuery bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !takesQuery && r.URL.RawQuery != "" {
			if _, err := httpx.ParseQuery(r); err != nil {
				a.Error(w, r, err)
				return
			}
		}
		p, sess, err := httpx.Authenticate(a.identity, r)
		if err == nil && p == nil {
			err = crm.Errorf(crm.EUNAUTHENTICATED, "authentication required")
		}
		if err == nil && p.Pending != crm.MFANone && !half {
			err = crm.Errorf(crm.EMFAREQUIRED, "complete the second sign-in step first (POST /api/v1/session/mfa)")
		}
		if err != nil {
			a.Error(w, r, err)
			return
		}
		r = httpx.WithPrincipal(r, p, sess)
		if err := h(w, r, p); err != nil {
			a.Error(w, r, err)
		}
	})
}
