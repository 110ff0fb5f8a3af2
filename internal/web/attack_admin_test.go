package web_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// Attacks on the administration of roles and users (ACL-1): oneself, more
// than one holds, the last administrator. Part of TestAttacks, and two
// tests with servers of their own.

// attackOwnRole: nobody changes their own role, nor disables themselves
// (ACL-1): an administrator gets 400 naming the field, a role without
// user administration 403; nothing changes.
func attackOwnRole(t *testing.T, w *world) {
	for _, x := range []struct {
		caller, body   string
		status         int
		code, errField string
	}{
		{"admin/lead", `{"role":"sales"}`, http.StatusBadRequest, crm.EINVALID, "role"},
		{"admin/lead", `{"role":"admin","disabled":true}`, http.StatusBadRequest, crm.EINVALID, "role"},
		{"admin/member", `{"disabled":true}`, http.StatusBadRequest, crm.EINVALID, "disabled"},
		{"admin/lead+write-token", `{"role":"sales"}`, http.StatusForbidden, crm.EFORBIDDEN, ""},
		{"sales/lead", `{"role":"admin"}`, http.StatusForbidden, crm.EFORBIDDEN, ""},
		{"manager/lead", `{"role":"admin"}`, http.StatusForbidden, crm.EFORBIDDEN, ""},
	} {
		c := w.caller(t, x.caller)
		before, err := w.s.idn.FindUserByID(w.ctx, crm.SystemPrincipal(), c.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := w.send(t, c, "PATCH", fmt.Sprintf("/api/v1/users/%d", c.user.ID), x.body)
		expect(t, x.caller+" changes itself "+x.body, got, x.status, x.code, x.errField)
		after, err := w.s.idn.FindUserByID(w.ctx, crm.SystemPrincipal(), c.user.ID)
		if err != nil || after.Role != before.Role || after.Disabled || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("%s changing itself changed the user: %+v %v", x.caller, after, err)
		}
	}
}

