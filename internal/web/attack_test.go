package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/service"
)

// Targeted attacks on access control (SECURITY.md section 5, the ACL-5
// part of issue 11), against the real router, services and store on both
// backends. Each asserts the answer (status, error code, field) and that
// the store is as it was.

// TestAttacks runs the attacks that share the matrix's world; the ones
// that move the clock run last.
func TestAttacks(t *testing.T) {
	onBackends(t, func(t *testing.T, newStore func(t *testing.T) crm.Store) {
		w := newWorld(t, newStore(t))
		w.newStore = newStore
		t.Run("IDOR", func(t *testing.T) { attackIDOR(t, w) })
		t.Run("MassAssignment", func(t *testing.T) { attackMassAssignment(t, w) })
		t.Run("CaseVariantKey", func(t *testing.T) { attackCaseVariantKey(t, w) })
		t.Run("ProtectedFilters", func(t *testing.T) { attackProtectedFilters(t, w) })
		t.Run("Cursor", func(t *testing.T) { attackCursor(t, w) })
		t.Run("SearchProbing", func(t *testing.T) { attackSearchProbing(t, w) })
		t.Run("ExpiredShare", func(t *testing.T) { attackExpiredShare(t, w) })
		t.Run("SiblingManager", func(t *testing.T) { attackSiblingManager(t, w) })
		t.Run("RevokedMidSession", func(t *testing.T) { attackRevokedMidSession(t, w) })
		t.Run("ShareAndTransferBySharee", func(t *testing.T) { attackShareAndTransferBySharee(t, w) })
		t.Run("Reveal", func(t *testing.T) { attackReveal(t, w) })
		t.Run("OwnRole", func(t *testing.T) { attackOwnRole(t, w) })
		t.Run("GrantMoreThanHeld", func(t *testing.T) { attackGrantMoreThanHeld(t, w) })
		t.Run("VerbTampering", func(t *testing.T) { attackVerbTampering(t, w) })
		t.Run("StaleStepUp", func(t *testing.T) { attackStaleStepUp(t, w) }) // moves the clock
	})
}

