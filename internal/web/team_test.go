package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
)

// TestTeamAPI (ACL-2, AUTH-4): the team routes over the real router,
// services and store: an administrator's session with a recent step-up
// creates, nests, staffs and deletes teams; a token, a sales user and a
// stale step-up are refused; bad input is a 400 naming the field.
func TestTeamAPI(t *testing.T) {
	s := newMFASite(t, auth.Throttle{IPLimit: 10000, AccountLimit: 100})
	_, half := s.enrolLogin(t, "admin")
	_, _, admin := s.enrolUI(t, half)
	_, alice := s.login(t, "alice")

	r := s.send(t, "POST", "/api/v1/teams", admin, `{"name":"Sales"}`)
	var sales crm.Team
	if err := json.Unmarshal([]byte(r.body), &sales); r.status != http.StatusCreated || err != nil || sales.ID == 0 ||
		r.header.Get("Location") != fmt.Sprintf("/api/v1/teams/%d", sales.ID) || r.header.Get("ETag") != `"v1"` {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	r = s.send(t, "POST", "/api/v1/teams", admin, fmt.Sprintf(`{"name":"Moscow","parent_id":%d,"manager_id":%d}`, sales.ID, s.users["bob"].ID))
	var moscow crm.Team
	if err := json.Unmarshal([]byte(r.body), &moscow); r.status != http.StatusCreated || err != nil || *moscow.ParentID != sales.ID {
		t.Fatalf("create Moscow: %d %s", r.status, r.body)
	}
	one := fmt.Sprintf("/api/v1/teams/%d", moscow.ID)

	for _, c := range []struct {
		name, method, path, cookie, body string
		status                           int
		code, field                      string
	}{
		{"sales creates", "POST", "/api/v1/teams", alice, `{"name":"Mine"}`, 403, crm.EFORBIDDEN, ""},
		{"sales adds herself", "PUT", one + fmt.Sprintf("/members/%d", s.users["alice"].ID), alice, "", 403, crm.EFORBIDDEN, ""},
		{"no name", "POST", "/api/v1/teams", admin, `{}`, 400, crm.EINVALID, "name"},
		{"taken name", "POST", "/api/v1/teams", admin, `{"name":"SALES"}`, 409, crm.ECONFLICT, ""},
		{"unknown field", "POST", "/api/v1/teams", admin, `{"name":"X","members":[1]}`, 400, crm.EINVALID, "members"},
		{"cycle", "PATCH", fmt.Sprintf("/api/v1/teams/%d", sales.ID), admin, fmt.Sprintf(`{"parent_id":%d}`, moscow.ID), 400, crm.EINVALID, "parent_id"},
		{"unknown manager", "PATCH", one, admin, `{"manager_id":999999}`, 400, crm.EINVALID, "manager_id"},
		{"unknown user", "PUT", one + "/members/999999", admin, "", 400, crm.EINVALID, "user_id"},
		{"bad user id", "PUT", one + "/members/x", admin, "", 404, crm.ENOTFOUND, ""},
		{"unknown team", "GET", "/api/v1/teams/999999", alice, "", 404, crm.ENOTFOUND, ""},
		{"has sub-teams", "DELETE", fmt.Sprintf("/api/v1/teams/%d", sales.ID), admin, "", 409, crm.ECONFLICT, ""},
	} {
		r := s.send(t, c.method, c.path, c.cookie, nilIfEmpty(c.body))
		if r.status != c.status || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		} else if c.field != "" && !strings.Contains(r.body, `"`+c.field+`"`) {
			t.Errorf("%s: the error does not name %s: %s", c.name, c.field, r.body)
		}
	}

	// Staff the team; everyone reads it.
	r = s.send(t, "PUT", one+fmt.Sprintf("/members/%d", s.users["alice"].ID), admin, nil)
	if r.status != 200 || !strings.Contains(r.body, fmt.Sprintf(`"members":[%d]`, s.users["alice"].ID)) {
		t.Fatalf("add alice: %d %s", r.status, r.body)
	}
	// bob, Moscow's manager, sees it in /me, and alice her team.
	_, bob := s.login(t, "bob")
	if r := s.send(t, "GET", "/api/v1/me", bob, nil); !strings.Contains(r.body, fmt.Sprintf(`"managed_teams":[%d]`, moscow.ID)) {
		t.Errorf("bob's /me: %s", r.body)
	}
	if r := s.send(t, "GET", "/api/v1/me", alice, nil); !strings.Contains(r.body, fmt.Sprintf(`"team_id":%d`, moscow.ID)) {
		t.Errorf("alice's /me: %s", r.body)
	}
	r = s.send(t, "GET", "/api/v1/teams", alice, nil)
	if r.status != 200 || !strings.Contains(r.body, `"Moscow"`) {
		t.Fatalf("alice lists teams: %d %s", r.status, r.body)
	}
	// A stale If-Match, then a current one.
	r = s.send(t, "PATCH", one, admin, `{"name":"Moskva"}`, "If-Match", `"v9"`)
	if r.status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %s", r.status, r.body)
	}
	r = s.send(t, "PATCH", one, admin, `{"name":"Moskva"}`, "If-Match", `"v1"`)
	if r.status != 200 || r.header.Get("ETag") != `"v2"` || !strings.Contains(r.body, `"Moskva"`) {
		t.Errorf("rename: %d %v %s", r.status, r.header, r.body)
	}
	// After the step-up window, changes need a new step-up.
	s.advance(6 * time.Minute)
	r = s.send(t, "DELETE", one+fmt.Sprintf("/members/%d", s.users["alice"].ID), admin, nil)
	if r.status != 403 || r.errCode() != crm.ESTEPUPREQUIRED {
		t.Errorf("remove a member after the step-up window: %d %s", r.status, r.body)
	}
	if r := s.send(t, "GET", one, alice, nil); !strings.Contains(r.body, fmt.Sprintf(`"members":[%d]`, s.users["alice"].ID)) {
		t.Errorf("the refused removal changed the team: %s", r.body)
	}
}

func nilIfEmpty(body string) any {
	if body == "" {
		return nil
	}
	return body
}
