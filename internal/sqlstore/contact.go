package sqlstore

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

const contactCols = `id, first_name, last_name, email, phone, company_id, title, address,
	birthday, notes, tags, pref_channel, pref_language, do_not_contact,
	owner_id, team_id, version, created_at, updated_at, deleted_at`

var (
	sqlInsertContact = Statement(`INSERT INTO contacts (first_name, last_name, first_name_lc, last_name_lc,
		email, phone, company_id, title, address, birthday, notes, tags, pref_channel,
		pref_language, do_not_contact, owner_id, team_id, version, created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlInsertContactID = withID(sqlInsertContact)
)

// scanContact scans the columns of contactCols, then extra.
func scanContact(sc Row, extra ...any) (*crm.Contact, error) {
	var (
		c                    crm.Contact
		companyID, deletedAt *int64
		tags                 string
		created, updated     int64
	)
	dest := []any{&c.ID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &companyID,
		&c.Title, &c.Address, &c.Birthday, &c.Notes, &tags, &c.Preferences.Channel,
		&c.Preferences.Language, &c.Preferences.DoNotContact, &c.OwnerID, &c.TeamID, &c.Version,
		&created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if c.Tags, err = DecodeTags(tags); err != nil {
		return nil, err
	}
	c.CompanyID = companyID
	c.CreatedAt, c.UpdatedAt = FromMicros(created), FromMicros(updated)
	c.DeletedAt = TimePtr(deletedAt)
	return &c, nil
}

// ContactByID returns the contact visible in s; with deleted, only if it is
// soft-deleted (for restore). ENOTFOUND otherwise.
func (t Tx) ContactByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Contact, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("contact")
	}
	query, args := byIDSQL(t.C, "contact", contactCols, deleted), byIDArgs(t.C, "contact", s, id, Micros(t.C.Now()))
	c, err := scanContact(t.C.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, t.C.RowError(err, "contact by id", "contact")
	}
	return c, nil
}

// Contacts lists the contacts visible in s that match f.
func (t Tx) Contacts(ctx context.Context, s crm.Scope, f crm.ContactFilter, q crm.ListQuery) ([]*crm.Contact, string, error) {
	var w where
	if !t.scoped(ctx, &w, "contact", s) {
		return []*crm.Contact{}, "", nil
	}
	w.deleted(f.Deleted)
	eqText(&w, "email", strings.ToLower(f.Email))
	eqText(&w, "phone", f.Phone)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "owner_id", f.OwnerID)
	tagFilter(&w, TagContact, f.Tag)
	if text := searchText(f.Q); text != "" {
		companies := s
		if f.CompanyScope != nil {
			companies = t.shared(ctx, "company", *f.CompanyScope)
		}
		if ownerOnly(s) && ownerOnly(companies) && companies.OwnerID == s.OwnerID {
			ownerSearch(t.C, &w, text, s.OwnerID, f, q, nil)
		} else if ownerWithShares(s) && companies.OwnerID == s.OwnerID {
			// A rep with shares: the owner's index ranges, and the few
			// contacts shared with them (cost: the matches of the rep's
			// own contacts and of their shares, never of the whole table).
			ownerSearch(t.C, &w, text, s.OwnerID, f, q, &sharedSearch{
				contacts: shareSubquery(t.C, s, "contact", Micros(t.C.Now())), companies: companies, now: Micros(t.C.Now())})
		} else {
			contactSearch(t.C, &w, text, companies, f.NoSearch, Micros(t.C.Now()))
		}
	}
	l, err := buildList(t.C, "contacts", "contacts", contactCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t.C, l, "contact", scanContact, func(c *crm.Contact) int64 { return c.ID })
}

// contactSearch adds the prefix search: q (lower case) starts the first
// name, the last name, the email, the phone (with or without its "+") or the
// company's name; or, as two words, the first and last names in either
// order. Every alternative is a range on an indexed column. companies is
// the scope of the companies whose names may match.
func contactSearch(d Dialect, w *where, q string, companies crm.Scope, noSearch []string, now int64) {
	var o anyOf
	o.prefix("first_name_lc", q)
	o.prefix("last_name_lc", q)
	if !slices.Contains(noSearch, "email") {
		o.prefix("email", q)
	}
	if digits := strings.TrimPrefix(q, "+"); digits != "" && strings.Trim(digits, "0123456789") == "" && !slices.Contains(noSearch, "phone") {
		o.prefix("phone", "+"+digits)
	}
	// Only companies the principal may see: otherwise a search would
	// reveal the names of hidden companies one letter at a time.
	cond, args := prefix("name_lc", q)
	var sw where
	if sw.scope(d, companies, "company", now) {
		if sw.scoped {
			cond += " AND " + sw.scopeCond
			args = append(args, sw.scopeArgs...)
		}
		o.or(d.InSelect("company_id", "SELECT id FROM companies WHERE "+cond+" AND deleted_at IS NULL"), args...)
	}
	if words := strings.Fields(q); len(words) == 2 {
		for _, pair := range [][2]string{{words[0], words[1]}, {words[1], words[0]}} {
			first, fargs := prefix("first_name_lc", pair[0])
			last, largs := prefix("last_name_lc", pair[1])
			o.or("("+first+" AND "+last+")", append(fargs, largs...)...)
		}
	}
	o.addTo(w)
}

// ownerOnly reports whether s is one user's own records and nothing more:
// no teams, no shares.
func ownerOnly(s crm.Scope) bool {
	return !s.All && s.OwnerID != 0 && len(s.Teams) == 0 && !s.Shared && !s.Assignee
}

// ownerWithShares reports whether s is one user's own records and those
// shared with them (or their teams): a rep's scope in an organisation.
func ownerWithShares(s crm.Scope) bool {
	return !s.All && s.OwnerID != 0 && len(s.Teams) == 0 && s.Shared && !s.Assignee
}

// sharedSearch extends ownerSearch to a rep's shares: contacts is the
// condition selecting the contacts shared with the rep, companies the
// scope of the companies whose names may match.
type sharedSearch struct {
	contacts  scopePart
	companies crm.Scope
	now       int64 // the transaction's time, for share expiry
}

// shareSubquery is the condition that a row of entity is shared with s's
// user or one of their share teams (unexpired, and for writing if s asks).
func shareSubquery(d Dialect, s crm.Scope, entity string, now int64) scopePart {
	live := " AND (sh.expires_at IS NULL OR sh.expires_at > ?) AND (? OR sh.access = 'write')"
	teams, teamsArg := d.InIDs("sh.team_id", s.ShareTeams)
	return scopePart{cond: "id IN (SELECT sh.record_id FROM shares sh WHERE sh.entity = '" + entity +
		"' AND (sh.user_id = ? OR " + teams + ")" + live + ")", args: []any{s.OwnerID, teamsArg, now, !s.ShareWrite}}
}

// ownerSearch is contactSearch for the contacts of one owner (a sales
// user's scope, the common case): the matching ids as a UNION ALL of short
// ranges of the owner-leading indexes of migration 0006, one per
// alternative, instead of an OR that SQLite evaluates row by row along the
// owner's whole sort index. The indexes end with deleted_at, so a branch
// tells live from deleted contacts inside its index. When the list is
// sorted by last name and has no other filter, each branch is also sorted
// and limited inside its index (last_name_lc and id follow the searched
// column), so only the page's rows are read from the table.
//
// The company alternative stays restricted to the owner's own companies:
// a search must never match companies the principal cannot see.
func ownerSearch(d Dialect, w *where, q string, owner int64, f crm.ContactFilter, lq crm.ListQuery, shared *sharedSearch) {
	type branch struct {
		from string // the table (and index) and WHERE clause
		args []any
	}
	var branches []branch
	live := " AND deleted_at IS NULL AND "
	if f.Deleted {
		live = " AND deleted_at IS NOT NULL AND "
	}
	add := func(index, cond string, cargs ...any) {
		branches = append(branches, branch{from: "contacts" + index + " WHERE owner_id = ?" + live + cond,
			args: append([]any{owner}, cargs...)})
	}
	addPrefix := func(col, p string) {
		cond, pargs := prefix(col, p)
		add("", cond, pargs...)
	}
	addPrefix("last_name_lc", q)
	addPrefix("first_name_lc", q)
	if !slices.Contains(f.NoSearch, "email") {
		addPrefix("email", q)
	}
	if digits := strings.TrimPrefix(q, "+"); digits != "" && strings.Trim(digits, "0123456789") == "" && !slices.Contains(f.NoSearch, "phone") {
		addPrefix("phone", "+"+digits)
	}
	cond, cargs := prefix("name_lc", q)
	companyScope := "owner_id = ?"
	companyArgs := []any{owner}
	if shared != nil {
		var sw where
		if sw.scope(d, shared.companies, "company", shared.now) && sw.scoped {
			companyScope, companyArgs = sw.scopeCond, sw.scopeArgs
		}
	}
	// Without the hint, SQLite walks the owner's contacts in last-name
	// order (no sort, but a table read per contact) until it has a page.
	add(d.IndexedBy("contacts_owner_company"), d.InSelect("company_id",
		"SELECT id FROM companies WHERE "+companyScope+" AND "+cond+" AND deleted_at IS NULL"),
		append(slices.Clip(companyArgs), cargs...)...)
	if words := strings.Fields(q); len(words) == 2 {
		for _, pair := range [][2]string{{words[0], words[1]}, {words[1], words[0]}} {
			first, fargs := prefix("first_name_lc", pair[0])
			last, largs := prefix("last_name_lc", pair[1])
			add("", first+" AND "+last, append(fargs, largs...)...)
		}
	}

	if shared != nil {
		// The contacts shared with the rep, read by id, that match in
		// any of contactSearch's ways.
		var sw where
		contactSearch(d, &sw, q, shared.companies, f.NoSearch, shared.now)
		// By id only: along the last-name index SQLite would walk every
		// contact in order and test each for a share.
		branches = append(branches, branch{from: "contacts" + d.NotIndexed() + " WHERE " + shared.contacts.cond + live + sw.conds[0],
			args: append(slices.Clip(shared.contacts.args), sw.args...)})
	}

	sort := lq.Sort
	if sort == "" {
		sort = crm.SortFields["contacts"][0]
	}
	cursorOK := lq.After == nil || (lq.After.Sort == sort && lq.After.ID > 0 && validKey(lq.After.Key))
	if sort != "last_name" || !cursorOK || f.Email != "" || f.Phone != "" || f.CompanyID != 0 ||
		f.OwnerID != 0 || f.Tag != "" {
		// Any order or filter: the matching ids, which the outer query
		// filters, sorts and limits.
		conds := make([]string, len(branches))
		var args []any
		for i, br := range branches {
			conds[i] = br.from
			args = append(args, br.args...)
		}
		w.and("id IN (SELECT id FROM "+strings.Join(conds, " UNION ALL SELECT id FROM ")+")", args...)
		return
	}
	// Sorted by last name: the first limit+1 matches after the cursor of
	// each branch, then of their union (UNION, not UNION ALL: a contact
	// matching twice must count once against the limit).
	limit := pageLimit(lq) + 1
	op, dir := order(lq)
	var cursor string
	var curArgs []any
	if c := lq.After; c != nil {
		cursor, curArgs = d.Seek("last_name_lc", op, c.Key, c.ID)
		cursor = " AND " + cursor
	}
	tail := " ORDER BY last_name_lc " + dir + ", id " + dir + " LIMIT ?"
	var b strings.Builder
	var args []any
	b.WriteString("id IN (SELECT id FROM (")
	for i, br := range branches {
		if i > 0 {
			b.WriteString(" UNION ")
		}
		b.WriteString("SELECT * FROM (SELECT id, last_name_lc FROM ")
		b.WriteString(br.from + cursor + tail + ") AS b" + strconv.Itoa(i))
		args = append(append(append(args, br.args...), curArgs...), limit)
	}
	b.WriteString(") AS m" + tail + ")")
	w.and(b.String(), append(args, limit)...)
}

func (t Tx) contactArgs(c *crm.Contact) []any {
	return []any{c.FirstName, c.LastName, strings.ToLower(c.FirstName), strings.ToLower(c.LastName),
		c.Email, c.Phone, NullID(c.CompanyID), c.Title, c.Address, c.Birthday, c.Notes,
		EncodeTags(c.Tags), c.Preferences.Channel, c.Preferences.Language,
		t.C.Bool(c.Preferences.DoNotContact), c.OwnerID, NullID(c.TeamID), c.Version}
}

// InsertContact stores a new contact and sets c.ID.
func (t Tx) InsertContact(ctx context.Context, c *crm.Contact) error {
	args := append(t.contactArgs(c), Micros(c.CreatedAt), Micros(c.UpdatedAt), NullMicros(c.DeletedAt))
	id, err := t.insertRecord(ctx, sqlInsertContact, sqlInsertContactID, c.ID, args...)
	if err != nil {
		return t.C.DBError(err, "insert contact", "contact", "")
	}
	if err := t.setTags(ctx, TagContact, id, c.Tags, false); err != nil {
		return err
	}
	c.ID = id
	return nil
}

var sqlUpdateContact = Statement(`UPDATE contacts SET first_name = ?, last_name = ?,
	first_name_lc = ?, last_name_lc = ?, email = ?, phone = ?, company_id = ?, title = ?,
	address = ?, birthday = ?, notes = ?, tags = ?, pref_channel = ?, pref_language = ?,
	do_not_contact = ?, owner_id = ?, team_id = ?, version = ?, updated_at = ?, deleted_at = ?
	WHERE id = ? AND version = ?`)

// UpdateContact stores c if the stored version is c.Version-1; EPRECONDITION
// otherwise. Soft delete and restore are updates of DeletedAt. Where the
// dialect asks for it (Dialect.ChangedColumns) it sets only the indexed
// columns that changed (updateChangedContact).
func (t Tx) UpdateContact(ctx context.Context, c *crm.Contact) error {
	if t.C.ChangedColumns() {
		return t.updateChangedContact(ctx, c)
	}
	args := append(t.contactArgs(c), Micros(c.UpdatedAt), NullMicros(c.DeletedAt), c.ID, c.Version-1)
	ok, err := t.changed(ctx, sqlUpdateContact, args...)
	if err != nil {
		return t.C.DBError(err, "update contact", "contact", "")
	}
	if !ok {
		return Stale("contact")
	}
	return t.setTags(ctx, TagContact, c.ID, c.Tags, true)
}

// updateChangedContact is UpdateContact setting only the indexed columns
// that changed: SQLite rewrites the entries of every index whose columns
// an UPDATE's SET list names, changed or not, and contacts have thirteen
// indexes. So it reads the stored values first (the row is in the cache:
// the caller has just read it) and picks the statement of the changed
// groups; the tag rows too are only rewritten when the tags changed (PRF-1).
func (t Tx) updateChangedContact(ctx context.Context, c *crm.Contact) error {
	var (
		first, last, email, phone, tags string
		company, team, deleted          *int64
		owner, version                  int64
	)
	err := t.C.QueryRow(ctx, sqlContactIndexed, c.ID).Scan(&first, &last, &email, &phone, &company, &owner, &team, &deleted, &tags, &version)
	if err != nil {
		if err = t.C.RowError(err, "update contact", "contact"); crm.ErrorCode(err) == crm.ENOTFOUND {
			return Stale("contact")
		}
		return err
	} else if version != c.Version-1 {
		return Stale("contact")
	}
	var mask int
	if first != c.FirstName || last != c.LastName {
		mask |= chgNames
	}
	if email != c.Email {
		mask |= chgEmail
	}
	if phone != c.Phone {
		mask |= chgPhone
	}
	if !sameID(company, c.CompanyID) {
		mask |= chgCompany
	}
	if owner != c.OwnerID || !sameID(team, c.TeamID) {
		mask |= chgOwner
	}
	if !sameID(deleted, microsPtr(c.DeletedAt)) {
		mask |= chgDeleted
	}
	newTags := EncodeTags(c.Tags)
	ok, err := t.changed(ctx, sqlUpdateChangedContact[mask], t.contactUpdateArgs(c, newTags, mask)...)
	if err != nil {
		return t.C.DBError(err, "update contact", "contact", "")
	}
	if !ok {
		return Stale("contact")
	}
	if newTags == tags {
		return nil
	}
	return t.setTags(ctx, TagContact, c.ID, c.Tags, true)
}

// The groups of indexed contact columns UpdateContact sets only when they
// changed, as bits of a mask.
const (
	chgNames   = 1 << iota // first_name, last_name and their lower-case forms
	chgEmail               // email
	chgPhone               // phone
	chgCompany             // company_id
	chgOwner               // owner_id and team_id (a record's team follows its owner)
	chgDeleted             // deleted_at
	chgGroups  = 1 << iota // the number of masks
)

var sqlContactIndexed = Statement(`SELECT first_name, last_name, email, phone, company_id,
	owner_id, team_id, deleted_at, tags, version FROM contacts WHERE id = ?`)

// sqlUpdateChangedContact is the UPDATE of each mask, all prepared on the
// SQLite writer up front.
var sqlUpdateChangedContact = func() (q [chgGroups]string) {
	for mask := range q {
		var cols []string
		contactUpdateSet(&crm.Contact{}, "", mask, func(bool) any { return nil },
			func(col string, _ any) { cols = append(cols, col+" = ?") })
		q[mask] = Statement("UPDATE contacts SET " + strings.Join(cols, ", ") + " WHERE id = ? AND version = ?")
	}
	return q
}()

// contactUpdateSet calls set for each column the UPDATE of mask sets, in
// order, with its value in c: the unindexed columns, version and
// updated_at always, and the groups of indexed columns in mask. The WHERE
// clause (id, then the expected version) follows them. boolean is
// Dialect.Bool.
func contactUpdateSet(c *crm.Contact, tags string, mask int, boolean func(bool) any, set func(col string, v any)) {
	set("title", c.Title)
	set("address", c.Address)
	set("birthday", c.Birthday)
	set("notes", c.Notes)
	set("tags", tags)
	set("pref_channel", c.Preferences.Channel)
	set("pref_language", c.Preferences.Language)
	set("do_not_contact", boolean(c.Preferences.DoNotContact))
	set("version", c.Version)
	set("updated_at", Micros(c.UpdatedAt))
	if mask&chgNames != 0 {
		set("first_name", c.FirstName)
		set("last_name", c.LastName)
		set("first_name_lc", strings.ToLower(c.FirstName))
		set("last_name_lc", strings.ToLower(c.LastName))
	}
	if mask&chgEmail != 0 {
		set("email", c.Email)
	}
	if mask&chgPhone != 0 {
		set("phone", c.Phone)
	}
	if mask&chgCompany != 0 {
		set("company_id", NullID(c.CompanyID))
	}
	if mask&chgOwner != 0 {
		set("owner_id", c.OwnerID)
		set("team_id", NullID(c.TeamID))
	}
	if mask&chgDeleted != 0 {
		set("deleted_at", NullMicros(c.DeletedAt))
	}
}

// contactUpdateArgs returns the arguments of sqlUpdateChangedContact[mask].
func (t Tx) contactUpdateArgs(c *crm.Contact, tags string, mask int) []any {
	args := make([]any, 0, 21)
	contactUpdateSet(c, tags, mask, t.C.Bool, func(_ string, v any) { args = append(args, v) })
	return append(args, c.ID, c.Version-1)
}

const consentCols = `id, contact_id, purpose, granted, source, recorded_by, recorded_at`

var (
	sqlConsentsByContact = Statement(`SELECT ` + consentCols + ` FROM consents
		WHERE contact_id = ? ORDER BY recorded_at DESC, id DESC`)
	sqlInsertConsent = Statement(`INSERT INTO consents (contact_id, purpose, granted, source,
		recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`)
	sqlInsertConsentID = withID(sqlInsertConsent)
)

// ConsentsByContact returns the consent history of a contact, newest first.
// The caller has checked that the contact is visible.
func (t Tx) ConsentsByContact(ctx context.Context, contactID int64) ([]*crm.Consent, error) {
	rows, err := t.C.Query(ctx, sqlConsentsByContact, contactID)
	if err != nil {
		return nil, t.C.DBError(err, "consents", "consent", "")
	}
	defer rows.Close()
	list := []*crm.Consent{}
	for rows.Next() {
		var c crm.Consent
		var at int64
		if err := rows.Scan(&c.ID, &c.ContactID, &c.Purpose, &c.Granted, &c.Source, &c.RecordedBy, &at); err != nil {
			return nil, t.C.RowError(err, "scan consent", "consent")
		}
		c.RecordedAt = FromMicros(at)
		list = append(list, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, t.C.RowError(err, "consents", "consent")
	}
	return list, nil
}

// InsertConsent appends a consent record and sets c.ID. Consents are never
// updated (a trigger refuses it).
func (t Tx) InsertConsent(ctx context.Context, c *crm.Consent) error {
	id, err := t.insertRecord(ctx, sqlInsertConsent, sqlInsertConsentID, c.ID, c.ContactID, c.Purpose, t.C.Bool(c.Granted),
		c.Source, c.RecordedBy, Micros(c.RecordedAt))
	if err != nil {
		return t.C.DBError(err, "insert consent", "consent", "")
	}
	c.ID = id
	return nil
}

// sameID reports whether two nullable integer columns hold the same value.
func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// microsPtr is Micros of t, or nil for nil.
func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := Micros(*t)
	return &v
}
