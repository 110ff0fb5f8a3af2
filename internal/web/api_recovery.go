package web

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
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

// apiPublic wraps an API handler that needs no principal (the reset
// requests): it renders returned errors as JSON like api does.
func (s *Server) apiPublic(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeAPIError(w, r, err)
		}
	})
}

func (s *Server) apiInvite(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in invitationInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	inv, err := s.identity.InviteUser(r.Context(), p, in.Email, in.Role, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inv)
	return nil
}

// apiRequestReset answers 202 whether or not the address has an account
// (ASVS v5.0.0-6.3.8); only a flood from one address gets 429.
func (s *Server) apiRequestReset(w http.ResponseWriter, r *http.Request) error {
	var in passwordResetInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.identity.RequestPasswordReset(r.Context(), in.Email, clientIP(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{Status: "accepted"})
	return nil
}

func (s *Server) apiCompleteReset(w http.ResponseWriter, r *http.Request) error {
	var in passwordResetCompleteInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.identity.ResetPassword(r.Context(), in.Token, in.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiRequestEmailChange(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in emailChangeInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := s.identity.RequestEmailChange(r.Context(), p, in.Email); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, acceptedBody{Status: "accepted"})
	return nil
}
