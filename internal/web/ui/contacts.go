package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The contacts list: search, tag filter, sort and pages, with the owner
// and company names of the rows. The contact screens (contact.go,
// contact_form.go, contact_delete.go) read and write through u.records
// alone, which checks access; the UI only hides buttons a role could not
// use anyway.

// Page sizes of the UI lists.
const (
	ContactsPerPage = 50
	timelinePerPage = 50
)

// contactRow is one line of the contacts list.
type contactRow struct {
	*crm.Contact
	Name    string
	Company string
	Owner   string
}

// sortOption is one entry of the sort menu.
type sortOption struct {
	Value    string
	Label    string
	Selected bool
}

// contactSorts are the orders the list offers, each a whitelisted sort
// field of crm.SortFields["contacts"].
var contactSorts = []sortOption{
	{Value: "last_name", Label: "sort.last_name"},
	{Value: "-last_name", Label: "sort.last_name_desc"},
	{Value: "first_name", Label: "sort.first_name"},
	{Value: "-created_at", Label: "sort.newest"},
	{Value: "created_at", Label: "sort.oldest"},
	{Value: "-updated_at", Label: "sort.updated"},
	{Value: "email", Label: "sort.email"},
}

// contactsPage is the data of the contacts list.
type contactsPage struct {
	Rows     []contactRow
	Q        string
	Tag      string
	Sorts    []sortOption
	NextURL  string
	FirstURL string
	Filtered bool
	CanWrite bool
}

// contactNotices are the confirmations shown after a redirect, by the
// notice parameter; other values show nothing.
var contactNotices = map[string]string{
	"created":  "contacts.created",
	"updated":  "contacts.updated",
	"deleted":  "contacts.deleted",
	"erased":   "contacts.erased",
	"activity": "activity.logged",
	"shared":   "share.done",
	"unshared": "share.revoked",
}

// contactsURL builds a link to the list that keeps the current filters.
func contactsURL(q, tag, sort, cursor string) string {
	v := url.Values{}
	for k, x := range map[string]string{"q": q, "tag": tag, "sort": sort, "cursor": cursor} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if len(v) == 0 {
		return "/contacts"
	}
	return "/contacts?" + v.Encode()
}

func displayName(c *crm.Contact) string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

func (u *UI) Contacts(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	// The list is every signed-in user's home page; a role that reads no
	// client data (the auditor) is sent to the security page instead of a
	// 403 (ACL-1).
	if !policy.Allowed(p, policy.On("contact", policy.Read)) && p.Pending == crm.MFANone {
		http.Redirect(w, r, "/account/security", http.StatusSeeOther)
		return nil
	}
	q, err := httpx.ParseQuery(r, "q", "tag", "sort", "cursor", "notice")
	if err != nil {
		return err
	}
	v := u.newView(r, p, "contacts.title")
	v.Nav = "contacts"
	if key, ok := contactNotices[q.Str("notice")]; ok {
		v.Notice = v.T(key)
	}
	pg := contactsPage{Q: q.Str("q"), Tag: q.Str("tag"), CanWrite: policy.Allowed(p, policy.On("contact", policy.Create))}
	pg.Filtered = pg.Q != "" || pg.Tag != ""
	sort := q.Str("sort")
	current := sort
	if current == "" {
		current = contactSorts[0].Value
	}
	for _, o := range contactSorts {
		o.Selected = o.Value == current
		pg.Sorts = append(pg.Sorts, o)
	}
	if q.Str("cursor") != "" {
		pg.FirstURL = contactsURL(pg.Q, pg.Tag, sort, "")
	}
	status := http.StatusOK
	res, err := u.records.FindContacts(r.Context(), p, crm.ContactFilter{Q: pg.Q, Tag: pg.Tag},
		crm.ListOptions{Limit: ContactsPerPage, Cursor: q.Str("cursor"), Sort: sort})
	switch {
	case crm.ErrorCode(err) == crm.EINVALID:
		status = http.StatusBadRequest
		v.setFieldErrors(err)
	case err != nil:
		return err
	default:
		owners, companies := u.names(r, p, res.Items)
		for _, c := range res.Items {
			row := contactRow{Contact: c, Name: displayName(c), Owner: owners[c.OwnerID]}
			if c.CompanyID != nil {
				row.Company = companies[*c.CompanyID]
			}
			pg.Rows = append(pg.Rows, row)
		}
		if res.NextCursor != "" {
			pg.NextURL = contactsURL(pg.Q, pg.Tag, sort, res.NextCursor)
		}
	}
	v.Page = pg
	u.render(w, r, status, "contacts", v)
	return nil
}

// names looks up the owners' and companies' names of a page of contacts
// with two queries, whatever the page's size. A name the principal may not
// see stays empty.
func (u *UI) names(r *http.Request, p *crm.Principal, list []*crm.Contact) (owners, companies map[int64]string) {
	owners = map[int64]string{p.UserID: p.Name}
	companies = map[int64]string{}
	if len(list) == 0 {
		return owners, companies
	}
	if users, err := u.identity.FindStaff(r.Context(), p); err == nil {
		for _, u := range users {
			owners[u.ID] = u.Name
		}
	} else {
		httpx.LogError(u.log, r, err)
	}
	var ids []int64
	for _, c := range list {
		if c.CompanyID != nil {
			if _, seen := companies[*c.CompanyID]; !seen {
				companies[*c.CompanyID] = ""
				ids = append(ids, *c.CompanyID)
			}
		}
	}
	if len(ids) > 0 {
		pg, err := u.records.FindCompanies(r.Context(), p, crm.CompanyFilter{IDs: ids}, crm.ListOptions{Limit: crm.MaxLimit})
		if err != nil {
			httpx.LogError(u.log, r, err)
			return owners, companies
		}
		for _, co := range pg.Items {
			companies[co.ID] = co.Name
		}
	}
	return owners, companies
}
