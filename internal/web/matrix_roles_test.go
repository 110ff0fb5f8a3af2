package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The matrix's entries for the routes that take no client record: lists
// and creation of records, users, sessions, tokens, roles, teams, second
// factors, passkeys, one-time links, the pages of the UI. Each answers
// per caller: by role (administration is the admin role's, with a recent
// step-up, from a browser session), by kind (tokens never administer and
// never manage factors or sessions), or the same for everyone (public
// routes).

// roleCell is an entry of one request per caller.
func roleCell(write bool, f func(t *testing.T, w *world, c *caller) (want, reply, error)) entry {
	return entry{write: write, role: f}
}

// leadCell is roleCell for the routes of one's own account that run as
// a new user of the caller's role (scratch): once per role, as the
// manager of its team and its tokens; a plain member is no different.
func leadCell(write bool, f func(t *testing.T, w *world, c *caller) (want, reply, error)) entry {
	return entry{write: write, role: func(t *testing.T, w *world, c *caller) (want, reply, error) {
		if !c.lead {
			return ok(0), reply{}, nil
		}
		return f(t, w, c)
	}}
}

// admin reports whether c administers users: an admin's session.
func (c *caller) admin() bool { return c.role == crm.RoleAdmin && !c.token() }

// mfaRole reports whether c's role signs in with a second factor.
func (c *caller) mfaRole() bool { return c.role == crm.RoleAdmin || c.role == crm.RoleManager }

// adminOnly is the answer of user, role and team administration: an
// admin's session may, everyone else is refused.
func adminOnly(c *caller, status int) want {
	if c.admin() {
		return ok(status)
	}
	return forbidden
}

// sessionOnly is the answer of a route of one's own account: sessions
// may, tokens are refused.
func sessionOnly(c *caller, status int) want {
	if c.token() {
		return forbidden
	}
	return ok(status)
}

// page is the answer of a UI page: a token has no session, and goes to
// the sign-in page.
func page(c *caller, wt want) want {
	if c.token() {
		return toLogin
	}
	return wt
}

var hrefRE = regexp.MustCompile(`href="/contacts/(\d+)"`)

// scratch signs in a new user of c's role, for the routes that change a
// user's factors or end a session: the matrix's callers keep theirs. It
// returns the user and its session cookie.
func (w *world) scratch(t *testing.T, c *caller) (*crm.User, string) {
	t.Helper()
	name := fmt.Sprintf("%s-scratch-%d", c.role, w.next())
	u := w.user(t, name, c.role)
	_, _, cookie := w.signInAs(t, u)
	return u, cookie
}

// scratchCaller is c with a scratch user's session (tokens stay as they
// are: they are refused before anything changes).
func (w *world) scratchCaller(t *testing.T, c *caller) *caller {
	t.Helper()
	if c.token() {
		return c
	}
	u, cookie := w.scratch(t, c)
	sc := *c
	sc.user, sc.cookie = u, cookie
	sc.csrf = w.s.send(t, "GET", "/account/security", cookie, nil).csrf(t)
	return &sc
}

// sessionOrConflict is a passkey ceremony's answer on the test site,
// which has no WebAuthn relying party: a conflict for sessions; tokens are
// refused first.
func sessionOrConflict(c *caller) want {
	if c.token() {
		return forbidden
	}
	return deny(http.StatusConflict, crm.ECONFLICT)
}

// onceForPublic limits a public route that is rate-limited per address
// (password resets: 20 an hour) to the sessions of the teams' managers.
func onceForPublic(c *caller) bool { return c.lead && !c.token() }

