package crm

import (
	"context"
	"time"
)

// Contact is a person the organisation deals with.
type Contact struct {
	ID          int64       `json:"id"`
	FirstName   string      `json:"first_name"`
	LastName    string      `json:"last_name"`
	Email       string      `json:"email,omitempty"`
	Phone       string      `json:"phone,omitempty"` // E.164
	CompanyID   *int64      `json:"company_id,omitempty"`
	Title       string      `json:"title,omitempty"`
	Address     string      `json:"address,omitempty"`
	Birthday    string      `json:"birthday,omitempty"` // YYYY-MM-DD
	Notes       string      `json:"notes,omitempty"`
	Tags        []string    `json:"tags"`
	Preferences Preferences `json:"preferences"`
	OwnerID     int64       `json:"owner_id"`
	TeamID      *int64      `json:"team_id,omitempty"`
	Version     int64       `json:"version"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	DeletedAt   *time.Time  `json:"deleted_at,omitempty"`
	// Masked names the fields shown masked to this caller (ACL-3); a field
	// hidden from it is absent.
	Masked []string `json:"masked,omitempty"`
	// EmailToken and PhoneToken are the blind indexes of the email and the
	// phone (ENC-4): keyed hashes of the normalised values, made by the
	// seal hook, stored so that the store finds a contact by an exact
	// value without holding it. Never shown.
	EmailToken string `json:"-"`
	PhoneToken string `json:"-"`
	// TagTokens are the blind indexes of the tags, made by the seal hook:
	// the store keeps them as the contact's rows of the tags table (the
	// tags themselves rest sealed in the contact). Never shown.
	TagTokens []string `json:"-"`
}

// Preferences are a client's wishes about being contacted (CORE-1).
type Preferences struct {
	Channel      string `json:"channel,omitempty"`  // email, phone, sms, messenger, mail, none
	Language     string `json:"language,omitempty"` // BCP 47, e.g. "ru", "en"
	DoNotContact bool   `json:"do_not_contact"`
}

// Channels lists the valid preferred channels.
var Channels = []string{"email", "phone", "sms", "messenger", "mail", "none"}

// ContactInput is the client-settable part of a contact, for create and for
// partial update: a nil pointer leaves the field alone. Server-owned fields
// (id, version, timestamps) are not here, so they cannot be mass-assigned.
type ContactInput struct {
	FirstName   *string           `json:"first_name"`
	LastName    *string           `json:"last_name"`
	Email       *string           `json:"email"`
	Phone       *string           `json:"phone"`
	CompanyID   Nullable[int64]   `json:"company_id"`
	Title       *string           `json:"title"`
	Address     *string           `json:"address"`
	Birthday    *string           `json:"birthday"`
	Notes       *string           `json:"notes"`
	Tags        *[]string         `json:"tags"`
	Preferences *PreferencesInput `json:"preferences"`
	OwnerID     *int64            `json:"owner_id"` // only for principals allowed to assign owners
}

// PreferencesInput is a partial update of Preferences.
type PreferencesInput struct {
	Channel      *string `json:"channel"`
	Language     *string `json:"language"`
	DoNotContact *bool   `json:"do_not_contact"`
}

// ContactFilter selects contacts. Empty fields do not filter.
//
// The store holds names, email, phone and tags sealed: it honours the
// ids, company, owner, state and token filters, and lists in created_at
// or updated_at order; Email, Phone, Tag, Q, CompanyScope and NoSearch,
// and the orders by name or email, are answered by the service's
// in-memory index.
type ContactFilter struct {
	Email     string
	Phone     string
	CompanyID int64
	OwnerID   int64
	Tag       string
	Q         string // words over names, email, phone digits and company name
	Deleted   bool   // list the deleted (restorable) contacts instead
	// EmailToken, PhoneToken and TagToken keep the contacts with these
	// blind-index tokens (Contact.EmailToken, TagTokens): the store's
	// exact filters.
	EmailToken, PhoneToken, TagToken string
	// CompanyScope is the scope of the companies whose names Q matches
	// (the companies the caller may read); nil means the contacts' scope.
	// The service sets it; no request does.
	CompanyScope *Scope
	// IDs, when not nil, keeps only these contacts (at most MaxLimit),
	// all of them on one page, in no order; with AnyState, live and
	// deleted alike. The service reads the rows of a page its index
	// found, and the index reads changed records, through them.
	IDs      []int64
	AnyState bool
	// NoSearch names the fields Q must not match ("email", "phone"): those
	// the caller may not read (ACL-3). The service sets it.
	NoSearch []string
}

// Consent records a client's consent, or its withdrawal, for one purpose
// (CORE-1, PRV-1). Consents are append-only: the latest per purpose wins.
type Consent struct {
	ID         int64     `json:"id"`
	ContactID  int64     `json:"contact_id"`
	Purpose    string    `json:"purpose"`
	Granted    bool      `json:"granted"`
	Source     string    `json:"source,omitempty"`
	RecordedBy int64     `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// ConsentInput is a new consent record.
type ConsentInput struct {
	Purpose *string `json:"purpose"`
	Granted *bool   `json:"granted"`
	Source  *string `json:"source"`
}

// ContactService reads and writes contacts. Every method checks the
// principal's access; records it may not see are ENOTFOUND.
type ContactService interface {
	// FindContactByID returns a visible contact. ENOTFOUND otherwise.
	FindContactByID(ctx context.Context, p *Principal, id int64) (*Contact, error)
	// FindContacts lists visible contacts. EINVALID for a bad sort or cursor.
	FindContacts(ctx context.Context, p *Principal, f ContactFilter, o ListOptions) (*Page[*Contact], error)
	// CreateContact validates and stores a contact owned by p (or by
	// in.OwnerID where p may assign owners). EINVALID, EFORBIDDEN.
	CreateContact(ctx context.Context, p *Principal, in ContactInput) (*Contact, error)
	// UpdateContact applies a partial update. If ifVersion is not zero and
	// differs from the stored version the result is EPRECONDITION.
	UpdateContact(ctx context.Context, p *Principal, id int64, in ContactInput, ifVersion int64) (*Contact, error)
	// DeleteContact soft-deletes a contact; it stays restorable for
	// DeleteGracePeriod. ENOTFOUND, EFORBIDDEN.
	DeleteContact(ctx context.Context, p *Principal, id int64) error
	// RestoreContact undoes a soft delete within the grace period.
	RestoreContact(ctx context.Context, p *Principal, id int64) (*Contact, error)
	// FindTimeline returns the contact's activities, newest first.
	FindTimeline(ctx context.Context, p *Principal, contactID int64, o ListOptions) (*Page[*Activity], error)
	// FindConsents returns the consent history of a contact, newest first.
	FindConsents(ctx context.Context, p *Principal, contactID int64) ([]*Consent, error)
	// RecordConsent appends a consent record to a contact.
	RecordConsent(ctx context.Context, p *Principal, contactID int64, in ConsentInput) (*Consent, error)
	// FindDuplicateContacts returns groups of the contacts p may read that
	// share an email (match "email") or a phone ("phone").
	FindDuplicateContacts(ctx context.Context, p *Principal, match string, o ListOptions) (*Page[*DuplicateGroup], error)
}

// Duplicates is a group of contacts that share a blind-index token (the
// store's DuplicateContacts): Token never leaves the service.
type Duplicates struct {
	Token string
	Count int
	IDs   []int64
}

// DuplicateGroup is a group of contacts with the same email or phone
// (Match), as a caller sees it: Count of them in the caller's scope, the
// first (oldest) of them in Contacts.
type DuplicateGroup struct {
	Match    string     `json:"match"`
	Count    int        `json:"count"`
	Contacts []*Contact `json:"contacts"`
}
