package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/postgres/postgrestest"
	"github.com/custos-crm/custos/internal/seal"
	"github.com/custos-crm/custos/internal/sqlite"
	"github.com/custos-crm/custos/internal/vault"
)

// Field encryption at rest (issue 12, ENC-2, ENC-3), attacked through the
// real server on the embedded store: the raw database files, tampered and
// moved ciphertexts, and wrong, missing or exposed key files.

// sealedMarkers are the values the test writes into every sealed field.
var sealedMarkers = map[string]string{
	"contact title": "TitleMarkQ7x", "contact address": "AddrMarkQ7x", "contact notes": "NotesMarkQ7x",
	"company notes": "CoNotesMarkQ7x", "company address": "CoAddrMarkQ7x", "company phone": "+74951239876", "deal notes": "DealNotesMarkQ7x", "activity body": "BodyMarkQ7x",
	"task description": "DescMarkQ7x", "consent source": "SourceMarkQ7x",
	"contact first name": "FirstMarkQ7x", "contact last name": "LastMarkQ7x", "contact email": "emailmarkq7x@example.com",
	"contact phone": "+74957771234", "company name": "CoNameMarkQ7x", "company domain": "codomainmarkq7x.example",
	"deal title": "DealTitleMarkQ7x", "task title": "TaskTitleMarkQ7x", "activity subject": "SubjectMarkQ7x",
	"contact tag": "tagmarkq7x",
}

// plainMarker is in a field that is not personal data (a company's
// industry, kept plain for reports): the scans find it, which proves they
// see what the server wrote.
const plainMarker = "PlainIndustryMarkQ7x"

// encodings are the forms a marker is looked for in: as it is, in hex and
// in base64 at each of the three alignments.
func encodings(marker string) []string {
	out := []string{marker, hex.EncodeToString([]byte(marker)), strings.ToUpper(hex.EncodeToString([]byte(marker)))}
	for pad := range 3 {
		b := append(bytes.Repeat([]byte{0}, pad), marker...)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			s := enc.EncodeToString(b)
			// The characters made only of the marker's bytes.
			start := (pad*8 + 5) / 6
			end := (len(b) * 8) / 6
			out = append(out, s[start:end])
		}
	}
	return out
}

