package ui

import (
	"net/http"
	"net/url"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The first-start setup page: the printed setup code creates the first
// admin.

// setupPending answers whether setup may run; when it may not, it has
// already redirected or rendered the error.
func (u *UI) setupPending(w http.ResponseWriter, r *http.Request) bool {
	pending, err := u.identity.SetupPending(r.Context())
	if err != nil {
		u.RenderError(w, r, nil, err)
		return false
	} else if !pending {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return false
	}
	return true
}

func (u *UI) SetupForm(w http.ResponseWriter, r *http.Request) {
	if !u.setupPending(w, r) {
		return
	}
	v := u.newView(r, nil, "setup.title")
	u.render(w, r, http.StatusOK, "setup", v)
}

func (u *UI) Setup(w http.ResponseWriter, r *http.Request) {
	if !u.setupPending(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthForm)
	if err := r.ParseForm(); err != nil {
		u.RenderError(w, r, nil, crm.Errorf(crm.EINVALID, "malformed form"))
		return
	}
	f := r.PostForm
	code, name, email := f.Get("code"), f.Get("name"), f.Get("email")
	password, confirm := f.Get("password"), f.Get("password_confirm")

	v := u.newView(r, nil, "setup.title")
	// The code and passwords are secrets: they are never sent back.
	v.Form = url.Values{"name": {name}, "email": {email}}
	if password != confirm {
		v.Errors["password_confirm"] = "does not match the password"
		v.Alert = v.T("form.errors")
		u.render(w, r, http.StatusBadRequest, "setup", v)
		return
	}
	lang := v.Lang
	_, enrol, err := u.identity.CompleteSetup(r.Context(), code, crm.UserInput{Email: &email, Name: &name, Password: &password, Language: &lang})
	if err == nil {
		// The first administrator signs in through their enrolment link
		// and sets up the second factor their role requires.
		http.Redirect(w, r, "/enrol/"+enrol, http.StatusSeeOther)
		return
	}
	status := httpx.StatusOf(crm.ErrorCode(err))
	switch crm.ErrorCode(err) {
	case crm.EINVALID:
		v.setFieldErrors(err)
	case crm.EFORBIDDEN:
		v.Errors["code"] = crm.ErrorMessage(err)
		v.Alert = v.T("setup.bad_code")
	case crm.ERATELIMITED:
		v.Alert = v.T("error.429.body")
	default:
		httpx.LogError(u.log, r, err)
		status = http.StatusInternalServerError
		v.Alert = v.T("error.500.body", httpx.RequestID(r))
	}
	u.render(w, r, status, "setup", v)
}
