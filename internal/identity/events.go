package identity

import (
	"context"
	"errors"
	"log/slog"

	"github.com/custos-crm/custos/internal/crm"
)

// Event is a security-relevant event (crm.Event).
type Event = crm.Event

// EventSink records events inside the write transaction of the change
// they describe (crm.EventSink).
type EventSink = crm.EventSink

// wtx is the transaction the service's write closures get: the store's Tx,
// and the events emitted in it, logged once it has committed.
type wtx struct {
	crm.Tx
	ctx    context.Context
	sink   EventSink
	events []Event
}

// sinkError is the error of an event the sink could not record.
type sinkError struct {
	typ string
	err error
}

func (e *sinkError) Error() string {
	return "identity: recording the " + e.typ + " event: " + e.err.Error()
}

func (e *sinkError) Unwrap() error { return e.err }

// isSinkError reports whether err is a sink's refusal of an event.
func isSinkError(err error) bool {
	var se *sinkError
	return errors.As(err, &se)
}

// emit records e in the transaction. An error fails the transaction.
func (t *wtx) emit(e Event) error {
	if t.sink != nil {
		if err := t.sink.Emit(t.ctx, t.Tx, e); err != nil {
			return &sinkError{typ: e.Type, err: err}
		}
	}
	t.events = append(t.events, e)
	return nil
}

// write runs fn in one store write transaction (crm.Store.Write) in which
// fn may emit events; they are logged after the commit.
func (s *Service) write(ctx context.Context, fn func(tx *wtx) error) error {
	var t *wtx
	err := s.store.Write(ctx, func(tx crm.Tx) error {
		t = &wtx{Tx: tx, ctx: ctx, sink: s.events}
		return fn(t)
	})
	if err != nil {
		return err
	}
	for _, e := range t.events {
		s.logEvent(ctx, e)
	}
	return nil
}

// record emits an event that has no change of its own, such as a refused
// login, in a transaction of its own (none when no sink is installed: the
// log alone needs none). Its error is the sink's; callers on a refusal path
// return their refusal whatever it is, and the failure is logged.
func (s *Service) record(ctx context.Context, e Event) error {
	if s.events == nil {
		s.logEvent(ctx, e)
		return nil
	}
	// Not cancelled with the request: a client that hangs up after a
	// refusal must not take the record of it along.
	err := s.write(context.WithoutCancel(ctx), func(tx *wtx) error { return tx.emit(e) })
	if err != nil {
		s.log.ErrorContext(ctx, "security event not recorded", "event", e.Type, "user_id", e.UserID,
			"actor_id", e.ActorID, "ip", e.IP, "request_id", e.RequestID, "detail", e.Detail, "error", err)
	}
	return err
}

// logEvent writes e to the structured log.
func (s *Service) logEvent(ctx context.Context, e Event) {
	s.log.LogAttrs(ctx, slog.LevelInfo, "security event", e.Attrs()...)
}