// scanFiles returns the markers (by name) that a file of dir holds in any
// encoding.
func scanFiles(t *testing.T, dir string, markers map[string]string) []string {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		all = append(all, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for name, m := range markers {
		for _, enc := range encodings(m) {
			if bytes.Contains(all, []byte(enc)) {
				found = append(found, name+" as "+enc)
				break
			}
		}
	}
	return found
}

type sealedWorld struct {
	s                                             *server
	token                                         string
	contact, other, company, deal, task, activity int64
}

// waitSealed waits until s's upgrade pass has finished (readyz says
// encryption is on): from then on a plain value in a sealed field is
// refused as tampering.
func waitSealed(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ready map[string]string
		s.api(t, "", "GET", "/readyz", nil, &ready)
		if ready["encryption"] == "on" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still says %v; log:\n%s", ready, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newSealedWorld(t *testing.T, setup ...func(dir string)) *sealedWorld {
	t.Helper()
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	for _, f := range setup {
		f(dir)
	}
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	w := &sealedWorld{s: startServer(t, dir), token: token}
	waitSealed(t, w.s)
	var rec struct {
		ID int64 `json:"id"`
	}
	create := func(path string, body map[string]any) int64 {
		rec.ID = 0
		wantStatus(t, w.s.api(t, token, "POST", path, body, &rec), http.StatusCreated)
		return rec.ID
	}
	w.company = create("/api/v1/companies", map[string]any{"name": sealedMarkers["company name"], "domain": sealedMarkers["company domain"],
		"industry": plainMarker, "notes": sealedMarkers["company notes"],
		"address": sealedMarkers["company address"], "phone": sealedMarkers["company phone"]})
	w.contact = create("/api/v1/contacts", map[string]any{"first_name": sealedMarkers["contact first name"],
		"last_name": sealedMarkers["contact last name"], "email": sealedMarkers["contact email"], "phone": sealedMarkers["contact phone"],
		"title": sealedMarkers["contact title"], "address": sealedMarkers["contact address"], "notes": sealedMarkers["contact notes"],
		"birthday": "1931-07-13", "company_id": w.company, "tags": []string{sealedMarkers["contact tag"], "vip"}})
	w.other = create("/api/v1/contacts", map[string]any{"last_name": "Jones", "notes": "the other's notes"})
	w.deal = create("/api/v1/deals", map[string]any{"title": sealedMarkers["deal title"], "pipeline_id": 1, "contact_id": w.contact, "notes": sealedMarkers["deal notes"]})
	w.activity = create("/api/v1/activities", map[string]any{"type": "note", "subject": sealedMarkers["activity subject"], "contact_id": w.contact,
		"body": sealedMarkers["activity body"]})
	w.task = create("/api/v1/tasks", map[string]any{"title": sealedMarkers["task title"], "contact_id": w.contact, "description": sealedMarkers["task description"]})
	create(fmt.Sprintf("/api/v1/contacts/%d/consents", w.contact), map[string]any{"purpose": "marketing", "granted": true, "source": sealedMarkers["consent source"]})
	return w
}

// TestSealedFieldsRestEncrypted (ENC-2; SECURITY.md's stolen-file case):
// a marker in every sealed field is found in no file of the data
// directory (main file, WAL) as plain text, hex or base64, while the API
// returns each as written; the same after an update and a delete. A field
// not sealed yet (an activity's subject) is found, which proves the scan
// sees what the server wrote. The email and phone rest as blind-index
// tokens too, which do not hold them either.
func TestSealedFieldsRestEncrypted(t *testing.T) {
	w := newSealedWorld(t)
	var c struct {
		Title, Address, Notes, Birthday, Email, Phone string
		FirstName                                     string `json:"first_name"`
		LastName                                      string `json:"last_name"`
	}
	wantStatus(t, w.s.api(t, w.token, "GET", fmt.Sprintf("/api/v1/contacts/%d", w.contact), nil, &c), http.StatusOK)
	if c.Title != sealedMarkers["contact title"] || c.Address != sealedMarkers["contact address"] || c.Notes != sealedMarkers["contact notes"] || c.Birthday != "1931-07-13" ||
		c.FirstName != sealedMarkers["contact first name"] || c.LastName != sealedMarkers["contact last name"] ||
		c.Email != sealedMarkers["contact email"] || c.Phone != sealedMarkers["contact phone"] {
		t.Fatalf("read back %+v", c)
	}
	// Found by its sealed fields, from the in-memory index.
	for _, q := range []string{"q=lastmark", "q=firstmarkq7x", "q=495777", "email=EmailMarkQ7x%40example.com", "phone=%2B74957771234"} {
		var found struct{ Items []struct{ ID int64 } }
		wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/contacts?"+q, nil, &found), http.StatusOK)
		if len(found.Items) != 1 || found.Items[0].ID != w.contact {
			t.Errorf("GET /api/v1/contacts?%s = %+v, want the contact", q, found.Items)
		}
	}
	// The company, by its sealed name and domain, and the contact by its
	// company's name.
	for _, q := range []string{"companies?q=conamemark", "companies?q=CoDomainMark", "companies?name=conamemarkq7x",
		"companies?domain=CoDomainMarkQ7x.example", "contacts?q=conamemarkq7x", "deals?q=dealtitlemark",
		"tasks?q=tasktitlemark", "activities?q=subjectmark", "contacts?tag=TagMarkQ7x"} {
		var found struct{ Items []struct{ ID int64 } }
		wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/"+q, nil, &found), http.StatusOK)
		want := map[string]int64{"companies": w.company, "contacts": w.contact, "deals": w.deal, "tasks": w.task,
			"activities": w.activity}[strings.Split(q, "?")[0]]
		if len(found.Items) != 1 || found.Items[0].ID != want {
			t.Errorf("GET /api/v1/%s = %+v, want %d", q, found.Items, want)
		}
	}
	var tl struct {
		Items []struct {
			Body string `json:"body"`
		} `json:"items"`
	}
	wantStatus(t, w.s.api(t, w.token, "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", w.contact), nil, &tl), http.StatusOK)
	if len(tl.Items) == 0 || tl.Items[0].Body != sealedMarkers["activity body"] {
		t.Fatalf("timeline %+v", tl)
	}
	var consents struct {
		Items []struct {
			Source string `json:"source"`
		} `json:"items"`
	}
	wantStatus(t, w.s.api(t, w.token, "GET", fmt.Sprintf("/api/v1/contacts/%d/consents", w.contact), nil, &consents), http.StatusOK)
	if len(consents.Items) != 1 || consents.Items[0].Source != sealedMarkers["consent source"] {
		t.Fatalf("consents %+v", consents)
	}

	if found := scanFiles(t, w.s.data, map[string]string{"company industry": plainMarker}); len(found) == 0 {
		t.Fatal("the scan does not find a plain field the server wrote: it proves nothing")
	}
	markers := map[string]string{"birthday": "1931-07-13"}
	for k, v := range sealedMarkers {
		markers[k] = v
	}
	if found := scanFiles(t, w.s.data, markers); len(found) > 0 {
		t.Fatalf("sealed fields found in the data files: %v", found)
	}

	markers["new notes"] = "NewNotesMarkQ7x"
	wantStatus(t, w.s.api(t, w.token, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", w.contact), map[string]any{"notes": markers["new notes"]}, nil), http.StatusOK)
	wantStatus(t, w.s.api(t, w.token, "DELETE", fmt.Sprintf("/api/v1/contacts/%d", w.contact), nil, nil), http.StatusNoContent)
	if found := scanFiles(t, w.s.data, markers); len(found) > 0 {
		t.Fatalf("sealed fields found in the data files after an update and a delete: %v", found)
	}

	// The cursor key, made by the first page with a next one, rests
	// wrapped by the key-encryption key (issue 12 item 1), and the cursor
	// it sealed still opens.
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	wantStatus(t, w.s.api(t, w.token, "POST", "/api/v1/contacts", map[string]any{"last_name": "Third"}, nil), http.StatusCreated)
	wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/contacts?limit=1", nil, &page), http.StatusOK)
	if page.NextCursor == "" {
		t.Fatal("no next page")
	}
	wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/contacts?limit=1&cursor="+url.QueryEscape(page.NextCursor), nil, nil), http.StatusOK)
	raw, err := sql.Open("sqlite", filepath.Join(w.s.data, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var key string
	if err := raw.QueryRow("SELECT value FROM settings WHERE key = 'cursor_key'").Scan(&key); err != nil || !strings.HasPrefix(key, "w1:") {
		t.Errorf("the cursor key at rest: %.12q, %v", key, err)
	}
}

// TestTamperedCiphertextRefused (ENC-2): one flipped byte of a sealed
// value, a value copied from another record, or moved to another field of
// the same record, is refused with the integrity error naming the record
// and field, never shown as garbage; put back, the record reads again.
func TestTamperedCiphertextRefused(t *testing.T) {
	w := newSealedWorld(t)
	raw, err := sql.Open("sqlite", filepath.Join(w.s.data, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	col := func(id int64, field string) string {
		var v string
		if err := raw.QueryRow("SELECT "+field+" FROM contacts WHERE id = ?", id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	set := func(id int64, field, v string) {
		if _, err := raw.Exec("UPDATE contacts SET "+field+" = ? WHERE id = ?", v, id); err != nil {
			t.Fatal(err)
		}
	}
	notes, otherNotes, title, tags := col(w.contact, "notes"), col(w.other, "notes"), col(w.contact, "title"), col(w.contact, "tags")
	if !vault.Sealed(notes) || !vault.Sealed(otherNotes) || !vault.Sealed(title) {
		t.Fatalf("fields at rest are not sealed: %q %q %q", notes, otherNotes, title)
	}
	// The tags rest as one sealed value, the only element of the column.
	var packed []string
	if err := json.Unmarshal([]byte(tags), &packed); err != nil || len(packed) != 1 || !vault.Sealed(packed[0]) {
		t.Fatalf("tags at rest: %q", tags)
	}
	body := []byte(notes)
	body[len(body)-5] ^= 'A' ^ 'B'
	if body[len(body)-5] == notes[len(notes)-5] {
		t.Fatal("no byte flipped")
	}
	path := fmt.Sprintf("/api/v1/contacts/%d", w.contact)
	for _, tc := range []struct {
		name, field, value string
	}{
		{"a flipped byte", "notes", string(body)},
		{"another record's notes", "notes", otherNotes},
		{"the title moved to the notes", "notes", title},
		{"the notes moved to the tags", "tags", `["` + notes + `"]`},
		{"tags put back in plain text", "tags", `["vip"]`},
	} {
		set(w.contact, tc.field, tc.value)
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		res := w.s.api(t, w.token, "GET", path, nil, &e)
		if res.StatusCode != http.StatusInternalServerError || e.Error.Code != "integrity" ||
			!strings.Contains(e.Error.Message, fmt.Sprintf("contact %d", w.contact)) || !strings.Contains(e.Error.Message, tc.field) {
			t.Errorf("%s: %d %+v", tc.name, res.StatusCode, e.Error)
		}
		if strings.Contains(e.Error.Message, "MarkQ7x") {
			t.Errorf("%s: the error shows a value: %q", tc.name, e.Error.Message)
		}
		set(w.contact, tc.field, map[string]string{"notes": notes, "tags": tags}[tc.field])
		wantStatus(t, w.s.api(t, w.token, "GET", path, nil, nil), http.StatusOK)
	}

	// Two activities of one contact share its data key: the record id in
	// every sealed value is what refuses one's body in the other.
	var second struct {
		ID int64 `json:"id"`
	}
	wantStatus(t, w.s.api(t, w.token, "POST", "/api/v1/activities", map[string]any{"type": "note", "subject": "Again",
		"contact_id": w.contact, "body": "the second body"}, &second), http.StatusCreated)
	var first int64
	if err := raw.QueryRow("SELECT min(id) FROM activities").Scan(&first); err != nil {
		t.Fatal(err)
	}
	var firstBody string
	if err := raw.QueryRow("SELECT body FROM activities WHERE id = ?", first).Scan(&firstBody); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE activities SET body = ? WHERE id = ?", firstBody, second.ID); err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	res := w.s.api(t, w.token, "GET", fmt.Sprintf("/api/v1/activities/%d", second.ID), nil, &e)
	if res.StatusCode != http.StatusInternalServerError || e.Error.Code != "integrity" || !strings.Contains(e.Error.Message, fmt.Sprintf("activity %d", second.ID)) {
		t.Errorf("another activity's body under the same key: %d %+v", res.StatusCode, e.Error)
	}
}

// TestErasureShredsClient (ENC-5; SECURITY.md's restored-backup case): a
// data protection officer's custom role erases a contact after a fresh
// sign-in. Before, the contact's sealed values open with the deployment's
// key file and store; after, the same values (as a copy of the files or
// an older backup would hold them) no longer open, on a fresh sealer and
// in the running server, whose memory dropped the key. The contact, its
// activity, task and consent are gone from the API and from search; its
// colleague is untouched; the ledger lists the erasure. A sales rep's
// token cannot erase.
func TestErasureShredsClient(t *testing.T) {
	const pw = "a long and unusual passphrase"
	var link string
	w := newSealedWorld(t, func(dir string) {
		runCLI(t, dir, "", "role", "add", "--name", "dpo", "--label", "Data protection officer",
			"--permissions", "contacts.read, contacts.delete, contacts.modify_all, activities.delete, activities.modify_all, tasks.delete, tasks.modify_all, clients.erase, erasures.read")
		// The role erases for good: it signs in with a second factor.
		out := runCLI(t, dir, pw+"\n", "user", "add", "--email", "dpo@example.com", "--role", "dpo", "--password-stdin")
		link = regexp.MustCompile(`https://\S+/enrol/\S+`).FindString(out)
		if link == "" {
			t.Fatalf("user add printed no enrolment link for a role that erases:\n%s", out)
		}
	})
	dir := w.s.data
	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	sealedOf := func(query string, id int64) string {
		var v string
		if err := raw.QueryRow(query, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if !vault.Sealed(v) {
			t.Fatalf("%s: not sealed: %q", query, v)
		}
		return v
	}
	notes := sealedOf("SELECT notes FROM contacts WHERE id = ?", w.contact)
	var emailToken string
	if err := raw.QueryRow("SELECT email_token FROM contacts WHERE id = ?", w.contact).Scan(&emailToken); err != nil || emailToken == "" {
		t.Fatalf("the contact's email token: %q %v", emailToken, err)
	}
	var before struct{ Items []struct{ ID int64 } }
	wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/contacts?q=FirstMarkQ7x", nil, &before), http.StatusOK)
	if len(before.Items) != 1 {
		t.Fatalf("before the erasure the search finds %+v", before.Items)
	}
	var actID, taskID, consentID int64
	for q, p := range map[string]*int64{"SELECT id FROM activities WHERE contact_id = ?": &actID,
		"SELECT id FROM tasks WHERE contact_id = ?": &taskID, "SELECT id FROM consents WHERE contact_id = ?": &consentID} {
		if err := raw.QueryRow(q, w.contact).Scan(p); err != nil {
			t.Fatal(q, err)
		}
	}
	body := sealedOf("SELECT body FROM activities WHERE id = ?", actID)
	source := sealedOf("SELECT source FROM consents WHERE id = ?", consentID)
	// The row as an older backup holds it.
	if _, err := raw.Exec("CREATE TABLE saved_contact AS SELECT * FROM contacts WHERE id = ?", w.contact); err != nil {
		t.Fatal(err)
	}
	kek, err := vault.KeyFile(dir+".kek", false)
	if err != nil {
		t.Fatal(err)
	}
	// opens tries the saved values with the deployment's key file and
	// store, on a sealer of its own.
	opens := func() error {
		db, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		sl := seal.New(kek, 16, 16)
		return db.Read(context.Background(), func(tx crm.Tx) error {
			for _, v := range []struct {
				entity string
				rec    any
			}{
				{"contact", &crm.Contact{ID: w.contact, Notes: notes}},
				{"activity", &crm.Activity{ID: actID, ContactID: &w.contact, Body: body}},
				{"consent", &crm.Consent{ID: consentID, ContactID: w.contact, Source: source}},
			} {
				if err := sl.Open(context.Background(), tx, v.entity, v.rec); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := opens(); err != nil {
		t.Fatalf("before the erasure the saved values do not open: %v", err)
	}

	// A rep's token may not erase, even the rep's own contact.
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	erasePath := fmt.Sprintf("/api/v1/contacts/%d/erase", w.contact)
	if res := w.s.api(t, w.token, "POST", erasePath, nil, &e); res.StatusCode != http.StatusForbidden || e.Error.Code != "forbidden" {
		t.Fatalf("a rep's token erases: %d %+v", res.StatusCode, e)
	}
	cookie := w.s.enrolLogin(t, link, pw)
	var erased crm.Erasure
	if res := w.s.session(t, cookie, "POST", erasePath, &erased); res.StatusCode != http.StatusOK {
		t.Fatalf("erase: %d", res.StatusCode)
	}
	// The contact, its activity, task and consent.
	if erased.Entity != "contact" || erased.RecordID != w.contact || erased.Records != 4 {
		t.Errorf("erasure = %+v", erased)
	}
	if res := w.s.session(t, cookie, "POST", erasePath, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a second erasure: %d", res.StatusCode)
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/contacts/%d", w.contact), fmt.Sprintf("/api/v1/activities/%d", actID),
		fmt.Sprintf("/api/v1/tasks/%d", taskID), fmt.Sprintf("/api/v1/contacts/%d/consents", w.contact)} {
		if res := w.s.api(t, w.token, "GET", path, nil, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after the erasure: %d", path, res.StatusCode)
		}
	}
	var tokens int
	if err := raw.QueryRow("SELECT count(*) FROM contacts WHERE email_token = ?", emailToken).Scan(&tokens); err != nil || tokens != 0 {
		t.Errorf("the erased contact's blind-index token is still stored: %d %v", tokens, err)
	}
	for _, q := range []string{"q=FirstMarkQ7x", "email=emailmarkq7x%40example.com"} {
		var found struct{ Items []struct{ ID int64 } }
		wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/contacts?"+q, nil, &found), http.StatusOK)
		if len(found.Items) != 0 {
			t.Errorf("%s finds the erased contact: %+v", q, found.Items)
		}
	}
	var other struct{ Notes string }
	wantStatus(t, w.s.api(t, w.token, "GET", fmt.Sprintf("/api/v1/contacts/%d", w.other), nil, &other), http.StatusOK)
	if other.Notes != "the other's notes" {
		t.Errorf("another contact after the erasure: %+v", other)
	}
	var ledger struct{ Items []crm.Erasure }
	if res := w.s.session(t, cookie, "GET", "/api/v1/erasures", &ledger); res.StatusCode != http.StatusOK ||
		len(ledger.Items) != 1 || ledger.Items[0].RecordID != w.contact || ledger.Items[0].ErasedBy == 0 {
		t.Errorf("ledger: %d %+v", res.StatusCode, ledger)
	}

	// The old row put back, as a restore that ignored the ledger would:
	// the running server no longer holds the key either.
	if _, err := raw.Exec("INSERT INTO contacts SELECT * FROM saved_contact"); err != nil {
		t.Fatal(err)
	}
	var refused struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	res := w.s.api(t, w.token, "GET", fmt.Sprintf("/api/v1/contacts/%d", w.contact), nil, &refused)
	if res.StatusCode != http.StatusInternalServerError || refused.Error.Code != "integrity" || !strings.Contains(refused.Error.Message, "erased") {
		t.Errorf("the erased contact's old row, put back: %d %+v", res.StatusCode, refused.Error)
	}
	if _, err := raw.Exec("DELETE FROM contacts WHERE id = ?", w.contact); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("DROP TABLE saved_contact"); err != nil {
		t.Fatal(err)
	}
	w.s.stop()
	err = opens()
	if crm.ErrorCode(err) != crm.EINTEGRITY || !strings.Contains(err.Error(), fmt.Sprintf("contact %d", w.contact)) {
		t.Fatalf("after the erasure the saved values: %v; want an integrity error naming the contact", err)
	}
}

// TestKeyFileRefusals (ENC-3): a key file others may read, another
// deployment's key, a missing key file of a database with data keys, and
// a key file inside the data directory each refuse the start with a clear
// error, and the database file is left as it was.
func TestKeyFileRefusals(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	startServer(t, dir).stop() // makes the key file and the canary
	keyFile := dir + ".kek"
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	serve := func(env map[string]string, args ...string) error {
		base := testEnv(dir)
		getenv := func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return base(k)
		}
		var out bytes.Buffer
		// A refused start returns at once; a start that is not refused
		// serves until this ends, and returns nil.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), &out, &out)
	}
	other := filepath.Join(t.TempDir(), "other.kek")
	if _, err := vault.KeyFile(other, true); err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(dir, sqlite.FileName)
	before, _ := os.Stat(dbFile)

	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	err := serve(nil)

	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key file others may read: %v", err)
	}
	os.Chmod(keyFile, 0o600)

	err = serve(map[string]string{"CUSTOS_KEY_FILE": other})
	if err == nil || !strings.Contains(err.Error(), "does not open this database's data keys") {
		t.Errorf("another deployment's key: %v", err)
	}
	err = serve(map[string]string{"CUSTOS_KEY_FILE": filepath.Join(t.TempDir(), "missing.kek")})
	if err == nil || !strings.Contains(err.Error(), "restore the key file") {
		t.Errorf("a missing key file: %v", err)
	}
	err = serve(map[string]string{"CUSTOS_KEY_FILE": filepath.Join(dir, "inside.kek")})
	if err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Errorf("a key file inside the data directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "inside.kek")); err == nil {
		t.Error("a key file was made inside the data directory")
	}
	after, _ := os.Stat(dbFile)
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Error("a refused start touched the database file")
	}
}

// TestKeysRotateWhileWriting (ENC-3): custos keys rotate adds a version and
// re-wraps every data key while clients keep creating and reading
// contacts through the running server; afterwards (and after --resume for
// the keys the server made under the old version meanwhile) every data key
// is under the new version and every contact reads back as written. On
// the embedded store, and on PostgreSQL when CUSTOS_TEST_POSTGRES is set.
func TestKeysRotateWhileWriting(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKeysRotate(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := postgrestest.Schema(t)
		testKeysRotate(t, []string{"--db", dsn})
	})
}

func testKeysRotate(t *testing.T, db []string) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", append([]string{"user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin"}, db...)...)
	token := strings.TrimSpace(runCLI(t, dir, "", append([]string{"token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"}, db...)...))
	s := startServer(t, dir, db...)
	written := map[int64]string{}
	var mu sync.Mutex
	// create may run on another goroutine: it reports, never fails the test.
	create := func(i int) error {
		notes := fmt.Sprintf("notes of contact %d", i)
		body, _ := json.Marshal(map[string]any{"last_name": fmt.Sprint("Client", i), "notes": notes})
		req, _ := http.NewRequest("POST", s.url+"/api/v1/contacts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := s.client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var c struct {
			ID int64 `json:"id"`
		}
		if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != http.StatusCreated {
			return fmt.Errorf("create %d: %d %v", i, res.StatusCode, err)
		}
		mu.Lock()
		written[c.ID] = notes
		mu.Unlock()
		return nil
	}
	for i := range 60 {
		if err := create(i); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := create(i); err != nil {
				writeErr = err
				return
			}
		}
	}()
	out := runCLI(t, dir, "", append([]string{"keys", "rotate", "--batch", "7"}, db...)...)
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("a write during the rotation: %v", writeErr)
	}
	if !strings.Contains(out, "under version 2") {
		t.Fatalf("keys rotate: %q", out)
	}
	runCLI(t, dir, "", append([]string{"keys", "rotate", "--resume"}, db...)...)
	status := runCLI(t, dir, "", append([]string{"keys", "status"}, db...)...)
	lines := strings.Split(status, "\n")
	var v1, v2 string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "1" {
			v1 = f[len(f)-1]
		}
		if len(f) >= 2 && f[0] == "2" {
			v2 = f[len(f)-1]
		}
	}
	mu.Lock()
	n := len(written)
	mu.Unlock()
	if v1 != "0" || v2 == "" || v2 == "0" || !strings.Contains(status, "server secrets") {
		t.Fatalf("after the rotation, status:\n%s", status)
	}
	if count, _ := strconv.Atoi(v2); count < n+1 { // every contact's key and the canary
		t.Errorf("version 2 wraps %d keys, want at least %d:\n%s", count, n+1, status)
	}
	for id, notes := range written {
		var c struct {
			Notes string `json:"notes"`
		}
		wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/contacts/%d", id), nil, &c), http.StatusOK)
		if c.Notes != notes {
			t.Fatalf("contact %d reads %q after the rotation, want %q", id, c.Notes, notes)
		}
	}
}

// TestUpgradeSealsOlderRows (issue 12, item 7): rows a version before field
// encryption stored in plain text are sealed by the server in the
// background, /readyz says so until done, the API reads them as written,
// and afterwards no marker is left in the data files (freed space is
// zeroed, the WAL checkpointed); a value then put back in plain text is
// refused as tampering.
func TestUpgradeSealsOlderRows(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	markers := map[string]string{"notes": "OldNotesMarkQ9z", "title": "OldTitleMarkQ9z", "body": "OldBodyMarkQ9z", "source": "OldSourceMarkQ9z",
		"company name": "OldCoNameMarkQ9z", "company domain": "oldcodomainmarkq9z.example", "deal title": "OldDealTitleMarkQ9z",
		"task title": "OldTaskTitleMarkQ9z", "subject": "OldSubjectMarkQ9z", "tag": "oldtagmarkq9z",
		"first name": "OldFirstMarkQ9z", "last name": "OldLastMarkQ9z", "email": "oldmarkq9z@example.com", "phone": "+74957770099",
		"seed": "OLDSEEDMARKQZZZZOLDSEEDMARKQZZZZ", "cursor key": "OldCursorKeyMarkQ9zOldCursorKeyM"}

	// The rows as an older version wrote them: straight through the store.
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var contactID, companyID, dealID, taskID, activityID int64
	err = db.Write(context.Background(), func(tx crm.Tx) error {
		now := tx.Now()
		co := &crm.Company{Name: markers["company name"], Domain: markers["company domain"], OwnerID: 1, Version: 1,
			CreatedAt: now, UpdatedAt: now, Tags: []string{}}
		if err := tx.InsertCompany(context.Background(), co); err != nil {
			return err
		}
		companyID = co.ID
		c := &crm.Contact{FirstName: markers["first name"], LastName: markers["last name"], Email: markers["email"], Phone: markers["phone"],
			Title: markers["title"], Notes: markers["notes"], CompanyID: &co.ID, OwnerID: 1, Version: 1, CreatedAt: now, UpdatedAt: now,
			// An older version kept the tags, and their rows, in plain text.
			Tags: []string{markers["tag"], "vip"}, TagTokens: []string{markers["tag"], "vip"}}
		if err := tx.InsertContact(context.Background(), c); err != nil {
			return err
		}
		contactID = c.ID
		d := &crm.Deal{Title: markers["deal title"], PipelineID: 1, StageID: 1, Currency: "RUB", ContactID: &c.ID, OwnerID: 1, Version: 1,
			CreatedAt: now, UpdatedAt: now, Tags: []string{}}
		if err := tx.InsertDeal(context.Background(), d); err != nil {
			return err
		}
		dealID = d.ID
		tk := &crm.Task{Title: markers["task title"], Status: crm.TaskOpen, ContactID: &c.ID, OwnerID: 1, Version: 1,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertTask(context.Background(), tk); err != nil {
			return err
		}
		taskID = tk.ID
		a := &crm.Activity{Type: "note", Subject: markers["subject"], Body: markers["body"], OccurredAt: now, ContactID: &c.ID, OwnerID: 1, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertActivity(context.Background(), a); err != nil {
			return err
		}
		activityID = a.ID
		if err := tx.InsertConsent(context.Background(), &crm.Consent{ContactID: c.ID, Purpose: "calls", Granted: true, Source: markers["source"], RecordedBy: 1, RecordedAt: now}); err != nil {
			return err
		}
		// The server's secrets as an older version kept them: in plain text.
		if err := tx.PutTOTP(context.Background(), &crm.TOTP{UserID: 1, Secret: markers["seed"], CreatedAt: now}); err != nil {
			return err
		}
		return tx.SetSetting(context.Background(), "cursor_key", hex.EncodeToString([]byte(markers["cursor key"])))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := startServer(t, dir)
	waitSealed(t, s)
	var c struct{ Title, Notes string }
	wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/contacts/%d", contactID), nil, &c), http.StatusOK)
	if c.Title != markers["title"] || c.Notes != markers["notes"] {
		t.Fatalf("after the upgrade the contact reads %+v", c)
	}
	// Its names, email and phone are sealed and its tokens written: found
	// by them, through the in-memory index and by token.
	for _, q := range []string{"contacts?q=oldlastmark", "contacts?email=OldMarkQ9z%40example.com", "contacts?phone=%2B74957770099",
		"contacts?q=4957770099", "contacts?q=oldconame", "companies?q=oldconame", "companies?domain=oldcodomainmarkq9z.example",
		"deals?q=olddealtitle", "tasks?q=oldtasktitle", "activities?q=oldsubjectmark", "contacts?tag=oldtagmarkq9z"} {
		var found struct{ Items []struct{ ID int64 } }
		wantStatus(t, s.api(t, token, "GET", "/api/v1/"+q, nil, &found), http.StatusOK)
		want := map[string]int64{"companies": companyID, "contacts": contactID, "deals": dealID, "tasks": taskID,
			"activities": activityID}[strings.Split(q, "?")[0]]
		if len(found.Items) != 1 || found.Items[0].ID != want {
			t.Errorf("after the upgrade GET /api/v1/%s = %+v", q, found.Items)
		}
	}
	s.stop()
	if found := scanFiles(t, dir, markers); len(found) > 0 {
		t.Fatalf("plain text left in the data files after the upgrade: %v", found)
	}

	raw, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var emailToken, phoneToken string
	if err := raw.QueryRow("SELECT email_token, phone_token FROM contacts WHERE id = ?", contactID).Scan(&emailToken, &phoneToken); err != nil ||
		emailToken == "" || phoneToken == "" || emailToken == phoneToken {
		t.Errorf("the upgraded contact's tokens: %q %q %v", emailToken, phoneToken, err)
	}
	if _, err := raw.Exec("UPDATE contacts SET notes = 'put back in plain text' WHERE id = ?", contactID); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, dir)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	res := s.api(t, token, "GET", fmt.Sprintf("/api/v1/contacts/%d", contactID), nil, &e)
	if res.StatusCode != http.StatusInternalServerError || e.Error.Code != "integrity" {
		t.Fatalf("a plain value after the upgrade: %d %+v", res.StatusCode, e.Error)
	}
}

// TestLogsHoldNoPersonalValues (ENC-6): a server at log level debug is
// driven through sign-in failures, every client record with a marker in
// each personal field, searches and filters by them, validation failures
// that echo them, reads of missing records and an integrity failure; its
// whole log then holds none of the markers, in plain text, hex or base64.
func TestLogsHoldNoPersonalValues(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	s := startServer(t, dir, "--log-level", "debug")
	m := map[string]string{
		"first name": "FirstLogMarkQ3", "last name": "LastLogMarkQ3", "email": "emaillogmarkq3@example.com",
		"phone": "+79161234567", "title": "TitleLogMarkQ3", "address": "AddrLogMarkQ3", "notes": "NotesLogMarkQ3",
		"company": "CompanyLogMarkQ3", "body": "BodyLogMarkQ3", "task": "TaskLogMarkQ3", "source": "SourceLogMarkQ3",
		"bad email": "BadEmailLogMarkQ3@@", "password": "PasswordLogMarkQ3 and more",
		"unknown user": "nobodylogmarkq3@example.com", "query": "QueryLogMarkQ3",
	}
	var c struct {
		ID int64 `json:"id"`
	}
	wantStatus(t, s.api(t, token, "POST", "/api/v1/companies", map[string]any{"name": m["company"]}, &c), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/contacts", map[string]any{"first_name": m["first name"], "last_name": m["last name"],
		"email": m["email"], "phone": m["phone"], "title": m["title"], "address": m["address"], "notes": m["notes"]}, &c), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/activities", map[string]any{"type": "note", "subject": "x", "contact_id": c.ID, "body": m["body"]}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/tasks", map[string]any{"title": m["task"], "contact_id": c.ID}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", fmt.Sprintf("/api/v1/contacts/%d/consents", c.ID), map[string]any{"purpose": "calls", "granted": true, "source": m["source"]}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/contacts", map[string]any{"last_name": "X", "email": m["bad email"], "notes": m["notes"]}, nil), http.StatusBadRequest)
	for _, q := range []string{"?q=" + m["query"], "?email=" + m["email"], "?phone=%2B79161234567", "?q=" + m["last name"]} {
		wantStatus(t, s.api(t, token, "GET", "/api/v1/contacts"+q, nil, nil), http.StatusOK)
	}
	wantStatus(t, s.api(t, token, "GET", "/api/v1/contacts?sort="+m["query"], nil, nil), http.StatusBadRequest)
	wantStatus(t, s.api(t, token, "GET", "/api/v1/contacts/999999", nil, nil), http.StatusNotFound)
	for _, email := range []string{"rep@example.com", m["unknown user"]} {
		form := url.Values{"email": {email}, "password": {m["password"]}}
		req, _ := http.NewRequest("POST", s.url+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.url)
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", res.StatusCode)
		}
	}
	wantStatus(t, s.api(t, "cst_"+m["query"], "GET", "/api/v1/contacts", nil, nil), http.StatusUnauthorized)

	if !strings.Contains(s.log.String(), "level=DEBUG") && !strings.Contains(s.log.String(), "level=INFO") {
		t.Fatalf("the log is empty; the scan would prove nothing:\n%s", s.log.String())
	}
	logs := s.log.String()
	for name, marker := range m {
		for _, enc := range encodings(marker) {
			if strings.Contains(logs, enc) {
				t.Errorf("the log holds the %s (%q as %q)", name, marker, enc)
				break
			}
		}
	}
}

// TestPostgresDumpHoldsNoSealedValue (ENC-2): on PostgreSQL, a full
// pg_dump of the database holds none of the markers of the sealed fields,
// as plain text, hex or base64, and does hold a field that is not sealed
// yet (which proves the dump has the rows). It skips without
// CUSTOS_TEST_POSTGRES or pg_dump.
func TestPostgresDumpHoldsNoSealedValue(t *testing.T) {
	dsn, schema := postgrestest.Schema(t)
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Skip("pg_dump is not installed")
	}
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--db", dsn, "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--db", dsn, "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	s := startServer(t, dir, "--db", dsn)
	var c struct {
		ID int64 `json:"id"`
	}
	wantStatus(t, s.api(t, token, "POST", "/api/v1/contacts", map[string]any{"first_name": sealedMarkers["contact first name"],
		"last_name": sealedMarkers["contact last name"], "email": sealedMarkers["contact email"], "phone": sealedMarkers["contact phone"],
		"title": sealedMarkers["contact title"], "address": sealedMarkers["contact address"], "notes": sealedMarkers["contact notes"],
		"tags": []string{sealedMarkers["contact tag"]}}, &c), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/activities", map[string]any{"type": "note", "subject": sealedMarkers["activity subject"],
		"contact_id": c.ID, "body": sealedMarkers["activity body"]}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/companies", map[string]any{"name": sealedMarkers["company name"],
		"domain": sealedMarkers["company domain"], "industry": plainMarker}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/deals", map[string]any{"title": sealedMarkers["deal title"], "pipeline_id": 1}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/tasks", map[string]any{"title": sealedMarkers["task title"], "contact_id": c.ID}, nil), http.StatusCreated)
	wantStatus(t, s.api(t, token, "PATCH", fmt.Sprintf("/api/v1/contacts/%d", c.ID), map[string]any{"notes": "NewNotesMarkQ7x"}, nil), http.StatusOK)
	out, err := exec.Command(pgDump, "--no-owner", "--schema", schema, "--dbname", os.Getenv(postgrestest.EnvDSN)).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	dump := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(dump, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if found := scanFiles(t, filepath.Dir(dump), map[string]string{"company industry": plainMarker}); len(found) == 0 {
		t.Fatal("the dump lacks a plain field the server wrote: the scan proves nothing")
	}
	markers := map[string]string{"new notes": "NewNotesMarkQ7x"}
	for _, k := range []string{"contact title", "contact address", "contact notes", "activity body", "activity subject",
		"contact first name", "contact last name", "contact email", "contact phone", "company name", "company domain",
		"deal title", "task title", "contact tag"} {
		markers[k] = sealedMarkers[k]
	}
	if found := scanFiles(t, filepath.Dir(dump), markers); len(found) > 0 {
		t.Fatalf("sealed fields found in pg_dump: %v", found)
	}
}

// TestDefaultKeyFilePlace (ENC-3): without --key-file the key file lives
// under the user's configuration directory, named after the data
// directory, never inside it; two data directories get two files; with no
// home at all there is no default and the error says what to set.
func TestDefaultKeyFilePlace(t *testing.T) {
	home := t.TempDir()
	env := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	data := filepath.Join(t.TempDir(), "custos-data")
	a, err := keyFilePath(&config.Config{DataDir: data}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, filepath.Join(home, ".config", "custos", "keys")+string(filepath.Separator)) ||
		!strings.HasPrefix(filepath.Base(a), "custos-data-") || inside(a, data) {
		t.Errorf("default key file %s", a)
	}
	b, _ := keyFilePath(&config.Config{DataDir: data + "2"}, env)
	if a == b {
		t.Errorf("two data directories share the key file %s", a)
	}
	if _, err := keyFilePath(&config.Config{DataDir: data}, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--key-file") {
		t.Errorf("no home: %v", err)
	}
}

// TestKeysRotateClient (ENC-3: "one client's data key can be rotated
// too"): custos keys rotate --client seals a contact's fields, its
// activities', tasks' and consent's again under a new data key and
// destroys the old one while a writer keeps adding activities to that
// contact and changing its notes through the running server; afterwards
// every value reads back as last written, another contact is untouched,
// and (on the embedded store, whose files the test reads) a value saved
// before the rotation no longer opens. On both stores.
func TestKeysRotateClient(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testKeysRotateClient(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		dsn, _ := postgrestest.Schema(t)
		testKeysRotateClient(t, []string{"--db", dsn})
	})
}

