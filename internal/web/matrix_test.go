package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// TestAccessMatrix is the access-control matrix (ACL-5; SECURITY.md
// attacks 1 and 3; ASVS v5.0.0-8.2.1, 8.2.2, 8.2.3): every route of the
// router, for every built-in role (a team manager, a plain member of the
// team, and the manager's read and write API tokens), and for the routes
// on one record every relation of the caller to the record (own, same
// team, sub-team, another team, shared for reading, shared for writing,
// shared until a second ago, shared with the caller's team, and for tasks
// assigned to the caller), against the real router, services and store,
// on SQLite and on PostgreSQL. Each cell's expected answer comes from the
// oracle of matrix_world_test.go, the product's rules written down
// independently of internal/policy; a successful read is also checked
// field by field (shown, masked in its mask's shape, or absent), a list
// for exactly the records the caller may read, and a refused write for
// leaving the record as it was. A route without an entry fails the test.
func TestAccessMatrix(t *testing.T) {
	onBackends(t, func(t *testing.T, newStore func(t *testing.T) crm.Store) {
		start := time.Now()
		w := newWorld(t, newStore(t))
		built := time.Since(start)
		entries := matrixEntries()
		routes := w.s.web.Routes()
		for _, r := range routes {
			if _, ok := entries[r]; !ok {
				t.Errorf("route %s has no entry in the access matrix", r)
			}
		}
		for r := range entries {
			if !slices.Contains(routes, r) {
				t.Errorf("the matrix has an entry for %s, which the router does not have", r)
			}
		}
		if t.Failed() {
			return
		}
		var cells atomic.Int64
		// Reads first, on the fixture as built; then the writes, each on
		// a record of its own where it should succeed.
		for _, phase := range []string{"read", "write"} {
			t.Run(phase, func(t *testing.T) {
				// The callers at once, eight at a time whatever -parallel
				// says: a cell mostly waits for the store.
				var wg sync.WaitGroup
				sem := make(chan struct{}, 8)
				for _, c := range w.callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						sem <- struct{}{}
						defer func() { <-sem }()
						t.Run(c.name, func(t *testing.T) {
							for _, route := range slices.Sorted(maps.Keys(entries)) {
								e := entries[route]
								if e.write != (phase == "write") {
									continue
								}
								cells.Add(int64(w.runEntry(t, c, route, e)))
							}
						})
					}()
				}
				wg.Wait()
			})
		}
		t.Logf("%d routes, %d callers, %d cells; fixture %v, matrix %v", len(routes), len(w.callers), cells.Load(),
			built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
	})
}

// want is a cell's expected answer.
type want struct {
	status int
	code   string // the API error code of a refusal
	field  string // a field the refusal names
	loc    string // the start of a redirect's Location
}

func ok(status int) want                { return want{status: status} }
func deny(status int, code string) want { return want{status: status, code: code} }

var (
	forbidden  = deny(http.StatusForbidden, crm.EFORBIDDEN)
	notFound   = deny(http.StatusNotFound, crm.ENOTFOUND)
	toLogin    = want{status: http.StatusSeeOther, loc: "/login"}
	invalid    = func(field string) want { return want{status: http.StatusBadRequest, code: crm.EINVALID, field: field} }
	hiddenWant = want{status: http.StatusForbidden, code: crm.EFORBIDDEN, field: "field"}
)

// entry is the matrix's row of one route.
type entry struct {
	write bool // runs in the write phase
	// rec is set for a route on one record: the cell of each relation;
	// more are further requests on the route, each a cell per relation.
	rec  *recEntry
	more []*recEntry
	// role is set for every other route: one cell per caller.
	role func(t *testing.T, w *world, c *caller) (want, reply, error)
}

// recEntry is a route on one record of entity.
type recEntry struct {
	variant string // names a request of entry.more in messages
	entity  string
	ui      bool
	change  bool // a success changes the record: it runs on a fresh copy
	deleted bool // it takes a soft-deleted record
	want    func(w *world, c *caller, r *wrec) want
	do      func(t *testing.T, w *world, c *caller, r *wrec) reply
	// check, when set, checks a successful answer.
	check func(t *testing.T, w *world, c *caller, r *wrec, got reply) error
}

