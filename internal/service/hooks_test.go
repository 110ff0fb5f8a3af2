package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// failingHooks fails the one hook named by fail, with errHook.
type failingHooks struct {
	service.NoHooks
	fail string
}

var errHook = errors.New("the hook refused")

func (h *failingHooks) Seal(context.Context, crm.RecordTx, string, any) error { return h.err("seal") }

func (h *failingHooks) Open(context.Context, crm.RecordTx, string, any) error { return h.err("open") }

func (h *failingHooks) Redact(context.Context, *crm.Principal, string, any) error {
	return h.err("redact")
}

func (h *failingHooks) Subject(context.Context, *crm.Principal, string, string, []int64) error {
	return h.err("subject")
}

func (h *failingHooks) err(hook string) error {
	if h.fail == hook {
		return errHook
	}
	return nil
}

// TestHooksFailClosed: a hook that fails refuses the read or the write it
// is part of, and a refused write writes nothing (issue 10 item 4; the
// ground of AUD-3's fail-closed audit).
func TestHooksFailClosed(t *testing.T) {
	h := &failingHooks{}
	f := newFixture(t, service.Options{Hooks: h})
	ctx := context.Background()
	alice := f.as("alice")
	c, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Ann"), LastName: ptr("Lee")})
	if err != nil {
		t.Fatal(err)
	}
	for _, hook := range []string{"open", "redact", "subject"} {
		h.fail = hook
		if _, err := f.svc.FindContactByID(ctx, alice, c.ID); !errors.Is(err, errHook) {
			t.Errorf("%s fails: get = %v", hook, err)
		}
		if _, err := f.svc.FindContacts(ctx, alice, crm.ContactFilter{}, crm.ListOptions{}); !errors.Is(err, errHook) {
			t.Errorf("%s fails: list = %v", hook, err)
		}
		// No consents: an empty response is still reported to Subject.
		if _, err := f.svc.FindConsents(ctx, alice, c.ID); hook == "subject" && !errors.Is(err, errHook) {
			t.Errorf("%s fails: consents = %v", hook, err)
		}
	}
	h.fail = "seal"
	if _, err := f.svc.UpdateContact(ctx, alice, c.ID, crm.ContactInput{Title: ptr("CEO")}, 0); !errors.Is(err, errHook) {
		t.Errorf("seal fails: update = %v", err)
	}
	if _, err := f.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Bo"), LastName: ptr("Kim")}); !errors.Is(err, errHook) {
		t.Errorf("seal fails: create = %v", err)
	}
	h.fail = ""
	got, err := f.svc.FindContactByID(ctx, alice, c.ID)
	if err != nil || got.Title != "" || got.Version != 1 {
		t.Errorf("after a refused update: %+v, %v", got, err)
	}
	pg, err := f.svc.FindContacts(ctx, alice, crm.ContactFilter{}, crm.ListOptions{})
	if err != nil || len(pg.Items) != 1 {
		t.Errorf("after a refused create: %d contacts, %v", len(pg.Items), err)
	}
}