func testKeysRotateClient(t *testing.T, db []string) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", append([]string{"user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin"}, db...)...)
	token := strings.TrimSpace(runCLI(t, dir, "", append([]string{"token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"}, db...)...))
	s := startServer(t, dir, db...)
	var rec struct {
		ID int64 `json:"id"`
	}
	create := func(path string, body map[string]any) int64 {
		rec.ID = 0
		wantStatus(t, s.api(t, token, "POST", path, body, &rec), http.StatusCreated)
		return rec.ID
	}
	contact := create("/api/v1/contacts", map[string]any{"last_name": "Rotated", "notes": "notes 0", "title": "Buyer", "tags": []string{"vip", "debtor"}})
	other := create("/api/v1/contacts", map[string]any{"last_name": "Other", "notes": "the other's notes"})
	bodies := map[int64]string{}
	for i := range 5 {
		body := fmt.Sprintf("body %d", i)
		bodies[create("/api/v1/activities", map[string]any{"type": "note", "subject": "Met", "contact_id": contact, "body": body})] = body
	}
	task := create("/api/v1/tasks", map[string]any{"title": "Call", "contact_id": contact, "description": "the task's words"})
	create(fmt.Sprintf("/api/v1/contacts/%d/consents", contact), map[string]any{"purpose": "marketing", "granted": true, "source": "the web form"})

	var saved string
	var raw *sql.DB
	if db == nil {
		var err error
		if raw, err = sql.Open("sqlite", filepath.Join(dir, sqlite.FileName)); err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		if err := raw.QueryRow("SELECT notes FROM contacts WHERE id = ?", contact).Scan(&saved); err != nil || !vault.Sealed(saved) {
			t.Fatalf("notes at rest: %q %v", saved, err)
		}
	}

	// The writer: new activities of the contact and new notes, each
	// remembered once the server has answered.
	var mu sync.Mutex
	notes := "notes 0"
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	send := func(method, path string, body map[string]any) (int64, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := s.client.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		var r struct {
			ID int64 `json:"id"`
		}
		if res.StatusCode >= 300 || json.NewDecoder(res.Body).Decode(&r) != nil {
			return 0, fmt.Errorf("%s %s: %d", method, path, res.StatusCode)
		}
		return r.ID, nil
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body := fmt.Sprintf("body %d", 100+i)
			id, err := send("POST", "/api/v1/activities", map[string]any{"type": "note", "subject": "Again", "contact_id": contact, "body": body})
			if err != nil {
				writeErr = err
				return
			}
			n := fmt.Sprintf("notes %d", i)
			if _, err := send("PATCH", fmt.Sprintf("/api/v1/contacts/%d", contact), map[string]any{"notes": n}); err != nil {
				writeErr = err
				return
			}
			mu.Lock()
			bodies[id], notes = body, n
			mu.Unlock()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	out := runCLI(t, dir, "", append([]string{"keys", "rotate", "--client", fmt.Sprintf("contact:%d", contact)}, db...)...)
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("a write during the rotation: %v", writeErr)
	}
	if !strings.Contains(out, "sealed") || !strings.Contains(out, "the old one") {
		t.Fatalf("keys rotate --client: %q", out)
	}

	var c struct {
		Notes, Title string
		Tags         []string
	}
	wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/contacts/%d", contact), nil, &c), http.StatusOK)
	if c.Notes != notes || c.Title != "Buyer" || !slices.Equal(c.Tags, []string{"vip", "debtor"}) {
		t.Errorf("the contact after the rotation: %+v, want notes %q", c, notes)
	}
	var tagged struct{ Items []struct{ ID int64 } }
	wantStatus(t, s.api(t, token, "GET", "/api/v1/contacts?tag=debtor", nil, &tagged), http.StatusOK)
	if len(tagged.Items) != 1 || tagged.Items[0].ID != contact {
		t.Errorf("tag=debtor after the rotation: %+v", tagged.Items)
	}
	for id, body := range bodies {
		var a struct{ Body string }
		wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/activities/%d", id), nil, &a), http.StatusOK)
		if a.Body != body {
			t.Errorf("activity %d reads %q, want %q", id, a.Body, body)
		}
	}
	var tk struct{ Description string }
	wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/tasks/%d", task), nil, &tk), http.StatusOK)
	var consents struct{ Items []struct{ Source string } }
	wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/contacts/%d/consents", contact), nil, &consents), http.StatusOK)
	if tk.Description != "the task's words" || len(consents.Items) != 1 || consents.Items[0].Source != "the web form" {
		t.Errorf("after the rotation: task %+v, consents %+v", tk, consents)
	}
	var o struct{ Notes string }
	wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/contacts/%d", other), nil, &o), http.StatusOK)
	if o.Notes != "the other's notes" {
		t.Errorf("another contact after the rotation: %+v", o)
	}
	for arg, want := range map[string]string{"contact:0": "must be contact:ID", "person:3": "must be contact:ID",
		fmt.Sprintf("contact:%d", other+1000): "has no data key"} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"keys", "rotate", "--client", arg}, db...), testEnv(dir), strings.NewReader(""), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("keys rotate --client %s: %v, want an error with %q", arg, err, want)
		}
	}

	if raw == nil {
		return
	}
	var now string
	if err := raw.QueryRow("SELECT notes FROM contacts WHERE id = ?", contact).Scan(&now); err != nil {
		t.Fatal(err)
	}
	oldKey, _ := vault.KeyOf(saved)
	newKey, _ := vault.KeyOf(now)
	if oldKey == newKey {
		t.Fatalf("the notes are still under key %d", oldKey)
	}
	kek, err := vault.KeyFile(dir+".kek", false)
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Read(context.Background(), func(tx crm.Tx) error {
		return seal.New(kek, 16, 16).Open(context.Background(), tx, "contact", &crm.Contact{ID: contact, Notes: saved})
	})
	if crm.ErrorCode(err) != crm.EINTEGRITY {
		t.Errorf("a value saved before the rotation: %v; want it not to open", err)
	}
}