// runEntry runs the cells of one route for one caller and returns their
// number.
func (w *world) runEntry(t *testing.T, c *caller, route string, e entry) int {
	t.Helper()
	if e.role != nil {
		wt, got, err := e.role(t, w, c)
		if wt.status == 0 {
			return 0 // not for this caller
		}
		where := fmt.Sprintf("%s as %s", route, c.name)
		if msg := verdict(wt, got); !judge(t, msg, where) {
			return 1
		}
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		return 1
	}
	n := 0
	for _, re := range append([]*recEntry{e.rec}, e.more...) {
		n += w.runRecordCells(t, c, route, re)
	}
	return n
}

// runRecordCells runs the cells of re, one per relation, for one caller.
func (w *world) runRecordCells(t *testing.T, c *caller, route string, re *recEntry) int {
	t.Helper()
	n := 0
	recs := c.recs[re.entity]
	if re.deleted {
		recs = c.gone[re.entity]
	}
	for _, rel := range slices.Sorted(maps.Keys(recs)) {
		r := recs[rel]
		expect := func(r *wrec) want {
			if re.ui && c.token() {
				return toLogin // a token has no session
			}
			return re.want(w, c, r)
		}
		wt := expect(r)
		if wt.status < 400 && re.change {
			r = w.clone(t, c, r)
			wt = expect(r)
		}
		var before string
		if re.change && wt.status >= 400 {
			before = w.snapshot(t, r)
		}
		got := re.do(t, w, c, r)
		n++
		where := fmt.Sprintf("%s%s as %s on the %s record (%s %d)", route, re.variant, c.name, rel, r.entity, r.id)
		if !judge(t, verdict(wt, got), where) {
			continue
		}
		if before != "" {
			if after := w.snapshot(t, r); after != before {
				t.Errorf("%s: refused with %d, but the record changed:\n before %s\n after  %s", where, got.status, before, after)
			}
		}
		if wt.status < 300 && re.check != nil {
			if err := re.check(t, w, c, r, got); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	}
	return n
}

// judge reports a cell whose verdict is msg ("" when it agrees with the
// oracle) and tells whether to go on checking it.
func judge(t *testing.T, msg, where string) bool {
	t.Helper()
	if msg != "" {
		t.Errorf("%s: %s", where, msg)
		return false
	}
	return true
}

// verdict compares an answer with the expected one; "" when they agree.
func verdict(wt want, got reply) string {
	if got.status != wt.status {
		return fmt.Sprintf("got %d, want %d%s: %.300s", got.status, wt.status, codeText(wt), got.body)
	}
	if wt.code != "" && strings.HasPrefix(got.header.Get("Content-Type"), "application/json") && got.errCode() != wt.code {
		return fmt.Sprintf("error code %q, want %q: %.300s", got.errCode(), wt.code, got.body)
	}
	if wt.field != "" && strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
		var b struct {
			Error struct{ Fields map[string]string } `json:"error"`
		}
		if json.Unmarshal([]byte(got.body), &b) != nil || b.Error.Fields[wt.field] == "" {
			return fmt.Sprintf("the refusal does not name %s: %.300s", wt.field, got.body)
		}
	}
	if wt.loc != "" && !strings.HasPrefix(got.header.Get("Location"), wt.loc) {
		return fmt.Sprintf("redirect to %q, want %s…", got.header.Get("Location"), wt.loc)
	}
	return ""
}

func codeText(wt want) string {
	if wt.code == "" {
		return ""
	}
	return " " + wt.code
}

// The oracle's answers for the verbs on one record.

func wantRead(w *world, c *caller, r *wrec) want {
	switch {
	case !c.may("read"):
		return forbidden
	case !w.reads(c, r):
		return notFound
	}
	return ok(http.StatusOK)
}

// wantUpdate is the answer to a change of fields (all editable unless the
// role masks or hides one: 400 naming it, before the record is looked up).
func wantUpdate(w *world, c *caller, r *wrec, fields []string, status int) want {
	if !c.may("update") {
		return forbidden
	}
	for _, f := range fields {
		if !c.editable(r.entity, f) {
			return invalid(f)
		}
	}
	switch {
	case !w.reads(c, r):
		return notFound
	case !w.writes(c, r):
		return forbidden
	}
	return ok(status)
}

func wantControl(w *world, c *caller, r *wrec, verb string, status int) want {
	switch {
	case !c.may(verb):
		return forbidden
	case !w.reads(c, r):
		return notFound
	case !w.controls(c, r, verb):
		return forbidden
	}
	return ok(status)
}

