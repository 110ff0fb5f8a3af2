package mail

import (
	"context"
	"log/slog"
)

// Message is one plain-text email to one recipient.
type Message struct {
	To      string // the recipient's address
	Subject string
	Body    string // plain text; may hold a one-time link, so it is never logged
	Kind    string // what the message is ("invite", "reset", …), for logs and tests
}

// Mailer sends messages. Send returns when the message has been handed to
// the next hop (the SMTP server) or has definitely failed.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// LogMailer is the Mailer used when SMTP is not configured: it only logs
// that a message of a kind was not sent, never its body (which may hold a
// link) nor its recipient (personal data, ENC-6).
type LogMailer struct{ Logger *slog.Logger }

var _ Mailer = LogMailer{}

// Send implements Mailer. It never fails: an unconfigured mail server is
// an operator decision, reported at start and for every message.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, slog.LevelWarn, "mail not sent: SMTP not configured", slog.String("kind", m.Kind))
	return nil
}