// TestCompanyNamesPlain (ENC-2, issue 12 item 1): with --company-names
// plain, a company's name, domain, phone and address rest in plain text
// in the data files, for reports outside Custos, while its notes and
// every contact field stay sealed; started again with the default, the
// server seals them online (readyz says so until done), after which none
// is left in the files and the company still reads and searches. A
// setting other than sealed or plain refuses to start.
func TestCompanyNamesPlain(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, dir, "a long and unusual passphrase\n", "user", "add", "--email", "rep@example.com", "--role", "sales", "--password-stdin")
	token := strings.TrimSpace(runCLI(t, dir, "", "token", "create", "--email", "rep@example.com", "--scope", "write", "--ttl", "1h"))
	plainFields := map[string]string{"name": "PlainCoNameQ5w", "domain": "plaincodomainq5w.example", "phone": "+74957775501", "address": "PlainCoAddressQ5w"}
	sealedFields := map[string]string{"notes": "SealedCoNotesQ5w", "contact last name": "SealedLastQ5w", "contact address": "SealedHomeQ5w"}

	s := startServer(t, dir, "--company-names", "plain")
	waitSealed(t, s)
	var co struct{ ID int64 }
	wantStatus(t, s.api(t, token, "POST", "/api/v1/companies", map[string]any{"name": plainFields["name"], "domain": plainFields["domain"],
		"phone": plainFields["phone"], "address": plainFields["address"], "notes": sealedFields["notes"]}, &co), http.StatusCreated)
	wantStatus(t, s.api(t, token, "POST", "/api/v1/contacts", map[string]any{"last_name": sealedFields["contact last name"],
		"address": sealedFields["contact address"], "company_id": co.ID}, nil), http.StatusCreated)
	s.stop()
	if found := scanFiles(t, dir, plainFields); len(found) != len(plainFields) {
		t.Errorf("with company names plain the files hold only %v of the company's name, domain, phone and address", found)
	}
	if found := scanFiles(t, dir, sealedFields); len(found) > 0 {
		t.Fatalf("with company names plain, sealed fields found in the files: %v", found)
	}

	// Back to the default: sealed online, then gone from the files.
	s = startServer(t, dir)
	waitSealed(t, s)
	var got struct{ Name, Notes string }
	wantStatus(t, s.api(t, token, "GET", fmt.Sprintf("/api/v1/companies/%d", co.ID), nil, &got), http.StatusOK)
	if got.Name != plainFields["name"] || got.Notes != sealedFields["notes"] {
		t.Errorf("sealed again, the company reads %+v", got)
	}
	var found struct{ Items []struct{ ID int64 } }
	wantStatus(t, s.api(t, token, "GET", "/api/v1/companies?q=plainconame", nil, &found), http.StatusOK)
	if len(found.Items) != 1 || found.Items[0].ID != co.ID {
		t.Errorf("sealed again, q finds %+v", found.Items)
	}
	s.stop()
	if found := scanFiles(t, dir, plainFields); len(found) > 0 {
		t.Fatalf("company fields left in plain text after sealing them again: %v", found)
	}

	err := run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--company-names", "public"}, testEnv(dir),
		strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "company-names") {
		t.Errorf("--company-names public: %v, want a refusal naming the setting", err)
	}
}

