package ui

import (
	"net/http"
	"net/url"
	"slices"
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
	Details   []detailRow
	Notes     detailRow
	Sharing   *shareCard // nil: no card
	Timeline  []*crm.Activity
	OlderURL  string
	NewestURL string
	Types     []string
	CanWrite  bool
	CanDelete bool
	CanErase  bool // erase for good (ENC-5)
}

// detailRow is one personal field of the details list, as the caller may
// see it (ACL-3): its value, masked with a reveal button, or hidden.
type detailRow struct {
	Field    string // the field's name, for the reveal form
	Label    string // its message key
	Value    string // as the caller sees it
	Link     string // "mailto" or "tel": a link, for a value shown in full
	Pre      bool   // may span lines
	Masked   bool   // shown masked: offer the reveal
	Hidden   bool   // hidden from the caller's role
	Revealed bool   // unmasked by a reveal in this response
}

// contactDetails are the rows of c's personal fields for v's caller;
// revealed holds a value the caller has just unmasked.
func contactDetails(v *view, c *crm.Contact, revealed map[string]string) []detailRow {
	rows := []detailRow{
		{Field: "email", Label: "field.email", Value: c.Email},
		{Field: "phone", Label: "field.phone", Value: c.Phone},
		{Field: "title", Label: "field.title", Value: c.Title},
		{Field: "address", Label: "field.address", Value: c.Address, Pre: true},
		{Field: "birthday", Label: "field.birthday", Value: c.Birthday},
		{Field: "notes", Label: "field.notes", Value: c.Notes, Pre: true},
	}
	for i := range rows {
		r := &rows[i]
		switch crm.FieldLevel(v.Level("contact", r.Field)) {
		case crm.FieldHidden:
			r.Hidden, r.Value = true, ""
		case crm.FieldMasked:
			r.Masked = slices.Contains(c.Masked, r.Field)
		}
		if val, ok := revealed[r.Field]; ok {
			r.Value, r.Masked, r.Revealed = val, false, true
		}
		if !r.Masked && !r.Hidden && r.Value != "" {
			r.Link = map[string]string{"email": "mailto", "phone": "tel"}[r.Field]
		}
	}
	return rows
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
	return u.renderContact(w, r, p, v, id, q.Str("cursor"), http.StatusOK, nil)
}

// RevealContact shows the contact page with one masked field unmasked
// (ACL-3), after a step-up: without a recent one the browser goes to the
// step-up page and back to the contact, where the user asks again. The
// service records the reveal before it answers.
func (u *UI) RevealContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	field := r.PostForm.Get("field")
	value, err := u.records.RevealField(r.Context(), p, "contact", id, field)
	self := "/contacts/" + strconv.FormatInt(id, 10)
	if crm.ErrorCode(err) == crm.ESTEPUPREQUIRED {
		http.Redirect(w, r, "/stepup?"+url.Values{"next": {self}}.Encode(), http.StatusSeeOther)
		return nil
	} else if err != nil {
		return err
	}
	v := u.newView(r, p, "")
	v.Notice = v.T("contact.revealed")
	v.Form.Set("type", crm.ActivityNote)
	w.Header().Set("Cache-Control", "no-store")
	return u.renderContact(w, r, p, v, id, "", http.StatusOK, map[string]string{field: value})
}

// renderContact renders the detail page, with the values of revealed
// unmasked; the activity form shows v.Form and v.Errors.
func (u *UI) renderContact(w http.ResponseWriter, r *http.Request, p *crm.Principal, v *view, id int64, cursor string, status int, revealed map[string]string) error {
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
		Sharing:  u.contactShares(r, p, c),
		CanWrite: policy.Allowed(p, policy.On("contact", policy.Update)), CanDelete: policy.Allowed(p, policy.On("contact", policy.Delete)),
		CanErase: mayErase(p)}
	if c.CompanyID != nil {
		pg.Company = companies[*c.CompanyID]
	}
	rows := contactDetails(v, c, revealed)
	pg.Details, pg.Notes = rows[:len(rows)-1], rows[len(rows)-1]
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
		return u.renderContact(w, r, p, v, id, "", http.StatusBadRequest, nil)
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/contacts/"+strconv.FormatInt(id, 10)+"?notice=activity#timeline", http.StatusSeeOther)
	return nil
}
