package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"github.com/custos-crm/custos/internal/sqlstore"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
)

const contactCols = `id, first_name, last_name, email, phone, company_id, title, address,
	birthday, notes, tags, pref_channel, pref_language, do_not_contact,
	owner_id, version, created_at, updated_at, deleted_at`

var (
	sqlContactByID = static(`SELECT ` + contactCols + ` FROM contacts
		WHERE id = ? AND deleted_at IS NULL AND (? OR owner_id = ?)`)
	sqlDeletedContactByID = static(`SELECT ` + contactCols + ` FROM contacts
		WHERE id = ? AND deleted_at IS NOT NULL AND (? OR owner_id = ?)`)
	sqlInsertContact = static(`INSERT INTO contacts (first_name, last_name, first_name_lc, last_name_lc,
		email, phone, company_id, title, address, birthday, notes, tags, pref_channel,
		pref_language, do_not_contact, owner_id, version, created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
)

// scanContact scans the columns of contactCols, then extra.
func scanContact(sc scanner, extra ...any) (*crm.Contact, error) {
	var (
		c                    crm.Contact
		companyID, deletedAt sql.NullInt64
		tags                 string
		created, updated     int64
	)
	dest := []any{&c.ID, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &companyID,
		&c.Title, &c.Address, &c.Birthday, &c.Notes, &tags, &c.Preferences.Channel,
		&c.Preferences.Language, &c.Preferences.DoNotContact, &c.OwnerID, &c.Version,
		&created, &updated, &deletedAt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	var err error
	if c.Tags, err = sqlstore.DecodeTags(tags); err != nil {
		return nil, err
	}
	c.CompanyID = idPtr(companyID)
	c.CreatedAt, c.UpdatedAt = sqlstore.FromMicros(created), sqlstore.FromMicros(updated)
	c.DeletedAt = timePtr(deletedAt)
	return &c, nil
}

// ContactByID returns the contact visible in s; with deleted, only if it is
// soft-deleted (for restore). ENOTFOUND otherwise.
func (t *tx) ContactByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Contact, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("contact")
	}
	query := sqlContactByID
	if deleted {
		query = sqlDeletedContactByID
	}
	c, err := scanContact(t.queryRow(ctx, query, id, s.All, s.OwnerID))
	if err != nil {
		return nil, rowError(err, "contact by id", "contact")
	}
	return c, nil
}

// Contacts lists the contacts visible in s that match f.
func (t *tx) Contacts(ctx context.Context, s crm.Scope, f crm.ContactFilter, q crm.ListQuery) ([]*crm.Contact, string, error) {
	var w where
	if !w.scope(s, "owner_id = ?", 1) {
		return []*crm.Contact{}, "", nil
	}
	w.deleted(f.Deleted)
	eqText(&w, "email", strings.ToLower(f.Email))
	eqText(&w, "phone", f.Phone)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "owner_id", f.OwnerID)
	tagFilter(&w, sqlstore.TagContact, f.Tag)
	if text := searchText(f.Q); text != "" {
		if !s.All {
			ownerSearch(&w, text, s.OwnerID, f, q)
		} else {
			contactSearch(&w, text, s)
		}
	}
	l, err := buildList("contacts", "contacts", contactCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t, l, "contact", scanContact, func(c *crm.Contact) int64 { return c.ID })
}

// contactSearch adds the prefix search: q (lower case) starts the first
// name, the last name, the email, the phone (with or without its "+") or the
// company's name; or, as two words, the first and last names in either
// order. Every alternative is a range on an indexed column.
func contactSearch(w *where, q string, s crm.Scope) {
	var o anyOf
	o.prefix("first_name_lc", q)
	o.prefix("last_name_lc", q)
	o.prefix("email", q)
	if digits := strings.TrimPrefix(q, "+"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		o.prefix("phone", "+"+digits)
	}
	// Only companies the principal may see: otherwise a search would
	// reveal the names of hidden companies one letter at a time.
	cond, args := prefix("name_lc", q)
	if !s.All {
		cond += " AND owner_id = ?"
		args = append(args, s.OwnerID)
	}
	o.or("company_id IN (SELECT id FROM companies WHERE "+cond+" AND deleted_at IS NULL)", args...)
	if words := strings.Fields(q); len(words) == 2 {
		for _, pair := range [][2]string{{words[0], words[1]}, {words[1], words[0]}} {
			first, fargs := prefix("first_name_lc", pair[0])
			last, largs := prefix("last_name_lc", pair[1])
			o.or("("+first+" AND "+last+")", append(fargs, largs...)...)
		}
	}
	o.addTo(w)
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
func ownerSearch(w *where, q string, owner int64, f crm.ContactFilter, lq crm.ListQuery) {
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
	addPrefix("email", q)
	if digits := strings.TrimPrefix(q, "+"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		addPrefix("phone", "+"+digits)
	}
	cond, cargs := prefix("name_lc", q)
	// Without INDEXED BY, SQLite walks the owner's contacts in last-name
	// order (no sort, but a table read per contact) until it has a page.
	add(" INDEXED BY contacts_owner_company", "company_id IN (SELECT id FROM companies WHERE owner_id = ? AND "+cond+" AND deleted_at IS NULL)",
		append([]any{owner}, cargs...)...)
	if words := strings.Fields(q); len(words) == 2 {
		for _, pair := range [][2]string{{words[0], words[1]}, {words[1], words[0]}} {
			first, fargs := prefix("first_name_lc", pair[0])
			last, largs := prefix("last_name_lc", pair[1])
			add("", first+" AND "+last, append(fargs, largs...)...)
		}
	}

	sort := lq.Sort
	if sort == "" {
		sort = crm.SortFields["contacts"][0]
	}
	cursorOK := lq.After == nil || (lq.After.Sort == sort && lq.After.ID > 0)
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
	limit := lq.Limit
	if limit <= 0 {
		limit = crm.DefaultLimit
	}
	limit = min(limit, crm.MaxLimit) + 1
	op, dir := ">", "ASC"
	if lq.Desc {
		op, dir = "<", "DESC"
	}
	var cursor string
	var curArgs []any
	if c := lq.After; c != nil {
		cursor = " AND last_name_lc " + op + "= ? AND (last_name_lc, id) " + op + " (?, ?)"
		curArgs = []any{c.Key, c.Key, c.ID}
	}
	order := " ORDER BY last_name_lc " + dir + ", id " + dir + " LIMIT ?"
	var b strings.Builder
	var args []any
	b.WriteString("id IN (SELECT id FROM (")
	for i, br := range branches {
		if i > 0 {
			b.WriteString(" UNION ")
		}
		b.WriteString("SELECT * FROM (SELECT id, last_name_lc FROM ")
		b.WriteString(br.from + cursor + order + ")")
		args = append(append(append(args, br.args...), curArgs...), limit)
	}
	b.WriteString(")" + order + ")")
	w.and(b.String(), append(args, limit)...)
}

func contactArgs(c *crm.Contact) []any {
	return []any{c.FirstName, c.LastName, strings.ToLower(c.FirstName), strings.ToLower(c.LastName),
		c.Email, c.Phone, sqlstore.NullID(c.CompanyID), c.Title, c.Address, c.Birthday, c.Notes,
		sqlstore.EncodeTags(c.Tags), c.Preferences.Channel, c.Preferences.Language,
		boolInt(c.Preferences.DoNotContact), c.OwnerID, c.Version}
}

// InsertContact stores a new contact and sets c.ID.
func (t *tx) InsertContact(ctx context.Context, c *crm.Contact) error {
	args := append(contactArgs(c), sqlstore.Micros(c.CreatedAt), sqlstore.Micros(c.UpdatedAt), sqlstore.NullMicros(c.DeletedAt))
	id, err := t.insert(ctx, sqlInsertContact, args...)
	if err != nil {
		return dbError(err, "insert contact", "contact", "")
	}
	if err := t.setTags(ctx, sqlstore.TagContact, id, c.Tags, false); err != nil {
		return err
	}
	c.ID = id
	return nil
}

// UpdateContact stores c if the stored version is c.Version-1; EPRECONDITION
// otherwise. Soft delete and restore are updates of DeletedAt.
//
// It sets only the indexed columns that changed: SQLite rewrites the
// entries of every index whose columns an UPDATE's SET list names, changed
// or not, and contacts have thirteen indexes. So it reads the stored
// values first (the row is in the cache: the caller has just read it) and
// picks the statement of the changed groups; the tag rows too are only
// rewritten when the tags changed (PRF-1).
func (t *tx) UpdateContact(ctx context.Context, c *crm.Contact) error {
	var (
		first, last, email, phone, tags string
		company, deleted                sql.NullInt64
		owner, version                  int64
	)
	err := t.queryRow(ctx, sqlContactIndexed, c.ID).Scan(&first, &last, &email, &phone, &company, &owner, &deleted, &tags, &version)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && version != c.Version-1) {
		return sqlstore.Stale("contact")
	} else if err != nil {
		return dbError(err, "update contact", "contact", "")
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
	if company.Valid != (c.CompanyID != nil) || (company.Valid && company.Int64 != *c.CompanyID) {
		mask |= chgCompany
	}
	if owner != c.OwnerID {
		mask |= chgOwner
	}
	if deleted.Valid != (c.DeletedAt != nil) || (deleted.Valid && deleted.Int64 != sqlstore.Micros(*c.DeletedAt)) {
		mask |= chgDeleted
	}
	newTags := sqlstore.EncodeTags(c.Tags)
	ok, err := t.update(ctx, sqlUpdateContact[mask], contactUpdateArgs(c, newTags, mask)...)
	if err != nil {
		return dbError(err, "update contact", "contact", "")
	}
	if !ok {
		return sqlstore.Stale("contact")
	}
	if newTags == tags {
		return nil
	}
	return t.setTags(ctx, sqlstore.TagContact, c.ID, c.Tags, true)
}

// The groups of indexed contact columns UpdateContact sets only when they
// changed, as bits of a mask.
const (
	chgNames   = 1 << iota // first_name, last_name and their lower-case forms
	chgEmail               // email
	chgPhone               // phone
	chgCompany             // company_id
	chgOwner               // owner_id
	chgDeleted             // deleted_at
	chgGroups  = 1 << iota // the number of masks
)

var sqlContactIndexed = static(`SELECT first_name, last_name, email, phone, company_id,
	owner_id, deleted_at, tags, version FROM contacts WHERE id = ?`)

// sqlUpdateContact is the UPDATE of each mask, all prepared on the writer
// up front.
var sqlUpdateContact = func() (q [chgGroups]string) {
	for mask := range q {
		var cols []string
		contactUpdateSet(&crm.Contact{}, "", mask, func(col string, _ any) { cols = append(cols, col+" = ?") })
		q[mask] = static("UPDATE contacts SET " + strings.Join(cols, ", ") + " WHERE id = ? AND version = ?")
	}
	return q
}()

// contactUpdateSet calls set for each column the UPDATE of mask sets, in
// order, with its value in c: the unindexed columns, version and
// updated_at always, and the groups of indexed columns in mask. The WHERE
// clause (id, then the expected version) follows them.
func contactUpdateSet(c *crm.Contact, tags string, mask int, set func(col string, v any)) {
	set("title", c.Title)
	set("address", c.Address)
	set("birthday", c.Birthday)
	set("notes", c.Notes)
	set("tags", tags)
	set("pref_channel", c.Preferences.Channel)
	set("pref_language", c.Preferences.Language)
	set("do_not_contact", boolInt(c.Preferences.DoNotContact))
	set("version", c.Version)
	set("updated_at", sqlstore.Micros(c.UpdatedAt))
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
		set("company_id", sqlstore.NullID(c.CompanyID))
	}
	if mask&chgOwner != 0 {
		set("owner_id", c.OwnerID)
	}
	if mask&chgDeleted != 0 {
		set("deleted_at", sqlstore.NullMicros(c.DeletedAt))
	}
}

// contactUpdateArgs returns the arguments of sqlUpdateContact[mask].
func contactUpdateArgs(c *crm.Contact, tags string, mask int) []any {
	args := make([]any, 0, 21)
	contactUpdateSet(c, tags, mask, func(_ string, v any) { args = append(args, v) })
	return append(args, c.ID, c.Version-1)
}

const consentCols = `id, contact_id, purpose, granted, source, recorded_by, recorded_at`

var (
	sqlConsentsByContact = static(`SELECT ` + consentCols + ` FROM consents
		WHERE contact_id = ? ORDER BY recorded_at DESC, id DESC`)
	sqlInsertConsent = static(`INSERT INTO consents (contact_id, purpose, granted, source,
		recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`)
)

// ConsentsByContact returns the consent history of a contact, newest first.
// The caller has checked that the contact is visible.
func (t *tx) ConsentsByContact(ctx context.Context, contactID int64) ([]*crm.Consent, error) {
	rows, err := t.query(ctx, sqlConsentsByContact, contactID)
	if err != nil {
		return nil, dbError(err, "consents", "consent", "")
	}
	defer rows.Close()
	list := []*crm.Consent{}
	for rows.Next() {
		var c crm.Consent
		var at int64
		if err := rows.Scan(&c.ID, &c.ContactID, &c.Purpose, &c.Granted, &c.Source, &c.RecordedBy, &at); err != nil {
			return nil, rowError(err, "scan consent", "consent")
		}
		c.RecordedAt = sqlstore.FromMicros(at)
		list = append(list, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, rowError(err, "consents", "consent")
	}
	return list, nil
}

// InsertConsent appends a consent record and sets c.ID. Consents are never
// updated (a trigger refuses it).
func (t *tx) InsertConsent(ctx context.Context, c *crm.Consent) error {
	id, err := t.insert(ctx, sqlInsertConsent, c.ContactID, c.Purpose, boolInt(c.Granted),
		c.Source, c.RecordedBy, sqlstore.Micros(c.RecordedAt))
	if err != nil {
		return dbError(err, "insert consent", "consent", "")
	}
	c.ID = id
	return nil
}