// TestDuplicatesOverAPI (ENC-4): GET /api/v1/duplicates/contacts groups
// the contacts that share an email through their blind-index tokens; a
// bad match is 400 naming it.
func TestDuplicatesOverAPI(t *testing.T) {
	w := newSealedWorld(t)
	var a, b struct{ ID int64 }
	wantStatus(t, w.s.api(t, w.token, "POST", "/api/v1/contacts", map[string]any{"last_name": "Twin", "email": "Twin@Example.com"}, &a), http.StatusCreated)
	wantStatus(t, w.s.api(t, w.token, "POST", "/api/v1/contacts", map[string]any{"last_name": "Twin", "email": "twin@example.com"}, &b), http.StatusCreated)
	var pg struct {
		Items []struct {
			Match    string
			Count    int
			Contacts []struct {
				ID    int64
				Email string
			}
		}
	}
	wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/duplicates/contacts", nil, &pg), http.StatusOK)
	if len(pg.Items) != 1 || pg.Items[0].Match != "email" || pg.Items[0].Count != 2 || len(pg.Items[0].Contacts) != 2 ||
		pg.Items[0].Contacts[0].ID != a.ID || pg.Items[0].Contacts[1].ID != b.ID || pg.Items[0].Contacts[1].Email != "twin@example.com" {
		t.Fatalf("duplicates: %+v", pg.Items)
	}
	wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/duplicates/contacts?match=phone", nil, &pg), http.StatusOK)
	if len(pg.Items) != 0 {
		t.Errorf("phone duplicates: %+v", pg.Items)
	}
	var e struct {
		Error struct {
			Code   string
			Fields map[string]string
		} `json:"error"`
	}
	wantStatus(t, w.s.api(t, w.token, "GET", "/api/v1/duplicates/contacts?match=name", nil, &e), http.StatusBadRequest)
	if e.Error.Fields["match"] == "" {
		t.Errorf("match=name: %+v", e.Error)
	}
}
