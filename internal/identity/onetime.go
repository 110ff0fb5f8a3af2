package identity

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/mail"
)

// One-time links (AUTH-8): invitations (invite.go), password resets
// (reset.go) and email changes (email.go) share one rule set:
//
//   - the secret is 256 random bits (auth.NewSecret) and travels only in the
//     mail; the store keeps its SHA-256 (ASVS v5.0.0-6.4.1 class);
//   - it is used by one atomic UPDATE … WHERE used_at IS NULL AND
//     expires_at > now, so two concurrent submits cannot both succeed
//     (ASVS v5.0.0-15.4.2);
//   - every failure is the same EINVALID error on "token", whether the link
//     is unknown, expired, used or of another purpose;
//   - the secret is never logged and never returned to anyone but the
//     mail's recipient; the link carries it in the path, which the web
//     layer redacts from its logs.

// oneTime is the Service's state for one-time links.
type oneTime struct {
	mailer     mail.Mailer
	publicURL  string
	clock      func() time.Time
	resetLimit *resetLimiter
	mailWG     sync.WaitGroup
}

// defaultPublicURL is the link base when none is configured.
const defaultPublicURL = "https://localhost:8443"

// initOneTime applies the one-time-link options.
func (s *Service) initOneTime(o Options) {
	s.mailer = o.Mailer
	if s.mailer == nil {
		s.mailer = mail.LogMailer{Logger: s.log}
	}
	s.publicURL = strings.TrimRight(o.PublicURL, "/")
	if s.publicURL == "" {
		s.publicURL = defaultPublicURL
	}
	s.clock = o.Clock
	s.resetLimit = newResetLimiter(resetsPerIP, time.Hour)
}

// badToken is the one error for a link that cannot be used.
func badToken() error {
	return &crm.Error{Code: crm.EINVALID, Message: "this link is invalid, has expired or was already used",
		Fields: map[string]string{"token": "invalid, expired or already used"}}
}

// tokenNow is the time against which one-time tokens are created and
// checked: the transaction's, unless a test clock is set.
func (s *Service) tokenNow(tx crm.IdentityTx) time.Time {
	if s.clock != nil {
		return s.clock().UTC().Truncate(time.Microsecond)
	}
	return tx.Now()
}

// newOneTime returns a fresh secret and the token row that stores its hash.
func newOneTime(purpose crm.OneTimePurpose) (string, *crm.OneTimeToken) {
	secret := auth.NewSecret("")
	return secret, &crm.OneTimeToken{Purpose: purpose, SecretHash: auth.HashSecret(secret)}
}

// link builds the absolute URL of a one-time page.
func (s *Service) link(path, secret string) string {
	return s.publicURL + path + secret
}

// wellFormed rejects, before any database work, input that cannot be a
// token: auth.NewSecret makes 52 base32 characters.
func wellFormed(token string) bool {
	if len(token) < 40 || len(token) > 64 {
		return false
	}
	for _, c := range token {
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// findToken returns the usable token of purpose behind secret, without
// using it, or badToken.
func (s *Service) findToken(ctx context.Context, purpose crm.OneTimePurpose, secret string) (*crm.OneTimeToken, error) {
	if !wellFormed(secret) {
		return nil, badToken()
	}
	var t *crm.OneTimeToken
	err := s.store.Read(ctx, func(tx crm.Tx) (err error) {
		if t, err = tx.OneTimeTokenByHash(ctx, purpose, auth.HashSecret(secret)); err != nil {
			return err
		}
		if !t.Usable(s.tokenNow(tx)) {
			return badToken()
		}
		return nil
	})
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil, badToken()
	}
	return t, err
}

// useToken uses the token of purpose behind secret inside tx: atomically,
// so only one caller ever gets it.
func (s *Service) useToken(ctx context.Context, tx crm.IdentityTx, purpose crm.OneTimePurpose, secret string) (*crm.OneTimeToken, error) {
	t, err := tx.UseOneTimeToken(ctx, purpose, auth.HashSecret(secret), s.tokenNow(tx))
	if crm.ErrorCode(err) == crm.ENOTFOUND {
		return nil, badToken()
	}
	return t, err
}

// send composes and sends one message. A failure is logged (without the
// body) and returned.
func (s *Service) send(ctx context.Context, kind, lang, to string, d mail.Data) error {
	m, err := mail.Compose(kind, lang, to, d)
	if err == nil {
		err = s.mailer.Send(ctx, m)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "mail failed", slog.String("kind", kind), slog.Any("error", err))
	}
	return err
}

// sendLater sends in the background, so that a request's duration does not
// tell whether a message was sent (ASVS v5.0.0-6.3.8): used where the
// answer must not reveal whether an account exists.
func (s *Service) sendLater(ctx context.Context, kind, lang, to string, d mail.Data) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	s.mailWG.Add(1)
	go func() {
		defer s.mailWG.Done()
		defer cancel()
		_ = s.send(ctx, kind, lang, to, d)
	}()
}

// WaitMail waits until the mail sent in the background has been handed
// to the mailer; tests and shutdown call it.
func (s *Service) WaitMail() { s.mailWG.Wait() }

// resetsPerIP bounds password-reset requests from one address per hour.
const resetsPerIP = 20

// resetsPerAccount bounds the reset mails one account gets per hour, so the
// form cannot be used to flood someone's mailbox.
const resetsPerAccount = 5

// resetLimiter counts requests per key in fixed windows, in memory. The
// per-account limit lives in the store (it counts the tokens), so it holds
// across instances; this one only slows a single client down.
type resetLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	counts map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newResetLimiter(limit int, per time.Duration) *resetLimiter {
	return &resetLimiter{limit: limit, window: per, counts: map[string]*window{}}
}

// allow counts one request for key at now and reports whether it is
// within the limit.
func (l *resetLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.counts) > 100_000 { // bound memory under a spray of addresses
		for k, w := range l.counts {
			if now.Sub(w.start) >= l.window {
				delete(l.counts, k)
			}
		}
		if len(l.counts) > 100_000 {
			clear(l.counts)
		}
	}
	w := l.counts[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.counts[key] = w
	}
	w.n++
	return w.n <= l.limit
}