// wantTransfer: a change of owner is a change of the record (update, on a
// record the caller may change: 403 or 404 as for any change) and the
// transfer verb on a record the caller controls (403 naming owner_id).
func wantTransfer(w *world, c *caller, r *wrec) want {
	wt := wantUpdate(w, c, r, nil, http.StatusOK)
	if wt.status == http.StatusOK && !w.controls(c, r, "transfer") {
		return want{status: http.StatusForbidden, code: crm.EFORBIDDEN, field: "owner_id"}
	}
	return wt
}

// wantRestore: a deleted record is read by nobody; whoever controls it may
// restore it, and for everyone else it does not exist.
func wantRestore(w *world, c *caller, r *wrec) want {
	switch {
	case !c.may("delete"):
		return forbidden
	case !w.controls(c, r, "delete"):
		return notFound
	}
	return ok(http.StatusOK)
}

// revealField is the protected field the matrix reveals per entity.
var revealField = map[string]string{"contact": "phone", "company": "phone", "deal": "notes", "activity": "body", "task": "description"}

func wantReveal(w *world, c *caller, r *wrec) want {
	f := revealField[r.entity]
	switch {
	case !c.may("read"):
		return forbidden
	case c.level(r.entity, f) == "hidden":
		return hiddenWant
	case c.level(r.entity, f) != "masked":
		return invalid("field")
	case c.token():
		return forbidden
	case !w.reads(c, r):
		return notFound
	}
	return ok(http.StatusOK)
}

// wantErase: erasing a client for good (ENC-5) is for administrators'
// browser sessions alone (an API token never erases); an administrator
// controls every record, live or in the bin.
func wantErase(w *world, c *caller, r *wrec) want {
	if c.role != crm.RoleAdmin || c.token() {
		return forbidden
	}
	return ok(http.StatusOK)
}

// eraseEntries is the erase route of a client collection: a success
// leaves nothing of the record, live or in the bin, and a ledger entry.
func eraseEntries(m map[string]entry, base, entity string) {
	erase := func(deleted bool) *recEntry {
		variant := ""
		if deleted {
			variant = " (in the bin)"
		}
		return &recEntry{entity: entity, change: true, deleted: deleted, variant: variant, want: wantErase,
			do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
				return w.send(t, c, "POST", recPath(r, "/erase"), nil)
			},
			check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
				if snap := w.snapshot(t, r); snap != "gone" {
					return fmt.Errorf("200, but the record is still there: %s", snap)
				}
				var e crm.Erasure
				if err := json.Unmarshal([]byte(got.body), &e); err != nil || e.Entity != entity || e.RecordID != r.id || e.ErasedBy != c.user.ID {
					return fmt.Errorf("the answer is not the ledger entry of %s %d: %s", entity, r.id, got.body)
				}
				return nil
			}}
	}
	m["POST "+base+"/{id}/erase"] = entry{write: true, rec: erase(false), more: []*recEntry{erase(true)}}
}

// updateBody changes one field every role that may update may edit.
var updateBody = map[string]string{"contact": `{"title":"Dr"}`, "company": `{"industry":"Retail"}`,
	"deal": `{"amount":"10.00"}`, "activity": `{"subject":"Called back"}`, "task": `{"title":"Call back"}`}
var updateField = map[string]string{"contact": "title", "company": "industry", "deal": "amount", "activity": "subject", "task": "title"}

// matrixEntries is the matrix: an entry per route of the router.
func matrixEntries() map[string]entry {
	m := map[string]entry{}
	for _, entity := range entityOrder {
		recordEntries(m, entity)
	}
	contactEntries(m)
	roleEntries(m)
	return m
}

func recPath(r *wrec, suffix string) string {
	return fmt.Sprintf("/api/v1/%s/%d%s", collectionOf[r.entity], r.id, suffix)
}

