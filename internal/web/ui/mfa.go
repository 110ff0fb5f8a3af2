package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The second-factor pages (AUTH-2, AUTH-4, AUTH-5): the challenge after
// the password (/mfa), TOTP enrolment (/mfa/enrol, its QR image and the
// recovery codes shown once), and what they share with the account's
// security page (security.go) and the step-up page (stepup.go).
//
// A half-authenticated session (the password is checked, the second factor
// is not) reaches only the pages registered with HalfPage: every other
// page redirects it to /mfa or /mfa/enrol, before any handler runs. These
// pages show the sign-in layout (no navigation) to a half session. Pages
// that show a secret (the enrolment key, its QR code, recovery codes) are
// never cached, like every page.

// mfaPath is the page a half session is held on.
func mfaPath(p *crm.Principal) string {
	if p.Pending == crm.MFAEnrol || p.Pending == crm.MFAEnrolLink {
		return "/mfa/enrol"
	}
	return "/mfa"
}

// redirectToMFA sends a half session to its page, remembering where it
// wanted to go (GET only).
func redirectToMFA(w http.ResponseWriter, r *http.Request, p *crm.Principal) {
	target := mfaPath(p)
	next := ""
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		next = r.URL.RequestURI()
		if strings.HasPrefix(r.URL.Path, "/mfa") {
			next = nextParam(r) // between the MFA pages, keep the original target
		}
	}
	if localPath(next) {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// redirectToStepUp sends the user to re-authenticate and come back: to
// the page itself after a GET, to the form's "return" page after a POST
// (a POST cannot be replayed; the user submits it again).
func redirectToStepUp(w http.ResponseWriter, r *http.Request) {
	back := "/account/security"
	if r.Method == http.MethodGet {
		back = r.URL.RequestURI()
	} else if ret := r.PostFormValue("return"); localPath(ret) {
		back = ret
	}
	http.Redirect(w, r, "/stepup?next="+url.QueryEscape(back), http.StatusSeeOther)
}

// nextParam is the local "next" of a query or form, or "".
func nextParam(r *http.Request) string {
	next := r.FormValue("next")
	if !localPath(next) {
		return ""
	}
	return next
}

// authView prepares a page of the sign-in steps: half sessions get the
// sign-in layout without navigation.
func (u *UI) authView(r *http.Request, p *crm.Principal, titleKey string) *view {
	v := u.newView(r, p, titleKey)
	if p.Pending != crm.MFANone {
		v.User = nil
	}
	return v
}

// mfaPage is the data of the challenge and step-up pages.
type mfaPage struct {
	Next     string
	TOTP     bool // the user has TOTP: ask for a code
	Password bool // step-up only: the password alone confirms (no second factor held or required)
	StepUp   bool
}

func (u *UI) MFAForm(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	switch p.Pending {
	case crm.MFANone:
		http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
		return nil
	case crm.MFAEnrol, crm.MFAEnrolLink:
		redirectToMFA(w, r, p)
		return nil
	}
	v := u.authView(r, p, "mfa.title")
	v.Page = mfaPage{Next: next, TOTP: true}
	u.render(w, r, http.StatusOK, "mfa", v)
	return nil
}

func (u *UI) MFA(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	if p.Pending != crm.MFAVerify {
		http.Redirect(w, r, "/mfa", http.StatusSeeOther)
		return nil
	}
	in, err := u.identity.VerifyMFA(r.Context(), p, r.PostForm.Get("code"))
	if err != nil {
		return u.codeFailed(w, r, p, err, "mfa", "mfa.title", mfaPage{Next: next, TOTP: true})
	}
	httpx.SetSessionCookie(w, in.Secret, in.Session)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
	return nil
}

// codeFailed shows a code form again with the reason: a wrong code (the
// same words whether it was wrong, used, replayed or the account is
// locked), or the wait of a back-off. Other errors go to the renderer.
func (u *UI) codeFailed(w http.ResponseWriter, r *http.Request, p *crm.Principal, err error, page, titleKey string, data any) error {
	v := u.authView(r, p, titleKey)
	v.Page = data
	status := httpx.StatusOf(crm.ErrorCode(err))
	switch crm.ErrorCode(err) {
	case crm.EINVALID:
		v.Alert = v.T("mfa.failed")
		status = http.StatusUnauthorized
	case crm.ERATELIMITED:
		v.Alert = v.T("login.rate_limited")
	case crm.ECONFLICT:
		v.Alert = v.T("mfa.enrol.expired")
	default:
		return err
	}
	u.render(w, r, status, page, v)
	return nil
}

// enrolPage is the data of the enrolment page.
type enrolPage struct {
	Next    string
	Pending bool   // an enrolment is begun: show the key and ask for a code
	Key     string // the secret in groups of four
	URL     string // the otpauth:// URL, for a link on mobile devices
}

func (u *UI) enrolView(r *http.Request, p *crm.Principal, next string) (*view, error) {
	v := u.authView(r, p, "enrol.title")
	v.Nav = "security"
	pg := enrolPage{Next: next}
	e, err := u.identity.PendingTOTP(r.Context(), p)
	switch {
	case err == nil:
		pg.Pending, pg.URL = true, e.URL
		for i, c := range e.Secret {
			if i > 0 && i%4 == 0 {
				pg.Key += " "
			}
			pg.Key += string(c)
		}
	case crm.ErrorCode(err) != crm.ENOTFOUND:
		return nil, err
	}
	v.Page = pg
	return v, nil
}

func (u *UI) EnrolForm(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if p.Pending == crm.MFAVerify {
		redirectToMFA(w, r, p)
		return nil
	}
	if p.Pending == crm.MFAEnrolLink {
		// The password alone does not enrol a factor for this account.
		u.render(w, r, http.StatusForbidden, "enrol_link_needed", u.authView(r, p, "enrol_link.needed_heading"))
		return nil
	}
	v, err := u.enrolView(r, p, nextParam(r))
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "mfa_enrol", v)
	return nil
}

