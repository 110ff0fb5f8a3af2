package crm

import (
	"context"
	"log/slog"
)

// Event is a security-relevant event: a login, a token or user change, a
// role, team or share change, the reveal of a masked value. It carries
// ids, never secrets or personal data (ENC-6).
type Event struct {
	Type      string // e.g. "login.success", "share.create", "field.reveal"
	UserID    int64  // the subject user, 0 when none or unknown
	ActorID   int64  // who acted, 0 for the system or an anonymous caller
	IP        string
	RequestID string
	// Entity and RecordID name the client record the event is about, if
	// any (a share, a reveal); Field the field of a reveal.
	Entity   string
	RecordID int64
	Field    string
	Detail   string // a short, non-sensitive note
}

// EventSink records events inside the write transaction of the change they
// describe, so that a change and its record commit together or not at all
// (the ground of AUD-3; the audit trail will be a sink). Emit may fail: its
// error rolls the change back, and the caller gets it. An event with no
// change of its own (a refused login, a reveal) is emitted in a
// transaction of its own, before the caller hears of the result.
//
// Whatever the sink, both services also write every committed event to
// the structured log, after the commit (the log cannot take part in a
// transaction, and must not show a change that was rolled back).
type EventSink interface {
	Emit(ctx context.Context, tx Tx, e Event) error
}

// Attrs are the event's fields for the structured log.
func (e Event) Attrs() []slog.Attr {
	attrs := []slog.Attr{slog.String("event", e.Type), slog.Int64("user_id", e.UserID), slog.Int64("actor_id", e.ActorID),
		slog.String("ip", e.IP), slog.String("request_id", e.RequestID)}
	if e.Entity != "" {
		attrs = append(attrs, slog.String("entity", e.Entity), slog.Int64("record_id", e.RecordID))
	}
	if e.Field != "" {
		attrs = append(attrs, slog.String("field", e.Field))
	}
	return append(attrs, slog.String("detail", e.Detail))
}
