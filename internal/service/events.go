package service

import (
	"context"
	"log/slog"
)

// Event is a security-relevant event (login, logout, token and user
// changes). It carries ids, never secrets or personal data (ENC-6).
type Event struct {
	Type      string // e.g. "login.success", "login.failure", "token.create"
	UserID    int64  // the subject, 0 when unknown
	ActorID   int64  // who acted, 0 for the system or an anonymous caller
	IP        string
	RequestID string
	Detail    string // a short, non-sensitive note
}

// EventSink receives events. The audit log will be one; until then the
// structured log is.
type EventSink interface {
	Emit(ctx context.Context, e Event)
}

// LogEvents writes events to a slog.Logger.
type LogEvents struct{ Logger *slog.Logger }

// Emit implements EventSink.
func (l LogEvents) Emit(ctx context.Context, e Event) {
	l.Logger.LogAttrs(ctx, slog.LevelInfo, "security event",
		slog.String("event", e.Type), slog.Int64("user_id", e.UserID), slog.Int64("actor_id", e.ActorID),
		slog.String("ip", e.IP), slog.String("request_id", e.RequestID), slog.String("detail", e.Detail))
}