// recordEntries are the routes every collection has on one record.
func recordEntries(m map[string]entry, entity string) {
	base := "/api/v1/" + collectionOf[entity]
	get := func(suffix string) func(t *testing.T, w *world, c *caller, r *wrec) reply {
		return func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "GET", recPath(r, suffix), nil)
		}
	}
	m["GET "+base+"/{id}"] = entry{rec: &recEntry{entity: entity, want: wantRead, do: get(""),
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			return checkRecordBody(c, r, got.body)
		}}}
	m["PATCH "+base+"/{id}"] = entry{write: true, rec: &recEntry{entity: entity, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			return wantUpdate(w, c, r, []string{updateField[entity]}, http.StatusOK)
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "PATCH", recPath(r, ""), updateBody[entity])
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if got.header.Get("ETag") != `"v2"` {
				return fmt.Errorf("ETag %q after the first change", got.header.Get("ETag"))
			}
			if entity == "contact" {
				r.raw["title"] = "Dr" // r is the cell's own copy
			}
			return checkRecordBody(c, r, got.body)
		}}}
	// A transfer is a change of owner_id (the transfer verb), on a record
	// the caller controls; the record's team follows its new owner.
	patch := m["PATCH "+base+"/{id}"]
	patch.more = append(patch.more, &recEntry{variant: " (transfer)", entity: entity, change: true, want: wantTransfer,
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "PATCH", recPath(r, ""), fmt.Sprintf(`{"owner_id":%d}`, c.g.grantee.ID))
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			var b struct {
				OwnerID int64  `json:"owner_id"`
				TeamID  *int64 `json:"team_id"`
			}
			if err := json.Unmarshal([]byte(got.body), &b); err != nil || b.OwnerID != c.g.grantee.ID || b.TeamID != nil {
				return fmt.Errorf("after the transfer to a user without a team: %s", got.body)
			}
			return nil
		}})
	m["PATCH "+base+"/{id}"] = patch
	m["DELETE "+base+"/{id}"] = entry{write: true, rec: &recEntry{entity: entity, change: true,
		want: func(w *world, c *caller, r *wrec) want { return wantControl(w, c, r, "delete", http.StatusNoContent) },
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "DELETE", recPath(r, ""), nil)
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if !strings.Contains(w.snapshot(t, r), `"deleted_at":"`) {
				return fmt.Errorf("204, but the record is not deleted")
			}
			return nil
		}}}
	m["POST "+base+"/{id}/restore"] = entry{write: true, rec: &recEntry{entity: entity, change: true, deleted: true, want: wantRestore,
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", recPath(r, "/restore"), nil)
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if strings.Contains(w.snapshot(t, r), `"deleted_at":"`) {
				return fmt.Errorf("200, but the record is still deleted")
			}
			return checkRecordBody(c, r, got.body)
		}}}
	m["GET "+base+"/{id}/shares"] = entry{rec: &recEntry{entity: entity, do: get("/shares"),
		want: func(w *world, c *caller, r *wrec) want { return wantControl(w, c, r, "read", http.StatusOK) },
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			var b struct{ Items []crm.Share }
			if err := json.Unmarshal([]byte(got.body), &b); err != nil {
				return err
			}
			var ids, want []int64
			for _, s := range b.Items {
				ids = append(ids, s.ID)
				if s.RecordID != r.id || s.Entity != entity {
					return fmt.Errorf("a share of another record: %+v", s)
				}
			}
			for _, s := range r.shares {
				want = append(want, s.id)
			}
			slices.Sort(ids)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				return fmt.Errorf("shares %v, want %v", ids, want)
			}
			return nil
		}}}
	m["POST "+base+"/{id}/shares"] = entry{write: true, rec: &recEntry{entity: entity, change: true,
		want: func(w *world, c *caller, r *wrec) want { return wantControl(w, c, r, "share", http.StatusCreated) },
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", recPath(r, "/shares"), fmt.Sprintf(`{"user_id":%d,"access":"read"}`, c.g.grantee.ID))
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if !strings.Contains(w.snapshot(t, r), fmt.Sprintf(" %d - read", c.g.grantee.ID)) {
				return fmt.Errorf("201, but the store has no such share: %s", got.body)
			}
			return nil
		}}}
	m["DELETE "+base+"/{id}/shares/{share_id}"] = entry{write: true, rec: &recEntry{entity: entity, change: true,
		want: func(w *world, c *caller, r *wrec) want { return wantControl(w, c, r, "share", http.StatusNoContent) },
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "DELETE", recPath(r, fmt.Sprintf("/shares/%d", r.bystand)), nil)
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if strings.Contains(w.snapshot(t, r), fmt.Sprintf("share %d ", r.bystand)) {
				return fmt.Errorf("204, but the share is still there")
			}
			return nil
		}}}
	if entity == "contact" || entity == "company" {
		eraseEntries(m, base, entity)
	}
	m["POST "+base+"/{id}/reveal"] = entry{rec: &recEntry{entity: entity, want: wantReveal,
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", recPath(r, "/reveal"), `{"field":"`+revealField[entity]+`"}`)
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			var b struct{ Field, Value string }
			if err := json.Unmarshal([]byte(got.body), &b); err != nil || b.Value != r.raw[revealField[entity]] {
				return fmt.Errorf("revealed %q, want %q", b.Value, r.raw[revealField[entity]])
			}
			if got.header.Get("Cache-Control") != "no-store" {
				return fmt.Errorf("a revealed value may be cached")
			}
			return nil
		}}}
}

