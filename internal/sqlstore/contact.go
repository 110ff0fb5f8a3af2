package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

const contactCols = `id, first_name, last_name, email, phone, company_id, title, address,
	birthday, notes, tags, pref_channel, pref_language, do_not_contact,
	owner_id, team_id, version, created_at, updated_at, deleted_at, email_token, phone_token`

var (
	sqlInsertContact = Statement(`INSERT INTO contacts (first_name, last_name, email_token, phone_token,
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
		&created, &updated, &deletedAt, &c.EmailToken, &c.PhoneToken}
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

// Contacts lists the contacts visible in s that match f: its ids, company,
// owner, tag, state and tokens (crm.ContactFilter says which filters and
// orders are the service's). With ids it returns every one of them in
// scope, in no order and on one page.
func (t Tx) Contacts(ctx context.Context, s crm.Scope, f crm.ContactFilter, q crm.ListQuery) ([]*crm.Contact, string, error) {
	if f.Email != "" || f.Phone != "" || f.Tag != "" || f.Q != "" || f.NoSearch != nil || f.CompanyScope != nil {
		// Sealed values: a caller that asks must not get every contact.
		return nil, "", crm.Errorf(crm.EINVALID, "the store cannot filter contacts by email, phone, tag or words: they are sealed (the service's index does)")
	}
	var w where
	if !t.scoped(ctx, &w, "contact", s, f.IDs) {
		return []*crm.Contact{}, "", nil
	}
	if f.IDs != nil {
		cond, arg := t.C.InIDs("id", f.IDs)
		w.and(cond, arg)
	}
	if !f.AnyState {
		w.deleted(f.Deleted)
	}
	eqText(&w, "email_token", f.EmailToken)
	eqText(&w, "phone_token", f.PhoneToken)
	eqInt(&w, "company_id", f.CompanyID)
	eqInt(&w, "owner_id", f.OwnerID)
	tagFilter(&w, TagContact, f.TagToken)
	if f.IDs != nil {
		rows, err := byIDs(ctx, t.C, "contacts", contactCols, &w, "contact", scanContact)
		return rows, "", err
	}
	l, err := buildList(t.C, "contacts", "contacts", contactCols, &w, q)
	if err != nil {
		return nil, "", err
	}
	return runList(ctx, t.C, l, "contact", scanContact, func(c *crm.Contact) int64 { return c.ID })
}

// byIDs reads the rows of table matching w, a filter by ids, in no order
// and all of them (the ids are at most a page): the service reads the
// rows of a page its index found, and orders them. Without an order the
// statement looks each id up by the primary key, whatever the scope; in
// an order the planner may walk that order's index instead, over every
// record.
func byIDs[T any](ctx context.Context, c Conn, table, cols string, w *where, entity string, scan func(Row, ...any) (T, error)) ([]T, error) {
	conds, args := w.all()
	rows, err := c.Query(ctx, "SELECT "+cols+" FROM "+table+" WHERE "+strings.Join(conds, " AND "), args...)
	if err != nil {
		return nil, c.DBError(err, table+" by id", entity, "")
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, c.RowError(err, "scan "+entity, entity)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, c.RowError(err, table+" by id", entity)
	}
	return out, nil
}

func (t Tx) contactArgs(c *crm.Contact) []any {
	return []any{c.FirstName, c.LastName, c.EmailToken, c.PhoneToken,
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
	if err := t.setTags(ctx, TagContact, id, c.TagTokens, false); err != nil {
		return err
	}
	c.ID = id
	return nil
}

var sqlUpdateContact = Statement(`UPDATE contacts SET first_name = ?, last_name = ?,
	email_token = ?, phone_token = ?, email = ?, phone = ?, company_id = ?, title = ?,
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
	return t.setTags(ctx, TagContact, c.ID, c.TagTokens, true)
}

// updateChangedContact is UpdateContact setting only the indexed columns
// that changed: SQLite rewrites the entries of every index whose columns
// an UPDATE's SET list names, changed or not. So it reads the stored values first (the row is in the cache:
// the caller has just read it) and picks the statement of the changed
// groups; the tag rows too are only rewritten when the tags changed (PRF-1).
func (t Tx) updateChangedContact(ctx context.Context, c *crm.Contact) error {
	var (
		emailToken, phoneToken, tags string
		company, team, deleted       *int64
		owner, version               int64
	)
	err := t.C.QueryRow(ctx, sqlContactIndexed, c.ID).Scan(&emailToken, &phoneToken, &company, &owner, &team, &deleted, &tags, &version)
	if err != nil {
		if err = t.C.RowError(err, "update contact", "contact"); crm.ErrorCode(err) == crm.ENOTFOUND {
			return Stale("contact")
		}
		return err
	} else if version != c.Version-1 {
		return Stale("contact")
	}
	var mask int
	if emailToken != c.EmailToken {
		mask |= chgEmail
	}
	if phoneToken != c.PhoneToken {
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
	// Sealed tags differ at every write (a new nonce): their rows, the
	// tokens, are compared instead.
	same, err := t.sameTagRows(ctx, TagContact, c.ID, c.TagTokens)
	if err != nil || same {
		return err
	}
	return t.setTags(ctx, TagContact, c.ID, c.TagTokens, true)
}

// The groups of indexed contact columns UpdateContact sets only when they
// changed, as bits of a mask.
const (
	chgEmail   = 1 << iota // email_token
	chgPhone               // phone_token
	chgCompany             // company_id
	chgOwner               // owner_id and team_id (a record's team follows its owner)
	chgDeleted             // deleted_at
	chgGroups  = 1 << iota // the number of masks
)

var sqlContactIndexed = Statement(`SELECT email_token, phone_token, company_id,
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
	set("first_name", c.FirstName)
	set("last_name", c.LastName)
	set("email", c.Email)
	set("phone", c.Phone)
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
	if mask&chgEmail != 0 {
		set("email_token", c.EmailToken)
	}
	if mask&chgPhone != 0 {
		set("phone_token", c.PhoneToken)
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
