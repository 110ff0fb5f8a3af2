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
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/auth"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/service"
)

// countingHooks records which records passed which hook (service.Hooks).
type countingHooks struct {
	mu     sync.Mutex
	passed map[string]map[string]bool // "contact 7" → hook → seen
}

func (h *countingHooks) see(hook, entity string, id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := fmt.Sprint(entity, " ", id)
	if h.passed[k] == nil {
		h.passed[k] = map[string]bool{}
	}
	h.passed[k][hook] = true
}

// idOf is the id of a record the hooks are given.
func idOf(rec any) int64 {
	switch r := rec.(type) {
	case *crm.Contact:
		return r.ID
	case *crm.Company:
		return r.ID
	case *crm.Deal:
		return r.ID
	case *crm.Activity:
		return r.ID
	case *crm.Task:
		return r.ID
	case *crm.Consent:
		return r.ID
	}
	panic(fmt.Sprintf("a record of type %T", rec))
}

func (h *countingHooks) Seal(_ context.Context, _ crm.RecordTx, entity string, rec any) error {
	h.see("seal", entity, idOf(rec))
	return nil
}

func (h *countingHooks) Open(_ context.Context, _ crm.RecordTx, entity string, rec any) error {
	h.see("open", entity, idOf(rec))
	return nil
}

func (h *countingHooks) Redact(_ context.Context, _ *crm.Principal, entity string, rec any) error {
	h.see("redact", entity, idOf(rec))
	return nil
}

func (h *countingHooks) Subject(_ context.Context, _ *crm.Principal, _, entity string, ids []int64) error {
	for _, id := range ids {
		h.see("subject", entity, id)
	}
	return nil
}

func (h *countingHooks) reset() {
	h.mu.Lock()
	h.passed = map[string]map[string]bool{}
	h.mu.Unlock()
}

func (h *countingHooks) saw(entity string, id int64, hook string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.passed[fmt.Sprint(entity, " ", id)][hook]
}