// checkRecordBody checks one record of a JSON answer.
func checkRecordBody(c *caller, r *wrec, body string) error {
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		return err
	}
	if id, _ := got["id"].(float64); int64(id) != r.id {
		return fmt.Errorf("the answer is record %v, not %d", got["id"], r.id)
	}
	return checkFields(c, r, got)
}

// checkPage checks the protected fields of an HTML page about r: a hidden
// or masked value never appears, a mask does.
func checkPage(c *caller, r *wrec, body string) error {
	text := html.UnescapeString(body)
	for _, f := range protectedFields[r.entity] {
		raw := r.raw[f]
		switch c.level(r.entity, f) {
		case "hidden":
			if strings.Contains(text, raw) {
				return fmt.Errorf("the page shows the hidden %s %q", f, raw)
			}
		case "masked":
			if strings.Contains(text, raw) {
				return fmt.Errorf("the page shows the masked %s %q", f, raw)
			}
			if !strings.Contains(text, maskOf(f, raw)) {
				return fmt.Errorf("the page does not show the mask %q of %s", maskOf(f, raw), f)
			}
		}
	}
	return nil
}

// companyShown checks a page about the group's contacts: the name of
// their company appears where the caller reads the company, and never
// where it does not (ACL-2: a contact shows nothing of a company the
// caller may not see).
func companyShown(w *world, c *caller, body string) error {
	name := c.g.company.raw["name"]
	if shown := strings.Contains(body, name); shown != w.reads(c, c.g.company) {
		return fmt.Errorf("the page shows the company name %s: %v, the caller reads the company: %v", name, shown, !shown)
	}
	return nil
}

// noLeak checks a page that lists r: no value r's fields hold that the
// caller sees masked or not at all.
func noLeak(c *caller, r *wrec, body string) error {
	text := html.UnescapeString(body)
	for _, f := range protectedFields[r.entity] {
		if c.level(r.entity, f) != "shown" && strings.Contains(text, r.raw[f]) {
			return fmt.Errorf("the page shows the %s %s %q of %s %d", c.level(r.entity, f), f, r.raw[f], r.entity, r.id)
		}
	}
	return nil
}

