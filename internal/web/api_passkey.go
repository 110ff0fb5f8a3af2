package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
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

func (s *Server) apiPasskeys(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := s.identity.Passkeys(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, passkeyList{Items: list})
	return nil
}

func (s *Server) apiBeginPasskeyRegistration(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	ch, err := s.identity.BeginPasskeyRegistration(r.Context(), p)
	if err != nil {
		return err
	}
	writeOptions(w, ch.Options)
	return nil
}

func (s *Server) apiFinishPasskeyRegistration(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in passkeyRegistration
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return crm.Invalid("name", "required")
	}
	cred, err := credentialOf(in.Credential)
	if err != nil {
		return err
	}
	k, err := s.identity.FinishPasskeyRegistration(r.Context(), p, *in.Name, cred)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func passkeyID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, crm.NotFound("passkey")
	}
	return id, nil
}

func (s *Server) apiRenamePasskey(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := passkeyID(r)
	if err != nil {
		return err
	}
	var in passkeyRename
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return crm.Invalid("name", "required")
	}
	k, err := s.identity.RenamePasskey(r.Context(), p, id, *in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, k)
	return nil
}

func (s *Server) apiDeletePasskey(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := passkeyID(r)
	if err != nil {
		return err
	}
	if err := s.identity.DeletePasskey(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiBeginPasskeyVerification(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	ch, err := s.identity.BeginPasskeyVerification(r.Context(), p)
	if err != nil {
		return err
	}
	writeOptions(w, ch.Options)
	return nil
}

func (s *Server) apiFinishPasskeyVerification(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in passkeyAssertion
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	cred, err := credentialOf(in.Credential)
	if err != nil {
		return err
	}
	in2, err := s.identity.FinishPasskeyVerification(r.Context(), p, cred)
	if err != nil {
		return err
	}
	s.writeSignIn(w, in2, http.StatusOK)
	return nil
}

func (s *Server) apiBeginPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.identity.BeginPasskeyLogin(r.Context())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: passkeyCookie, Value: ch.Ceremony, Path: "/", MaxAge: 300,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeOptions(w, ch.Options)
	return nil
}

func (s *Server) apiFinishPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	var in passkeyAssertion
	if err := decodeJSON(w, r, &in); err != nil {
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
	signIn, err := s.identity.FinishPasskeyLogin(r.Context(), ceremony, cred, clientIP(r), r.UserAgent())
	if err != nil {
		return err
	}
	s.writeSignIn(w, signIn, http.StatusOK)
	return nil
}
