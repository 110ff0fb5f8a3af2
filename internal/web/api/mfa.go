package api

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// The API of second factors, step-up and session administration (AUTH-2,
// AUTH-4, AUTH-5). Factors are managed from a browser session (the cookie),
// never with an API token; a half-authenticated session reaches only the
// routes registered with Half: its MFA status, TOTP enrolment when it
// must enrol, the second-factor check and logout. A call that replaces the
// session (the second factor, a step-up, activating TOTP) sets the new
// session cookie; the old one is dead at once.

// codeRequest carries a TOTP code, a recovery code or, for a step-up
// without a second factor, the password.
type codeRequest struct {
	Code *string `json:"code"`
}

func (r codeRequest) value() (string, error) {
	if r.Code == nil || *r.Code == "" {
		return "", crm.Invalid("code", "required")
	}
	return *r.Code, nil
}

// totpEnrolmentBody is a begun enrolment, the QR code in base64.
type totpEnrolmentBody struct {
	Secret    string    `json:"secret"`
	URL       string    `json:"url"`
	QRPNG     string    `json:"qr_png"`
	ExpiresAt time.Time `json:"expires_at"`
}

// recoveryCodesBody returns recovery codes, shown this once.
type recoveryCodesBody struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// signInBody describes the session that replaced the caller's.
type signInBody struct {
	Session        httpx.SessionBody `json:"session"`
	SteppedUpUntil time.Time         `json:"stepped_up_until"`
}

// revokedBody counts ended sessions.
type revokedBody struct {
	Revoked int `json:"revoked"`
}

// writeSignIn sets the new session cookie and describes the session.
func (a *API) writeSignIn(w http.ResponseWriter, in *crm.SignIn, status int) {
	httpx.SetSessionCookie(w, in.Secret, in.Session)
	httpx.WriteJSON(w, status, signInBody{Session: httpx.SessionBody{Session: in.Session, Current: true}, SteppedUpUntil: in.SteppedUpUntil})
}

func (a *API) MFAStatus(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	st, err := a.identity.MFAStatus(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) BeginTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	e, err := a.identity.BeginTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, totpEnrolmentBody{Secret: e.Secret, URL: e.URL,
		QRPNG: base64.StdEncoding.EncodeToString(e.QRCodePNG), ExpiresAt: e.ExpiresAt})
	return nil
}

func (a *API) ConfirmTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in codeRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	code, err := in.value()
	if err != nil {
		return err
	}
	codes, signIn, err := a.identity.ConfirmTOTP(r.Context(), p, code)
	if err != nil {
		return err
	}
	httpx.SetSessionCookie(w, signIn.Secret, signIn.Session)
	httpx.WriteJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes})
	return nil
}

func (a *API) RemoveTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := a.identity.RemoveTOTP(r.Context(), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) RegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	codes, err := a.identity.RegenerateRecoveryCodes(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes})
	return nil
}

func (a *API) VerifyMFA(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in codeRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	code, err := in.value()
	if err != nil {
		return err
	}
	signIn, err := a.identity.VerifyMFA(r.Context(), p, code)
	if err != nil {
		return err
	}
	a.writeSignIn(w, signIn, http.StatusOK)
	return nil
}

func (a *API) StepUp(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in codeRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	code, err := in.value()
	if err != nil {
		return err
	}
	signIn, err := a.identity.StepUp(r.Context(), p, code)
	if err != nil {
		return err
	}
	a.writeSignIn(w, signIn, http.StatusOK)
	return nil
}

// Logout ends the caller's own session (half sessions too).
func (a *API) Logout(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if p.Kind != crm.KindSession {
		return crm.Errorf(crm.EFORBIDDEN, "an API token is revoked with DELETE /api/v1/tokens/{id}")
	}
	if err := a.identity.Logout(r.Context(), p); err != nil {
		return err
	}
	httpx.ClearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) RevokeOtherSessions(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	n, err := a.identity.RevokeOtherSessions(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, revokedBody{Revoked: n})
	return nil
}

func (a *API) RevokeUserSessions(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	if err := a.identity.RevokeUserSessions(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) UserTokens(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	list, err := a.identity.FindUserTokens(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) UnlockUser(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	if err := a.identity.UnlockUser(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// IssueEnrolmentLink mails a new enrolment link to a user who has no
// second factor (an administrator with a step-up); the link itself is
// never in the response.
func (a *API) IssueEnrolmentLink(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	if _, err := a.identity.IssueEnrolmentLink(r.Context(), p, id); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	return nil
}
