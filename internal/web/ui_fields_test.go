package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// TestUIMaskedFields (ACL-3; ASVS v5.0.0-8.2.3, 14.2.6): the contact page
// and the edit form show a support agent the phone masked, with a reveal
// button and without a tel: link; the form has no input for it and a
// crafted value for it is ignored; the reveal shows the value after a
// step-up, and sends a stale session to the step-up page first.
func TestUIMaskedFields(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 1000, AccountLimit: 100})
	ctx := context.Background()
	aliceCookie, alice := s.signedIn(t, "alice")
	c, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Ivan"), LastName: ptr("Petrov"),
		Phone: ptr("+7 916 555-12-34"), Email: ptr("ivan@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &s.users["sam"].ID, Access: ptr("write")}); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/contacts/%d", c.ID)

	// The owner sees the phone in full, as a link.
	if r := s.send(t, "GET", page, aliceCookie, nil); !strings.Contains(text(r), `href="tel:+79165551234"`) || strings.Contains(r.body, "/reveal") {
		t.Errorf("the owner's page: %d, tel link or reveal form wrong", r.status)
	}
	_, sam := s.login(t, "sam")
	r := s.send(t, "GET", page, sam, nil)
	if r.status != 200 {
		t.Fatalf("support's page: %d", r.status)
	}
	for _, want := range []string{"+7 *** ***-12-34", `action="/contacts/` + fmt.Sprint(c.ID) + `/reveal"`, `name="field" value="phone"`, "ivan@example.com"} {
		if !strings.Contains(text(r), want) {
			t.Errorf("support's page lacks %q", want)
		}
	}
	for _, leak := range []string{"5551234", "916555", "tel:+7"} {
		if strings.Contains(text(r), leak) {
			t.Errorf("support's page shows %q", leak)
		}
	}
	// The edit form: no phone input; the value shown masked.
	form := s.send(t, "GET", page+"/edit", sam, nil)
	if strings.Contains(form.body, `name="phone"`) || !strings.Contains(text(form), "+7 *** ***-12-34") {
		t.Errorf("the edit form offers the phone or does not show it masked")
	}
	// A crafted submission with a phone changes the rest and not the phone.
	csrf := form.csrf(t)
	cur, _ := s.svc.FindContactByID(ctx, alice, c.ID)
	res := s.send(t, "POST", page, sam, url.Values{"csrf": {csrf}, "version": {fmt.Sprint(cur.Version)},
		"first_name": {"Ivan"}, "last_name": {"Petrov"}, "email": {"ivan@example.com"}, "title": {"CEO"}, "phone": {"+7 900 000-00-00"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("support's save: %d %.300s", res.status, res.body)
	}
	if got, _ := s.svc.FindContactByID(ctx, alice, c.ID); got.Phone != "+79165551234" || got.Title != "CEO" {
		t.Errorf("after support's save: phone %q title %q", got.Phone, got.Title)
	}

	// Reveal: fresh from sign-in, the value is shown and not cached.
	rv := s.send(t, "POST", page+"/reveal", sam, url.Values{"csrf": {csrf}, "field": {"phone"}})
	if rv.status != 200 || !strings.Contains(text(rv), `href="tel:+79165551234"`) || !strings.Contains(rv.header.Get("Cache-Control"), "no-store") {
		t.Errorf("reveal: %d, cache %q", rv.status, rv.header.Get("Cache-Control"))
	}
	// Without CSRF it is refused.
	if r := s.send(t, "POST", page+"/reveal", sam, url.Values{"field": {"phone"}}); r.status != http.StatusForbidden {
		t.Errorf("reveal without CSRF: %d", r.status)
	}
	// Ten minutes later the step-up is stale: to the step-up page and back.
	s.advance(10 * time.Minute)
	r = s.send(t, "POST", page+"/reveal", sam, url.Values{"csrf": {csrf}, "field": {"phone"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/stepup?next="+url.QueryEscape(page) || strings.Contains(r.body, "5551234") {
		t.Errorf("a stale reveal: %d to %q", r.status, r.header.Get("Location"))
	}
}

// text is a page's body with its HTML character references decoded.
func text(r reply) string { return html.UnescapeString(r.body) }

// TestUIAuditorHome (ACL-1): the auditor, who reads no client data, lands
// on the security page after signing in, not on a 403; the API still
// refuses it every client record.
func TestUIAuditorHome(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 1000, AccountLimit: 100})
	email, pw, role := "olga@example.com", sitePassword, crm.RoleAuditor
	if _, err := s.idn.CreateUser(context.Background(), crm.SystemPrincipal(), crm.UserInput{Email: &email, Role: &role, Password: &pw}); err != nil {
		t.Fatal(err)
	}
	_, cookie := s.login(t, "olga")
	for _, path := range []string{"/", "/contacts"} {
		r := s.send(t, "GET", path, cookie, nil)
		if path == "/" {
			r = s.send(t, "GET", r.header.Get("Location"), cookie, nil)
		}
		if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/security" {
			t.Errorf("GET %s as the auditor: %d to %q", path, r.status, r.header.Get("Location"))
		}
	}
	if r := s.send(t, "GET", "/account/security", cookie, nil); r.status != 200 {
		t.Errorf("the auditor's security page: %d", r.status)
	}
	if r := s.send(t, "GET", "/contacts/1", cookie, nil); r.status != http.StatusForbidden {
		t.Errorf("a contact page as the auditor: %d", r.status)
	}
}