// contactEntries are the routes of contacts only: the timeline and the
// consents, and the UI's contact pages.
func contactEntries(m map[string]entry) {
	m["GET /api/v1/contacts/{id}/timeline"] = entry{rec: &recEntry{entity: "contact", want: wantRead,
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "GET", recPath(r, "/timeline"), nil)
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			// Whoever reads the contact reads its whole timeline (ACL-2),
			// notes of others included.
			var b struct{ Items []map[string]any }
			if err := json.Unmarshal([]byte(got.body), &b); err != nil {
				return err
			}
			var ids []int64
			for _, a := range b.Items {
				id := int64(a["id"].(float64))
				ids = append(ids, id)
				if err := checkFields(c, w.rec("activity", id), a); err != nil {
					return fmt.Errorf("activity %d: %v", id, err)
				}
			}
			slices.Sort(ids)
			if want := w.timeline(r.id); !slices.Equal(ids, want) {
				return fmt.Errorf("timeline %v, want %v", ids, want)
			}
			return nil
		}}}
	m["GET /api/v1/contacts/{id}/consents"] = entry{rec: &recEntry{entity: "contact", want: wantRead,
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "GET", recPath(r, "/consents"), nil)
		}}}
	m["POST /api/v1/contacts/{id}/consents"] = entry{write: true, rec: &recEntry{entity: "contact", change: true,
		want: func(w *world, c *caller, r *wrec) want { return wantUpdate(w, c, r, nil, http.StatusCreated) },
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", recPath(r, "/consents"), `{"purpose":"newsletter","granted":true}`)
		}}}

	page := func(suffix string) func(t *testing.T, w *world, c *caller, r *wrec) reply {
		return func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "GET", fmt.Sprintf("/contacts/%d%s", r.id, suffix), nil)
		}
	}
	pageCheck := func(t *testing.T, w *world, c *caller, r *wrec, got reply) error { return checkPage(c, r, got.body) }
	m["GET /contacts/{id}"] = entry{rec: &recEntry{entity: "contact", ui: true, want: wantRead, do: page(""),
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			// The whole timeline, with each activity's body as the role
			// sees it.
			for _, id := range w.timeline(r.id) {
				a := w.rec("activity", id)
				if !strings.Contains(got.body, a.raw["subject"]) {
					return fmt.Errorf("the page does not show the timeline's activity %d", id)
				}
				if err := checkPage(c, a, got.body); err != nil {
					return fmt.Errorf("activity %d: %v", id, err)
				}
			}
			if err := companyShown(w, c, got.body); err != nil {
				return err
			}
			return checkPage(c, r, got.body)
		}}}
	// The forms of a verb are for whoever may do it to the record.
	m["GET /contacts/{id}/edit"] = entry{rec: &recEntry{entity: "contact", ui: true, want: func(w *world, c *caller, r *wrec) want {
		return wantUpdate(w, c, r, nil, http.StatusOK)
	}, do: page("/edit"), check: pageCheck}}
	m["GET /contacts/{id}/delete"] = entry{rec: &recEntry{entity: "contact", ui: true, want: func(w *world, c *caller, r *wrec) want {
		return wantControl(w, c, r, "delete", http.StatusOK)
	}, do: page("/delete")}}
	m["POST /contacts/{id}"] = entry{write: true, rec: &recEntry{entity: "contact", ui: true, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			// The form sends only the fields the role may edit; a crafted
			// value of another is ignored, and the company, which the
			// caller may not see, stays locked.
			wt := wantUpdate(w, c, r, nil, http.StatusSeeOther)
			if wt.status == http.StatusSeeOther {
				wt.loc = fmt.Sprintf("/contacts/%d?notice=updated", r.id)
			}
			return wt
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			f := c.form("version", "1", "first_name", "Ivan", "last_name", "Edited", "email", "ivan@example.com",
				"phone", "+79160000000", "title", "Dr", "address", "Lenina 1, Kazan", "birthday", "1990-01-02", "notes", "edited",
				"company_locked", "1")
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d", r.id), f)
		}}}
	m["POST /contacts/{id}/delete"] = entry{write: true, rec: &recEntry{entity: "contact", ui: true, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			wt := wantControl(w, c, r, "delete", http.StatusSeeOther)
			if wt.status == http.StatusSeeOther {
				wt.loc = "/contacts?notice=deleted"
			}
			return wt
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/delete", r.id), c.form())
		}}}
	// The page's erasure (ENC-5): for administrators, who control every
	// contact; the form must carry the contact's name, typed again.
	m["GET /contacts/{id}/erase"] = entry{rec: &recEntry{entity: "contact", ui: true, want: wantErase, do: page("/erase")}}
	m["POST /contacts/{id}/erase"] = entry{write: true, rec: &recEntry{entity: "contact", ui: true, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			wt := wantErase(w, c, r)
			if wt.status == http.StatusOK {
				wt = want{status: http.StatusSeeOther, loc: "/contacts?notice=erased"}
			}
			return wt
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			// A wrong name erases nothing (a token has no session: the
			// page sends it to sign in).
			wrong := w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/erase", r.id), c.form("confirm", "someone else"))
			if wantErase(w, c, r).status == http.StatusOK && wrong.status != http.StatusBadRequest {
				t.Errorf("erase with a wrong name: %d", wrong.status)
			}
			if w.snapshot(t, r) == "gone" {
				t.Errorf("erase with a wrong name: contact %d is gone", r.id)
			}
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/erase", r.id), c.form("confirm", w.contactName(t, r)))
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if snap := w.snapshot(t, r); snap != "gone" {
				return fmt.Errorf("303, but the contact is still there: %s", snap)
			}
			return nil
		}}}
	// The page's reveal, sharing and revoking: the API's rules, answered
	// with the page or a redirect to it.
	m["POST /contacts/{id}/reveal"] = entry{rec: &recEntry{entity: "contact", ui: true, want: wantReveal,
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/reveal", r.id), c.form("field", revealField["contact"]))
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if !strings.Contains(html.UnescapeString(got.body), r.raw[revealField["contact"]]) {
				return fmt.Errorf("the page does not show the revealed %s", revealField["contact"])
			}
			return nil
		}}}
	m["POST /contacts/{id}/shares"] = entry{write: true, rec: &recEntry{entity: "contact", ui: true, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			wt := wantControl(w, c, r, "share", http.StatusSeeOther)
			if wt.status == http.StatusSeeOther {
				wt.loc = fmt.Sprintf("/contacts/%d?notice=shared", r.id)
			}
			return wt
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/shares", r.id), c.form("grantee", fmt.Sprintf("u:%d", c.g.grantee.ID), "access", "read"))
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if !strings.Contains(w.snapshot(t, r), fmt.Sprintf(" %d - read", c.g.grantee.ID)) {
				return fmt.Errorf("303, but the store has no such share")
			}
			return nil
		}}}
	m["POST /contacts/{id}/shares/{share_id}/revoke"] = entry{write: true, rec: &recEntry{entity: "contact", ui: true, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			wt := wantControl(w, c, r, "share", http.StatusSeeOther)
			if wt.status == http.StatusSeeOther {
				wt.loc = fmt.Sprintf("/contacts/%d?notice=unshared", r.id)
			}
			return wt
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/shares/%d/revoke", r.id, r.bystand), c.form())
		},
		check: func(t *testing.T, w *world, c *caller, r *wrec, got reply) error {
			if strings.Contains(w.snapshot(t, r), fmt.Sprintf("share %d ", r.bystand)) {
				return fmt.Errorf("303, but the share is still there")
			}
			return nil
		}}}
	m["POST /contacts/{id}/activities"] = entry{write: true, rec: &recEntry{entity: "contact", ui: true, change: true,
		want: func(w *world, c *caller, r *wrec) want {
			switch {
			case !c.may("create"):
				return forbidden
			case !w.reads(c, r):
				return notFound
			}
			return want{status: http.StatusSeeOther, loc: fmt.Sprintf("/contacts/%d?notice=activity", r.id)}
		},
		do: func(t *testing.T, w *world, c *caller, r *wrec) reply {
			return w.send(t, c, "POST", fmt.Sprintf("/contacts/%d/activities", r.id), c.form("type", "note", "subject", "Logged"))
		}}}
}

