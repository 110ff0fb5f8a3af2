package web

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// SessionCookie is the session cookie's name. The __Host- prefix makes the
// browser insist on Secure, Path=/ and no Domain (ASVS v5.0.0-3.3.3).
const SessionCookie = "__Host-custos_session"

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keySession
)

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(keyRequestID).(string)
	return id
}

// sessionOf returns the browser session of the request, if any.
func sessionOf(r *http.Request) *crm.Session {
	s, _ := r.Context().Value(keySession).(*crm.Session)
	return s
}

// statusWriter records the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// base adds a request id, security headers, panic recovery and an access
// log line without query strings (they may hold search terms: personal data).
func (s *Server) base(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := rand.Text()[:16]
		r = r.WithContext(context.WithValue(r.Context(), keyRequestID, id))
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		if s.opts.HSTS {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", slog.String("request_id", id), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				if sw.status == 0 {
					// The uniform error, as JSON to the API and as the error
					// page to a browser: "internal error" and the request id,
					// never the panic's text.
					if strings.HasPrefix(r.URL.Path, "/api/") {
						s.writeAPIError(sw, r, crm.Errorf(crm.EINTERNAL, "internal error"))
					} else {
						s.renderError(sw, r, nil, crm.Errorf(crm.EINTERNAL, "internal error"))
					}
				}
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("path", logPath(r)), slog.Int("status", sw.status), slog.Duration("took", time.Since(start)), slog.String("ip", clientIP(r)))
		}()
		next.ServeHTTP(sw, r)
	})
}

// clientIP is the peer address. Forwarded headers are not trusted until a
// trusted-proxy list exists (ASVS v5.0.0-15.3.4).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate resolves the bearer token or the session cookie. It does
// not refuse anonymous requests: the handlers' service calls do, because a
// nil principal may do nothing.
func (s *Server) authenticate(r *http.Request) (*crm.Principal, *crm.Session, error) {
	var p *crm.Principal
	var sess *crm.Session
	var err error
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, nil, crm.Errorf(crm.EUNAUTHENTICATED, "use Authorization: Bearer <token>")
		}
		if p, err = s.identity.AuthenticateToken(r.Context(), strings.TrimSpace(tok), clientIP(r)); err != nil {
			return nil, nil, err
		}
	} else if c, cerr := r.Cookie(SessionCookie); cerr == nil {
		if p, sess, err = s.identity.Authenticate(r.Context(), c.Value); err != nil {
			return nil, nil, err
		}
	} else {
		return nil, nil, nil
	}
	p.IP, p.UserAgent, p.RequestID = clientIP(r), r.UserAgent(), requestID(r)
	return p, sess, nil
}

// withPrincipal stores the principal and session in the request context.
func withPrincipal(r *http.Request, p *crm.Principal, sess *crm.Session) *http.Request {
	ctx := crm.NewContextWithPrincipal(r.Context(), p)
	if sess != nil {
		ctx = context.WithValue(ctx, keySession, sess)
	}
	return r.WithContext(ctx)
}

// apiHandler is an API handler that returns an error.
type apiHandler func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error

// api wraps an API handler: it authenticates (401 without credentials,
// 401 mfa_required for a half-authenticated session), limits the body, and
// renders returned errors as JSON.
func (s *Server) api(h apiHandler) http.Handler { return s.apiFor(h, false, false) }

// apiQuery wraps an API handler that reads query parameters: it checks
// them itself (parseQuery names the ones it knows). Every other API route
// takes none, and refuses any with 400 naming each (the README's promise).
func (s *Server) apiQuery(h apiHandler) http.Handler { return s.apiFor(h, false, true) }

// apiHalf wraps the few API handlers a half-authenticated session may
// call: its MFA status and step, TOTP enrolment, logout (api_mfa.go).
func (s *Server) apiHalf(h apiHandler) http.Handler { return s.apiFor(h, true, false) }

func (s *Server) apiFor(h apiHandler, half, takesQuery bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !takesQuery && r.URL.RawQuery != "" {
			if _, err := parseQuery(r); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		p, sess, err := s.authenticate(r)
		if err == nil && p == nil {
			err = crm.Errorf(crm.EUNAUTHENTICATED, "authentication required")
		}
		if err == nil && p.Pending != crm.MFANone && !half {
			err = crm.Errorf(crm.EMFAREQUIRED, "complete the second sign-in step first (POST /api/v1/session/mfa)")
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		r = withPrincipal(r, p, sess)
		if err := h(w, r, p); err != nil {
			s.writeAPIError(w, r, err)
		}
	})
}
