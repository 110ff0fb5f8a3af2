package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The contact forms: new and edit, with server-side validation that keeps
// what was typed.

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
	// CompanyLocked: the contact's company is one the caller cannot see;
	// the form keeps the link as it is (the service refuses to change it).
	CompanyLocked bool
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
//
// The fields the caller may not change (ACL-3: masked, hidden or read-only
// for its role; editable says which it may) have no input in the form
// and are left out of the input, so a save never touches them; a value
// for them in a crafted submission is ignored.
func contactInput(f url.Values, editable func(field string) bool) (crm.ContactInput, error) {
	str := func(k string) *string {
		if !editable(k) {
			return nil
		}
		v := f.Get(k)
		return &v
	}
	fe := crm.FieldErrors{}
	in := crm.ContactInput{FirstName: str("first_name"), LastName: str("last_name"), Email: str("email"),
		Phone: str("phone"), Title: str("title"), Address: str("address"), Birthday: str("birthday"), Notes: str("notes")}
	if !editable("company_id") || f.Get("company_locked") != "" {
		// left alone
	} else if company := strings.TrimSpace(f.Get("company_id")); company == "" {
		in.CompanyID = crm.Null[int64]()
	} else if n, err := strconv.ParseInt(company, 10, 64); err != nil || n <= 0 {
		fe.Add("company_id", "must be a positive id")
	} else {
		in.CompanyID = crm.Value(n)
	}
	if editable("tags") {
		tags := []string{}
		for _, t := range strings.Split(f.Get("tags"), ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
		in.Tags = &tags
	}
	if editable("preferences") {
		dnc := f.Get("do_not_contact") != ""
		in.Preferences = &crm.PreferencesInput{Channel: str("channel"), Language: str("language"), DoNotContact: &dnc}
	}
	return in, fe.Err()
}

// contactEditable is contactInput's editable for the caller of v.
func contactEditable(v *view) func(string) bool {
	return func(field string) bool {
		switch field {
		case "channel", "language":
			field = "preferences"
		}
		return v.Editable("contact", field)
	}
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
func (u *UI) companyOptions(r *http.Request, p *crm.Principal, current string) []companyOption {
	var out []companyOption
	pg, err := u.records.FindCompanies(r.Context(), p, crm.CompanyFilter{}, crm.ListOptions{Limit: crm.MaxLimit, Sort: "name"})
	if err != nil {
		httpx.LogError(u.log, r, err)
		pg = &crm.Page[*crm.Company]{}
	}
	for _, c := range pg.Items {
		out = append(out, companyOption{ID: strconv.FormatInt(c.ID, 10), Name: c.Name})
	}
	if current != "" && !slices.ContainsFunc(out, func(o companyOption) bool { return o.ID == current }) {
		if id, err := strconv.ParseInt(current, 10, 64); err == nil && id > 0 {
			if c, err := u.records.FindCompanyByID(r.Context(), p, id); err == nil {
				out = append([]companyOption{{ID: current, Name: c.Name}}, out...)
			}
		}
	}
	return out
}

// renderContactForm renders the create or edit form with v.Form.
func (u *UI) renderContactForm(w http.ResponseWriter, r *http.Request, p *crm.Principal, v *view, pg contactFormPage, status int) {
	pg.Companies = u.companyOptions(r, p, v.Form.Get("company_id"))
	pg.CompanyLocked = v.Form.Get("company_id") != ""
	for _, c := range pg.Companies {
		if c.ID == v.Form.Get("company_id") {
			v.Form.Set("company_name", c.Name) // shown when the company is locked
			pg.CompanyLocked = false
		}
	}
	pg.Channels = crm.Channels
	if pg.IsNew {
		v.Title = v.T("form.new_title")
	} else {
		pg.Name = strings.TrimSpace(v.Form.Get("first_name") + " " + v.Form.Get("last_name"))
		v.Title = v.T("form.edit_title", pg.Name)
	}
	v.Nav = "contacts"
	v.Page = pg
	u.render(w, r, status, "contact_form", v)
}

// formFailure re-renders a contact form after the service refused it:
// the user's input stays, with the reasons next to the fields.
func (u *UI) formFailure(w http.ResponseWriter, r *http.Request, p *crm.Principal, pg contactFormPage, err error) error {
	v := u.newView(r, p, "")
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
	status := httpx.StatusOf(code) // as the API answers: 400, 409, 412
	u.renderContactForm(w, r, p, v, pg, status)
	return nil
}

func (u *UI) NewContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if !policy.Allowed(p, policy.On("contact", policy.Create)) {
		return crm.Errorf(crm.EFORBIDDEN, "you are not allowed to do this")
	}
	v := u.newView(r, p, "")
	u.renderContactForm(w, r, p, v, contactFormPage{IsNew: true}, http.StatusOK)
	return nil
}

func (u *UI) CreateContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	pg := contactFormPage{IsNew: true}
	in, err := contactInput(r.PostForm, contactEditable(u.newView(r, p, "")))
	if err != nil {
		return u.formFailure(w, r, p, pg, err)
	}
	c, err := u.records.CreateContact(r.Context(), p, in)
	if err != nil {
		return u.formFailure(w, r, p, pg, err)
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(c.ID, 10)+"?notice=created", http.StatusSeeOther)
	return nil
}

func (u *UI) EditContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	// The form is for whoever may change the contact (ACL-4).
	if err := u.records.CheckRecord(r.Context(), p, "contact", id, "update"); err != nil {
		return err
	}
	c, err := u.records.FindContactByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	v := u.newView(r, p, "")
	v.Form = contactValues(c)
	u.renderContactForm(w, r, p, v, contactFormPage{ID: c.ID, Version: c.Version}, http.StatusOK)
	return nil
}

func (u *UI) UpdateContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
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
	in, err := contactInput(r.PostForm, contactEditable(u.newView(r, p, "")))
	if err != nil {
		return u.formFailure(w, r, p, pg, err)
	}
	if _, err := u.records.UpdateContact(r.Context(), p, id, in, version); err != nil {
		return u.formFailure(w, r, p, pg, err)
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10)+"?notice=updated", http.StatusSeeOther)
	return nil
}