// listIDs pages through a list as c and returns the ids it gave and the
// first answer; each record of a page is checked field by field.
func listIDs(t *testing.T, w *world, c *caller, entity, query string) ([]int64, reply, error) {
	t.Helper()
	var ids []int64
	var first reply
	cursor := ""
	for page := 0; ; page++ {
		q := url.Values{"limit": {"100"}}
		if query != "" {
			extra, _ := url.ParseQuery(query)
			for k, v := range extra {
				q[k] = v
			}
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		got := w.send(t, c, "GET", "/api/v1/"+collectionOf[entity]+"?"+q.Encode(), nil)
		if page == 0 {
			first = got
		}
		if got.status != http.StatusOK {
			return nil, got, nil
		}
		var b struct {
			Items      []map[string]any
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(got.body), &b); err != nil {
			return nil, first, err
		}
		for _, it := range b.Items {
			id := int64(it["id"].(float64))
			ids = append(ids, id)
			if r := w.rec(entity, id); r != nil && !w.isDeleted(r) {
				if err := checkFields(c, r, it); err != nil {
					return nil, first, fmt.Errorf("%s %d in the list: %v", entity, id, err)
				}
			}
		}
		if b.NextCursor == "" {
			break
		}
		if page > 50 {
			return nil, first, fmt.Errorf("more than 50 pages")
		}
		cursor = b.NextCursor
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, first, nil
}

// sameIDs compares a list's ids with the oracle's.
func sameIDs(got, want []int64) error {
	if slices.Equal(got, want) {
		return nil
	}
	var extra, missing []int64
	for _, id := range got {
		if !slices.Contains(want, id) {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if !slices.Contains(got, id) {
			missing = append(missing, id)
		}
	}
	return fmt.Errorf("%d records, want %d: not visible but listed %v, visible but missing %v", len(got), len(want), extra, missing)
}
