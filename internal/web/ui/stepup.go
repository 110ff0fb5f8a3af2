package ui

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The step-up page: a fresh second factor before a sensitive change
// (AUTH-4).

func (u *UI) stepUpPage(r *http.Request, p *crm.Principal, next string) (*view, error) {
	st, err := u.identity.MFAStatus(r.Context(), p)
	if err != nil {
		return nil, err
	}
	v := u.newView(r, p, "stepup.title")
	v.Page = mfaPage{Next: next, TOTP: st.TOTP, Password: st.PasswordStepUp, StepUp: true}
	return v, nil
}

func (u *UI) StepUpForm(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	v, err := u.stepUpPage(r, p, nextParam(r))
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "stepup", v)
	return nil
}

func (u *UI) StepUp(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	in, err := u.identity.StepUp(r.Context(), p, r.PostForm.Get("code"))
	if err != nil {
		v, verr := u.stepUpPage(r, p, next)
		if verr != nil {
			return verr
		}
		return u.codeFailed(w, r, p, err, "stepup", "stepup.title", v.Page)
	}
	httpx.SetSessionCookie(w, in.Secret, in.Session)
	if next == "" {
		next = "/account/security?notice=stepped_up"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
