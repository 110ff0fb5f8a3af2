package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The account's security page: second factors, recovery codes, sessions
// and the email change request.

// securityPage is the data of the account's security page.
type securityPage struct {
	Status   *crm.MFAStatus
	Sessions []httpx.SessionBody
	Others   int
}

// securityNotices are the confirmations of the security page.
var securityNotices = map[string]string{"totp_removed": "security.totp_removed", "session_revoked": "security.session_revoked",
	"others_revoked": "security.others_revoked", "stepped_up": "stepup.done", "email_sent": "security.email_sent"}

func (u *UI) Security(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	st, err := u.identity.MFAStatus(r.Context(), p)
	if err != nil {
		return err
	}
	list, err := u.identity.FindSessions(r.Context(), p)
	if err != nil {
		return err
	}
	pg := securityPage{Status: st}
	for _, x := range list {
		pg.Sessions = append(pg.Sessions, httpx.SessionBody{Session: x, Current: x.ID == p.SessionID})
		if x.ID != p.SessionID {
			pg.Others++
		}
	}
	v := u.newView(r, p, "security.title")
	v.Nav = "security"
	if key, ok := securityNotices[r.URL.Query().Get("notice")]; ok {
		v.Notice = v.T(key)
	}
	v.Page = pg
	u.render(w, r, http.StatusOK, "account_security", v)
	return nil
}

func (u *UI) RegenerateCodes(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	codes, err := u.identity.RegenerateRecoveryCodes(r.Context(), p)
	if err != nil {
		return err
	}
	u.renderCodes(w, r, p, httpx.SessionOf(r).CSRFToken, codes, "/account/security", "codes.regenerated")
	return nil
}

func (u *UI) RemoveTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := u.identity.RemoveTOTP(r.Context(), p); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=totp_removed", http.StatusSeeOther)
	return nil
}

func (u *UI) RevokeSession(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := u.identity.RevokeSession(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=session_revoked", http.StatusSeeOther)
	return nil
}

// RequestEmailChange mails a confirmation link to a new address and a
// notice to the old one (AUTH-8); it needs a recent step-up.
func (u *UI) RequestEmailChange(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := u.identity.RequestEmailChange(r.Context(), p, r.PostFormValue("email")); err != nil {
		if crm.ErrorCode(err) != crm.EINVALID {
			return err
		}
		v := u.newView(r, p, "security.title")
		v.Alert = v.T("security.email_invalid")
		st, serr := u.identity.MFAStatus(r.Context(), p)
		if serr != nil {
			return serr
		}
		v.Nav, v.Page = "security", &securityPage{Status: st}
		u.render(w, r, http.StatusBadRequest, "account_security", v)
		return nil
	}
	http.Redirect(w, r, "/account/security?notice=email_sent", http.StatusSeeOther)
	return nil
}

func (u *UI) RevokeOthers(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if _, err := u.identity.RevokeOtherSessions(r.Context(), p); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/security?notice=others_revoked", http.StatusSeeOther)
	return nil
}
