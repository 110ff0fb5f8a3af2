package bench

import (
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The floor is the reference the ratios are measured against: what the
// bench's requests cost with no security work at all. It answers the same
// routes with the same JSON shapes from the same tables, through the same
// SQL driver and pragmas and behind the same TLS settings, with one
// prepared statement per request: no authentication (the bearer token is
// only looked up in a map to know whose contacts a list shows), no access
// check, no audit, no encryption, no validation beyond what the query
// needs. Each query is the one a plain application would write for the
// response: an owner's list is a keyset page on the sort key. It serves
// only the bench's requests (a patch sets the title, say), never the
// product, and has no login (the login row has no floor).
//
// Whose records a list or search shows is what a plain application
// would put in its WHERE clause: the owner's alone (owner_id = ?), or,
// for a user who manages teams or may hold shares (the org shape),
// owner_id = ? OR team_id IN (the teams) OR id IN (the contacts shared
// with the user or one of their teams, unexpired, from the shares table
// of its copy), each list size its own prepared statement. On PostgreSQL
// the shared ids are id = ANY (ARRAY(…)), as a PostgreSQL application
// writes it (and the store's dialect does): an IN subquery inside an OR
// is only a filter there, which walks the whole sort index for a rep.

// contactColumns are the columns the floor reads of a contact.
const contactColumns = `id, first_name, last_name, email, phone, company_id, title, address,
	birthday, notes, tags, pref_channel, pref_language, do_not_contact,
	owner_id, version, created_at, updated_at`

const activityColumns = `id, type, subject, body, occurred_at, duration_min, contact_id, company_id,
	deal_id, owner_id, version, created_at, updated_at`

// FloorSorts are the sort keys of the contact list and their columns.
var FloorSorts = map[string]string{"last_name": "last_name_lc", "first_name": "first_name_lc",
	"email": "email", "created_at": "created_at", "updated_at": "updated_at"}

// Floor is the no-security reference server's handler.
type Floor struct {
	read, write *sql.DB
	pg          bool
	callers     map[string]*floorCaller // by bearer token
	stmts       map[string]*sql.Stmt
}

// FloorCaller is what the floor knows of the user of a bearer token: whose
// records its lists show, as Custos's principal carries it from the
// token's user row. The floor keeps it in a map and checks nothing.
type FloorCaller struct {
	UserID int64
	TeamID int64   // the user's team (0: none), which the records they create take
	Teams  []int64 // the teams whose records the user sees: those they manage and every team below them
	// ShareTeams are the teams whose shares reach the user; with Shared
	// the lists and searches add the contacts shared with the user or one
	// of them (the data set has shares).
	ShareTeams []int64
	Shared     bool
}

// floorCaller is a FloorCaller with its visibility condition.
type floorCaller struct {
	FloorCaller
	vis     string // the key of its statements: the condition's text
	visArgs []any  // its arguments, but for the time that ends a share
}

// visibility returns the condition that a contact is one c may see, in
// the form a plain application would write it (for PostgreSQL with pg),
// and its arguments (but the time that ends a share, which comes last).
func visibility(c FloorCaller, pg bool) (string, []any) {
	if len(c.Teams) == 0 && !c.Shared {
		return "owner_id = ?", []any{c.UserID}
	}
	args := []any{c.UserID}
	var b strings.Builder
	b.WriteString("(owner_id = ?")
	if len(c.Teams) > 0 {
		b.WriteString(" OR team_id IN (" + marks(len(c.Teams)) + ")")
		for _, t := range c.Teams {
			args = append(args, t)
		}
	}
	if c.Shared {
		if pg {
			b.WriteString(" OR id = ANY (ARRAY(")
		} else {
			b.WriteString(" OR id IN (")
		}
		b.WriteString("SELECT record_id FROM shares WHERE entity = 'contact' AND (user_id = ?")
		args = append(args, c.UserID)
		if len(c.ShareTeams) > 0 {
			b.WriteString(" OR team_id IN (" + marks(len(c.ShareTeams)) + ")")
			for _, t := range c.ShareTeams {
				args = append(args, t)
			}
		}
		b.WriteString(") AND (expires_at IS NULL OR expires_at > ?))")
		if pg {
			b.WriteString(")")
		}
	}
	b.WriteString(")")
	return b.String(), args
}

// marks returns n placeholders separated by commas.
func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// args returns the arguments of c's visibility condition followed by more.
func (c *floorCaller) args(more ...any) []any {
	out := append(make([]any, 0, len(c.visArgs)+1+len(more)), c.visArgs...)
	if c.Shared {
		out = append(out, nowMicros().UnixMicro())
	}
	return append(out, more...)
}

// NewFloor prepares the floor's statements on read (a pool of readers) and
// write (one writer; it may be read), in PostgreSQL's placeholders when pg
// is set. callers maps each bearer token to its user.
func NewFloor(ctx context.Context, read, write *sql.DB, pg bool, callers map[string]FloorCaller) (*Floor, error) {
	f := &Floor{read: read, write: write, pg: pg, callers: map[string]*floorCaller{}, stmts: map[string]*sql.Stmt{}}
	live := " AND deleted_at IS NULL"
	qs := map[string]string{
		"get":      `SELECT ` + contactColumns + ` FROM contacts WHERE id = ?` + live,
		"timeline": `SELECT ` + activityColumns + ` FROM activities WHERE contact_id = ?` + live + ` ORDER BY occurred_at DESC, id DESC LIMIT 50`,
		"create": `INSERT INTO contacts (first_name, last_name, first_name_lc, last_name_lc, email, phone, title, tags,
			pref_channel, pref_language, owner_id, team_id, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
		"update": `UPDATE contacts SET title = ?, version = version + 1, updated_at = ? WHERE id = ?` + live +
			` RETURNING ` + contactColumns,
		"activity": `INSERT INTO activities (type, subject, occurred_at, duration_min, contact_id, owner_id,
			team_id, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
	}
	// The statements of lists and searches, one set per visibility
	// condition (the owner's alone in the shapes without teams and
	// shares: the statements of before the org shape).
	for token, c := range callers {
		vis, args := visibility(c, pg)
		f.callers[token] = &floorCaller{FloorCaller: c, vis: vis, visArgs: args}
		if _, done := qs[vis+" email"]; done {
			continue
		}
		qs[vis+" email"] = `SELECT ` + contactColumns + ` FROM contacts WHERE ` + vis + ` AND email = ?` + live + ` ORDER BY last_name_lc, id LIMIT 50`
		qs[vis+" prefix"] = `SELECT ` + contactColumns + ` FROM contacts WHERE ` + vis + live +
			` AND ((last_name_lc >= ? AND last_name_lc < ?) OR (first_name_lc >= ? AND first_name_lc < ?) OR (email >= ? AND email < ?))` +
			` ORDER BY last_name_lc, id LIMIT 50`
		for key, col := range FloorSorts {
			for _, desc := range []bool{false, true} {
				dir, cmp, name := "", ">", key
				if desc {
					dir, cmp, name = " DESC", "<", "-"+key
				}
				base := `SELECT ` + contactColumns + ` FROM contacts WHERE ` + vis + live
				order := ` ORDER BY ` + col + dir + `, id` + dir + ` LIMIT 51`
				qs[vis+" list "+name] = base + order
				qs[vis+" list "+name+" next"] = base + ` AND (` + col + `, id) ` + cmp + ` (?, ?)` + order
			}
		}
	}
	for name, q := range qs {
		db := read
		if name == "create" || name == "update" || name == "activity" {
			db = write
		}
		st, err := db.PrepareContext(ctx, f.placeholders(q))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("bench: floor: prepare %s: %w", name, err)
		}
		f.stmts[name] = st
	}
	return f, nil
}

// placeholders rewrites ? as $1, $2, ... for PostgreSQL.
func (f *Floor) placeholders(q string) string {
	if !f.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Close closes the statements (not the pools).
func (f *Floor) Close() {
	for _, st := range f.stmts {
		st.Close()
	}
}

// Handler returns the floor's routes.
func (f *Floor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/contacts/{id}", f.get)
	mux.HandleFunc("GET /api/v1/contacts", f.list)
	mux.HandleFunc("GET /api/v1/contacts/{id}/timeline", f.timeline)
	mux.HandleFunc("POST /api/v1/contacts", f.create)
	mux.HandleFunc("PATCH /api/v1/contacts/{id}", f.update)
	mux.HandleFunc("POST /api/v1/activities", f.activity)
	return mux
}

// ServeFloor serves h over TLS with cert on a free port of 127.0.0.1, with
// the server TLS configuration tlsConf (Custos's), and returns its URL and
// a function that stops it.
func ServeFloor(h http.Handler, tlsConf *tls.Config) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("bench: floor: %w", err)
	}
	srv := &http.Server{Handler: h, TLSConfig: tlsConf, ReadHeaderTimeout: 10 * time.Second}
	go srv.ServeTLS(ln, "", "")
	return "https://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func (f *Floor) caller(r *http.Request) (*floorCaller, bool) {
	c, ok := f.callers[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	return c, ok
}

func writeFloor(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func floorError(w http.ResponseWriter, err error) {
	if errors.Is(err, sql.ErrNoRows) {
		http.Error(w, `{"error":{"code":"not_found"}}`, http.StatusNotFound)
		return
	}
	http.Error(w, `{"error":{"code":"internal"}}`, http.StatusInternalServerError)
}

type scanner interface{ Scan(...any) error }

func scanFloorContact(s scanner) (*crm.Contact, error) {
	var c crm.Contact
	var tags string
	var created, updated int64
	var dnc bool
	if err := s.Scan(&c.ID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &c.CompanyID, &c.Title, &c.Address,
		&c.Birthday, &c.Notes, &tags, &c.Preferences.Channel, &c.Preferences.Language, &dnc,
		&c.OwnerID, &c.Version, &created, &updated); err != nil {
		return nil, err
	}
	c.Preferences.DoNotContact = dnc
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil || c.Tags == nil {
		c.Tags = []string{}
	}
	c.CreatedAt, c.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return &c, nil
}

func (f *Floor) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c, err := scanFloorContact(f.stmts["get"].QueryRowContext(r.Context(), id))
	if err != nil {
		floorError(w, err)
		return
	}
	writeFloor(w, http.StatusOK, c)
}

// floorCursor is the sort key and id of a page's last row.
func floorCursor(c *crm.Contact, sort string) string {
	var key string
	switch strings.TrimPrefix(sort, "-") {
	case "last_name":
		key = strings.ToLower(c.LastName)
	case "first_name":
		key = strings.ToLower(c.FirstName)
	case "email":
		key = c.Email
	case "created_at":
		key = strconv.FormatInt(c.CreatedAt.UnixMicro(), 10)
	case "updated_at":
		key = strconv.FormatInt(c.UpdatedAt.UnixMicro(), 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.ID, 10) + " " + key))
}

