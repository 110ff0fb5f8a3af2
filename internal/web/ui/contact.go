package ui

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The contact page: the contact with its interaction timeline, and the
// form that logs a call, meeting, email or note on it.

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

func (u *UI) Contact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	q, err := httpx.ParseQuery(r, "cursor", "notice")
	if err != nil {
		return err
	}
	v := u.newView(r, p, "")
	if key, ok := contactNotices[q.Str("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Form.Set("type", crm.ActivityNote)
	return u.renderContact(w, r, p, v, id, q.Str("cursor"), http.StatusOK)
}

// renderContact renders the detail page; the activity form shows v.Form
// and v.Errors.
func (u *UI) renderContact(w http.ResponseWriter, r *http.Request, p *crm.Principal, v *view, id int64, cursor string, status int) error {
	c, err := u.records.FindContactByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	tl, err := u.records.FindTimeline(r.Context(), p, id, crm.ListOptions{Limit: timelinePerPage, Cursor: cursor})
	if err != nil {
		return err
	}
	owners, companies := u.names(r, p, []*crm.Contact{c})
	pg := contactPage{C: c, Name: displayName(c), Owner: owners[c.OwnerID], Timeline: tl.Items, Types: crm.ActivityTypes,
		CanWrite: policy.Allowed(p, policy.On("contact", policy.Update)), CanDelete: policy.Allowed(p, policy.On("contact", policy.Delete))}
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
	u.render(w, r, status, "contact", v)
	return nil
}

func (u *UI) LogActivity(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	f := r.PostForm
	typ, subject, body := f.Get("type"), f.Get("subject"), f.Get("body")
	_, err = u.records.CreateActivity(r.Context(), p, crm.ActivityInput{Type: &typ, Subject: &subject, Body: &body,
		ContactID: crm.Value(id)})
	if crm.ErrorCode(err) == crm.EINVALID {
		if _, ok := crm.ErrorFields(err)["contact_id"]; ok {
			// The contact is not visible to p: it does not exist.
			return crm.NotFound("contact")
		}
		v := u.newView(r, p, "")
		v.Form = url.Values{"type": {typ}, "subject": {subject}, "body": {body}}
		v.setFieldErrors(err)
		return u.renderContact(w, r, p, v, id, "", http.StatusBadRequest)
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10)+"?notice=activity#timeline", http.StatusSeeOther)
	return nil
}
