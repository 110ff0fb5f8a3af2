package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestBrowserMaskedPhone (ACL-3, issue 11's "done means"): in a real
// browser, a contact's owner sees its phone in full; a support agent it is
// shared with sees it masked (+7 *** ***-12-34), with no tel: link and no
// phone input in the edit form, and reveals it with the button; no page
// breaks the Content-Security-Policy.
func TestBrowserMaskedPhone(t *testing.T) {
	const pw = "a long and unusual passphrase"
	base, b := browserSite(t, pw, "owner@example.com", "sales", "agent@example.com", "support")

	// The owner makes the contact and shares it with the agent: a fresh
	// sign-in is a step-up.
	b.passwordLogin(t, base, "owner@example.com", pw)
	b.waitPath(t, "/contacts", 10*time.Second)
	made := eval[httpResult](t, b, 10*time.Second, `t.post('/api/v1/contacts', {first_name: 'Мария', last_name: 'Соколова', phone: '+7 916 555-12-34'})`)
	var c struct{ ID int64 }
	if made.Status != 201 || json.Unmarshal([]byte(made.Body), &c) != nil {
		t.Fatalf("create the contact: %d %s", made.Status, made.Body)
	}
	users := eval[httpResult](t, b, 10*time.Second, `t.get('/api/v1/users')`)
	var staff struct{ Items []struct{ ID int64 } }
	if err := json.Unmarshal([]byte(users.Body), &staff); err != nil || len(staff.Items) != 2 {
		t.Fatalf("staff: %s", users.Body)
	}
	agent := staff.Items[1].ID
	if r := eval[httpResult](t, b, 10*time.Second, fmt.Sprintf(`t.post('/api/v1/contacts/%d/shares', {user_id: %d, access: 'write'})`, c.ID, agent)); r.Status != 201 {
		t.Fatalf("share: %d %s", r.Status, r.Body)
	}
	page := fmt.Sprintf("%s/contacts/%d", base, c.ID)
	phoneText := `(() => { const d = [...document.querySelectorAll('dt')].find(e => e.textContent.trim() === 'Phone'); return d ? d.nextElementSibling.innerText : 'no phone row'; })()`
	b.navigate(t, page)
	if got := eval[string](t, b, 5*time.Second, phoneText); got != "+79165551234" {
		t.Errorf("the owner sees the phone as %q", got)
	}

	// The agent: masked, no link, no input; the reveal shows it.
	b.logout(t, base)
	b.passwordLogin(t, base, "agent@example.com", pw)
	b.waitPath(t, "/contacts", 10*time.Second)
	b.navigate(t, page)
	if got := eval[string](t, b, 5*time.Second, phoneText); !strings.HasPrefix(got, "+7 *** ***-12-34") {
		t.Errorf("the agent sees the phone as %q", got)
	}
	if eval[bool](t, b, 5*time.Second, `document.querySelector('a[href^="tel:"]') !== null || document.body.innerText.includes('5551234')`) {
		t.Error("the agent's page shows the phone")
	}
	b.navigate(t, page+"/edit")
	if eval[bool](t, b, 5*time.Second, `document.querySelector('input[name=phone]') !== null`) {
		t.Error("the agent's edit form has a phone input")
	}
	b.navigate(t, page)
	b.click(t, `form[action$="/reveal"] button`)
	b.waitPath(t, fmt.Sprintf("/contacts/%d/reveal", c.ID), 10*time.Second)
	if got := eval[string](t, b, 5*time.Second, phoneText); !strings.HasPrefix(got, "+79165551234") {
		t.Errorf("after the reveal the agent sees %q", got)
	}
	if s := b.errs.String(); strings.Contains(s, "Content Security Policy") || strings.Contains(s, "exception") {
		t.Errorf("CSP violations or script errors:\n%s", s)
	}
}