// caller returns the world's caller of that name ("sales/member").
func (w *world) caller(t *testing.T, name string) *caller {
	t.Helper()
	for _, c := range w.callers {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no caller %s", name)
	return nil
}

// expect checks an answer's status, error code and named field.
func expect(t *testing.T, what string, got reply, status int, code, field string) {
	t.Helper()
	if msg := verdict(want{status: status, code: code, field: field}, got); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

// unchanged fails when r is not as snapshot before.
func (w *world) unchanged(t *testing.T, what string, r *wrec, before string) {
	t.Helper()
	if after := w.snapshot(t, r); after != before {
		t.Errorf("%s changed the record:\n before %s\n after  %s", what, before, after)
	}
}

// attackIDOR is attack 1 (ASVS v5.0.0-8.2.2, 8.4.1; WSTG-ATHZ-04; API1:2023):
// a sales user replays every verb with the ids of another team's records,
// and hides them inside nested ids (a share of another record, links to
// records it cannot see, filters by another owner or company): 404 or a
// 400 naming the link, never another's data, and nothing changed.
func attackIDOR(t *testing.T, w *world) {
	c := w.caller(t, "sales/member")
	for _, entity := range entityOrder {
		r := c.recs[entity]["other"]
		before := w.snapshot(t, r)
		coll := collectionOf[entity]
		for _, x := range []struct{ method, suffix, body string }{
			{"GET", "", ""}, {"PATCH", "", updateBody[entity]}, {"DELETE", "", ""},
			{"GET", "/shares", ""}, {"POST", "/shares", fmt.Sprintf(`{"user_id":%d}`, c.user.ID)},
			{"DELETE", fmt.Sprintf("/shares/%d", r.bystand), ""}, {"POST", "/reveal", `{"field":"` + revealField[entity] + `"}`},
		} {
			var body any
			if x.body != "" {
				body = x.body
			}
			got := w.send(t, c, x.method, recPath(r, x.suffix), body)
			what := fmt.Sprintf("%s %s%s of another team's %s", x.method, coll, x.suffix, entity)
			if x.suffix == "/reveal" && c.level(entity, revealField[entity]) != "masked" {
				// Nothing is masked for sales: refused before the record is
				// looked up, so its existence does not show either.
				expect(t, what, got, http.StatusBadRequest, crm.EINVALID, "field")
			} else {
				expect(t, what, got, http.StatusNotFound, crm.ENOTFOUND, "")
			}
			for _, v := range r.raw {
				if strings.Contains(got.body, v) {
					t.Errorf("%s: the answer shows %q", what, v)
				}
			}
		}
		gone := c.gone[entity]["other"]
		goneBefore := w.snapshot(t, gone)
		expect(t, "restoring another team's deleted "+entity, w.send(t, c, "POST", recPath(gone, "/restore"), nil), http.StatusNotFound, crm.ENOTFOUND, "")
		w.unchanged(t, "restoring another team's deleted "+entity, gone, goneBefore)
		w.unchanged(t, "the verbs on another team's "+entity, r, before)
	}
	contact := c.recs["contact"]["other"]
	before := w.snapshot(t, contact)
	for _, x := range []struct{ method, suffix, body string }{
		{"GET", "/timeline", ""}, {"GET", "/consents", ""}, {"POST", "/consents", `{"purpose":"calls","granted":true}`},
	} {
		var body any
		if x.body != "" {
			body = x.body
		}
		expect(t, x.method+" contacts"+x.suffix+" of another team's contact", w.send(t, c, x.method, recPath(contact, x.suffix), body),
			http.StatusNotFound, crm.ENOTFOUND, "")
	}
	for _, x := range []struct{ method, path string }{
		{"GET", "/contacts/%d"}, {"GET", "/contacts/%d/edit"}, {"GET", "/contacts/%d/delete"},
		{"POST", "/contacts/%d"}, {"POST", "/contacts/%d/delete"}, {"POST", "/contacts/%d/activities"},
	} {
		var body any
		if x.method == "POST" {
			body = c.form("version", "1", "first_name", "X", "last_name", "Y", "type", "note", "subject", "S")
		}
		if got := w.send(t, c, x.method, fmt.Sprintf(x.path, contact.id), body); got.status != http.StatusNotFound {
			t.Errorf("UI %s %s of another team's contact: %d, want 404", x.method, x.path, got.status)
		}
	}
	w.unchanged(t, "the contact routes on another team's contact", contact, before)

	// A share id of another record, under the caller's own record.
	own := c.recs["contact"]["own"]
	ownBefore := w.snapshot(t, own)
	expect(t, "revoking another record's share through one's own record",
		w.send(t, c, "DELETE", recPath(own, fmt.Sprintf("/shares/%d", contact.bystand)), nil), http.StatusNotFound, crm.ENOTFOUND, "")
	w.unchanged(t, "revoking another record's share through one's own record", contact, before)
	w.unchanged(t, "revoking another record's share through one's own record", own, ownBefore)

	// Links to records the caller cannot see: a 400 naming the link,
	// nothing written.
	mark := fmt.Sprintf("Idor%05d", w.next())
	for _, x := range []struct{ path, body, field, entity string }{
		{"/api/v1/activities", fmt.Sprintf(`{"type":"note","subject":"%s","contact_id":%d}`, mark, contact.id), "contact_id", "activity"},
		{"/api/v1/activities", fmt.Sprintf(`{"type":"note","subject":"%s","deal_id":%d}`, mark, c.recs["deal"]["other"].id), "deal_id", "activity"},
		{"/api/v1/deals", fmt.Sprintf(`{"title":"%s","stage_id":%d,"company_id":%d}`, mark, w.stage, c.g.company.id), "company_id", "deal"},
		{"/api/v1/tasks", fmt.Sprintf(`{"title":"%s","contact_id":%d}`, mark, contact.id), "contact_id", "task"},
		{"/api/v1/contacts", fmt.Sprintf(`{"last_name":"%s","company_id":%d}`, mark, c.g.company.id), "company_id", "contact"},
	} {
		expect(t, "creating with "+x.field+" of another team", w.send(t, c, "POST", x.path, x.body), http.StatusBadRequest, crm.EINVALID, x.field)
		if n := w.countMarked(t, x.entity, mark); n != 0 {
			t.Errorf("creating with %s of another team: refused, but %d records written", x.field, n)
		}
	}
	task := c.recs["task"]["own"]
	taskBefore := w.snapshot(t, task)
	expect(t, "linking one's task to another team's deal", w.send(t, c, "PATCH", recPath(task, ""), fmt.Sprintf(`{"deal_id":%d}`, c.recs["deal"]["other"].id)),
		http.StatusBadRequest, crm.EINVALID, "deal_id")
	w.unchanged(t, "linking one's task to another team's deal", task, taskBefore)
	expect(t, "moving one's contact to another team's company", w.send(t, c, "PATCH", recPath(own, ""), fmt.Sprintf(`{"company_id":%d}`, c.recs["company"]["other"].id)),
		http.StatusBadRequest, crm.EINVALID, "company_id")
	w.unchanged(t, "moving one's contact to another team's company", own, ownBefore)

	// Filters naming another owner, company or contact select among the
	// caller's records only.
	visible := w.visible(c, "contact")
	for _, q := range []string{fmt.Sprintf("owner_id=%d", c.g.other.ID), fmt.Sprintf("company_id=%d", c.g.company.id)} {
		ids, got, err := listIDs(t, w, c, "contact", q)
		if err != nil || got.status != http.StatusOK {
			t.Fatalf("?%s: %d %v", q, got.status, err)
		}
		for _, id := range ids {
			if !slices.Contains(visible, id) {
				t.Errorf("?%s lists contact %d, which the caller may not read", q, id)
			}
		}
	}
	if ids, _, err := listIDs(t, w, c, "activity", fmt.Sprintf("contact_id=%d", contact.id)); err != nil || len(ids) != 0 {
		t.Errorf("?contact_id= of another team's contact lists its activities: %v %v", ids, err)
	}
}

// attackMassAssignment is attack 2 (ASVS v5.0.0-15.3.3, 8.2.3, 1.5.3;
// WSTG-INPV-20) and 26 (parser disagreement): bodies that set what no
// client sets (team, role, shares, masks, authorship, version, deletion,
// ids), duplicate keys, and keys that differ only by case or Unicode
// folding: 400 naming the key, nothing written. owner_id is a field of
// the input, whose change is the transfer verb: a role without it gets
// 403 naming owner_id.
func attackMassAssignment(t *testing.T, w *world) {
	c := w.caller(t, "sales/member")
	own := c.recs["contact"]["own"]
	for _, x := range []struct {
		body   string
		status int
		field  string
	}{
		{fmt.Sprintf(`{"owner_id":%d}`, c.g.mate.ID), http.StatusForbidden, "owner_id"},
		{`{"team_id":1}`, http.StatusBadRequest, "team_id"},
		{`{"role":"admin"}`, http.StatusBadRequest, "role"},
		{fmt.Sprintf(`{"shares":[{"user_id":%d,"access":"write"}]}`, c.g.mate.ID), http.StatusBadRequest, "shares"},
		{`{"masked":[]}`, http.StatusBadRequest, "masked"},
		{`{"created_by":1}`, http.StatusBadRequest, "created_by"},
		{`{"version":99}`, http.StatusBadRequest, "version"},
		{`{"deleted_at":"2020-01-01T00:00:00Z"}`, http.StatusBadRequest, "deleted_at"},
		{`{"created_at":"2020-01-01T00:00:00Z"}`, http.StatusBadRequest, "created_at"},
		{`{"id":1}`, http.StatusBadRequest, "id"},
		{`{"title":"A","title":"B"}`, http.StatusBadRequest, "title"},
		{`{"title":"A","TITLE":"B"}`, http.StatusBadRequest, "TITLE"},
		{`{"last_name":"A","laſt_name":"B"}`, http.StatusBadRequest, "laſt_name"},
		{`{"title":"A","preferences":{"channel":"sms","Channel":"email"}}`, http.StatusBadRequest, "Channel"},
	} {
		before := w.snapshot(t, own)
		got := w.send(t, c, "PATCH", recPath(own, ""), x.body)
		code := crm.EINVALID
		if x.status == http.StatusForbidden {
			code = crm.EFORBIDDEN
		}
		expect(t, "PATCH "+x.body, got, x.status, code, x.field)
		w.unchanged(t, "PATCH "+x.body, own, before)
		mark := fmt.Sprintf("Mass%05d", w.next())
		body := `{"first_name":"` + mark + `",` + strings.TrimPrefix(x.body, "{")
		expect(t, "POST "+body, w.send(t, c, "POST", "/api/v1/contacts", body), x.status, code, x.field)
		if n := w.countMarked(t, "contact", mark); n != 0 {
			t.Errorf("POST %s: refused, but %d contacts written", body, n)
		}
	}
	// A share and a role carry no authorship or built-in flag either.
	sales := w.caller(t, "sales/lead")
	r := sales.recs["contact"]["own"]
	before := w.snapshot(t, r)
	expect(t, "a share with created_by", w.send(t, sales, "POST", recPath(r, "/shares"), fmt.Sprintf(`{"user_id":%d,"created_by":%d}`, sales.g.grantee.ID, sales.g.mate.ID)),
		http.StatusBadRequest, crm.EINVALID, "created_by")
	expect(t, "a share with expired", w.send(t, sales, "POST", recPath(r, "/shares"), fmt.Sprintf(`{"user_id":%d,"expired":false,"expires_at":"2000-01-01T00:00:00Z"}`, sales.g.grantee.ID)),
		http.StatusBadRequest, crm.EINVALID, "expired")
	expect(t, "a share that expired already", w.send(t, sales, "POST", recPath(r, "/shares"), fmt.Sprintf(`{"user_id":%d,"expires_at":"2000-01-01T00:00:00Z"}`, sales.g.grantee.ID)),
		http.StatusBadRequest, crm.EINVALID, "expires_at")
	w.unchanged(t, "the refused shares", r, before)
	admin := w.caller(t, "admin/lead")
	expect(t, "a role that says it is built in", w.send(t, admin, "POST", "/api/v1/roles", `{"name":"sneaky","permissions":["contacts.read"],"builtin":true}`),
		http.StatusBadRequest, crm.EINVALID, "builtin")
	if _, err := w.s.idn.FindRole(context.Background(), crm.SystemPrincipal(), "sneaky"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("the refused role exists: %v", err)
	}
	u := w.user(t, fmt.Sprintf("massuser-%d", w.next()), crm.RoleSales)
	for _, body := range []string{`{"is_admin":true}`, `{"password":"a long enough new password"}`, `{"name":"X","NAME":"Y"}`, `{"team_id":1}`} {
		got := w.send(t, admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", u.ID), body)
		expect(t, "PATCH a user "+body, got, http.StatusBadRequest, crm.EINVALID, "")
	}
	if after, err := w.s.idn.FindUserByID(context.Background(), crm.SystemPrincipal(), u.ID); err != nil || after.Name != u.Name ||
		after.PasswordHash != u.PasswordHash || after.TeamID != nil {
		t.Errorf("refused user updates changed the user: %+v %v", after, err)
	}
}

// attackCaseVariantKey: a key that differs from a field's name only by
// case or Unicode folding ("TITLE", "laſt_name", "OWNER_ID"), alone, is
// refused with 400 (ASVS v5.0.0-1.5.3; SECURITY.md attack 26): a proxy or
// client library that reads keys exactly would read another body than the
// server.
func attackCaseVariantKey(t *testing.T, w *world) {
	sales, manager := w.caller(t, "sales/member"), w.caller(t, "manager/lead")
	for _, x := range []struct {
		c     *caller
		body  string
		field string
	}{
		{sales, `{"TITLE":"Case"}`, "TITLE"},
		{sales, `{"Title":"Case"}`, "Title"},
		{sales, `{"laſt_name":"Folded"}`, "laſt_name"},
		{manager, fmt.Sprintf(`{"OWNER_ID":%d}`, manager.g.mate.ID), "OWNER_ID"},
	} {
		r := w.clone(t, x.c, x.c.recs["contact"]["own"])
		before := w.snapshot(t, r)
		got := w.send(t, x.c, "PATCH", recPath(r, ""), x.body)
		what := "PATCH " + x.body + " as " + x.c.name
		expect(t, what, got, http.StatusBadRequest, crm.EINVALID, x.field)
		w.unchanged(t, what, r, before)
		w.remove(t, r) // out of the lists the other attacks check
	}
}

// attackProtectedFilters: a filter or a sort on a field the caller sees
// masked or not at all is refused before any query runs, whether or not
// a record would match (ACL-3; ASVS v5.0.0-8.2.3), so no answer, count or
// page boundary depends on the value.
func attackProtectedFilters(t *testing.T, w *world) {
	support, reader, sales, admin := w.caller(t, "support/lead"), w.caller(t, "readonly/lead"), w.caller(t, "sales/lead"), w.caller(t, "admin/lead")
	phone := support.recs["contact"]["own"].raw["phone"]
	email := reader.recs["contact"]["own"].raw["email"]
	for _, x := range []struct {
		c            *caller
		query, field string
	}{
		{support, "phone=" + url.QueryEscape(phone), "phone"},
		{support, "phone=" + url.QueryEscape("+79990000000"), "phone"},
		{w.caller(t, "support/lead+read-token"), "phone=" + url.QueryEscape(phone), "phone"},
		{reader, "email=" + url.QueryEscape(email), "email"},
		{reader, "email=nobody%40example.com", "email"},
		{reader, "phone=" + url.QueryEscape(phone), "phone"},
		{reader, "sort=email", "sort"},
		{reader, "sort=-email", "sort"},
		{w.caller(t, "readonly/lead+read-token"), "sort=email", "sort"},
	} {
		got := w.send(t, x.c, "GET", "/api/v1/contacts?"+x.query, nil)
		expect(t, x.c.name+" ?"+x.query, got, http.StatusBadRequest, crm.EINVALID, x.field)
	}
	// The UI's list refuses them too.
	if got := w.send(t, reader, "GET", "/contacts?sort=email", nil); got.status != http.StatusBadRequest || strings.Contains(got.body, email) {
		t.Errorf("the read-only role's contacts page sorted by email: %d", got.status)
	}
	// The same filters and sorts for roles that see the field.
	if ids, got, err := listIDs(t, w, sales, "contact", "phone="+url.QueryEscape(sales.recs["contact"]["own"].raw["phone"])); err != nil ||
		got.status != http.StatusOK || !slices.Equal(ids, []int64{sales.recs["contact"]["own"].id}) {
		t.Errorf("sales filtering by a phone it sees: %d %v %v", got.status, ids, err)
	}
	if got := w.send(t, admin, "GET", "/api/v1/contacts?sort=email", nil); got.status != http.StatusOK {
		t.Errorf("an administrator sorting by email: %d %s", got.status, got.body)
	}
}

// attackCursor: a list cursor is sealed (ASVS v5.0.0-14.2.1): edited byte
// by byte, cut, lengthened, forged, made for another sort or list, or
// taken from another user's list, it is refused (400 naming cursor) or
// gives a page of only the records the caller may read.
func attackCursor(t *testing.T, w *world) {
	admin, c := w.caller(t, "admin/lead"), w.caller(t, "sales/member")
	visible := w.visible(c, "contact")
	page := func(who *caller, query string) (reply, []int64, string) {
		t.Helper()
		got := w.send(t, who, "GET", "/api/v1/contacts?"+query, nil)
		var b struct {
			Items []struct {
				ID int64 `json:"id"`
			}
			NextCursor string `json:"next_cursor"`
		}
		_ = json.Unmarshal([]byte(got.body), &b)
		var ids []int64
		for _, it := range b.Items {
			ids = append(ids, it.ID)
		}
		return got, ids, b.NextCursor
	}
	// judge one tampered cursor: refused, or only visible records.
	judgeCursor := func(what, query string) {
		t.Helper()
		got, ids, _ := page(c, query)
		switch got.status {
		case http.StatusBadRequest:
			expect(t, what, got, http.StatusBadRequest, crm.EINVALID, "cursor")
		case http.StatusOK:
			for _, id := range ids {
				if !slices.Contains(visible, id) {
					t.Errorf("%s: a page with contact %d, which the caller may not read", what, id)
				}
			}
		default:
			t.Errorf("%s: %d %.200s", what, got.status, got.body)
		}
	}
	_, _, cursor := page(admin, "limit=3&sort=last_name")
	if cursor == "" {
		t.Fatal("no cursor")
	}
	// Another user's cursor, in its own sort.
	judgeCursor("an administrator's cursor", "limit=3&sort=last_name&cursor="+cursor)
	// Every byte changed, one at a time.
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(cursor) {
		j := (strings.IndexByte(b64, cursor[i]) + 1 + i%7) % len(b64)
		edited := cursor[:i] + string(b64[j]) + cursor[i+1:]
		judgeCursor(fmt.Sprintf("the cursor with byte %d changed", i), "limit=3&sort=last_name&cursor="+edited)
	}
	for what, bad := range map[string]string{
		"cut":        cursor[:len(cursor)-5],
		"lengthened": cursor + "AAAA",
		"not base64": cursor[:10] + "!!" + cursor[12:],
		// The store's own form, unsealed: {"s":"last_name","k":"a","i":1}.
		"forged in the store's form": base64.RawURLEncoding.EncodeToString([]byte(`{"s":"last_name","k":"a","i":1}`)),
		"huge":                       strings.Repeat("A", 2000),
	} {
		got, _, _ := page(c, "limit=3&sort=last_name&cursor="+url.QueryEscape(bad))
		expect(t, "a cursor "+what, got, http.StatusBadRequest, crm.EINVALID, "cursor")
	}
	// A cursor of another sort, or of another list.
	got, _, _ := page(admin, "limit=3&sort=created_at&cursor="+cursor)
	expect(t, "a last-name cursor sorted by creation", got, http.StatusBadRequest, crm.EINVALID, "cursor")
	got = w.send(t, admin, "GET", "/api/v1/companies?limit=3&cursor="+cursor, nil)
	expect(t, "a contacts cursor on companies", got, http.StatusBadRequest, crm.EINVALID, "cursor")
	// A cursor of a sort the caller may not use (an administrator's, by
	// email) is refused to the read-only role, with or without its sort.
	_, _, byEmail := page(admin, "limit=3&sort=email")
	reader := w.caller(t, "readonly/lead")
	expect(t, "an email cursor for the read-only role", w.send(t, reader, "GET", "/api/v1/contacts?limit=3&sort=email&cursor="+byEmail, nil),
		http.StatusBadRequest, crm.EINVALID, "sort")
	expect(t, "an email cursor for the read-only role, sorted by name", w.send(t, reader, "GET", "/api/v1/contacts?limit=3&cursor="+byEmail, nil),
		http.StatusBadRequest, crm.EINVALID, "cursor")
}

// searchIDs is a contact search (q) as c: the ids it finds.
func searchIDs(t *testing.T, w *world, c *caller, q string) []int64 {
	t.Helper()
	ids, got, err := listIDs(t, w, c, "contact", "q="+url.QueryEscape(q))
	if err != nil || got.status != http.StatusOK {
		t.Fatalf("search %q as %s: %d %v %.200s", q, c.name, got.status, err, got.body)
	}
	return ids
}

// attackSearchProbing: a search never matches on a value the caller may
// not see (ACL-3, ENC-4; ASVS v5.0.0-8.2.3): probing letter by letter
// with prefixes of a masked phone (support) or a masked email (read-only
// role), or of the name of a company the caller may not read (through the
// contact search's company-name alternative), finds nothing; the same
// probes by a caller who sees the value find the record, so the probe
// would show a leak.
func attackSearchProbing(t *testing.T, w *world) {
	support, sales, reader, admin := w.caller(t, "support/lead"), w.caller(t, "sales/lead"), w.caller(t, "readonly/lead"), w.caller(t, "admin/lead")
	probe := func(c *caller, value string, from int, target int64, wantFound bool) {
		t.Helper()
		for n := from; n <= len(value); n++ {
			found := slices.Contains(searchIDs(t, w, c, value[:n]), target)
			if found != wantFound {
				t.Errorf("%s searching %q: found the record %v, want %v", c.name, value[:n], found, wantFound)
				return
			}
		}
	}
	// A masked phone, digit by digit, with and without its "+" (the
	// contacts' names start with letters, so only the phone could match).
	phoneOf := support.recs["contact"]["own"]
	probe(support, phoneOf.raw["phone"], 2, phoneOf.id, false)
	probe(support, strings.TrimPrefix(phoneOf.raw["phone"], "+"), 1, phoneOf.id, false)
	probe(sales, sales.recs["contact"]["own"].raw["phone"], 12, sales.recs["contact"]["own"].id, true)
	probe(admin, phoneOf.raw["phone"], 12, phoneOf.id, true)
	// A masked email, letter by letter past the first name it starts with.
	emailOf := reader.recs["contact"]["own"]
	probe(reader, emailOf.raw["email"], len("ivan."), emailOf.id, false)
	probe(admin, emailOf.raw["email"], len(emailOf.raw["email"]), emailOf.id, true)
	// The name of a company the caller may not read: the group's company,
	// which every one of its contacts names.
	member := w.caller(t, "sales/member")
	var company string
	if err := w.s.store.Read(w.ctx, func(tx crm.Tx) error {
		co, err := tx.CompanyByID(w.ctx, crm.Scope{All: true}, member.g.company.id, false)
		if err == nil {
			company = strings.ToLower(co.Name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	own := member.recs["contact"]["own"]
	probe(member, company, 1, own.id, false)
	probe(admin, company, len(company), own.id, true)
	// Shared with the member, the company's name finds its contacts; the
	// share revoked, it finds nothing again.
	sh, _, err := w.s.svc.ShareRecord(w.ctx, crm.SystemPrincipal(), "company", member.g.company.id, crm.ShareInput{UserID: &member.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	probe(member, company, len(company), own.id, true)
	if err := w.s.svc.RevokeShare(w.ctx, crm.SystemPrincipal(), "company", member.g.company.id, sh.ID); err != nil {
		t.Fatal(err)
	}
	probe(member, company, len(company), own.id, false)
}

// attackExpiredShare: a share that expired a second ago (written through
// the store: the service refuses a past expiry) grants nothing on any
// route; its record's controller still sees it, marked expired (ACL-2).
func attackExpiredShare(t *testing.T, w *world) {
	c := w.caller(t, "sales/member")
	for _, entity := range entityOrder {
		r := c.recs[entity]["expired-share"]
		before := w.snapshot(t, r)
		for _, x := range []struct{ method, suffix, body string }{
			{"GET", "", ""}, {"PATCH", "", updateBody[entity]}, {"GET", "/shares", ""},
		} {
			var body any
			if x.body != "" {
				body = x.body
			}
			expect(t, x.method+" "+entity+x.suffix+" through an expired share", w.send(t, c, x.method, recPath(r, x.suffix), body),
				http.StatusNotFound, crm.ENOTFOUND, "")
		}
		if ids, _, _ := listIDs(t, w, c, entity, ""); slices.Contains(ids, r.id) {
			t.Errorf("the %s list shows a record shared until a second ago", entity)
		}
		w.unchanged(t, entity+" through an expired share", r, before)
	}
	r := c.recs["contact"]["expired-share"]
	for _, suffix := range []string{"/timeline", "/consents"} {
		expect(t, "contacts"+suffix+" through an expired share", w.send(t, c, "GET", recPath(r, suffix), nil), http.StatusNotFound, crm.ENOTFOUND, "")
	}
	// The owner sees the share, expired.
	owner := w.ownerSession(t, c.g.other)
	got := w.s.send(t, "GET", recPath(r, "/shares"), owner, nil)
	if got.status != http.StatusOK || !strings.Contains(got.body, fmt.Sprintf(`"user_id":%d,"access":"write","expires_at"`, c.user.ID)) ||
		!strings.Contains(got.body, `"expired":true`) {
		t.Errorf("the owner's view of the expired share: %d %s", got.status, got.body)
	}
}

// ownerSession signs u in (once per world) and returns its cookie.
func (w *world) ownerSession(t *testing.T, u *crm.User) string {
	t.Helper()
	_, _, cookie := w.signInAs(t, u)
	return cookie
}

// attackSiblingManager: the manager of the sibling team B sees nothing of
// team A or its sub-team A1, on any verb; its own team's records it does
// (ACL-2).
func attackSiblingManager(t *testing.T, w *world) {
	c := w.caller(t, "manager/lead")
	bmgr := &caller{name: "manager/b-manager", role: crm.RoleManager, g: c.g, user: c.g.bmgr}
	_, _, bmgr.cookie = w.signInAs(t, bmgr.user)
	for _, entity := range entityOrder {
		for _, rel := range []string{"own", "team", "subteam"} {
			r := c.recs[entity][rel]
			before := w.snapshot(t, r)
			for _, x := range []struct{ method, suffix, body string }{
				{"GET", "", ""}, {"PATCH", "", updateBody[entity]}, {"DELETE", "", ""}, {"GET", "/shares", ""},
				{"POST", "/shares", fmt.Sprintf(`{"user_id":%d}`, bmgr.user.ID)},
			} {
				var body any
				if x.body != "" {
					body = x.body
				}
				expect(t, fmt.Sprintf("B's manager: %s %s%s of team A's %s record", x.method, entity, x.suffix, rel),
					w.send(t, bmgr, x.method, recPath(r, x.suffix), body), http.StatusNotFound, crm.ENOTFOUND, "")
			}
			w.unchanged(t, "B's manager on team A's "+rel+" "+entity, r, before)
		}
		ids, _, err := listIDs(t, w, bmgr, entity, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(ids, c.recs[entity]["other"].id) {
			t.Errorf("B's manager does not see B's %s", entity)
		}
		for _, rel := range []string{"own", "team", "subteam"} {
			if slices.Contains(ids, c.recs[entity][rel].id) {
				t.Errorf("B's manager lists team A's %s %s", rel, entity)
			}
		}
	}
}

// attackRevokedMidSession: a share revoked while its grantee is signed in
// ends its access at the next request, by session and by token (ASVS
// v5.0.0-8.3.2).
func attackRevokedMidSession(t *testing.T, w *world) {
	c := w.caller(t, "sales/member")
	r := w.record(t, c.g, "contact", "revoked", c.g.other.ID, nil, 0, false)
	owner := w.ownerSession(t, c.g.other)
	got := w.s.send(t, "POST", recPath(r, "/shares"), owner, fmt.Sprintf(`{"user_id":%d,"access":"write"}`, c.user.ID))
	var sh crm.Share
	if err := json.Unmarshal([]byte(got.body), &sh); got.status != http.StatusCreated || err != nil {
		t.Fatalf("share: %d %s", got.status, got.body)
	}
	nt, err := w.s.idn.CreateToken(w.ctx, crm.SystemPrincipal(), c.user.ID, "sharee", crm.ScopeWrite, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bearer := []string{"Authorization", "Bearer " + nt.Secret}
	expect(t, "the sharee reads", w.send(t, c, "GET", recPath(r, ""), nil), http.StatusOK, "", "")
	expect(t, "the sharee changes", w.send(t, c, "PATCH", recPath(r, ""), `{"title":"Shared"}`), http.StatusOK, "", "")
	expect(t, "the sharee's token reads", w.s.send(t, "GET", recPath(r, ""), "", nil, bearer...), http.StatusOK, "", "")
	expect(t, "the owner revokes", w.s.send(t, "DELETE", recPath(r, fmt.Sprintf("/shares/%d", sh.ID)), owner, nil), http.StatusNoContent, "", "")
	before := w.snapshot(t, r)
	expect(t, "the sharee reads after the revocation", w.send(t, c, "GET", recPath(r, ""), nil), http.StatusNotFound, crm.ENOTFOUND, "")
	expect(t, "the sharee changes after the revocation", w.send(t, c, "PATCH", recPath(r, ""), `{"title":"Again"}`), http.StatusNotFound, crm.ENOTFOUND, "")
	expect(t, "the sharee's timeline after the revocation", w.send(t, c, "GET", recPath(r, "/timeline"), nil), http.StatusNotFound, crm.ENOTFOUND, "")
	expect(t, "the sharee's token after the revocation", w.s.send(t, "GET", recPath(r, ""), "", nil, bearer...), http.StatusNotFound, crm.ENOTFOUND, "")
	expect(t, "the sharee's token changes after the revocation", w.s.send(t, "PATCH", recPath(r, ""), "", `{"title":"Token"}`, bearer...),
		http.StatusNotFound, crm.ENOTFOUND, "")
	if ids, _, _ := listIDs(t, w, c, "contact", ""); slices.Contains(ids, r.id) {
		t.Error("the list shows the record after the revocation")
	}
	w.unchanged(t, "the sharee after the revocation", r, before)
}

// attackShareAndTransferBySharee: sharing, unsharing, deleting and
// transferring belong to a record's controller: a write-sharee (of a user
// or a team share) and a writer by the team-write default may change the
// record but get 403 for those, naming owner_id for a transfer, and the
// record is as it was (ACL-2).
func attackShareAndTransferBySharee(t *testing.T, w *world) {
	for _, x := range []struct{ caller, rel string }{
		{"sales/member", "shared-write"}, {"sales/member", "team-share"},
		{"manager/member", "shared-write"}, {"manager/member", "team-share"}, {"manager/lead", "shared-write"},
	} {
		c := w.caller(t, x.caller)
		r := c.recs["contact"][x.rel]
		before := w.snapshot(t, r)
		what := fmt.Sprintf("%s on its %s contact", x.caller, x.rel)
		expect(t, what+": share", w.send(t, c, "POST", recPath(r, "/shares"), fmt.Sprintf(`{"user_id":%d,"access":"write"}`, c.g.grantee.ID)),
			http.StatusForbidden, crm.EFORBIDDEN, "")
		expect(t, what+": revoke", w.send(t, c, "DELETE", recPath(r, fmt.Sprintf("/shares/%d", r.bystand)), nil), http.StatusForbidden, crm.EFORBIDDEN, "")
		expect(t, what+": delete", w.send(t, c, "DELETE", recPath(r, ""), nil), http.StatusForbidden, crm.EFORBIDDEN, "")
		for _, to := range []int64{c.user.ID, c.g.mate.ID} {
			expect(t, what+": transfer", w.send(t, c, "PATCH", recPath(r, ""), fmt.Sprintf(`{"owner_id":%d}`, to)), http.StatusForbidden, crm.EFORBIDDEN, "owner_id")
		}
		w.unchanged(t, what, r, before)
	}

	// The team-write default: a separate server whose contacts default to
	// team-write.
	pol, err := policy.ParseVisibility("private,contacts=team-write")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSite(t, w.newStore(t), func(o *service.Options) { o.Policy = pol })
	tw := siteWorld(s)
	owner, seller, boss := tw.user(t, "tw-owner", crm.RoleSales), tw.user(t, "tw-seller", crm.RoleSales), tw.user(t, "tw-boss", crm.RoleManager)
	team := tw.newTeam(t, "Team write", 0, 0)
	tw.join(t, team, owner, seller, boss)
	contact, err := s.svc.CreateContact(tw.ctx, crm.SystemPrincipal(), crm.ContactInput{FirstName: ptr("Team"), LastName: ptr("Written"), OwnerID: &owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	r := &wrec{entity: "contact", id: contact.ID}
	for _, u := range []*crm.User{seller, boss} {
		_, _, cookie := tw.signInAs(t, u)
		what := u.Name + " by the team-write default"
		expect(t, what+": change", s.send(t, "PATCH", recPath(r, ""), cookie, `{"title":"Team"}`), http.StatusOK, "", "")
		before := tw.snapshot(t, r)
		expect(t, what+": share", s.send(t, "POST", recPath(r, "/shares"), cookie, fmt.Sprintf(`{"user_id":%d}`, seller.ID+boss.ID-u.ID)),
			http.StatusForbidden, crm.EFORBIDDEN, "")
		expect(t, what+": delete", s.send(t, "DELETE", recPath(r, ""), cookie, nil), http.StatusForbidden, crm.EFORBIDDEN, "")
		expect(t, what+": transfer", s.send(t, "PATCH", recPath(r, ""), cookie, fmt.Sprintf(`{"owner_id":%d}`, u.ID)), http.StatusForbidden, crm.EFORBIDDEN, "owner_id")
		tw.unchanged(t, what, r, before)
	}
}

// attackReveal: revealing a masked value (ACL-3, AUTH-4; ASVS
// v5.0.0-7.5.3) is for a signed-in session with a recent step-up, of a
// field masked for the caller, on a record it reads: a token is refused,
// a hidden field is 403 naming it, another team's record 404, a field the
// caller sees anyway 400; no refusal shows the value.
func attackReveal(t *testing.T, w *world) {
	support, reader, sales := w.caller(t, "support/lead"), w.caller(t, "readonly/lead"), w.caller(t, "sales/lead")
	own, other := support.recs["contact"]["own"], support.recs["contact"]["other"]
	for _, x := range []struct {
		what         string
		c            *caller
		r            *wrec
		field        string
		status       int
		code, errFld string
	}{
		{"support, with its token", w.caller(t, "support/lead+write-token"), own, "phone", http.StatusForbidden, crm.EFORBIDDEN, ""},
		{"support, with its read token", w.caller(t, "support/lead+read-token"), own, "phone", http.StatusForbidden, crm.EFORBIDDEN, ""},
		{"the read-only role, a hidden field", reader, reader.recs["deal"]["own"], "notes", http.StatusForbidden, crm.EFORBIDDEN, "field"},
		{"the read-only role, hidden contact notes", reader, reader.recs["contact"]["own"], "notes", http.StatusForbidden, crm.EFORBIDDEN, "field"},
		{"support, another team's record", support, other, "phone", http.StatusNotFound, crm.ENOTFOUND, ""},
		{"support, a deleted record of its own", support, support.gone["contact"]["own"], "phone", http.StatusNotFound, crm.ENOTFOUND, ""},
		{"support, a field it sees", support, own, "email", http.StatusBadRequest, crm.EINVALID, "field"},
		{"support, a field that is never masked", support, own, "first_name", http.StatusBadRequest, crm.EINVALID, "field"},
		{"sales, a field it sees", sales, sales.recs["contact"]["own"], "phone", http.StatusBadRequest, crm.EINVALID, "field"},
		{"the auditor", w.caller(t, "auditor/lead"), own, "phone", http.StatusForbidden, crm.EFORBIDDEN, ""},
	} {
		got := w.send(t, x.c, "POST", recPath(x.r, "/reveal"), `{"field":"`+x.field+`"}`)
		expect(t, "reveal by "+x.what, got, x.status, x.code, x.errFld)
		if v := x.r.raw[x.field]; v != "" && strings.Contains(got.body, v) {
			t.Errorf("reveal by %s: the refusal shows the value", x.what)
		}
	}
	got := w.send(t, support, "POST", recPath(own, "/reveal"), `{"field":"phone"}`)
	if got.status != http.StatusOK || !strings.Contains(got.body, own.raw["phone"]) {
		t.Errorf("support reveals its contact's phone: %d %s", got.status, got.body)
	}
}

// attackVerbTampering is attack 3's verb part (ASVS v5.0.0-4.1.4;
// WSTG-ATHZ-03): another method on a record's route, a method override
// header or parameter, and methods the API does not document are 405 (or
// 400 for the parameter); nothing changes.
func attackVerbTampering(t *testing.T, w *world) {
	c := w.caller(t, "sales/member")
	r := c.recs["contact"]["own"]
	before := w.snapshot(t, r)
	for _, x := range []struct {
		method, path string
		hdr          []string
		status       int
	}{
		{"POST", recPath(r, ""), []string{"X-HTTP-Method-Override", "DELETE"}, http.StatusMethodNotAllowed},
		{"POST", recPath(r, ""), []string{"X-HTTP-Method", "PATCH"}, http.StatusMethodNotAllowed},
		{"PUT", recPath(r, ""), nil, http.StatusMethodNotAllowed},
		{"TRACE", recPath(r, ""), nil, http.StatusMethodNotAllowed},
		{"DELETE", "/api/v1/contacts", nil, http.StatusMethodNotAllowed},
		{"GET", recPath(r, "") + "?_method=DELETE", nil, http.StatusBadRequest},
		{"GET", recPath(r, "/restore"), nil, http.StatusMethodNotAllowed},
	} {
		var body any
		if x.method == "POST" || x.method == "PUT" {
			body = `{}`
		}
		got := w.send(t, c, x.method, x.path, body, x.hdr...)
		if got.status != x.status {
			t.Errorf("%s %s %v: %d, want %d", x.method, x.path, x.hdr, got.status, x.status)
		}
		if x.status == http.StatusMethodNotAllowed && got.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", x.method, x.path)
		}
	}
	w.unchanged(t, "verb tampering", r, before)
}

// attackStaleStepUp: sharing, revealing, erasing and administering need a recent
// step-up (AUTH-4; ASVS v5.0.0-7.5.3): after the window (the clock moved
// past it) each is 403 step_up_required and changes nothing; a new
// step-up opens them again. It moves the world's clock.
func attackStaleStepUp(t *testing.T, w *world) {
	support, sales, admin := w.caller(t, "support/lead"), w.caller(t, "sales/lead"), w.caller(t, "admin/lead")
	own := sales.recs["contact"]["own"]
	before := w.snapshot(t, own)
	w.s.advance(6 * time.Minute)
	victim := w.user(t, fmt.Sprintf("stale-%d", w.next()), crm.RoleSales)
	for _, x := range []struct {
		what         string
		c            *caller
		method, path string
		body         string
	}{
		{"reveal", support, "POST", recPath(support.recs["contact"]["own"], "/reveal"), `{"field":"phone"}`},
		{"share", sales, "POST", recPath(own, "/shares"), fmt.Sprintf(`{"user_id":%d}`, sales.g.grantee.ID)},
		{"revoke a share", sales, "DELETE", recPath(own, fmt.Sprintf("/shares/%d", own.bystand)), ""},
		{"change a user's role", admin, "PATCH", fmt.Sprintf("/api/v1/users/%d", victim.ID), `{"role":"support"}`},
		{"create a role", admin, "POST", "/api/v1/roles", `{"name":"stale","permissions":["contacts.read"]}`},
		{"create a team", admin, "POST", "/api/v1/teams", `{"name":"Stale"}`},
		{"add a team member", admin, "PUT", fmt.Sprintf("/api/v1/teams/%d/members/%d", admin.g.a, victim.ID), ""},
		{"erase a client", admin, "POST", recPath(own, "/erase"), ""},
	} {
		var body any
		if x.body != "" {
			body = x.body
		}
		got := w.send(t, x.c, x.method, x.path, body)
		expect(t, x.what+" after the step-up window", got, http.StatusForbidden, crm.ESTEPUPREQUIRED, "")
		if x.what == "reveal" && strings.Contains(got.body, support.recs["contact"]["own"].raw["phone"]) {
			t.Error("the refused reveal shows the phone")
		}
	}
	// The page's erase sends the browser to the step-up and back to the
	// confirmation, and erases nothing.
	page := w.send(t, admin, "POST", fmt.Sprintf("/contacts/%d/erase", own.id), admin.form("confirm", w.contactName(t, own)))
	if want := "/stepup?next=" + url.QueryEscape(fmt.Sprintf("/contacts/%d/erase", own.id)); page.status != http.StatusSeeOther || page.header.Get("Location") != want {
		t.Errorf("the page's erase after the step-up window: %d to %q, want %q", page.status, page.header.Get("Location"), want)
	}
	w.unchanged(t, "the refused share, revocation and erasure", own, before)
	if after, err := w.s.idn.FindUserByID(w.ctx, crm.SystemPrincipal(), victim.ID); err != nil || after.Role != crm.RoleSales || after.TeamID != nil {
		t.Errorf("the refused user changes: %+v %v", after, err)
	}
	if _, err := w.s.idn.FindRole(w.ctx, crm.SystemPrincipal(), "stale"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Errorf("the refused role exists: %v", err)
	}
	// A step-up (support signs in with a password alone: it is the
	// password) opens the reveal again, in the new session.
	got := w.send(t, support, "POST", "/api/v1/session/step-up", `{"code":"`+sitePassword+`"}`)
	if got.status != http.StatusOK || got.cookie() == "" {
		t.Fatalf("step-up: %d %s", got.status, got.body)
	}
	got = w.s.send(t, "POST", recPath(support.recs["contact"]["own"], "/reveal"), got.cookie(), `{"field":"phone"}`)
	if got.status != http.StatusOK || !strings.Contains(got.body, support.recs["contact"]["own"].raw["phone"]) {
		t.Errorf("reveal after the step-up: %d %s", got.status, got.body)
	}
}
