package web

import (
	"encoding/base64"
	"net/http"
	"time"

	"github.com/custos-crm/custos/internal/crm"
)

// The API of second factors, step-up and session administration (AUTH-2,
// AUTH-4, AUTH-5). Factors are managed from a browser session (the cookie),
// never with an API token; a half-authenticated session reaches only the
// routes registered with apiHalf: its MFA status, TOTP enrolment when it
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
	Session        sessionBody `json:"session"`
	SteppedUpUntil time.Time   `json:"stepped_up_until"`
}

// revokedBody counts ended sessions.
type revokedBody struct {
	Revoked int `json:"revoked"`
}

// writeSignIn sets the new session cookie and describes the session.
func (s *Server) writeSignIn(w http.ResponseWriter, in *crm.SignIn, status int) {
	setSessionCookie(w, in.Secret, in.Session)
	writeJSON(w, status, signInBody{Session: sessionBody{Session: in.Session, Current: true}, SteppedUpUntil: in.SteppedUpUntil})
}

func (s *Server) apiMFAStatus(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	st, err := s.identity.MFAStatus(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) apiBeginTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	e, err := s.identity.BeginTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, totpEnrolmentBody{Secret: e.Secret, URL: e.URL,
		QRPNG: base64.StdEncoding.EncodeToString(e.QRCodePNG), ExpiresAt: e.ExpiresAt})
	return nil
}

func (s *Server) apiConfirmTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in codeRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	code, err := in.value()
	if err != nil {
		return err
	}
	codes, signIn, err := s.identity.ConfirmTOTP(r.Context(), p, code)
	if err != nil {
		return err
	}
	setSessionCookie(w, signIn.Secret, signIn.Session)
	writeJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes})
	return nil
}

func (s *Server) apiRemoveTOTP(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := s.identity.RemoveTOTP(r.Context(), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRegenerateRecoveryCodes(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	codes, err := s.identity.RegenerateRecoveryCodes(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryCodesBody{RecoveryCodes: codes})
	return nil
}

func (s *Server) apiVerifyMFA(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in codeRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	code, err := in.value()
	if err != nil {
		return err
	}
	signIn, err := s.identity.VerifyMFA(r.Context(), p, code)
	if err != nil {
		return err
	}
	s.writeSignIn(w, signIn, http.StatusOK)
	return nil
}

func (s *Server) apiStepUp(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in codeRequest
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	code, err := in.value()
	if err != nil {
		return err
	}
	signIn, err := s.identity.StepUp(r.Context(), p, code)
	if err != nil {
		return err
	}
	s.writeSignIn(w, signIn, http.StatusOK)
	return nil
}

// apiLogout ends the caller's own session (half sessions too).
func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if p.Kind != crm.KindSession {
		return crm.Errorf(crm.EFORBIDDEN, "an API token is revoked with DELETE /api/v1/tokens/{id}")
	}
	if err := s.identity.Logout(r.Context(), p); err != nil {
		return err
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRevokeOtherSessions(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	n, err := s.identity.RevokeOtherSessions(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, revokedBody{Revoked: n})
	return nil
}

func (s *Server) apiRevokeUserSessions(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.identity.RevokeUserSessions(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiUserTokens(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	list, err := s.identity.FindUserTokens(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *Server) apiUnlockUser(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.identity.UnlockUser(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// apiIssueEnrolmentLink mails a new enrolment link to a user who has no
// second factor (an administrator with a step-up); the link itself is
// never in the response.
func (s *Server) apiIssueEnrolmentLink(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.identity.IssueEnrolmentLink(r.Context(), p, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
	return nil
}
