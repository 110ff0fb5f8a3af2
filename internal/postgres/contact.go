package postgres

import (
	"context"
	"github.com/custos-crm/custos/internal/sqlstore"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
)

const contactCols = `id, first_name, last_name, email, phone, company_id, title, address,
	birthday, notes, tags, pref_channel, pref_language, do_not_contact,
	owner_id, version, created_at, updated_at, deleted_at`

const (
	sqlContactByID = `SELECT ` + contactCols + ` FROM contacts
		WHERE id = $1 AND deleted_at IS NULL AND ($2 OR owner_id = $3)`
	sqlDeletedContactByID = `SELECT ` + contactCols + ` FROM contacts
		WHERE id = $1 AND deleted_at IS NOT NULL AND ($2 OR owner_id = $3)`
	sqlInsertContact = `INSERT INTO contacts (first_name, last_name, first_name_lc, last_name_lc,
		email, phone, company_id, title, address, birthday, notes, tags, pref_channel,
		pref_language, do_not_contact, owner_id, version, created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		RETURNING id`
	sqlUpdateContact = `UPDATE contacts SET first_name = $1, last_name = $2,
		first_name_lc = $3, last_name_lc = $4, email = $5, phone = $6, company_id = $7, title = $8,
		address = $9, birthday = $10, notes = $11, tags = $12, pref_channel = $13, pref_language = $14,
		do_not_contact = $15, owner_id = $16, version = $17, updated_at = $18, deleted_at = $19
		WHERE id = $20 AND version = $21`
)