func (f *Floor) list(w http.ResponseWriter, r *http.Request) {
	c, ok := f.caller(r)
	if !ok {
		http.Error(w, `{"error":{"code":"unauthenticated"}}`, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	var rows *sql.Rows
	var err error
	sort := q.Get("sort")
	limit := 50
	switch {
	case q.Get("email") != "":
		rows, err = f.stmts[c.vis+" email"].QueryContext(r.Context(), c.args(q.Get("email"))...)
	case q.Get("q") != "":
		lo := strings.ToLower(q.Get("q"))
		hi := lo + "\U0010FFFF"
		rows, err = f.stmts[c.vis+" prefix"].QueryContext(r.Context(), c.args(lo, hi, lo, hi, lo, hi)...)
	default:
		if sort == "" {
			sort = "last_name"
		}
		col, known := FloorSorts[strings.TrimPrefix(sort, "-")]
		st := f.stmts[c.vis+" list "+sort]
		if !known || st == nil {
			http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
			return
		}
		if cur := q.Get("cursor"); cur != "" {
			b, _ := base64.RawURLEncoding.DecodeString(cur)
			idText, key, _ := strings.Cut(string(b), " ")
			id, _ := strconv.ParseInt(idText, 10, 64)
			var k any = key
			if col == "created_at" || col == "updated_at" {
				k, _ = strconv.ParseInt(key, 10, 64)
			}
			rows, err = f.stmts[c.vis+" list "+sort+" next"].QueryContext(r.Context(), c.args(k, id)...)
		} else {
			rows, err = st.QueryContext(r.Context(), c.args()...)
		}
	}
	if err != nil {
		floorError(w, err)
		return
	}
	items, err := collect(rows, scanFloorContact)
	if err != nil {
		floorError(w, err)
		return
	}
	page := crm.Page[*crm.Contact]{Items: items}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = floorCursor(page.Items[limit-1], sort)
	}
	writeFloor(w, http.StatusOK, page)
}

func (f *Floor) timeline(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	rows, err := f.stmts["timeline"].QueryContext(r.Context(), id)
	if err != nil {
		floorError(w, err)
		return
	}
	items, err := collect(rows, scanFloorActivity)
	if err != nil {
		floorError(w, err)
		return
	}
	writeFloor(w, http.StatusOK, crm.Page[*crm.Activity]{Items: items})
}

// scanFloorActivity scans one row of activityColumns.
func scanFloorActivity(s scanner) (*crm.Activity, error) {
	var a crm.Activity
	var occurred, created, updated int64
	if err := s.Scan(&a.ID, &a.Type, &a.Subject, &a.Body, &occurred, &a.DurationMin, &a.ContactID, &a.CompanyID,
		&a.DealID, &a.OwnerID, &a.Version, &created, &updated); err != nil {
		return nil, err
	}
	a.OccurredAt, a.CreatedAt, a.UpdatedAt = time.UnixMicro(occurred).UTC(), time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return &a, nil
}

// collect scans every row with scan and closes rows; an empty result is an
// empty, non-nil slice, as the product's pages are.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func nowMicros() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// team returns the caller's team for a new record (nil: none).
func (c *floorCaller) team() *int64 {
	if c.TeamID == 0 {
		return nil
	}
	t := c.TeamID
	return &t
}

func (f *Floor) create(w http.ResponseWriter, r *http.Request) {
	caller, ok := f.caller(r)
	var in newContact
	if !ok || json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
		return
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	tags, _ := json.Marshal(in.Tags)
	now := nowMicros()
	c := &crm.Contact{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone, Title: in.Title,
		Tags: in.Tags, OwnerID: caller.UserID, TeamID: caller.team(), Version: 1, CreatedAt: now, UpdatedAt: now,
		Preferences: crm.Preferences{Channel: in.Preferences["channel"], Language: in.Preferences["language"]}}
	err := f.stmts["create"].QueryRowContext(r.Context(), c.FirstName, c.LastName, strings.ToLower(c.FirstName),
		strings.ToLower(c.LastName), c.Email, c.Phone, c.Title, string(tags), c.Preferences.Channel, c.Preferences.Language,
		caller.UserID, c.TeamID, now.UnixMicro(), now.UnixMicro()).Scan(&c.ID)
	if err != nil {
		floorError(w, err)
		return
	}
	writeFloor(w, http.StatusCreated, c)
}

func (f *Floor) update(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct {
		Title *string `json:"title"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.Title == nil {
		http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
		return
	}
	c, err := scanFloorContact(f.stmts["update"].QueryRowContext(r.Context(), *in.Title, nowMicros().UnixMicro(), id))
	if err != nil {
		floorError(w, err)
		return
	}
	writeFloor(w, http.StatusOK, c)
}

func (f *Floor) activity(w http.ResponseWriter, r *http.Request) {
	caller, ok := f.caller(r)
	var in struct {
		Type        string `json:"type"`
		Subject     string `json:"subject"`
		ContactID   int64  `json:"contact_id"`
		DurationMin int    `json:"duration_minutes"`
	}
	if !ok || json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
		return
	}
	now := nowMicros()
	a := &crm.Activity{Type: in.Type, Subject: in.Subject, OccurredAt: now, DurationMin: in.DurationMin,
		ContactID: &in.ContactID, OwnerID: caller.UserID, TeamID: caller.team(), Version: 1, CreatedAt: now, UpdatedAt: now}
	err := f.stmts["activity"].QueryRowContext(r.Context(), a.Type, a.Subject, now.UnixMicro(),
		a.DurationMin, in.ContactID, caller.UserID, a.TeamID, now.UnixMicro(), now.UnixMicro()).Scan(&a.ID)
	if err != nil {
		floorError(w, err)
		return
	}
	writeFloor(w, http.StatusCreated, a)
}
