package api

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// API of invitations, password resets and email changes (AUTH-8). Secrets
// of one-time links never appear in an API path: the reset completion
// takes the token in its JSON body, which is never logged.

// invitationInput is the body of POST /api/v1/invitations.
type invitationInput struct {
	Email string   `json:"email"`
	Role  crm.Role `json:"role"`
	Name  string   `json:"name"`
}

// passwordResetInput is the body of POST /api/v1/password-reset.
type passwordResetInput struct {
	Email string `json:"email"`
}

// passwordResetCompleteInput is the body of POST /api/v1/password-reset/complete.
type passwordResetCompleteInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// emailChangeInput is the body of POST /api/v1/account/email.
type emailChangeInput struct {
	Email string `json:"email"`
}

// acceptedBody answers requests whose outcome is a mail.
type acceptedBody struct {
	Status string `json:"status"`
}

func (a *API) Invite(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in invitationInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	inv, err := a.identity.InviteUser(r.Context(), p, in.Email, in.Role, in.Name)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, inv)
	return nil
}

// RequestReset answers 202 whether or not the address has an account
// (ASVS v5.0.0-6.3.8); only a flood from one address gets 429.
func (a *API) RequestReset(w http.ResponseWriter, r *http.Request) error {
	var in passwordResetInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.identity.RequestPasswordReset(r.Context(), in.Email, httpx.ClientIP(r)); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, acceptedBody{Status: "accepted"})
	return nil
}

func (a *API) CompleteReset(w http.ResponseWriter, r *http.Request) error {
	var in passwordResetCompleteInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.identity.ResetPassword(r.Context(), in.Token, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) RequestEmailChange(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in emailChangeInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.identity.RequestEmailChange(r.Context(), p, in.Email); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusAccepted, acceptedBody{Status: "accepted"})
	return nil
}