// TestOneReadPath proves the single path of client data (issue 10 item 4):
// with a counting hook installed, every API route and UI page that returns
// client records is driven, and every record whose data appears in a
// response must have passed Open, Redact and Subject in that request (and
// Seal, where the request wrote it). Each record carries a marker in a
// personal field, so a record that reached a response around the hooks is
// found by its marker. The test also checks that the table covers every
// client-data route the router has.
func TestOneReadPath(t *testing.T) {
	hooks := &countingHooks{passed: map[string]map[string]bool{}}
	s := newMFASiteWith(t, auth.Throttle{IPLimit: 10000, AccountLimit: 100}, func(o *service.Options) { o.Hooks = hooks })
	ctx := context.Background()
	_, cookie := s.login(t, "alice")
	alice, _, err := s.idn.Authenticate(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.idn.CreateToken(ctx, crm.SystemPrincipal(), alice.UserID, "hooks", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bearer := []string{"Authorization", "Bearer " + tok.Secret}

	// The records and their markers: entity and id by marker.
	type rec struct {
		entity string
		id     int64
	}
	markers := map[string]rec{}
	n := 0
	mark := func(string) string {
		n++
		return fmt.Sprintf("Mrk%03dx", n)
	}
	// Each record also carries a marker in its protected field (address,
	// notes, body, description), which the reveal steps below unmask.
	hidden := map[string]string{}
	co, err := s.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr(mark("company")), Address: ptr(mark("company"))})
	if err != nil {
		t.Fatal(err)
	}
	markers[co.Name], markers[co.Address], hidden["companies"] = rec{"company", co.ID}, rec{"company", co.ID}, co.Address
	c, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Ann"), LastName: ptr(mark("contact")),
		CompanyID: crm.Value(co.ID), Address: ptr(mark("contact"))})
	if err != nil {
		t.Fatal(err)
	}
	markers[c.LastName], markers[c.Address], hidden["contacts"] = rec{"contact", c.ID}, rec{"contact", c.ID}, c.Address
	a, err := s.svc.CreateActivity(ctx, alice, crm.ActivityInput{Type: ptr("note"), Subject: ptr(mark("activity")), ContactID: crm.Value(c.ID),
		Body: ptr(mark("activity"))})
	if err != nil {
		t.Fatal(err)
	}
	markers[a.Subject], markers[a.Body], hidden["activities"] = rec{"activity", a.ID}, rec{"activity", a.ID}, a.Body
	pls, err := s.svc.FindPipelines(ctx, alice)
	if err != nil || len(pls) == 0 {
		t.Fatal(err)
	}
	stage := pls[0].Stages[0].ID
	d, err := s.svc.CreateDeal(ctx, alice, crm.DealInput{Title: ptr(mark("deal")), StageID: &stage, ContactID: crm.Value(c.ID),
		Notes: ptr(mark("deal"))})
	if err != nil {
		t.Fatal(err)
	}
	markers[d.Title], markers[d.Notes], hidden["deals"] = rec{"deal", d.ID}, rec{"deal", d.ID}, d.Notes
	tk, err := s.svc.CreateTask(ctx, alice, crm.TaskInput{Title: ptr(mark("task")), ContactID: crm.Value(c.ID),
		Description: ptr(mark("task"))})
	if err != nil {
		t.Fatal(err)
	}
	markers[tk.Title], markers[tk.Description], hidden["tasks"] = rec{"task", tk.ID}, rec{"task", tk.ID}, tk.Description
	cs, err := s.svc.RecordConsent(ctx, alice, c.ID, crm.ConsentInput{Purpose: ptr("newsletter"), Granted: ptr(true), Source: ptr(mark("consent"))})
	if err != nil {
		t.Fatal(err)
	}
	markers[cs.Source] = rec{"consent", cs.ID}
	// A record for each delete and restore.
	spare := map[string]int64{}
	for _, ent := range []string{"contacts", "companies", "deals", "activities", "tasks"} {
		m := mark(ent)
		var id int64
		var err error
		switch ent {
		case "contacts":
			var v *crm.Contact
			v, err = s.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Bo"), LastName: ptr(m)})
			if err != nil {
				t.Fatal(err)
			}
			id, markers[m] = v.ID, rec{"contact", v.ID}
		case "companies":
			var v *crm.Company
			v, err = s.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr(m)})
			if err != nil {
				t.Fatal(err)
			}
			id, markers[m] = v.ID, rec{"company", v.ID}
		case "deals":
			var v *crm.Deal
			v, err = s.svc.CreateDeal(ctx, alice, crm.DealInput{Title: ptr(m), StageID: &stage})
			if err != nil {
				t.Fatal(err)
			}
			id, markers[m] = v.ID, rec{"deal", v.ID}
		case "activities":
			var v *crm.Activity
			v, err = s.svc.CreateActivity(ctx, alice, crm.ActivityInput{Type: ptr("call"), Subject: ptr(m), CompanyID: crm.Value(co.ID)})
			if err != nil {
				t.Fatal(err)
			}
			id, markers[m] = v.ID, rec{"activity", v.ID}
		case "tasks":
			var v *crm.Task
			v, err = s.svc.CreateTask(ctx, alice, crm.TaskInput{Title: ptr(m)})
			if err != nil {
				t.Fatal(err)
			}
			id, markers[m] = v.ID, rec{"task", v.ID}
		}
		if err != nil {
			t.Fatal(err)
		}
		spare[ent] = id
	}

	csrf := s.send(t, "GET", "/account/security", cookie, nil).csrf(t)
	ids := map[string]int64{"contacts": c.ID, "companies": co.ID, "deals": d.ID, "activities": a.ID, "tasks": tk.ID}
	entities := map[string]string{"contacts": "contact", "companies": "company", "deals": "deal", "activities": "activity", "tasks": "task"}
	type step struct {
		method, path, pattern string
		body                  any
		ui                    bool
		want                  []string // markers the response must show (proof it returns data)
		// session sends the request with that session (API routes that
		// need a step-up); noRecord marks a route that returns none of a
		// record's data (shares); unmasked a reveal, which returns one
		// value on purpose without Redact.
		session  string
		noRecord bool
		unmasked bool
	}
	var steps []step

	// Shares and reveals (ACL-2, ACL-3). A fresh sign-in counts as a
	// step-up. Mia's custom role sees every protected field that holds a
	// marker masked; alice shares each record with her, and she reveals it.
	_, err = s.idn.CreateRole(ctx, crm.SystemPrincipal(), crm.RoleInput{Name: ptr("masker"), Permissions: &[]string{
		"contacts.read", "companies.read", "deals.read", "activities.read", "tasks.read"}, Fields: &map[string]crm.FieldLevel{
		"contact.address": crm.FieldMasked, "company.address": crm.FieldMasked, "deal.notes": crm.FieldMasked,
		"activity.body": crm.FieldMasked, "task.description": crm.FieldMasked}})
	if err != nil {
		t.Fatal(err)
	}
	miaEmail, miaPassword, maskerRole := "mia@example.com", sitePassword, crm.Role("masker")
	mia, err := s.idn.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &miaEmail, Role: &maskerRole, Password: &miaPassword})
	if err != nil {
		t.Fatal(err)
	}
	_, miaCookie := s.login(t, "mia")
	uiShare, _, err := s.svc.ShareRecord(ctx, alice, "contact", c.ID, crm.ShareInput{TeamID: nil, UserID: &s.users["admin"].ID})
	if err != nil {
		t.Fatal(err)
	}
	steps = append(steps,
		step{method: "POST", path: "/contacts/" + fmt.Sprint(c.ID) + "/shares", pattern: "POST /contacts/{id}/shares", ui: true, noRecord: true,
			body: url.Values{"csrf": {csrf}, "grantee": {fmt.Sprintf("u:%d", s.users["bob"].ID)}, "access": {"read"}}},
		step{method: "POST", path: fmt.Sprintf("/contacts/%d/shares/%d/revoke", c.ID, uiShare.ID), pattern: "POST /contacts/{id}/shares/{share_id}/revoke",
			ui: true, noRecord: true, body: url.Values{"csrf": {csrf}}})
	miaCSRF := s.send(t, "GET", "/account/security", miaCookie, nil).csrf(t)
	steps = append(steps, step{method: "POST", path: "/contacts/" + fmt.Sprint(c.ID) + "/reveal", pattern: "POST /contacts/{id}/reveal",
		body: url.Values{"csrf": {miaCSRF}, "field": {"address"}}, session: miaCookie, unmasked: true, want: []string{c.Address}})
	for ent, id := range ids {
		if _, _, err := s.svc.ShareRecord(ctx, alice, entities[ent], id, crm.ShareInput{UserID: &mia.ID}); err != nil {
			t.Fatal(err)
		}
		sh, _, err := s.svc.ShareRecord(ctx, alice, entities[ent], id, crm.ShareInput{UserID: &s.users["sam"].ID})
		if err != nil {
			t.Fatal(err)
		}
		base, rid := "/api/v1/"+ent, fmt.Sprint(id)
		steps = append(steps,
			step{method: "GET", path: base + "/" + rid + "/shares", pattern: "GET " + base + "/{id}/shares", session: cookie, noRecord: true},
			step{method: "POST", path: base + "/" + rid + "/shares", pattern: "POST " + base + "/{id}/shares", session: cookie, noRecord: true,
				body: fmt.Sprintf(`{"user_id":%d,"access":"write"}`, s.users["bob"].ID)},
			step{method: "DELETE", path: base + "/" + rid + "/shares/" + fmt.Sprint(sh.ID), pattern: "DELETE " + base + "/{id}/shares/{share_id}",
				session: cookie, noRecord: true},
			step{method: "POST", path: base + "/" + rid + "/reveal", pattern: "POST " + base + "/{id}/reveal", session: miaCookie, unmasked: true,
				body: `{"field":"` + map[string]string{"contacts": "address", "companies": "address", "deals": "notes", "activities": "body", "tasks": "description"}[ent] + `"}`,
				want: []string{hidden[ent]}},
		)
	}
	for _, ent := range []string{"contacts", "companies", "deals", "activities", "tasks"} {
		base := "/api/v1/" + ent
		id, sp := fmt.Sprint(ids[ent]), fmt.Sprint(spare[ent])
		// The update changes a field without a marker, so that the later
		// steps find the records by the markers they were made with.
		patch := map[string]string{"contacts": `{"title":"CEO"}`, "companies": `{"industry":"Retail"}`,
			"deals": `{"amount":"12.50"}`, "activities": `{"body":"called back"}`, "tasks": `{"description":"soon"}`}[ent]
		created := mark(ent)
		create := map[string]string{"contacts": `{"first_name":"Cy","last_name":"` + created + `"}`,
			"companies": `{"name":"` + created + `"}`, "deals": `{"title":"` + created + `","stage_id":` + fmt.Sprint(stage) + `}`,
			"activities": `{"type":"email","subject":"` + created + `","company_id":` + fmt.Sprint(co.ID) + `}`, "tasks": `{"title":"` + created + `"}`}[ent]
		steps = append(steps,
			step{"GET", base, "GET " + base, nil, false, nil, "", false, false},
			step{"GET", base + "/" + id, "GET " + base + "/{id}", nil, false, nil, "", false, false},
			step{"POST", base, "POST " + base, create, false, []string{created}, "", false, false},
			step{"PATCH", base + "/" + id, "PATCH " + base + "/{id}", patch, false, nil, "", false, false},
			step{"DELETE", base + "/" + sp, "DELETE " + base + "/{id}", nil, false, nil, "", false, false},
			step{"GET", base + "?deleted=true", "", nil, false, nil, "", false, false},
			step{"POST", base + "/" + sp + "/restore", "POST " + base + "/{id}/restore", nil, false, nil, "", false, false},
		)
	}
	// Erasure (ENC-5) returns the ledger entry, no record data: a data
	// protection officer's custom role erases a contact and a company
	// made for it.
	_, err = s.idn.CreateRole(ctx, crm.SystemPrincipal(), crm.RoleInput{Name: ptr("dpo"), Permissions: &[]string{
		"contacts.read", "contacts.delete", "contacts.modify_all", "companies.read", "companies.delete", "companies.modify_all",
		"activities.delete", "activities.modify_all", "tasks.delete", "tasks.modify_all", "clients.erase"}})
	if err != nil {
		t.Fatal(err)
	}
	dpoEmail, dpoRole := "dpo@example.com", crm.Role("dpo")
	dpoUser, err := s.idn.CreateUser(ctx, crm.SystemPrincipal(), crm.UserInput{Email: &dpoEmail, Role: &dpoRole, Password: &miaPassword})
	if err != nil {
		t.Fatal(err)
	}
	// The role erases for good: it signs in with a second factor.
	s.users["dpo"] = dpoUser
	_, dpoHalf := s.enrolLogin(t, "dpo")
	_, _, dpoCookie := s.enrolUI(t, dpoHalf)
	doomed, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Ed"), LastName: ptr("Doomed")})
	if err != nil {
		t.Fatal(err)
	}
	doomedCo, err := s.svc.CreateCompany(ctx, alice, crm.CompanyInput{Name: ptr("Doomed Ltd")})
	if err != nil {
		t.Fatal(err)
	}
	uiDoomedName := mark("contact")
	uiDoomed, err := s.svc.CreateContact(ctx, alice, crm.ContactInput{FirstName: ptr("Di"), LastName: ptr(uiDoomedName)})
	if err != nil {
		t.Fatal(err)
	}
	markers[uiDoomedName] = rec{"contact", uiDoomed.ID}
	dpoCSRF := s.send(t, "GET", "/account/security", dpoCookie, nil).csrf(t)
	steps = append(steps,
		step{method: "GET", path: fmt.Sprintf("/contacts/%d/erase", uiDoomed.ID), pattern: "GET /contacts/{id}/erase", ui: true, session: dpoCookie, want: []string{uiDoomedName}},
		step{method: "POST", path: fmt.Sprintf("/contacts/%d/erase", uiDoomed.ID), pattern: "POST /contacts/{id}/erase", ui: true, session: dpoCookie,
			body: url.Values{"csrf": {dpoCSRF}, "confirm": {"Di " + uiDoomedName}}},
		step{method: "POST", path: fmt.Sprintf("/api/v1/contacts/%d/erase", doomed.ID), pattern: "POST /api/v1/contacts/{id}/erase", session: dpoCookie, noRecord: true},
		step{method: "POST", path: fmt.Sprintf("/api/v1/companies/%d/erase", doomedCo.ID), pattern: "POST /api/v1/companies/{id}/erase", session: dpoCookie, noRecord: true})
	cid := fmt.Sprint(c.ID)
	steps = append(steps,
		step{"GET", "/api/v1/contacts/" + cid + "/timeline", "GET /api/v1/contacts/{id}/timeline", nil, false, []string{a.Subject}, "", false, false},
		step{"GET", "/api/v1/contacts/" + cid + "/consents", "GET /api/v1/contacts/{id}/consents", nil, false, []string{cs.Source}, "", false, false},
		step{"POST", "/api/v1/contacts/" + cid + "/consents", "POST /api/v1/contacts/{id}/consents", `{"purpose":"calls","granted":false,"source":"` + mark("consent") + `"}`, false, nil, "", false, false},
		step{"GET", "/contacts", "GET /contacts", nil, true, nil, "", false, false},
		step{"GET", "/contacts?q=ann", "", nil, true, nil, "", false, false},
		step{"GET", "/contacts/new", "GET /contacts/new", nil, true, []string{co.Name}, "", false, false},
		step{"GET", "/contacts/" + cid, "GET /contacts/{id}", nil, true, []string{a.Subject}, "", false, false},
		step{"GET", "/contacts/" + cid + "/edit", "GET /contacts/{id}/edit", nil, true, nil, "", false, false},
		step{"GET", "/contacts/" + cid + "/delete", "GET /contacts/{id}/delete", nil, true, nil, "", false, false},
		step{"POST", "/contacts", "POST /contacts", url.Values{"csrf": {csrf}, "first_name": {"Di"}, "last_name": {mark("contact")}}, true, nil, "", false, false},
		step{"POST", "/contacts/" + cid + "/activities", "POST /contacts/{id}/activities", url.Values{"csrf": {csrf}, "type": {"note"}, "subject": {mark("activity")}}, true, nil, "", false, false},
		step{"POST", "/contacts/" + cid, "POST /contacts/{id}", url.Values{"csrf": {csrf}, "version": {"0"}, "first_name": {"Ann"}, "last_name": {mark("contact")}}, true, nil, "", false, false},
		step{"POST", "/contacts/" + fmt.Sprint(spare["contacts"]) + "/delete", "POST /contacts/{id}/delete", url.Values{"csrf": {csrf}}, true, nil, "", false, false},
	)

	markerRE := regexp.MustCompile(`Mrk\d{3}x`)
	covered := map[string]bool{}
	for _, st := range steps {
		covered[st.pattern] = true
		if st.method == "POST" && st.pattern == "POST /contacts/{id}" {
			// The edit form carries the version the update needs.
			cur, err := s.svc.FindContactByID(ctx, alice, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			st.body.(url.Values).Set("version", fmt.Sprint(cur.Version))
		}
		hooks.reset()
		var r reply
		switch {
		case st.ui && st.session != "":
			r = s.send(t, st.method, st.path, st.session, st.body)
		case st.ui:
			r = s.send(t, st.method, st.path, cookie, st.body)
		case st.session != "":
			r = s.send(t, st.method, st.path, st.session, st.body)
		default:
			r = s.send(t, st.method, st.path, "", st.body, bearer...)
		}
		if r.status >= 400 {
			t.Errorf("%s %s: %d %.300s", st.method, st.path, r.status, r.body)
			continue
		}
		// Records a write made: learn their markers from the response
		// (API) or from what the request sent (UI).
		if st.body != nil {
			sent := fmt.Sprint(st.body)
			for _, m := range markerRE.FindAllString(sent, -1) {
				if _, ok := markers[m]; ok {
					continue
				}
				if st.ui {
					continue // the redirect shows no data; the next page read checks it
				}
				var v struct {
					ID int64 `json:"id"`
				}
				if json.Unmarshal([]byte(r.body), &v) != nil || v.ID == 0 {
					t.Fatalf("%s %s: no id in %.200s", st.method, st.path, r.body)
				}
				entity := map[string]string{"contacts": "contact", "companies": "company", "deals": "deal", "activities": "activity", "tasks": "task"}[strings.Split(st.path, "/")[3]]
				if strings.HasSuffix(st.path, "/consents") {
					entity = "consent"
				}
				markers[m] = rec{entity, v.ID}
				// A new record is sealed before the store gives it an id.
				if !hooks.saw(entity, 0, "seal") {
					t.Errorf("%s %s: %s %d was written without Seal", st.method, st.path, entity, v.ID)
				}
			}
		}
		if st.method == "PATCH" {
			entity := map[string]string{"contacts": "contact", "companies": "company", "deals": "deal", "activities": "activity", "tasks": "task"}[strings.Split(st.path, "/")[3]]
			if id := ids[strings.Split(st.path, "/")[3]]; !hooks.saw(entity, id, "seal") {
				t.Errorf("%s %s: %s %d was written without Seal", st.method, st.path, entity, id)
			}
		}
		for _, m := range st.want {
			if !strings.Contains(r.body, m) {
				t.Errorf("%s %s: the response does not show %s: %.300s", st.method, st.path, m, r.body)
			}
		}
		shown := markerRE.FindAllString(r.body, -1)
		if st.noRecord && len(shown) > 0 {
			t.Errorf("%s %s: shows record data %v", st.method, st.path, shown)
		}
		if len(shown) == 0 && r.status == http.StatusOK && st.method == "GET" && !st.noRecord {
			t.Errorf("%s %s: the response shows no record: the step proves nothing", st.method, st.path)
		}
		for _, m := range shown {
			rc, ok := markers[m]
			if !ok {
				t.Errorf("%s %s: unknown marker %s", st.method, st.path, m)
				continue
			}
			want := []string{"open", "redact", "subject"}
			if st.unmasked {
				want = []string{"open", "subject"}
			}
			for _, hook := range want {
				if !hooks.saw(rc.entity, rc.id, hook) {
					t.Errorf("%s %s: %s %d (%s) reached the response without %s", st.method, st.path, rc.entity, rc.id, m, hook)
				}
			}
		}
	}
	// Every route of client data is in the table.
	for _, route := range s.web.Routes() {
		method, path, _ := strings.Cut(route, " ")
		client := slices.ContainsFunc([]string{"/api/v1/contacts", "/api/v1/companies", "/api/v1/deals", "/api/v1/activities", "/api/v1/tasks", "/contacts"},
			func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") })
		if client && !covered[method+" "+path] {
			t.Errorf("route %s returns client data and is not in the table", route)
		}
	}
}