func roleEntries(m map[string]entry) {
	// Contacts that share an email (ENC-4): a reader of contacts who sees
	// emails in full; the groups hold only contacts the caller may read.
	m["GET /api/v1/duplicates/contacts"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := ok(http.StatusOK)
		switch {
		case !c.may("read"):
			wt = forbidden
		case c.level("contact", "email") != "shown":
			wt = invalid("email")
		}
		got := w.send(t, c, "GET", "/api/v1/duplicates/contacts", nil)
		if got.status != http.StatusOK {
			return wt, got, nil
		}
		var b struct {
			Items []struct{ Contacts []struct{ ID int64 } }
		}
		if err := json.Unmarshal([]byte(got.body), &b); err != nil {
			return wt, got, err
		}
		visible := w.visible(c, "contact")
		for _, g := range b.Items {
			for _, ct := range g.Contacts {
				if !slices.Contains(visible, ct.ID) {
					return wt, got, fmt.Errorf("a group shows contact %d, which the caller may not read", ct.ID)
				}
			}
		}
		return wt, got, nil
	})
	// Lists and creation of client records (ACL-2, ACL-4): a list holds
	// exactly the records the caller may read, the bin exactly those it
	// may restore.
	for _, entity := range entityOrder {
		coll := collectionOf[entity]
		m["GET /api/v1/"+coll] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
			wt := ok(http.StatusOK)
			if !c.may("read") {
				wt = forbidden
			}
			ids, got, err := listIDs(t, w, c, entity, "")
			if err == nil && got.status == http.StatusOK {
				err = sameIDs(ids, w.visible(c, entity))
			}
			if err != nil {
				return wt, got, err
			}
			binWant := ok(http.StatusOK)
			if !c.may("delete") {
				binWant = forbidden
			}
			ids, bin, err := listIDs(t, w, c, entity, "deleted=true")
			if msg := verdict(binWant, bin); msg != "" {
				return wt, got, fmt.Errorf("the bin (?deleted=true): %s", msg)
			}
			if err == nil && bin.status == http.StatusOK {
				if err = sameIDs(ids, w.bin(c, entity)); err != nil {
					err = fmt.Errorf("the bin (?deleted=true): %v", err)
				}
			}
			return wt, got, err
		})
		m["POST /api/v1/"+coll] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
			wt := ok(http.StatusCreated)
			if !c.may("create") {
				wt = forbidden
			}
			mark := fmt.Sprintf("Mk%05d", w.next())
			body := map[string]string{"contact": `{"first_name":"New","last_name":"` + mark + `"}`, "company": `{"name":"` + mark + `"}`,
				"deal": fmt.Sprintf(`{"title":"%s","stage_id":%d}`, mark, w.stage),
				"task": `{"title":"` + mark + `"}`}[entity]
			if entity == "activity" {
				// On a contact of its own: a lead's tokens share the
				// lead's records, and a refused cell of theirs checks
				// that the own contact's timeline stayed as it was.
				own := w.clone(t, c, c.recs["contact"]["own"])
				body = fmt.Sprintf(`{"type":"call","subject":"%s","contact_id":%d}`, mark, own.id)
			}
			got := w.send(t, c, "POST", "/api/v1/"+coll, body)
			var rec struct {
				ID      int64  `json:"id"`
				OwnerID int64  `json:"owner_id"`
				TeamID  *int64 `json:"team_id"`
			}
			var err error
			if got.status == http.StatusCreated {
				if e := json.Unmarshal([]byte(got.body), &rec); e != nil || rec.OwnerID != c.user.ID || rec.TeamID == nil ||
					*rec.TeamID != w.teamOf(c.user.ID) || got.header.Get("Location") != fmt.Sprintf("/api/v1/%s/%d", coll, rec.ID) {
					err = fmt.Errorf("the new record is not the caller's in its team: %s %v", got.body, got.header)
				}
			} else if n := w.countMarked(t, entity, mark); n != 0 {
				err = fmt.Errorf("refused, but %d records were written", n)
			}
			return wt, got, err
		})
	}
	// The erasure ledger (ENC-5): ids and times, no personal data, for
	// administrators and auditors, never through a token.
	m["GET /api/v1/erasures"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := forbidden
		if (c.role == crm.RoleAdmin || c.role == crm.RoleAuditor) && !c.token() {
			wt = ok(http.StatusOK)
		}
		got := w.send(t, c, "GET", "/api/v1/erasures", nil)
		var err error
		if got.status == http.StatusOK && !strings.Contains(got.body, `"items":[`) {
			err = fmt.Errorf("no list of entries: %.200s", got.body)
		}
		return wt, got, err
	})
	m["GET /api/v1/pipelines"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := ok(http.StatusOK)
		if !c.may("read") {
			wt = forbidden
		}
		return wt, w.send(t, c, "GET", "/api/v1/pipelines", nil), nil
	})
	m["POST /api/v1/pipelines"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Pipelines are administered by admins and managers, from a session.
		wt := forbidden
		if (c.role == crm.RoleAdmin || c.role == crm.RoleManager) && !c.token() {
			wt = ok(http.StatusCreated)
		}
		return wt, w.send(t, c, "POST", "/api/v1/pipelines", fmt.Sprintf(`{"name":"Pipe%d","stages":[{"name":"Open"}]}`, w.next())), nil
	})

	// The caller and the staff directory.
	m["GET /api/v1/me"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		got := w.send(t, c, "GET", "/api/v1/me", nil)
		var me struct {
			UserID int64  `json:"user_id"`
			Via    string `json:"via"`
		}
		var err error
		if json.Unmarshal([]byte(got.body), &me) != nil || me.UserID != c.user.ID || (me.Via == "token") != c.token() {
			err = fmt.Errorf("/me is not the caller: %s", got.body)
		}
		return ok(http.StatusOK), got, err
	})
	m["GET /api/v1/users"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		got := w.send(t, c, "GET", "/api/v1/users", nil)
		var err error
		// Whole user records for administrators; ids, names and roles
		// for everyone else.
		if strings.Contains(got.body, `"email"`) != c.admin() {
			err = fmt.Errorf("emails shown: %v, want %v", strings.Contains(got.body, `"email"`), c.admin())
		}
		return ok(http.StatusOK), got, err
	})
	m["GET /api/v1/users/{id}"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		got := w.send(t, c, "GET", fmt.Sprintf("/api/v1/users/%d", c.g.other.ID), nil)
		var err error
		if strings.Contains(got.body, `"email"`) != c.admin() {
			err = fmt.Errorf("email shown: %v, want %v", strings.Contains(got.body, `"email"`), c.admin())
		}
		return ok(http.StatusOK), got, err
	})
	m["PATCH /api/v1/users/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		u := w.user(t, fmt.Sprintf("target-%d", w.next()), crm.RoleSales)
		got := w.send(t, c, "PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), `{"name":"Renamed"}`)
		after, err := w.s.idn.FindUserByID(context.Background(), crm.SystemPrincipal(), u.ID)
		if err == nil && (after.Name == "Renamed") != (got.status == http.StatusOK) {
			err = fmt.Errorf("answered %d, name now %q", got.status, after.Name)
		}
		return adminOnly(c, http.StatusOK), got, err
	})
	m["POST /api/v1/invitations"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return adminOnly(c, http.StatusCreated), w.send(t, c, "POST", "/api/v1/invitations",
			fmt.Sprintf(`{"email":"invitee%d@example.com","role":"sales"}`, w.next())), nil
	})
	m["DELETE /api/v1/users/{id}/sessions"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		u := w.user(t, fmt.Sprintf("target-%d", w.next()), crm.RoleSales)
		_, cookie := w.s.login(t, strings.TrimSuffix(u.Email, "@example.com"))
		got := w.send(t, c, "DELETE", fmt.Sprintf("/api/v1/users/%d/sessions", u.ID), nil)
		alive := w.s.send(t, "GET", "/api/v1/me", cookie, nil).status == http.StatusOK
		var err error
		if alive != (got.status >= 400) {
			err = fmt.Errorf("answered %d, the user's session alive: %v", got.status, alive)
		}
		return adminOnly(c, http.StatusNoContent), got, err
	})
	m["GET /api/v1/users/{id}/tokens"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return adminOnly(c, http.StatusOK), w.send(t, c, "GET", fmt.Sprintf("/api/v1/users/%d/tokens", c.g.other.ID), nil), nil
	})
	m["POST /api/v1/users/{id}/unlock"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return adminOnly(c, http.StatusNoContent), w.send(t, c, "POST", fmt.Sprintf("/api/v1/users/%d/unlock", c.g.other.ID), nil), nil
	})
	m["POST /api/v1/users/{id}/enrolment-link"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return adminOnly(c, http.StatusAccepted), w.send(t, c, "POST", fmt.Sprintf("/api/v1/users/%d/enrolment-link", c.g.other.ID), nil), nil
	})

	// Sessions and tokens of one's own (AUTH-5, AUTH-7).
	m["GET /api/v1/sessions"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOnly(c, http.StatusOK), w.send(t, c, "GET", "/api/v1/sessions", nil), nil
	})
	m["DELETE /api/v1/sessions"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		return sessionOnly(c, http.StatusOK), w.send(t, sc, "DELETE", "/api/v1/sessions", nil), nil
	})
	m["DELETE /api/v1/sessions/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Another user's session is not the caller's to end: not found.
		wt := notFound
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, c, "DELETE", "/api/v1/sessions/"+w.otherSession(t, c), nil), nil
	})
	m["GET /api/v1/tokens"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOnly(c, http.StatusOK), w.send(t, c, "GET", "/api/v1/tokens", nil), nil
	})
	m["POST /api/v1/tokens"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOnly(c, http.StatusCreated), w.send(t, c, "POST", "/api/v1/tokens", `{"name":"mine","scope":"read","ttl":"1h"}`), nil
	})
	m["DELETE /api/v1/tokens/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Another user's token: an administrator revokes it (INC-2);
		// for anyone else it does not exist.
		nt, err := w.s.idn.CreateToken(context.Background(), crm.SystemPrincipal(), c.g.bystander.ID, "victim", crm.ScopeRead, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got := w.send(t, c, "DELETE", fmt.Sprintf("/api/v1/tokens/%d", nt.Token.ID), nil)
		wt := notFound
		switch {
		case c.token():
			wt = forbidden
		case c.admin():
			wt = ok(http.StatusNoContent)
		}
		alive := w.s.send(t, "GET", "/api/v1/me", "", nil, "Authorization", "Bearer "+nt.Secret).status == http.StatusOK
		if alive != (got.status >= 400) {
			err = fmt.Errorf("answered %d, the token works: %v", got.status, alive)
		}
		return wt, got, err
	})

	// Second factors, step-up, sign-out (AUTH-2, AUTH-4): one's own, from
	// a session. The ones that change factors or end the session run as
	// a new user of the caller's role.
	m["GET /api/v1/account/mfa"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOnly(c, http.StatusOK), w.send(t, c, "GET", "/api/v1/account/mfa", nil), nil
	})
	m["POST /api/v1/account/mfa/totp"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// A user with an app set up must remove it first.
		wt := sessionOnly(c, http.StatusCreated)
		if !c.token() && c.mfaRole() {
			wt = deny(http.StatusConflict, crm.ECONFLICT)
		}
		return wt, w.send(t, w.scratchCaller(t, c), "POST", "/api/v1/account/mfa/totp", `{}`), nil
	})
	m["POST /api/v1/account/mfa/totp/confirm"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Nothing pending: a conflict.
		wt := deny(http.StatusConflict, crm.ECONFLICT)
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, w.scratchCaller(t, c), "POST", "/api/v1/account/mfa/totp/confirm", `{"code":"000000"}`), nil
	})
	m["DELETE /api/v1/account/mfa/totp"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Only the roles that sign in with a second factor have one to
		// remove.
		wt := sessionOnly(c, http.StatusNoContent)
		if !c.token() && !c.mfaRole() {
			wt = notFound
		}
		return wt, w.send(t, w.scratchCaller(t, c), "DELETE", "/api/v1/account/mfa/totp", nil), nil
	})
	m["POST /api/v1/account/mfa/recovery-codes"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Recovery codes belong to an authenticator app.
		wt := sessionOnly(c, http.StatusOK)
		if !c.token() && !c.mfaRole() {
			wt = deny(http.StatusConflict, crm.ECONFLICT)
		}
		return wt, w.send(t, w.scratchCaller(t, c), "POST", "/api/v1/account/mfa/recovery-codes", nil), nil
	})
	m["DELETE /api/v1/session"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		got := w.send(t, sc, "DELETE", "/api/v1/session", nil)
		var err error
		if !c.token() && w.s.send(t, "GET", "/api/v1/me", sc.cookie, nil).status != http.StatusUnauthorized {
			err = fmt.Errorf("the session outlived its sign-out")
		}
		return sessionOnly(c, http.StatusNoContent), got, err
	})
	m["POST /api/v1/session/mfa"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// A full session has no second step to take.
		wt := deny(http.StatusConflict, crm.ECONFLICT)
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, c, "POST", "/api/v1/session/mfa", `{"code":"000000"}`), nil
	})
	m["POST /api/v1/session/step-up"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := invalid("code")
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, c, "POST", "/api/v1/session/step-up", `{"code":"000000"}`), nil
	})
	m["POST /api/v1/account/email"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOnly(c, http.StatusAccepted), w.send(t, c, "POST", "/api/v1/account/email",
			fmt.Sprintf(`{"email":"moved%d@example.com"}`, w.next())), nil
	})

	// Passkeys (AUTH-3).
	m["GET /api/v1/account/passkeys"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOnly(c, http.StatusOK), w.send(t, c, "GET", "/api/v1/account/passkeys", nil), nil
	})
	// The test site has no WebAuthn relying party: ceremonies are a
	// conflict, and a body without a credential is invalid for everyone
	// (the service, which refuses tokens, is not reached).
	m["POST /api/v1/account/passkey-challenge"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return sessionOrConflict(c), w.send(t, c, "POST", "/api/v1/account/passkey-challenge", `{}`), nil
	})
	m["POST /api/v1/account/passkeys"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return invalid("name"), w.send(t, c, "POST", "/api/v1/account/passkeys", `{}`), nil
	})
	m["PATCH /api/v1/account/passkeys/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := notFound
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, c, "PATCH", "/api/v1/account/passkeys/999999", `{"name":"Mine"}`), nil
	})
	m["DELETE /api/v1/account/passkeys/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := notFound
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, c, "DELETE", "/api/v1/account/passkeys/999999", nil), nil
	})
	m["POST /api/v1/session/passkey/challenge"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := deny(http.StatusConflict, crm.ECONFLICT)
		if c.token() {
			wt = forbidden
		}
		return wt, w.send(t, c, "POST", "/api/v1/session/passkey/challenge", `{}`), nil
	})
	m["POST /api/v1/session/passkey"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return invalid("credential"), w.send(t, c, "POST", "/api/v1/session/passkey", `{}`), nil
	})

	// Roles (ACL-1) and teams (ACL-2): everyone reads them, an admin's
	// session changes them.
	m["GET /api/v1/roles"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return ok(http.StatusOK), w.send(t, c, "GET", "/api/v1/roles", nil), nil
	})
	m["GET /api/v1/roles/{name}"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return ok(http.StatusOK), w.send(t, c, "GET", "/api/v1/roles/sales", nil), nil
	})
	m["POST /api/v1/roles"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		name := fmt.Sprintf("mx%d", w.next())
		got := w.send(t, c, "POST", "/api/v1/roles", `{"name":"`+name+`","permissions":["contacts.read"]}`)
		_, err := w.s.idn.FindRole(context.Background(), crm.SystemPrincipal(), crm.Role(name))
		if (err == nil) != (got.status == http.StatusCreated) {
			err = fmt.Errorf("answered %d; the role exists: %v", got.status, err == nil)
		} else {
			err = nil
		}
		return adminOnly(c, http.StatusCreated), got, err
	})
	m["PATCH /api/v1/roles/{name}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		name := w.customRole(t)
		return adminOnly(c, http.StatusOK), w.send(t, c, "PATCH", "/api/v1/roles/"+name, `{"label":"Relabelled"}`), nil
	})
	m["DELETE /api/v1/roles/{name}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		name := w.customRole(t)
		return adminOnly(c, http.StatusNoContent), w.send(t, c, "DELETE", "/api/v1/roles/"+name, nil), nil
	})
	m["GET /api/v1/teams"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return ok(http.StatusOK), w.send(t, c, "GET", "/api/v1/teams", nil), nil
	})
	m["GET /api/v1/teams/{id}"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return ok(http.StatusOK), w.send(t, c, "GET", fmt.Sprintf("/api/v1/teams/%d", c.g.a), nil), nil
	})
	m["POST /api/v1/teams"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return adminOnly(c, http.StatusCreated), w.send(t, c, "POST", "/api/v1/teams", fmt.Sprintf(`{"name":"Made %d"}`, w.next())), nil
	})
	m["PATCH /api/v1/teams/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		team := w.newTeam(t, fmt.Sprintf("Spare %d", w.next()), 0, 0)
		return adminOnly(c, http.StatusOK), w.send(t, c, "PATCH", fmt.Sprintf("/api/v1/teams/%d", team), fmt.Sprintf(`{"name":"Renamed %d"}`, w.next())), nil
	})
	m["DELETE /api/v1/teams/{id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		team := w.newTeam(t, fmt.Sprintf("Spare %d", w.next()), 0, 0)
		return adminOnly(c, http.StatusNoContent), w.send(t, c, "DELETE", fmt.Sprintf("/api/v1/teams/%d", team), nil), nil
	})
	m["PUT /api/v1/teams/{id}/members/{user_id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		team := w.newTeam(t, fmt.Sprintf("Spare %d", w.next()), 0, 0)
		u := w.user(t, fmt.Sprintf("joiner-%d", w.next()), crm.RoleSales)
		return adminOnly(c, http.StatusOK), w.send(t, c, "PUT", fmt.Sprintf("/api/v1/teams/%d/members/%d", team, u.ID), nil), nil
	})
	m["DELETE /api/v1/teams/{id}/members/{user_id}"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		team := w.newTeam(t, fmt.Sprintf("Spare %d", w.next()), 0, 0)
		u := w.user(t, fmt.Sprintf("leaver-%d", w.next()), crm.RoleSales)
		w.join(t, team, u)
		return adminOnly(c, http.StatusOK), w.send(t, c, "DELETE", fmt.Sprintf("/api/v1/teams/%d/members/%d", team, u.ID), nil), nil
	})

	// Public routes: the same answer for everyone.
	public := func(write bool, status int, method, path string, body any, only func(*caller) bool) entry {
		return roleCell(write, func(t *testing.T, w *world, c *caller) (want, reply, error) {
			if only != nil && !only(c) {
				return ok(0), reply{}, nil
			}
			return ok(status), w.send(t, c, method, path, body), nil
		})
	}
	m["GET /api/v1/openapi.json"] = public(false, http.StatusOK, "GET", "/api/v1/openapi.json", nil, nil)
	m["GET /healthz"] = public(false, http.StatusOK, "GET", "/healthz", nil, nil)
	m["GET /readyz"] = public(false, http.StatusOK, "GET", "/readyz", nil, nil)
	m["POST /api/v1/password-reset"] = public(true, http.StatusAccepted, "POST", "/api/v1/password-reset", `{"email":"nobody@example.com"}`, onceForPublic)
	m["POST /api/v1/password-reset/complete"] = public(false, http.StatusBadRequest, "POST", "/api/v1/password-reset/complete",
		`{"token":"AAAA","password":"a long enough new password"}`, nil)
	m["POST /api/v1/passkey-login/challenge"] = public(false, http.StatusConflict, "POST", "/api/v1/passkey-login/challenge", `{}`, nil)
	m["POST /api/v1/passkey-login"] = public(false, http.StatusBadRequest, "POST", "/api/v1/passkey-login", `{}`, nil)
	m["GET /static/{name}"] = public(false, http.StatusOK, "GET", "/static/app.css", nil, nil)
	m["GET /{$}"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return want{status: http.StatusSeeOther, loc: "/contacts"}, w.send(t, c, "GET", "/", nil), nil
	})
	// Set up already: to the sign-in page.
	m["GET /setup"] = public(false, http.StatusSeeOther, "GET", "/setup", nil, nil)
	m["POST /setup"] = public(false, http.StatusSeeOther, "POST", "/setup", url.Values{"code": {"x"}}, nil)
	m["POST /login"] = public(false, http.StatusUnauthorized, "POST", "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!!"}}, nil)
	m["GET /reset"] = public(false, http.StatusOK, "GET", "/reset", nil, nil)
	m["POST /reset"] = public(true, http.StatusOK, "POST", "/reset", url.Values{"email": {"nobody@example.com"}}, onceForPublic)
	// One-time links with a made-up token: refused (the email
	// confirmation's page asks first, and refuses on the post).
	bogus := strings.Repeat("A", 43)
	for p, st := range map[string][2]int{"/invite/": {404, 404}, "/reset/": {404, 400}, "/account/email/confirm/": {200, 404}, "/enrol/": {404, 404}} {
		pattern := p + "{token}"
		m["GET "+pattern] = public(false, st[0], "GET", p+bogus, nil, nil)
		m["POST "+pattern] = public(false, st[1], "POST", p+bogus, url.Values{"password": {"a long enough new password"}}, nil)
	}

	// The UI's pages.
	m["GET /login"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Signed in already: on to the contacts.
		wt := ok(http.StatusOK)
		if !c.token() {
			wt = want{status: http.StatusSeeOther, loc: "/contacts"}
		}
		return wt, w.send(t, c, "GET", "/login", nil), nil
	})
	m["POST /logout"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		got := w.send(t, sc, "POST", "/logout", sc.form())
		var err error
		if !c.token() && w.s.send(t, "GET", "/api/v1/me", sc.cookie, nil).status != http.StatusUnauthorized {
			err = fmt.Errorf("the session outlived its sign-out")
		}
		return want{status: http.StatusSeeOther, loc: "/login"}, got, err
	})
	m["GET /contacts"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// Every user's home: a role that reads no contacts (the auditor)
		// is sent to the security page.
		wt := ok(http.StatusOK)
		if !c.may("read") {
			wt = want{status: http.StatusSeeOther, loc: "/account/security"}
		}
		got := w.send(t, c, "GET", "/contacts", nil)
		var err error
		if got.status == http.StatusOK && !c.token() {
			visible := w.visible(c, "contact")
			var shown []int64
			for _, m := range hrefRE.FindAllStringSubmatch(got.body, -1) {
				var id int64
				fmt.Sscan(m[1], &id)
				if !slices.Contains(shown, id) {
					shown = append(shown, id)
				}
			}
			for _, id := range shown {
				if !slices.Contains(visible, id) {
					err = fmt.Errorf("the list shows contact %d, which the caller may not read", id)
				} else if r := w.rec("contact", id); r != nil && err == nil {
					err = noLeak(c, r, got.body)
				}
			}
			if name := c.g.company.raw["name"]; err == nil && !w.reads(c, c.g.company) && strings.Contains(got.body, name) {
				err = fmt.Errorf("the list shows the name of company %s, which the caller may not read", name)
			}
			if err == nil && len(shown) != min(len(visible), 50) {
				err = fmt.Errorf("the first page shows %d contacts of %d visible", len(shown), len(visible))
			}
		}
		return page(c, wt), got, err
	})
	m["GET /contacts/new"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		wt := ok(http.StatusOK)
		if !c.may("create") {
			wt = forbidden
		}
		return page(c, wt), w.send(t, c, "GET", "/contacts/new", nil), nil
	})
	m["POST /contacts"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		// The form sends only the fields the role may edit (the others
		// are shown locked), so every role that may create saves.
		wt := want{status: http.StatusSeeOther, loc: "/contacts/"}
		if !c.may("create") {
			wt = forbidden
		}
		mark := fmt.Sprintf("Mk%05d", w.next())
		got := w.send(t, c, "POST", "/contacts", c.form("first_name", "Form", "last_name", mark))
		var err error
		if got.status != http.StatusSeeOther && w.countMarked(t, "contact", mark) != 0 {
			err = fmt.Errorf("refused, but the contact was written")
		}
		return page(c, wt), got, err
	})
	m["GET /account/security"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, ok(http.StatusOK)), w.send(t, c, "GET", "/account/security", nil), nil
	})
	m["POST /account/security/recovery-codes"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		wt := ok(http.StatusOK)
		if !c.mfaRole() {
			wt = deny(http.StatusConflict, crm.ECONFLICT)
		}
		return page(c, wt), w.send(t, sc, "POST", "/account/security/recovery-codes", sc.form()), nil
	})
	m["POST /account/security/totp/remove"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		wt := want{status: http.StatusSeeOther, loc: "/account/security"}
		if !c.mfaRole() {
			wt = ok(http.StatusNotFound) // no app to remove
		}
		return page(c, wt), w.send(t, sc, "POST", "/account/security/totp/remove", sc.form()), nil
	})
	m["POST /account/security/sessions/{id}/revoke"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, notFound), w.send(t, c, "POST", "/account/security/sessions/"+w.otherSession(t, c)+"/revoke", c.form()), nil
	})
	m["POST /account/security/sessions/revoke-others"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		return page(c, want{status: http.StatusSeeOther, loc: "/account/security"}), w.send(t, sc, "POST", "/account/security/sessions/revoke-others", sc.form()), nil
	})
	m["POST /account/security/email"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, want{status: http.StatusSeeOther, loc: "/account/security"}), w.send(t, c, "POST", "/account/security/email",
			c.form("email", fmt.Sprintf("moved%d@example.com", w.next()))), nil
	})
	m["GET /stepup"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, ok(http.StatusOK)), w.send(t, c, "GET", "/stepup", nil), nil
	})
	m["POST /stepup"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, ok(http.StatusUnauthorized)), w.send(t, c, "POST", "/stepup", c.form("code", "000000")), nil
	})
	m["GET /account/passkeys"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, ok(http.StatusOK)), w.send(t, c, "GET", "/account/passkeys", nil), nil
	})
	m["POST /account/passkeys/{id}/rename"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, notFound), w.send(t, c, "POST", "/account/passkeys/999999/rename", c.form("name", "Mine")), nil
	})
	m["POST /account/passkeys/{id}/remove"] = roleCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, notFound), w.send(t, c, "POST", "/account/passkeys/999999/remove", c.form()), nil
	})
	// The second step of a sign-in: a full session has none to take.
	m["GET /mfa"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, want{status: http.StatusSeeOther, loc: "/contacts"}), w.send(t, c, "GET", "/mfa", nil), nil
	})
	m["POST /mfa"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, want{status: http.StatusSeeOther, loc: "/mfa"}), w.send(t, c, "POST", "/mfa", c.form("code", "000000")), nil
	})
	// Enrolling an authenticator app from a full session: begun (as a
	// new user of the caller's role), or a conflict for one who has it.
	m["GET /mfa/enrol"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, ok(http.StatusOK)), w.send(t, c, "GET", "/mfa/enrol", nil), nil
	})
	m["POST /mfa/enrol"] = leadCell(true, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		sc := w.scratchCaller(t, c)
		wt := want{status: http.StatusSeeOther, loc: "/mfa/enrol"}
		if c.mfaRole() {
			wt = ok(http.StatusConflict)
		}
		return page(c, wt), w.send(t, sc, "POST", "/mfa/enrol", sc.form("action", "begin")), nil
	})
	m["GET /mfa/enrol/qr.png"] = roleCell(false, func(t *testing.T, w *world, c *caller) (want, reply, error) {
		return page(c, ok(http.StatusNotFound)), w.send(t, c, "GET", "/mfa/enrol/qr.png", nil), nil
	})
}

