package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// TestUIIdRoutesOverRealService drives every page route that takes an id
// over the real service and store, as two users (issue 18 item 1; attack
// 1, ASVS v5.0.0-8.2.2): Bob, another sales user, gets 404 on each of
// Alice's records, sessions and passkeys, and nothing of hers changes;
// Alice, on the same routes, reaches them, so each 404 is the access
// check and not a broken route.
func TestUIIdRoutesOverRealService(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 10000, AccountLimit: 100})
	ctx := context.Background()
	_, aliceCookie := s.login(t, "alice")
	_, bobCookie := s.login(t, "bob")
	alice, _, err := s.idn.Authenticate(ctx, aliceCookie)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Zinaida"), LastName: ptr("Secretova")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.CreateActivity(ctx, alice, crm.ActivityInput{Type: ptr("note"), Subject: ptr("private note"), ContactID: crm.Value(c.ID)}); err != nil {
		t.Fatal(err)
	}
	key := &crm.Passkey{UserID: alice.UserID, Name: "Alice's key", CredentialID: []byte("alice-credential"), UserHandle: []byte("alice-handle"),
		PublicKey: []byte{1}, CreatedAt: time.Now()}
	if err := s.store.Write(ctx, func(tx crm.Tx) error { return tx.InsertPasskey(ctx, key) }); err != nil {
		t.Fatal(err)
	}
	sessions, err := s.idn.FindSessions(ctx, alice)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("alice's sessions: %v %d", err, len(sessions))
	}
	csrf := func(cookie string) string {
		t.Helper()
		return s.send(t, "GET", "/account/security", cookie, nil).csrf(t)
	}
	bobCSRF := csrf(bobCookie)
	id := fmt.Sprint(c.ID)
	routes := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/contacts/" + id, nil},
		{"GET", "/contacts/" + id + "/edit", nil},
		{"GET", "/contacts/" + id + "/delete", nil},
		{"POST", "/contacts/" + id, url.Values{"version": {"1"}, "first_name": {"Hacked"}, "last_name": {"Hacked"}}},
		{"POST", "/contacts/" + id + "/activities", url.Values{"type": {"note"}, "subject": {"planted"}}},
		{"POST", "/contacts/" + id + "/delete", url.Values{}},
		{"POST", "/account/security/sessions/" + sessions[0].ID + "/revoke", url.Values{}},
		{"POST", "/account/passkeys/" + fmt.Sprint(key.ID) + "/rename", url.Values{"name": {"Bob's now"}}},
		{"POST", "/account/passkeys/" + fmt.Sprint(key.ID) + "/remove", url.Values{}},
	}
	for _, r := range routes {
		var body any
		if r.form != nil {
			r.form.Set("csrf", bobCSRF)
			body = r.form
		}
		got := s.send(t, r.method, r.path, bobCookie, body)
		if got.status != http.StatusNotFound || strings.Contains(got.body, "Secretova") || strings.Contains(got.body, "private note") {
			t.Errorf("bob %s %s: %d, want 404 without Alice's data", r.method, r.path, got.status)
		}
	}
	// Nothing of Alice's changed.
	after, err := s.svc.FindContactByID(ctx, alice, c.ID)
	if err != nil || after.LastName != "Secretova" || after.Version != 1 {
		t.Fatalf("alice's contact after bob: %+v %v", after, err)
	}
	tl, err := s.svc.FindTimeline(ctx, alice, c.ID, crm.ListOptions{})
	if err != nil || len(tl.Items) != 1 {
		t.Errorf("alice's timeline after bob: %v, %d entries", err, len(tl.Items))
	}
	if _, _, err := s.idn.Authenticate(ctx, aliceCookie); err != nil {
		t.Errorf("alice's session after bob's revoke: %v", err)
	}
	keys, _ := s.idn.Passkeys(ctx, alice)
	if len(keys) != 1 || keys[0].Name != "Alice's key" {
		t.Errorf("alice's passkeys after bob: %+v", keys)
	}

	// The control: Alice reaches the same routes.
	aliceCSRF := csrf(aliceCookie)
	for _, path := range []string{"/contacts/" + id, "/contacts/" + id + "/edit", "/contacts/" + id + "/delete"} {
		if got := s.send(t, "GET", path, aliceCookie, nil); got.status != 200 || !strings.Contains(got.body, "Secretova") {
			t.Errorf("alice GET %s: %d", path, got.status)
		}
	}
	if got := s.send(t, "POST", "/contacts/"+id+"/activities", aliceCookie, url.Values{"csrf": {aliceCSRF}, "type": {"note"}, "subject": {"second"}}); got.status != http.StatusSeeOther {
		t.Errorf("alice logs an activity: %d", got.status)
	}
	if got := s.send(t, "POST", "/contacts/"+id, aliceCookie, url.Values{"csrf": {aliceCSRF}, "version": {"1"}, "first_name": {"Zinaida"}, "last_name": {"Renamed"}}); got.status != http.StatusSeeOther {
		t.Errorf("alice updates: %d %.300s", got.status, got.body)
	}
	if got := s.send(t, "POST", "/account/passkeys/"+fmt.Sprint(key.ID)+"/rename", aliceCookie, url.Values{"csrf": {aliceCSRF}, "name": {"Renamed key"}}); got.status != http.StatusSeeOther {
		t.Errorf("alice renames her passkey: %d", got.status)
	}
	if got := s.send(t, "POST", "/contacts/"+id+"/delete", aliceCookie, url.Values{"csrf": {aliceCSRF}}); got.status != http.StatusSeeOther {
		t.Errorf("alice deletes: %d", got.status)
	}
	if _, err := s.svc.FindContactByID(ctx, alice, c.ID); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("after alice's delete: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