// scanContact scans the columns of contactCols, then extra.
func scanContact(sc scanner, extra ...any) (*crm.Contact, error) {
	var (
		c                    crm.Contact
		companyID, deletedAt *int64
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
	c.CompanyID = companyID
	c.CreatedAt, c.UpdatedAt = sqlstore.FromMicros(created), sqlstore.FromMicros(updated)
	c.DeletedAt = sqlstore.TimePtr(deletedAt)
	return &c, nil
}

// ContactByID returns the contact visible in s; with deleted, only if it is
// soft-deleted (for restore). ENOTFOUND otherwise. It locks nothing: the
// update that may follow is conditional on the version read.
func (t *tx) ContactByID(ctx context.Context, s crm.Scope, id int64, deleted bool) (*crm.Contact, error) {
	if !s.All && s.OwnerID == 0 {
		return nil, crm.NotFound("contact")
	}
	query := sqlContactByID
	if deleted {
		query = sqlDeletedContactByID
	}
	c, err := scanContact(t.q.QueryRow(ctx, query, id, s.All, s.OwnerID))
	if err != nil {
		return nil, rowError(err, "contact by id", "contact")
	}
	return c, nil
}

// Contacts lists the contacts visible in s that match f.
func (t *tx) Contacts(ctx context.Context, s crm.Scope, f crm.ContactFilter, q crm.ListQuery) ([]*crm.Contact, string, error) {
	var w where
	if !w.scope(s, "owner_id = %s") {
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
	o.or(prefix(w, "first_name_lc", q))
	o.or(prefix(w, "last_name_lc", q))
	o.or(prefix(w, "email", q))
	if digits := strings.TrimPrefix(q, "+"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		o.or(prefix(w, "phone", "+"+digits))
	}
	// = ANY (ARRAY(...)) rather than IN (...): the array is computed once,
	// and the condition is then an index condition that PostgreSQL can OR
	// with the others (a bitmap scan of each index); an IN subquery inside
	// an OR is a filter, which made it walk the whole sort index instead.
	// Only companies the principal may see: otherwise a search would
	// reveal the names of hidden companies one letter at a time.
	visible := ""
	if !s.All {
		visible = " AND owner_id = " + w.arg(s.OwnerID)
	}
	o.or("company_id = ANY (ARRAY(SELECT id FROM companies WHERE " + prefix(w, "name_lc", q) + visible + " AND deleted_at IS NULL))")
	if words := strings.Fields(q); len(words) == 2 {
		for _, pair := range [][2]string{{words[0], words[1]}, {words[1], words[0]}} {
			o.or("(" + prefix(w, "first_name_lc", pair[0]) + " AND " + prefix(w, "last_name_lc", pair[1]) + ")")
		}
	}
	o.addTo(w)
}

// ownerSearch is contactSearch for the contacts of one owner (a sales
// user's scope, the common case), as in the sqlite package: the matching ids
// as a union of short ranges of the owner-leading indexes of migration 0006,
// one per alternative. The indexes end with deleted_at, so a branch tells
// live from deleted contacts inside its index. When the list is sorted by last name and has no other
// filter, each branch is also sorted and limited inside its index
// (last_name_lc and id follow the searched column), so only the page's rows
// are read from the table.
//
// The company alternative stays restricted to the owner's own companies:
// a search must never match companies the principal cannot see.
func ownerSearch(w *where, q string, owner int64, f crm.ContactFilter, lq crm.ListQuery) {
	sort := lq.Sort
	if sort == "" {
		sort = crm.SortFields["contacts"][0]
	}
	cursorOK := lq.After == nil || (lq.After.Sort == sort && lq.After.ID > 0 &&
		utf8.ValidString(lq.After.Key) && strings.IndexByte(lq.After.Key, 0) < 0)
	sorted := sort == "last_name" && cursorOK && f.Email == "" && f.Phone == "" &&
		f.CompanyID == 0 && f.OwnerID == 0 && f.Tag == ""

	o := w.arg(owner)
	var tail string // the cursor, order and limit of a sorted branch
	if sorted {
		op, dir := ">", "ASC"
		if lq.Desc {
			op, dir = "<", "DESC"
		}
		if c := lq.After; c != nil {
			tail = " AND (last_name_lc, id) " + op + " (" + w.arg(c.Key) + ", " + w.arg(c.ID) + ")"
		}
		limit := lq.Limit
		if limit <= 0 {
			limit = crm.DefaultLimit
		}
		tail += " ORDER BY last_name_lc " + dir + ", id " + dir + " LIMIT " + w.arg(min(limit, crm.MaxLimit)+1)
	}
	live := " AND deleted_at IS NULL AND "
	if f.Deleted {
		live = " AND deleted_at IS NOT NULL AND "
	}
	var branches []string
	add := func(cond string) {
		b := "SELECT id, last_name_lc FROM contacts WHERE owner_id = " + o + live + cond
		if sorted {
			b = "(" + b + tail + ")"
		}
		branches = append(branches, b)
	}
	add(prefix(w, "last_name_lc", q))
	add(prefix(w, "first_name_lc", q))
	add(prefix(w, "email", q))
	if digits := strings.TrimPrefix(q, "+"); digits != "" && strings.Trim(digits, "0123456789") == "" {
		add(prefix(w, "phone", "+"+digits))
	}
	add("company_id = ANY (ARRAY(SELECT id FROM companies WHERE owner_id = " + o + " AND " +
		prefix(w, "name_lc", q) + " AND deleted_at IS NULL))")
	if words := strings.Fields(q); len(words) == 2 {
		for _, pair := range [][2]string{{words[0], words[1]}, {words[1], words[0]}} {
			add(prefix(w, "first_name_lc", pair[0]) + " AND " + prefix(w, "last_name_lc", pair[1]))
		}
	}
	if !sorted {
		// Any order or filter: the matching ids, which the outer query
		// filters, sorts and limits.
		w.and("id IN (SELECT id FROM (" + strings.Join(branches, " UNION ALL ") + ") AS m)")
		return
	}
	// The first limit+1 matches of each branch, then of their union (UNION,
	// not UNION ALL: a contact matching twice must count once).
	w.and("id IN (SELECT id FROM (" + strings.Join(branches, " UNION ") + ") AS m" + tail[strings.Index(tail, " ORDER BY"):] + ")")
}

func contactArgs(c *crm.Contact) []any {
	return []any{c.FirstName, c.LastName, strings.ToLower(c.FirstName), strings.ToLower(c.LastName),
		c.Email, c.Phone, sqlstore.NullID(c.CompanyID), c.Title, c.Address, c.Birthday, c.Notes,
		sqlstore.EncodeTags(c.Tags), c.Preferences.Channel, c.Preferences.Language,
		c.Preferences.DoNotContact, c.OwnerID, c.Version}
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
func (t *tx) UpdateContact(ctx context.Context, c *crm.Contact) error {
	args := append(contactArgs(c), sqlstore.Micros(c.UpdatedAt), sqlstore.NullMicros(c.DeletedAt), c.ID, c.Version-1)
	ok, err := t.update(ctx, sqlUpdateContact, args...)
	if err != nil {
		return dbError(err, "update contact", "contact", "")
	}
	if !ok {
		return sqlstore.Stale("contact")
	}
	return t.setTags(ctx, sqlstore.TagContact, c.ID, c.Tags, true)
}

const consentCols = `id, contact_id, purpose, granted, source, recorded_by, recorded_at`

const (
	sqlConsentsByContact = `SELECT ` + consentCols + ` FROM consents
		WHERE contact_id = $1 ORDER BY recorded_at DESC, id DESC`
	sqlInsertConsent = `INSERT INTO consents (contact_id, purpose, granted, source,
		recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
)

// ConsentsByContact returns the consent history of a contact, newest first.
// The caller has checked that the contact is visible.
func (t *tx) ConsentsByContact(ctx context.Context, contactID int64) ([]*crm.Consent, error) {
	rows, err := t.q.Query(ctx, sqlConsentsByContact, contactID)
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
	id, err := t.insert(ctx, sqlInsertConsent, c.ContactID, c.Purpose, c.Granted,
		c.Source, c.RecordedBy, sqlstore.Micros(c.RecordedAt))
	if err != nil {
		return dbError(err, "insert consent", "consent", "")
	}
	c.ID = id
	return nil
}
