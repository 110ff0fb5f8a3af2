package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/policy"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The sharing card of the contact page (ACL-2): the contact's shares, and
// for whoever may share it a form to share it with a colleague or a team
// and a button to revoke each share. Sharing and revoking need a recent
// step-up: without one the browser goes to the step-up page and back.

// shareRow is one share as the card shows it.
type shareRow struct {
	ID      int64
	Grantee string // a user's or a team's name
	Team    bool
	Write   bool
	Until   time.Time // zero: no expiry
	Expired bool
}

// granteeOption is one entry of the share form's menu: "u:ID" or "t:ID".
type granteeOption struct {
	Value, Name string
}

// shareCard is the data of the card.
type shareCard struct {
	Shares   []shareRow
	CanShare bool
	Options  []granteeOption
}

// contactShares builds the card of contact c for p; a failure to read
// the shares hides the card rather than the page.
func (u *UI) contactShares(r *http.Request, p *crm.Principal, c *crm.Contact) *shareCard {
	shares, err := u.records.FindShares(r.Context(), p, "contact", c.ID)
	if crm.ErrorCode(err) == crm.EFORBIDDEN {
		return nil // a sharee's page: the shares are the controller's
	} else if err != nil {
		httpx.LogError(u.log, r, err)
		return nil
	}
	card := &shareCard{CanShare: policy.Allowed(p, policy.On("contact", policy.Share))}
	users := map[int64]string{}
	if staff, err := u.identity.FindStaff(r.Context(), p); err == nil {
		for _, s := range staff {
			users[s.ID] = s.Name
			if card.CanShare && s.ID != c.OwnerID && s.ID != p.UserID {
				card.Options = append(card.Options, granteeOption{"u:" + strconv.FormatInt(s.ID, 10), s.Name})
			}
		}
	}
	teams := map[int64]string{}
	if list, err := u.identity.FindTeams(r.Context(), p); err == nil {
		for _, t := range list {
			teams[t.ID] = t.Name
			if card.CanShare {
				card.Options = append(card.Options, granteeOption{"t:" + strconv.FormatInt(t.ID, 10), t.Name})
			}
		}
	}
	for _, sh := range shares {
		row := shareRow{ID: sh.ID, Write: sh.Access == crm.ShareWrite, Expired: sh.Expired}
		if sh.ExpiresAt != nil {
			row.Until = *sh.ExpiresAt
		}
		if sh.TeamID != nil {
			row.Team, row.Grantee = true, teams[*sh.TeamID]
		} else if sh.UserID != nil {
			row.Grantee = users[*sh.UserID]
		}
		card.Shares = append(card.Shares, row)
	}
	if len(card.Shares) == 0 && !card.CanShare {
		return nil
	}
	return card
}

// ShareContact shares the contact with the user or team of the form.
func (u *UI) ShareContact(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	f := r.PostForm
	in := crm.ShareInput{}
	kind, ref, _ := strings.Cut(f.Get("grantee"), ":")
	n, perr := strconv.ParseInt(ref, 10, 64)
	switch {
	case perr != nil || n <= 0:
		return crm.Invalid("grantee", "choose a colleague or a team")
	case kind == "u":
		in.UserID = &n
	case kind == "t":
		in.TeamID = &n
	default:
		return crm.Invalid("grantee", "choose a colleague or a team")
	}
	access := f.Get("access")
	in.Access = &access
	if until := strings.TrimSpace(f.Get("until")); until != "" {
		d, err := time.Parse(time.DateOnly, until)
		if err != nil {
			return crm.Invalid("until", "must be a date")
		}
		// Until the end of that day, UTC.
		in.ExpiresAt = crm.Value(d.Add(24*time.Hour - time.Second))
	}
	_, _, err = u.records.ShareRecord(r.Context(), p, "contact", id, in)
	return u.afterShareChange(w, r, id, err, "shared")
}

// RevokeContactShare revokes one share of the contact.
func (u *UI) RevokeContactShare(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	shareID, err := httpx.PathIDOf(r, "share_id", "share")
	if err != nil {
		return err
	}
	return u.afterShareChange(w, r, id, u.records.RevokeShare(r.Context(), p, "contact", id, shareID), "unshared")
}

// afterShareChange sends the browser back to the contact's card with a
// notice, to the step-up page when the change needs one, or reports err.
func (u *UI) afterShareChange(w http.ResponseWriter, r *http.Request, id int64, err error, notice string) error {
	self := "/contacts/" + strconv.FormatInt(id, 10)
	switch {
	case crm.ErrorCode(err) == crm.ESTEPUPREQUIRED:
		http.Redirect(w, r, "/stepup?"+url.Values{"next": {self + "#sharing"}}.Encode(), http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	http.Redirect(w, r, self+"?notice="+notice+"#sharing", http.StatusSeeOther)
	return nil
}
