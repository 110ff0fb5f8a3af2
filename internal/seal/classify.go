package seal

// Class says how a stored column of client data rests on disk (issue 12,
// item 1). The table below is the one place that says it: the Seal hook
// encrypts what it marks Personal, a test of each backend checks that
// every column of every client table is in it and that no Personal column
// holds a plaintext after a write, and docs/data-classification.md is
// checked against it.
type Class int

const (
	// Plain columns are kept as they are: ids, links, owners, teams,
	// times, stages, amounts, states — what reports count and sort by.
	Plain Class = iota
	// Personal columns hold a client's personal data, sealed under the
	// client's data key (ENC-2).
	Personal
	// CompanyPersonal columns are Personal unless the organisation has
	// said that company names are not personal data
	// (encryption.company_names = "plain"): a sole trader's company name
	// is their own name.
	CompanyPersonal
	// Token columns hold blind-index tokens: keyed hashes of a normalised
	// personal value, equal for equal values and nothing else (ENC-4).
	Token
)

func (c Class) String() string {
	switch c {
	case Personal:
		return "personal"
	case CompanyPersonal:
		return "personal (setting)"
	case Token:
		return "blind index"
	}
	return "plain"
}

// Column is one column of a client table.
type Column struct {
	Table, Name string
	Class       Class
	Note        string
}

// Columns classifies every column of every table of client data.
var Columns = []Column{
	{"contacts", "id", Plain, ""},
	{"contacts", "first_name", Personal, ""},
	{"contacts", "last_name", Personal, ""},
	{"contacts", "email", Personal, ""},
	{"contacts", "email_token", Token, "exact email filter, duplicates"},
	{"contacts", "phone", Personal, ""},
	{"contacts", "phone_token", Token, "exact phone filter, duplicates"},
	{"contacts", "company_id", Plain, "link"},
	{"contacts", "title", Personal, "job title"},
	{"contacts", "address", Personal, ""},
	{"contacts", "birthday", Personal, ""},
	{"contacts", "notes", Personal, ""},
	{"contacts", "tags", Personal, "sealed as one value; the tags table holds their tokens"},
	{"contacts", "pref_channel", Plain, "a choice among six channels, for sending rules"},
	{"contacts", "pref_language", Plain, "a language code, for sending rules"},
	{"contacts", "do_not_contact", Plain, "for sending rules"},
	{"contacts", "owner_id", Plain, ""},
	{"contacts", "team_id", Plain, ""},
	{"contacts", "version", Plain, ""},
	{"contacts", "created_at", Plain, ""},
	{"contacts", "updated_at", Plain, ""},
	{"contacts", "deleted_at", Plain, ""},

	{"companies", "id", Plain, ""},
	{"companies", "name", CompanyPersonal, "a sole trader's name"},
	{"companies", "domain", CompanyPersonal, "a sole trader's own site"},
	{"companies", "industry", Plain, "a category, for reports"},
	{"companies", "phone", CompanyPersonal, "a sole trader's own phone"},
	{"companies", "address", CompanyPersonal, "a sole trader's home"},
	{"companies", "notes", Personal, "free text names people"},
	{"companies", "tags", Plain, "categories, for reports"},
	{"companies", "owner_id", Plain, ""},
	{"companies", "team_id", Plain, ""},
	{"companies", "version", Plain, ""},
	{"companies", "created_at", Plain, ""},
	{"companies", "updated_at", Plain, ""},
	{"companies", "deleted_at", Plain, ""},

	{"deals", "id", Plain, ""},
	{"deals", "title", Personal, "titles name clients"},
	{"deals", "pipeline_id", Plain, ""},
	{"deals", "stage_id", Plain, ""},
	{"deals", "amount_minor", Plain, "for reports"},
	{"deals", "currency", Plain, ""},
	{"deals", "expected_close", Plain, "for forecasts"},
	{"deals", "contact_id", Plain, "link"},
	{"deals", "company_id", Plain, "link"},
	{"deals", "notes", Personal, ""},
	{"deals", "tags", Plain, "categories, for reports"},
	{"deals", "owner_id", Plain, ""},
	{"deals", "team_id", Plain, ""},
	{"deals", "version", Plain, ""},
	{"deals", "created_at", Plain, ""},
	{"deals", "updated_at", Plain, ""},
	{"deals", "deleted_at", Plain, ""},

	{"activities", "id", Plain, ""},
	{"activities", "type", Plain, "call, meeting, email or note"},
	{"activities", "subject", Personal, ""},
	{"activities", "body", Personal, ""},
	{"activities", "occurred_at", Plain, ""},
	{"activities", "duration_min", Plain, ""},
	{"activities", "contact_id", Plain, "link"},
	{"activities", "company_id", Plain, "link"},
	{"activities", "deal_id", Plain, "link"},
	{"activities", "owner_id", Plain, ""},
	{"activities", "team_id", Plain, ""},
	{"activities", "version", Plain, ""},
	{"activities", "created_at", Plain, ""},
	{"activities", "updated_at", Plain, ""},
	{"activities", "deleted_at", Plain, ""},

	{"tasks", "id", Plain, ""},
	{"tasks", "title", Personal, ""},
	{"tasks", "description", Personal, ""},
	{"tasks", "due_at", Plain, ""},
	{"tasks", "status", Plain, ""},
	{"tasks", "assignee_id", Plain, ""},
	{"tasks", "contact_id", Plain, "link"},
	{"tasks", "company_id", Plain, "link"},
	{"tasks", "deal_id", Plain, "link"},
	{"tasks", "owner_id", Plain, ""},
	{"tasks", "team_id", Plain, ""},
	{"tasks", "version", Plain, ""},
	{"tasks", "created_at", Plain, ""},
	{"tasks", "updated_at", Plain, ""},
	{"tasks", "deleted_at", Plain, ""},

	{"consents", "id", Plain, ""},
	{"consents", "contact_id", Plain, "link"},
	{"consents", "purpose", Plain, "a purpose the organisation names, for sending rules"},
	{"consents", "granted", Plain, ""},
	{"consents", "source", Personal, "how and where the client consented"},
	{"consents", "recorded_by", Plain, ""},
	{"consents", "recorded_at", Plain, ""},

	{"tags", "entity", Plain, ""},
	{"tags", "record_id", Plain, ""},
	{"tags", "tag", Token, "a contact's tags as tokens; a company's or deal's as they are"},

	{"shares", "id", Plain, ""},
	{"shares", "entity", Plain, ""},
	{"shares", "record_id", Plain, ""},
	{"shares", "user_id", Plain, ""},
	{"shares", "team_id", Plain, ""},
	{"shares", "access", Plain, "read or write"},
	{"shares", "expires_at", Plain, ""},
	{"shares", "created_by", Plain, ""},
	{"shares", "created_at", Plain, ""},
	{"erasures", "id", Plain, "the erasure ledger (ENC-5): no personal data"},
	{"erasures", "entity", Plain, "contact or company"},
	{"erasures", "record_id", Plain, ""},
	{"erasures", "erased_at", Plain, ""},
	{"erasures", "erased_by", Plain, "the user who erased"},
}

// Of returns the class of table.column, and false when the table does not
// list it.
func Of(table, column string) (Class, bool) {
	for _, c := range Columns {
		if c.Table == table && c.Name == column {
			return c.Class, true
		}
	}
	return Plain, false
}
