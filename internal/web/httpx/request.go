package httpx

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

// Records is what the HTTP edge needs of the client-record service.
type Records interface {
	crm.ContactService
	crm.CompanyService
	crm.DealService
	crm.ActivityService
	crm.TaskService
	crm.ShareService   // shares of records (ACL-2)
	crm.RevealService  // one masked value, after step-up (ACL-3)
	crm.ErasureService // erasing a client for good, after step-up (ENC-5)
	// FieldLevels returns, per entity, the fields the principal may not
	// edit and what it may do with them (hidden, masked, read): what a
	// page shows and offers to change (ACL-3).
	FieldLevels(p *crm.Principal) map[string]map[string]crm.FieldLevel
	// Permissions returns the actions the principal may perform: its
	// role's, narrowed by an API token's scope.
	Permissions(p *crm.Principal) []string
	// CheckRecord reports whether the principal may do verb to a record
	// (nil, EFORBIDDEN or ENOTFOUND), for a page that offers the verb.
	CheckRecord(ctx context.Context, p *crm.Principal, entity string, id int64, verb string) error
}

// Identity is what the HTTP edge needs of the identity service: sign-in,
// sessions and tokens, users, recovery, second factors and passkeys.
type Identity interface {
	crm.IdentityService
	crm.RecoveryService // invitations, password resets, email changes
	crm.MFAService      // second factors, step-up, session administration
	crm.PasskeyService  // passkeys and security keys
	crm.TeamService     // teams and their members
	crm.RoleService     // built-in and custom roles
	// SetupPending reports whether the first admin has yet to be created.
	SetupPending(ctx context.Context) (bool, error)
	// CompleteSetup creates the first admin with the printed setup code.
	// When it succeeds it returns the secret of the admin's enrolment link.
	CompleteSetup(ctx context.Context, code string, in crm.UserInput) (*crm.User, string, error)
}

// Handler is an API or page handler for an authenticated principal. It
// returns an error for its package's one renderer, or nil after writing a
// response.
type Handler func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error

// SessionCookie is the session cookie's name. The __Host- prefix makes the
// browser insist on Secure, Path=/ and no Domain (ASVS v5.0.0-3.3.3).
const SessionCookie = "__Host-custos_session"

// SetSessionCookie sets the session cookie: __Host- prefix, Secure, Path=/,
// no Domain (ASVS v5.0.0-3.3.3), HttpOnly (3.3.4), SameSite=Lax (3.3.2),
// expiring with the session's absolute timeout.
func SetSessionCookie(w http.ResponseWriter, secret string, sess *crm.Session) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", Expires: sess.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie tells the browser to drop the session cookie, with the
// same attributes it was set with.
func ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keySession
)

// WithRequestID stores the request id that log lines and 500 bodies carry.
func WithRequestID(r *http.Request, id string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), keyRequestID, id))
}

// RequestID returns the request's id, set by the server's base middleware.
func RequestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

// SessionOf returns the browser session of the request, if any.
func SessionOf(r *http.Request) *crm.Session {
	s, _ := r.Context().Value(keySession).(*crm.Session)
	return s
}

// WithPrincipal stores the principal and session in the request context.
func WithPrincipal(r *http.Request, p *crm.Principal, sess *crm.Session) *http.Request {
	ctx := crm.NewContextWithPrincipal(r.Context(), p)
	if sess != nil {
		ctx = context.WithValue(ctx, keySession, sess)
	}
	return r.WithContext(ctx)
}

// ClientIP is the peer address. Forwarded headers are not trusted until a
// trusted-proxy list exists (ASVS v5.0.0-15.3.4).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Stamp fills in where a principal's request comes from, for the services'
// events.
func Stamp(p *crm.Principal, r *http.Request) {
	p.IP, p.UserAgent, p.RequestID = ClientIP(r), r.UserAgent(), RequestID(r)
}

// Authenticate resolves the bearer token or the session cookie. It does
// not refuse anonymous requests: the handlers' service calls do, because a
// nil principal may do nothing.
func Authenticate(idn Identity, r *http.Request) (*crm.Principal, *crm.Session, error) {
	var p *crm.Principal
	var sess *crm.Session
	var err error
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, nil, crm.Errorf(crm.EUNAUTHENTICATED, "use Authorization: Bearer <token>")
		}
		if p, err = idn.AuthenticateToken(r.Context(), strings.TrimSpace(tok), ClientIP(r)); err != nil {
			return nil, nil, err
		}
	} else if c, cerr := r.Cookie(SessionCookie); cerr == nil {
		if p, sess, err = idn.Authenticate(r.Context(), c.Value); err != nil {
			return nil, nil, err
		}
	} else {
		return nil, nil, nil
	}
	Stamp(p, r)
	return p, sess, nil
}

// SessionBody is a session as the API lists it and the security page
// shows it: marked when it is the caller's own.
type SessionBody struct {
	*crm.Session
	Current bool `json:"current"`
}

// secretPaths are the path prefixes whose rest is a one-time secret.
var secretPaths = []string{"/invite/", "/reset/", "/account/email/confirm/", "/enrol/"}

// LogPath is the path to log for r: the secret part of one-time-link pages
// replaced, everything else as is.
func LogPath(r *http.Request) string {
	p := r.URL.Path
	for _, prefix := range secretPaths {
		if strings.HasPrefix(p, prefix) && len(p) > len(prefix) {
			return prefix + "[redacted]"
		}
	}
	return p
}
