package api

import (
	"encoding/json"
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The passkey API (AUTH-3). Passkeys are managed from a browser session
// (the cookie), like the other factors; the ceremonies' challenges stay
// on the server. The browser sends the PublicKeyCredential as JSON with
// byte strings in base64url (static/passkey.js). A passwordless login has
// no session yet: its ceremony is bound to a short-lived cookie that only
// this path sees.

// passkeyCookie holds the secret id of a begun passwordless login.
const passkeyCookie = "__Host-custos-passkey"

// passkeyRegistration is the browser's answer to a registration.
type passkeyRegistration struct {
	Name       *string         `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// passkeyAssertion is the browser's answer to a login or verification.
type passkeyAssertion struct {
	Credential json.RawMessage `json:"credential"`
}

// passkeyRename renames a passkey.
type passkeyRename struct {
	Name *string `json:"name"`
}

// passkeyList is the principal's passkeys.
type passkeyList struct {
	Items []*crm.Passkey `json:"items"`
}

func credentialOf(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, crm.Invalid("credential", "required: the PublicKeyCredential as JSON")
	}
	return raw, nil
}

// writeOptions sends the options for navigator.credentials, never cached.
func writeOptions(w http.ResponseWriter, opts []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(opts)
}

func (a *API) Passkeys(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := a.identity.Passkeys(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, passkeyList{Items: list})
	return nil
}

func (a *API) BeginPasskeyRegistration(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	ch, err := a.identity.BeginPasskeyRegistration(r.Context(), p)
	if err != nil {
		return err
	}
	writeOptions(w, ch.Options)
	return nil
}

func (a *API) FinishPasskeyRegistration(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in passkeyRegistration
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return crm.Invalid("name", "required")
	}
	cred, err := credentialOf(in.Credential)
	if err != nil {
		return err
	}
	k, err := a.identity.FinishPasskeyRegistration(r.Context(), p, *in.Name, cred)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, k)
	return nil
}

func (a *API) RenamePasskey(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "passkey")
	if err != nil {
		return err
	}
	var in passkeyRename
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return crm.Invalid("name", "required")
	}
	k, err := a.identity.RenamePasskey(r.Context(), p, id, *in.Name)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, k)
	return nil
}

func (a *API) DeletePasskey(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "passkey")
	if err != nil {
		return err
	}
	if err := a.identity.DeletePasskey(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) BeginPasskeyVerification(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	ch, err := a.identity.BeginPasskeyVerification(r.Context(), p)
	if err != nil {
		return err
	}
	writeOptions(w, ch.Options)
	return nil
}

func (a *API) FinishPasskeyVerification(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in passkeyAssertion
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	cred, err := credentialOf(in.Credential)
	if err != nil {
		return err
	}
	in2, err := a.identity.FinishPasskeyVerification(r.Context(), p, cred)
	if err != nil {
		return err
	}
	a.writeSignIn(w, in2, http.StatusOK)
	return nil
}

func (a *API) BeginPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	ch, err := a.identity.BeginPasskeyLogin(r.Context())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: ch.Ceremony, Path: "/", MaxAge: 300,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeOptions(w, ch.Options)
	return nil
}

func (a *API) FinishPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	var in passkeyAssertion
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	cred, err := credentialOf(in.Credential)
	if err != nil {
		return err
	}
	ceremony := ""
	if c, err := r.Cookie(passkeyCookie); err == nil {
		ceremony = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	signIn, err := a.identity.FinishPasskeyLogin(r.Context(), ceremony, cred, httpx.ClientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	a.writeSignIn(w, signIn, http.StatusOK)
	return nil
}