func (u *UI) Enrol(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	next := nextParam(r)
	if p.Pending == crm.MFAVerify || p.Pending == crm.MFAEnrolLink {
		redirectToMFA(w, r, p)
		return nil
	}
	if r.PostForm.Get("action") == "begin" {
		if _, err := u.identity.BeginTOTP(r.Context(), p); err != nil {
			return err
		}
		target := "/mfa/enrol"
		if next != "" {
			target += "?next=" + url.QueryEscape(next)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	codes, in, err := u.identity.ConfirmTOTP(r.Context(), p, r.PostForm.Get("code"))
	if err != nil {
		if c := crm.ErrorCode(err); c != crm.EINVALID && c != crm.ECONFLICT {
			return err
		}
		v, verr := u.enrolView(r, p, next)
		if verr != nil {
			return verr
		}
		v.Alert = v.T("mfa.failed")
		if crm.ErrorCode(err) == crm.ECONFLICT {
			v.Alert = v.T("mfa.enrol.expired")
		}
		u.render(w, r, http.StatusBadRequest, "mfa_enrol", v)
		return nil
	}
	httpx.SetSessionCookie(w, in.Secret, in.Session)
	if next == "" {
		next = "/account/security"
	}
	u.renderCodes(w, r, p, in.Session.CSRFToken, codes, next, "enrol.done")
	return nil
}

// codesPage is the data of the recovery-codes page.
type codesPage struct {
	Codes []string
	Next  string
}

// renderCodes shows recovery codes, this once, with the CSRF token of the
// session the browser now holds. The page is the response
// to the POST that made them, so a reload cannot show them again.
func (u *UI) renderCodes(w http.ResponseWriter, r *http.Request, p *crm.Principal, csrf string, codes []string, next, notice string) {
	v := u.newView(r, p, "codes.title")
	v.Nav = "security"
	v.CSRF = csrf // the session may have just been replaced
	v.Notice = v.T(notice)
	v.Page = codesPage{Codes: codes, Next: safeNext(next)}
	u.render(w, r, http.StatusOK, "recovery_codes", v)
}

// EnrolQR serves the pending enrolment's QR code. It is an image of this
// origin, so the CSP (img-src 'self') needs no exception; it holds the
// secret, so it is never cached.
func (u *UI) EnrolQR(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	e, err := u.identity.PendingTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(e.QRCodePNG)
	return nil
}
