package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
)

// Contact pages: the list, the detail page with the interaction timeline,
// the create and edit forms and the delete confirmation. Every read and
// write goes through s.records, which checks access; the UI only hides buttons
// a role could not use anyway.

// Page sizes of the UI lists.
const (
	contactsPerPage = 50
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
	"activity": "activity.logged",
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

func (s *Server) uiContacts(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	q, err := parseQuery(r, "q", "tag", "sort", "cursor", "notice")
	if err != nil {
		return err
	}
	v := s.newView(r, p, "contacts.title")
	v.Nav = "contacts"
	if key, ok := contactNotices[q.str("notice")]; ok {
		v.Notice = v.T(key)
	}
	pg := contactsPage{Q: q.str("q"), Tag: q.str("tag"), CanWrite: policy.Allowed(p, policy.WriteClients)}
	pg.Filtered = pg.Q != "" || pg.Tag != ""
	sort := q.str("sort")
	current := sort
	if current == "" {
		current = contactSorts[0].Value
	}
	for _, o := range contactSorts {
		o.Selected = o.Value == current
		pg.Sorts = append(pg.Sorts, o)
	}
	if q.str("cursor") != "" {
		pg.FirstURL = contactsURL(pg.Q, pg.Tag, sort, "")
	}
	status := http.StatusOK
	res, err := s.records.FindContacts(r.Context(), p, crm.ContactFilter{Q: pg.Q, Tag: pg.Tag},
		crm.ListOptions{Limit: contactsPerPage, Cursor: q.str("cursor"), Sort: sort})
	switch {
	case crm.ErrorCode(err) == crm.EINVALID:
		status = http.StatusBadRequest
		v.setFieldErrors(err)
	case err != nil:
		return err
	default:
		owners, companies := s.names(r, p, res.Items)
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
	s.render(w, r, status, "contacts", v)
	return nil
}

// names looks up the owners' and companies' names of a page of contacts
// with two queries, whatever the page's size. A name the principal may not
// see stays empty.
func (s *Server) names(r *http.Request, p *crm.Principal, list []*crm.Contact) (owners, companies map[int64]string) {
	owners = map[int64]string{p.UserID: p.Name}
	companies = map[int64]string{}
	if len(list) == 0 {
		return owners, companies
	}
	if users, err := s.identity.FindStaff(r.Context(), p); err == nil {
		for _, u := range users {
			owners[u.ID] = u.Name
		}
	} else {
		s.logError(r, err)
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
		pg, err := s.records.FindCompanies(r.Context(), p, crm.CompanyFilter{IDs: ids}, crm.ListOptions{Limit: crm.MaxLimit})
		if err != nil {
			s.logError(r, err)
			return owners, companies
		}
		for _, co := range pg.Items {
			companies[co.ID] = co.Name
		}
	}
	return owners, companies
}

// contactPage is the data of a contact's detail page.
type contactPage struct {
	C         *crm.Contact
	Name      string
	Company   string
	Owner     string
	Timeline  []*crm.Activity
	OlderURL  string
	NewestURL string
	Types     []string
	CanWrite  bool
	CanDelete bool
}

func (s *Server) uiContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "cursor", "notice")
	if err != nil {
		return err
	}
	v := s.newView(r, p, "")
	if key, ok := contactNotices[q.str("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Form.Set("type", crm.ActivityNote)
	return s.renderContact(w, r, p, v, id, q.str("cursor"), http.StatusOK)
}

// renderContact renders the detail page; the activity form shows v.Form
// and v.Errors.
func (s *Server) renderContact(w http.ResponseWriter, r *http.Request, p *crm.Principal, v *view, id int64, cursor string, status int) error {
	c, err := s.records.FindContactByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	tl, err := s.records.FindTimeline(r.Context(), p, id, crm.ListOptions{Limit: timelinePerPage, Cursor: cursor})
	if err != nil {
		return err
	}
	owners, companies := s.names(r, p, []*crm.Contact{c})
	pg := contactPage{C: c, Name: displayName(c), Owner: owners[c.OwnerID], Timeline: tl.Items, Types: crm.ActivityTypes,
		CanWrite: policy.Allowed(p, policy.WriteClients), CanDelete: policy.Allowed(p, policy.DeleteClients)}
	if c.CompanyID != nil {
		pg.Company = companies[*c.CompanyID]
	}
	self := "/contacts/" + strconv.FormatInt(c.ID, 10)
	if tl.NextCursor != "" {
		pg.OlderURL = self + "?" + url.Values{"cursor": {tl.NextCursor}}.Encode() + "#timeline"
	}
	if cursor != "" {
		pg.NewestURL = self + "#timeline"
	}
	v.Nav = "contacts"
	v.Title = pg.Name
	v.Page = pg
	s.render(w, r, status, "contact", v)
	return nil
}

func (s *Server) uiLogActivity(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	typ, subject, body := f.Get("type"), f.Get("subject"), f.Get("body")
	_, err = s.records.CreateActivity(r.Context(), p, crm.ActivityInput{Type: &typ, Subject: &subject, Body: &body,
		ContactID: crm.Value(id)})
	if crm.ErrorCode(err) == crm.EINVALID {
		if _, ok := crm.ErrorFields(err)["contact_id"]; ok {
			// The contact is not visible to p: it does not exist.
			return crm.NotFound("contact")
		}
		v := s.newView(r, p, "")
		v.Form = url.Values{"type": {typ}, "subject": {subject}, "body": {body}}
		v.setFieldErrors(err)
		return s.renderContact(w, r, p, v, id, "", http.StatusBadRequest)
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10)+"?notice=activity#timeline", http.StatusSeeOther)
	return nil
}

// companyOption is one entry of the company menu.
type companyOption struct {
	ID   string
	Name string
}

// contactFormPage is the data of the create and edit forms.
type contactFormPage struct {
	IsNew     bool
	ID        int64
	Version   int64
	Name      string
	Companies []companyOption
	Channels  []string
	Stale     bool
}

// contactValues are a stored contact's fields as form values.
func contactValues(c *crm.Contact) url.Values {
	f := url.Values{}
	f.Set("first_name", c.FirstName)
	f.Set("last_name", c.LastName)
	f.Set("email", c.Email)
	f.Set("phone", c.Phone)
	if c.CompanyID != nil {
		f.Set("company_id", strconv.FormatInt(*c.CompanyID, 10))
	}
	f.Set("title", c.Title)
	f.Set("address", c.Address)
	f.Set("birthday", c.Birthday)
	f.Set("notes", c.Notes)
	f.Set("tags", strings.Join(c.Tags, ", "))
	f.Set("channel", c.Preferences.Channel)
	f.Set("language", c.Preferences.Language)
	if c.Preferences.DoNotContact {
		f.Set("do_not_contact", "on")
	}
	return f
}

// contactInput turns a submitted form into a full ContactInput: every
// field is set, so an emptied input clears the stored value. Only the
// form's own fields reach the service (ASVS v5.0.0-15.3.3, no mass
// assignment): owner, version and timestamps are not settable here.
func contactInput(f url.Values) (crm.ContactInput, error) {
	str := func(k string) *string { v := f.Get(k); return &v }
	fe := crm.FieldErrors{}
	in := crm.ContactInput{FirstName: str("first_name"), LastName: str("last_name"), Email: str("email"),
		Phone: str("phone"), Title: str("title"), Address: str("address"), Birthday: str("birthday"), Notes: str("notes")}
	if company := strings.TrimSpace(f.Get("company_id")); company == "" {
		in.CompanyID = crm.Null[int64]()
	} else if n, err := strconv.ParseInt(company, 10, 64); err != nil || n <= 0 {
		fe.Add("company_id", "must be a positive id")
	} else {
		in.CompanyID = crm.Value(n)
	}
	tags := []string{}
	for _, t := range strings.Split(f.Get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	in.Tags = &tags
	dnc := f.Get("do_not_contact") != ""
	in.Preferences = &crm.PreferencesInput{Channel: str("channel"), Language: str("language"), DoNotContact: &dnc}
	return in, fe.Err()
}

// formValues keeps only the contact form's own fields of a submission, so
// the csrf token and anything injected are not echoed back.
func formValues(f url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"first_name", "last_name", "email", "phone", "company_id", "title", "address",
		"birthday", "notes", "tags", "channel", "language", "do_not_contact"} {
		if x := f.Get(k); x != "" {
			out.Set(k, x)
		}
	}
	return out
}

// companyOptions lists companies for the form's menu, including the
// currently chosen one even when it is beyond the first page.
func (s *Server) companyOptions(r *http.Request, p *crm.Principal, current string) []companyOption {
	var out []companyOption
	pg, err := s.records.FindCompanies(r.Context(), p, crm.CompanyFilter{}, crm.ListOptions{Limit: crm.MaxLimit, Sort: "name"})
	if err != nil {
		s.logError(r, err)
		pg = &crm.Page[*crm.Company]{}
	}
	for _, c := range pg.Items {
		out = append(out, companyOption{ID: strconv.FormatInt(c.ID, 10), Name: c.Name})
	}
	if current != "" && !slices.ContainsFunc(out, func(o companyOption) bool { return o.ID == current }) {
		if id, err := strconv.ParseInt(current, 10, 64); err == nil && id > 0 {
			if c, err := s.records.FindCompanyByID(r.Context(), p, id); err == nil {
				out = append([]companyOption{{ID: current, Name: c.Name}}, out...)
			}
		}
	}
	return out
}

// renderContactForm renders the create or edit form with v.Form.
func (s *Server) renderContactForm(w http.ResponseWriter, r *http.Request, p *crm.Principal, v *view, pg contactFormPage, status int) {
	pg.Companies = s.companyOptions(r, p, v.Form.Get("company_id"))
	pg.Channels = crm.Channels
	if pg.IsNew {
		v.Title = v.T("form.new_title")
	} else {
		pg.Name = strings.TrimSpace(v.Form.Get("first_name") + " " + v.Form.Get("last_name"))
		v.Title = v.T("form.edit_title", pg.Name)
	}
	v.Nav = "contacts"
	v.Page = pg
	s.render(w, r, status, "contact_form", v)
}

// formFailure re-renders a contact form after the service refused it:
// the user's input stays, with the reasons next to the fields.
func (s *Server) formFailure(w http.ResponseWriter, r *http.Request, p *crm.Principal, pg contactFormPage, err error) error {
	v := s.newView(r, p, "")
	v.Form = formValues(r.PostForm)
	code := crm.ErrorCode(err)
	switch code {
	case crm.EINVALID, crm.ECONFLICT:
		v.setFieldErrors(err)
	case crm.EPRECONDITION:
		// Another user saved first (optimistic locking): nothing was
		// written; say so instead of overwriting their change.
		pg.Stale = true
	default:
		return err
	}
	status := statusOf(code) // as the API answers: 400, 409, 412
	s.renderContactForm(w, r, p, v, pg, status)
	return nil
}

func (s *Server) uiNewContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	v := s.newView(r, p, "")
	s.renderContactForm(w, r, p, v, contactFormPage{IsNew: true}, http.StatusOK)
	return nil
}