// attackGrantMoreThanHeld: a user administrator whose own role is narrow
// (a custom role: user administration, contacts read with phones masked)
// cannot grant more than it holds (ACL-1): not in a new or changed role,
// not by giving a user a wider role, not by an invitation, and cannot
// administer a user whose role is above its own; 403 naming what it
// lacks, nothing written. A role within what it holds it may create.
func attackGrantMoreThanHeld(t *testing.T, w *world) {
	sys := crm.SystemPrincipal()
	hrRole, wide := crm.Role(fmt.Sprintf("hr%d", w.next())), fmt.Sprintf("wide%d", w.next())
	if _, err := w.s.idn.CreateRole(w.ctx, sys, crm.RoleInput{Name: ptr(string(hrRole)), Permissions: &[]string{
		"users.manage", "users.read", "tokens.own", "contacts.read"}, Fields: &map[string]crm.FieldLevel{"contact.phone": crm.FieldMasked}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.idn.CreateRole(w.ctx, sys, crm.RoleInput{Name: &wide, Permissions: &[]string{"contacts.read", "deals.read"}}); err != nil {
		t.Fatal(err)
	}
	hrUser := w.user(t, fmt.Sprintf("hr-%d", w.next()), hrRole)
	hr := &caller{name: "hr", role: hrRole, user: hrUser}
	_, _, hr.cookie = w.signInAs(t, hrUser) // its role administers users: a second factor
	// A user whose role HR holds, so that HR may administer them.
	low := crm.Role(fmt.Sprintf("low%d", w.next()))
	if _, err := w.s.idn.CreateRole(w.ctx, sys, crm.RoleInput{Name: ptr(string(low)), Permissions: &[]string{"contacts.read"},
		Fields: &map[string]crm.FieldLevel{"contact.phone": crm.FieldMasked}}); err != nil {
		t.Fatal(err)
	}
	victim := w.user(t, fmt.Sprintf("grantee-%d", w.next()), low)
	admin := w.caller(t, "admin/lead").user
	roleExists := func(name string) bool {
		_, err := w.s.idn.FindRole(w.ctx, sys, crm.Role(name))
		return err == nil
	}
	for _, x := range []struct {
		what, method, path, body, field string
		status                          int
		code                            string
		gone                            string // a role that must not exist afterwards
	}{
		{"a role with a permission it lacks", "POST", "/api/v1/roles", `{"name":"wider1","permissions":["contacts.read","deals.read"]}`, "permissions", 403, crm.EFORBIDDEN, "wider1"},
		{"a role that sees a phone it sees masked", "POST", "/api/v1/roles", `{"name":"wider2","permissions":["contacts.read"]}`, "fields.contact.phone", 403, crm.EFORBIDDEN, "wider2"},
		{"a role with user administration and more", "POST", "/api/v1/roles", `{"name":"wider3","permissions":["users.manage","contacts.read","contacts.update"],"fields":{"contact.phone":"masked"}}`, "permissions", 403, crm.EFORBIDDEN, "wider3"},
		{"changing a role wider than itself", "PATCH", "/api/v1/roles/" + wide, `{"label":"Mine now"}`, "", 403, crm.EFORBIDDEN, ""},
		{"deleting a role wider than itself", "DELETE", "/api/v1/roles/" + wide, "", "", 403, crm.EFORBIDDEN, ""},
		{"making a user an administrator", "PATCH", fmt.Sprintf("/api/v1/users/%d", victim.ID), `{"role":"admin"}`, "role", 403, crm.EFORBIDDEN, ""},
		{"making a user a manager", "PATCH", fmt.Sprintf("/api/v1/users/%d", victim.ID), `{"role":"manager"}`, "role", 403, crm.EFORBIDDEN, ""},
		{"giving a user the wider custom role", "PATCH", fmt.Sprintf("/api/v1/users/%d", victim.ID), `{"role":"` + wide + `"}`, "role", 403, crm.EFORBIDDEN, ""},
		{"inviting an administrator", "POST", "/api/v1/invitations", `{"email":"boss@example.com","role":"admin"}`, "role", 403, crm.EFORBIDDEN, ""},
		{"renaming an administrator", "PATCH", fmt.Sprintf("/api/v1/users/%d", admin.ID), `{"name":"Pwned"}`, "", 403, crm.EFORBIDDEN, ""},
		{"disabling an administrator", "PATCH", fmt.Sprintf("/api/v1/users/%d", admin.ID), `{"disabled":true}`, "", 403, crm.EFORBIDDEN, ""},
		{"its own role", "PATCH", fmt.Sprintf("/api/v1/users/%d", hrUser.ID), `{"role":"admin"}`, "role", 400, crm.EINVALID, ""},
	} {
		var body any
		if x.body != "" {
			body = x.body
		}
		got := w.send(t, hr, x.method, x.path, body)
		expect(t, "HR: "+x.what, got, x.status, x.code, x.field)
		if x.gone != "" && roleExists(x.gone) {
			t.Errorf("HR: %s: refused, but the role exists", x.what)
		}
	}
	if !roleExists(wide) {
		t.Error("HR deleted a role wider than its own")
	}
	for _, u := range []*crm.User{victim, admin, hrUser} {
		after, err := w.s.idn.FindUserByID(w.ctx, sys, u.ID)
		if err != nil || after.Role != u.Role || after.Disabled || after.Name != u.Name {
			t.Errorf("HR's refused changes changed %s: %+v %v", u.Email, after, err)
		}
	}
	if n := w.countInvites(t, "boss@example.com"); n != 0 {
		t.Errorf("HR's refused invitation was stored (%d)", n)
	}
	// Within what it holds.
	got := w.send(t, hr, "POST", "/api/v1/roles", `{"name":"narrow1","permissions":["contacts.read"],"fields":{"contact.phone":"masked"}}`)
	expect(t, "HR: a role within its own", got, http.StatusCreated, "", "")
	got = w.send(t, hr, "PATCH", fmt.Sprintf("/api/v1/users/%d", victim.ID), `{"role":"narrow1"}`)
	expect(t, "HR: giving a user that role", got, http.StatusOK, "", "")
}

// countInvites counts the pending invitations to email: the tokens a
// discard would mark used, in a transaction rolled back.
func (w *world) countInvites(t *testing.T, email string) int {
	t.Helper()
	var n int64
	rollback := fmt.Errorf("roll back")
	err := w.s.store.Write(w.ctx, func(tx crm.Tx) (err error) {
		if n, err = tx.DiscardOneTimeTokens(w.ctx, crm.PurposeInvite, 0, email, tx.Now()); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	return int(n)
}

// signInTOTP signs u in with the password and a code of its app (key),
// over the API's second step, and returns the session cookie.
func (w *world) signInTOTP(t *testing.T, u *crm.User, key string) string {
	t.Helper()
	r, half := w.s.login(t, strings.TrimSuffix(u.Email, "@example.com"))
	if !strings.HasPrefix(r.header.Get("Location"), "/mfa") {
		t.Fatalf("%s signed in without a second factor", u.Email)
	}
	got := w.s.send(t, "POST", "/api/v1/session/mfa", half, `{"code":"`+w.s.code(t, key)+`"}`)
	if got.status != http.StatusOK || got.cookie() == "" {
		t.Fatalf("second factor of %s: %d %s", u.Email, got.status, got.body)
	}
	return got.cookie()
}

// TestLastAdmin (ACL-1): the last enabled administrator can be neither
// demoted nor disabled, by another user administrator who holds all an
// administrator holds (a custom role with every permission) or by
// themselves: 409 naming the field (400 for oneself), and the
// administrator stays. With a second administrator the first may go, and
// the second is then the last.
func TestLastAdmin(t *testing.T) {
	onBackends(t, func(t *testing.T, newStore func(t *testing.T) crm.Store) {
		w := siteWorld(newTestSite(t, newStore(t), nil))
		sys := crm.SystemPrincipal()
		all := []string{}
		for _, a := range policy.Actions() {
			all = append(all, string(a))
		}
		if _, err := w.s.idn.CreateRole(w.ctx, sys, crm.RoleInput{Name: ptr("root"), Permissions: &all}); err != nil {
			t.Fatal(err)
		}
		admin, root := w.s.users["admin"], w.user(t, "root1", "root")
		_, _, rootCookie := w.signInAs(t, root)
		_, _, adminCookie := w.signInAs(t, admin)
		path := fmt.Sprintf("/api/v1/users/%d", admin.ID)
		check := func(what string) {
			t.Helper()
			u, err := w.s.idn.FindUserByID(w.ctx, sys, admin.ID)
			if err != nil || u.Role != crm.RoleAdmin || u.Disabled {
				t.Errorf("%s: the administrator is now %+v (%v)", what, u, err)
			}
		}
		expect(t, "demoting the last administrator", w.s.send(t, "PATCH", path, rootCookie, `{"role":"sales"}`), http.StatusConflict, crm.ECONFLICT, "role")
		check("demoting the last administrator")
		expect(t, "disabling the last administrator", w.s.send(t, "PATCH", path, rootCookie, `{"disabled":true}`), http.StatusConflict, crm.ECONFLICT, "disabled")
		check("disabling the last administrator")
		expect(t, "the last administrator demoting themselves", w.s.send(t, "PATCH", path, adminCookie, `{"role":"sales"}`), http.StatusBadRequest, crm.EINVALID, "role")
		expect(t, "the last administrator disabling themselves", w.s.send(t, "PATCH", path, adminCookie, `{"disabled":true}`), http.StatusBadRequest, crm.EINVALID, "disabled")
		check("the last administrator changing themselves")

		second := w.user(t, "admin2", crm.RoleAdmin)
		expect(t, "demoting one of two administrators", w.s.send(t, "PATCH", path, rootCookie, `{"role":"sales"}`), http.StatusOK, "", "")
		expect(t, "disabling the new last administrator", w.s.send(t, "PATCH", fmt.Sprintf("/api/v1/users/%d", second.ID), rootCookie, `{"disabled":true}`),
			http.StatusConflict, crm.ECONFLICT, "disabled")
		if u, err := w.s.idn.FindUserByID(w.ctx, sys, second.ID); err != nil || u.Role != crm.RoleAdmin || u.Disabled {
			t.Errorf("the new last administrator: %+v %v", u, err)
		}
	})
}

// TestAdminsDemoteEachOther (ACL-1): two administrators, the only two,
// demote each other at the same moment, round after round: exactly one
// succeeds and one administrator is left, on PostgreSQL, whose writers
// run concurrently, as on SQLite, whose writer is single. The other is
// refused (409, the last administrator) or, when the winner's change has
// already ended its session or its role, unauthenticated or forbidden.
func TestAdminsDemoteEachOther(t *testing.T) {
	onBackends(t, func(t *testing.T, newStore func(t *testing.T) crm.Store) {
		w := siteWorld(newTestSite(t, newStore(t), nil))
		sys := crm.SystemPrincipal()
		users := []*crm.User{w.s.users["admin"], w.user(t, "admin2", crm.RoleAdmin)}
		keys := make([]string, 2)
		for round := range 8 {
			w.s.advance(31 * time.Second) // a new TOTP time step for the sign-ins
			cookies := make([]string, 2)
			for i, u := range users {
				if keys[i] == "" {
					keys[i], _, cookies[i] = w.signInAs(t, u)
				} else {
					cookies[i] = w.signInTOTP(t, u, keys[i])
				}
			}
			start := make(chan struct{})
			replies := make([]reply, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					replies[i], errs[i] = w.s.try("PATCH", fmt.Sprintf("/api/v1/users/%d", users[1-i].ID), cookies[i], `{"role":"sales"}`)
				}()
			}
			close(start)
			wg.Wait()
			won := -1
			for i, r := range replies {
				switch {
				case errs[i] != nil:
					t.Fatalf("round %d: %v", round, errs[i])
				case r.status == http.StatusOK:
					if won >= 0 {
						t.Fatalf("round %d: both demotions succeeded", round)
					}
					won = i
				case r.status == http.StatusConflict && r.errCode() == crm.ECONFLICT,
					r.status == http.StatusUnauthorized && r.errCode() == crm.EUNAUTHENTICATED,
					// On SQLite a sign-in's reads are not one snapshot: the
					// session read before the winner's commit, the user row
					// (now sales) after it; refused all the same.
					r.status == http.StatusForbidden && r.errCode() == crm.EFORBIDDEN:
				default:
					t.Errorf("round %d: %s's demotion of the other: %d %s", round, users[i].Email, r.status, r.body)
				}
			}
			if won < 0 {
				t.Fatalf("round %d: neither demotion succeeded: %d %s / %d %s", round, replies[0].status, replies[0].body, replies[1].status, replies[1].body)
			}
			admins := 0
			for _, u := range users {
				if x, err := w.s.idn.FindUserByID(w.ctx, sys, u.ID); err == nil && x.Role == crm.RoleAdmin && !x.Disabled {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("round %d: %d administrators left", round, admins)
			}
			// The demoted one is made an administrator again; it enrols
			// anew (a promotion resets its factors).
			lost := 1 - won
			if _, err := w.s.idn.UpdateUser(w.ctx, sys, users[lost].ID, crm.UserInput{Role: ptr(crm.RoleAdmin)}); err != nil {
				t.Fatal(err)
			}
			keys[lost] = ""
		}
	})
}