// otherSession is the public id of a session of another user than c's:
// the group's other user's, signed in once.
func (w *world) otherSession(t *testing.T, c *caller) string {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if id := w.sessions[c.g.other.ID]; id != "" {
		return id
	}
	_, cookie := w.s.login(t, strings.TrimSuffix(c.g.other.Email, "@example.com"))
	p, _, err := w.s.idn.Authenticate(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	w.sessions[c.g.other.ID] = p.SessionID
	return p.SessionID
}

// customRole makes a custom role that grants less than an admin holds.
func (w *world) customRole(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("mx%d", w.next())
	if _, err := w.s.idn.CreateRole(context.Background(), crm.SystemPrincipal(), crm.RoleInput{Name: &name,
		Permissions: &[]string{"contacts.read"}}); err != nil {
		t.Fatal(err)
	}
	return name
}

// countMarked counts the live records of entity whose name or subject is
// mark, as the system sees them.
func (w *world) countMarked(t *testing.T, entity, mark string) int {
	t.Helper()
	ctx, sys, q := context.Background(), crm.SystemPrincipal(), strings.ToLower(mark)
	o := crm.ListOptions{Limit: 10}
	var n int
	var err error
	switch entity {
	case "contact":
		var pg *crm.Page[*crm.Contact]
		if pg, err = w.s.svc.FindContacts(ctx, sys, crm.ContactFilter{Q: q}, o); err == nil {
			n = len(pg.Items)
		}
	case "company":
		var pg *crm.Page[*crm.Company]
		if pg, err = w.s.svc.FindCompanies(ctx, sys, crm.CompanyFilter{Q: q}, o); err == nil {
			n = len(pg.Items)
		}
	case "deal":
		var pg *crm.Page[*crm.Deal]
		if pg, err = w.s.svc.FindDeals(ctx, sys, crm.DealFilter{Q: q}, o); err == nil {
			n = len(pg.Items)
		}
	case "activity":
		var pg *crm.Page[*crm.Activity]
		if pg, err = w.s.svc.FindActivities(ctx, sys, crm.ActivityFilter{Q: q}, o); err == nil {
			n = len(pg.Items)
		}
	case "task":
		var pg *crm.Page[*crm.Task]
		if pg, err = w.s.svc.FindTasks(ctx, sys, crm.TaskFilter{Q: q}, o); err == nil {
			n = len(pg.Items)
		}
	}
	if err != nil {
		t.Fatalf("count %s %s: %v", entity, mark, err)
	}
	return n
}
