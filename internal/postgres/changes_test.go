package postgres_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// The contact index of several instances (ENC-4): each keeps its own, and
// follows the change sequence. On PostgreSQL a transaction that drew its
// change number first can commit last; the instance that already read the
// later number must still see it.
func TestIndexSeesOutOfOrderCommits(t *testing.T) {
	w := newEraseWorld(t)
	ctx := context.Background()
	other := service.New(w.st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	names := func(svc *service.Service, q string) []string { t.Helper(); return lastNames(t, w, svc, q) }
	insert := func(tx crm.Tx, last string) error { return insertContact(w, tx, "Ivan", last) }
	if got := names(other, "ivan"); len(got) != 0 {
		t.Fatalf("an empty store lists %v", got)
	}

	// The slow writer draws its number, then waits while a quick one
	// draws a later number and commits, and the other instance lists.
	drawn, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- w.st.Write(ctx, func(tx crm.Tx) error {
			if err := insert(tx, "Slow"); err != nil {
				return err
			}
			close(drawn)
			<-release
			return nil
		})
	}()
	<-drawn
	if err := w.st.Write(ctx, func(tx crm.Tx) error { return insert(tx, "Quick") }); err != nil {
		t.Fatal(err)
	}
	if got := names(other, "ivan"); !slices.Equal(got, []string{"Quick"}) {
		t.Fatalf("while the slow writer is open, the other instance lists %v, want [Quick]", got)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := names(other, "ivan"); !slices.Equal(got, []string{"Quick", "Slow"}) {
		t.Fatalf("after the slow writer commits, the other instance lists %v, want [Quick Slow]", got)
	}
	// And the first instance, which wrote nothing itself, agrees.
	if got := names(w.svc, "ivan"); !slices.Equal(got, []string{"Quick", "Slow"}) {
		t.Fatalf("the first instance lists %v", got)
	}
}

// TestIndexSeesALaterTransactionsEarlierChange: a transaction that has its
// number but draws its change number after a later-numbered one (which
// then commits first) is above every finished transaction when the other
// instance reads, so the snapshot does not list it as running; the mark's
// xmax still makes the next read read it.
func TestIndexSeesALaterTransactionsEarlierChange(t *testing.T) {
	w := newEraseWorld(t)
	ctx := context.Background()
	other := service.New(w.st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	names := func(q string) []string { t.Helper(); return lastNames(t, w, other, q) }
	insert := func(tx crm.Tx, last string) error { return insertContact(w, tx, "Petr", last) }
	if got := names("petr"); len(got) != 0 {
		t.Fatalf("an empty store lists %v", got)
	}
	// Quick takes its transaction number first (a setting), then Slow
	// takes a later one and draws its change number; Quick then draws a
	// later change number and commits, and the other instance reads with
	// Slow still open.
	quickNumbered, slowDrawn, slowRelease := make(chan struct{}), make(chan struct{}), make(chan struct{})
	quickDone, slowDone := make(chan error, 1), make(chan error, 1)
	go func() {
		quickDone <- w.st.Write(ctx, func(tx crm.Tx) error {
			if err := tx.SetSetting(ctx, "test.quick", "1"); err != nil {
				return err
			}
			close(quickNumbered)
			<-slowDrawn
			return insert(tx, "Quick")
		})
	}()
	<-quickNumbered
	go func() {
		slowDone <- w.st.Write(ctx, func(tx crm.Tx) error {
			if err := insert(tx, "Slow"); err != nil {
				return err
			}
			close(slowDrawn)
			<-slowRelease
			return nil
		})
	}()
	if err := <-quickDone; err != nil {
		t.Fatal(err)
	}
	if got := names("petr"); !slices.Equal(got, []string{"Quick"}) {
		t.Fatalf("while Slow is open, the other instance lists %v, want [Quick]", got)
	}
	close(slowRelease)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
	if got := names("petr"); !slices.Equal(got, []string{"Quick", "Slow"}) {
		t.Fatalf("after Slow commits, the other instance lists %v, want [Quick Slow]", got)
	}
}

// lastNames lists the last names svc finds for q, as w's admin.
func lastNames(t *testing.T, w *eraseWorld, svc *service.Service, q string) []string {
	t.Helper()
	page, err := svc.FindContacts(context.Background(), w.as(), crm.ContactFilter{Q: q}, crm.ListOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range page.Items {
		out = append(out, c.LastName)
	}
	return out
}

// insertContact stores a contact of w's admin straight through tx.
func insertContact(w *eraseWorld, tx crm.Tx, first, last string) error {
	now := tx.Now()
	return tx.InsertContact(context.Background(), &crm.Contact{FirstName: first, LastName: last, Tags: []string{},
		OwnerID: w.admin.ID, Version: 1, CreatedAt: now, UpdatedAt: now})
}