func (s *Server) uiCreateContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	pg := contactFormPage{IsNew: true}
	in, err := contactInput(r.PostForm)
	if err != nil {
		return s.formFailure(w, r, p, pg, err)
	}
	c, err := s.records.CreateContact(r.Context(), p, in)
	if err != nil {
		return s.formFailure(w, r, p, pg, err)
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(c.ID, 10)+"?notice=created", http.StatusSeeOther)
	return nil
}

func (s *Server) uiEditContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.records.FindContactByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := s.newView(r, p, "")
	v.Form = contactValues(c)
	s.renderContactForm(w, r, p, v, contactFormPage{ID: c.ID, Version: c.Version}, http.StatusOK)
	return nil
}

func (s *Server) uiUpdateContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	// The version the form was loaded with: a save over a newer version
	// fails instead of silently overwriting someone else's change.
	version, verr := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	if verr != nil || version <= 0 {
		return crm.Errorf(crm.EINVALID, "the form is missing the record version; reload the page")
	}
	pg := contactFormPage{ID: id, Version: version}
	in, err := contactInput(r.PostForm)
	if err != nil {
		return s.formFailure(w, r, p, pg, err)
	}
	if _, err := s.records.UpdateContact(r.Context(), p, id, in, version); err != nil {
		return s.formFailure(w, r, p, pg, err)
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10)+"?notice=updated", http.StatusSeeOther)
	return nil
}

// deletePage is the data of the delete confirmation.
type deletePage struct {
	ID   int64
	Name string
}

func (s *Server) uiConfirmDeleteContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := s.records.FindContactByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := s.newView(r, p, "delete.title")
	v.Nav = "contacts"
	v.Page = deletePage{ID: c.ID, Name: displayName(c)}
	s.render(w, r, http.StatusOK, "contact_delete", v)
	return nil
}

func (s *Server) uiDeleteContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.records.DeleteContact(r.Context(), p, id); err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts?notice=deleted", http.StatusSeeOther)
	return nil
}