// TestUISharing (ACL-2): the owner shares a contact from its page, the
// colleague then sees it, the card lists the share, revoking ends it; a
// stale session is sent to the step-up page first; the colleague, who does
// not control the contact, is refused a share of it.
func TestUISharing(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 1000, AccountLimit: 100})
	ctx := context.Background()
	aliceCookie, alice := s.signedIn(t, "alice")
	c, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Соколова")})
	if err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("/contacts/%d", c.ID)
	_, bobCookie := s.login(t, "bob")
	if r := s.send(t, "GET", page, bobCookie, nil); r.status != http.StatusNotFound {
		t.Fatalf("bob before the share: %d", r.status)
	}
	own := s.send(t, "GET", page, aliceCookie, nil)
	if !strings.Contains(own.body, `action="/contacts/`+fmt.Sprint(c.ID)+`/shares"`) {
		t.Fatalf("the owner's page has no share form: %s", own.body)
	}
	csrf := own.csrf(t)
	bob := fmt.Sprintf("u:%d", s.users["bob"].ID)
	r := s.send(t, "POST", page+"/shares", aliceCookie, url.Values{"csrf": {csrf}, "grantee": {bob}, "access": {"write"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), page+"?notice=shared") {
		t.Fatalf("share: %d %q", r.status, r.header.Get("Location"))
	}
	seen := s.send(t, "GET", page, bobCookie, nil)
	if seen.status != 200 || !strings.Contains(text(seen), "Соколова") {
		t.Fatalf("bob after the share: %d", seen.status)
	}
	// Bob sees the card but may not share it on (he does not control it).
	bobCSRF := seen.csrf(t)
	if r := s.send(t, "POST", page+"/shares", bobCookie, url.Values{"csrf": {bobCSRF}, "grantee": {fmt.Sprintf("u:%d", s.users["sam"].ID)}, "access": {"read"}}); r.status != http.StatusForbidden {
		t.Errorf("bob shares alice's contact: %d", r.status)
	}
	shares, err := s.svc.FindShares(ctx, alice, "contact", c.ID)
	if err != nil || len(shares) != 1 || shares[0].Access != crm.ShareWrite {
		t.Fatalf("shares: %+v %v", shares, err)
	}
	// Ten minutes on, revoking asks for a step-up first.
	s.advance(10 * time.Minute)
	revoke := fmt.Sprintf("%s/shares/%d/revoke", page, shares[0].ID)
	r = s.send(t, "POST", revoke, aliceCookie, url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/stepup?next=") {
		t.Errorf("a stale revoke: %d %q", r.status, r.header.Get("Location"))
	}
	if left, _ := s.svc.FindShares(ctx, alice, "contact", c.ID); len(left) != 1 {
		t.Errorf("a revoke without step-up removed the share")
	}
	// Signed in afresh, the revoke goes through and bob loses the contact.
	_, aliceCookie = s.login(t, "alice")
	csrf = s.send(t, "GET", page, aliceCookie, nil).csrf(t)
	if r := s.send(t, "POST", revoke, aliceCookie, url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := s.send(t, "GET", page, bobCookie, nil); r.status != http.StatusNotFound {
		t.Errorf("bob after the revoke: %d", r.status)
	}
}

// TestUIHiddenCompanyKept (ACL-4): a write sharee's edit form shows the
// contact's company, which they cannot see, as locked, and saving it keeps
// the link.
func TestUIHiddenCompanyKept(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 1000, AccountLimit: 100})
	ctx := context.Background()
	_, alice := s.signedIn(t, "alice")
	co, err := s.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Secret Holdings")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{LastName: ptr("Linked"), CompanyID: crm.Value(co.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{UserID: &s.users["bob"].ID, Access: ptr("write")}); err != nil {
		t.Fatal(err)
	}
	_, bob := s.login(t, "bob")
	page := fmt.Sprintf("/contacts/%d", c.ID)
	form := s.send(t, "GET", page+"/edit", bob, nil)
	if strings.Contains(form.body, `name="company_id"`) || !strings.Contains(form.body, `name="company_locked"`) || strings.Contains(form.body, "Secret Holdings") {
		t.Errorf("bob's form offers or names the hidden company")
	}
	r := s.send(t, "POST", page, bob, url.Values{"csrf": {form.csrf(t)}, "version": {fmt.Sprint(c.Version)}, "company_locked": {"1"},
		"first_name": {""}, "last_name": {"Linked"}, "title": {"CFO"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("bob's save: %d %.300s", r.status, r.body)
	}
	got, _ := s.svc.FindContactByID(ctx, alice, c.ID)
	if got.CompanyID == nil || *got.CompanyID != co.ID || got.Title != "CFO" {
		t.Errorf("after bob's save: company %v title %q", got.CompanyID, got.Title)
	}
}

// TestMePermissions (ACL-1, ACL-3): /api/v1/me tells a caller what it may
// do: a read token the read actions of its user's role only; a support
// agent which fields it sees masked.
func TestMePermissions(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 1000, AccountLimit: 100})
	ctx := context.Background()
	tok, err := s.idn.CreateToken(ctx, crm.SystemPrincipal(), s.users["alice"].ID, "ro", crm.ScopeRead, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Permissions []string
		Fields      map[string]map[string]string
	}
	r := s.send(t, "GET", "/api/v1/me", "", nil, "Authorization", "Bearer "+tok.Secret)
	if err := json.Unmarshal([]byte(r.body), &me); err != nil || !slices.Contains(me.Permissions, "contacts.read") ||
		slices.Contains(me.Permissions, "contacts.update") || slices.Contains(me.Permissions, "contacts.share") {
		t.Errorf("a read token's permissions: %v %v", me.Permissions, err)
	}
	_, sam := s.login(t, "sam")
	me.Permissions, me.Fields = nil, nil
	r = s.send(t, "GET", "/api/v1/me", sam, nil)
	if err := json.Unmarshal([]byte(r.body), &me); err != nil || me.Fields["contact"]["phone"] != "masked" || !slices.Contains(me.Permissions, "contacts.update") {
		t.Errorf("support's /me: %s", r.body)
	}
}

// signedIn signs name in and returns the session's cookie and the
// principal it authenticates as.
func (s *mfaSite) signedIn(t *testing.T, name string) (string, *crm.Principal) {
	t.Helper()
	_, cookie := s.login(t, name)
	p, _, err := s.idn.Authenticate(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	return cookie, p
}
