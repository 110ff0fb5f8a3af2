package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

func (f *fakeServices) RequestEmailChange(ctx context.Context, p *crm.Principal, newEmail string) error {
	if !strings.Contains(newEmail, "@") {
		return &crm.Error{Code: crm.EINVALID, Message: "validation failed", Fields: map[string]string{"email": "must be a valid email address"}}
	}
	f.wrote("RequestEmailChange " + newEmail)
	return nil
}

// TestEmailChangeForm: the security page asks for a new address with a CSRF
// token; a bad address is shown again with a 400, and nothing is sent
// without the token (AUTH-8, ASVS v5.0.0-3.5.1).
func TestEmailChangeForm(t *testing.T) {
	t.Parallel()
	srv, f := testUI(t)
	secret, sess := f.addSession(crm.RoleSales, "en")
	w := do(t, srv, "GET", "/account/security", nil, withCookie(secret))
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), `action="/account/security/email"`) {
		t.Fatal("no email-change form on the security page")
	}
	w = do(t, srv, "POST", "/account/security/email", url.Values{"email": {"new@example.com"}}, withCookie(secret))
	wantStatus(t, w, http.StatusForbidden)
	w = do(t, srv, "POST", "/account/security/email", url.Values{"csrf": {sess.CSRFToken}, "email": {"nope"}}, withCookie(secret))
	wantStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), "Enter a valid email address.") {
		t.Error("the invalid address is not reported")
	}
	w = do(t, srv, "POST", "/account/security/email", url.Values{"csrf": {sess.CSRFToken}, "email": {"new@example.com"}}, withCookie(secret))
	wantStatus(t, w, http.StatusSeeOther)
	if loc := w.Header().Get("Location"); loc != "/account/security?notice=email_sent" {
		t.Errorf("Location %q", loc)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.writes) != 1 || f.writes[0] != "RequestEmailChange new@example.com" {
		t.Errorf("service calls: %v", f.writes)
	}
}
