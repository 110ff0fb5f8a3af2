package api

import (
	"net/http"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// meBody is the principal as the API shows it.
type meBody struct {
	UserID   int64          `json:"user_id"`
	Email    string         `json:"email"`
	Name     string         `json:"name"`
	Role     crm.Role       `json:"role"`
	Language string         `json:"language"`
	Via      string         `json:"via"`
	Scope    crm.TokenScope `json:"scope,omitempty"`
	// TeamID is the caller's team; ManagedTeams the teams whose records
	// the caller sees and edits as their manager (ACL-2).
	TeamID       int64   `json:"team_id,omitempty"`
	ManagedTeams []int64 `json:"managed_teams,omitempty"`
	// Permissions and Fields are what the caller may do (ACL-1, ACL-3):
	// the actions of its role that its token's scope allows, and the
	// fields it does not see in full or edit.
	Permissions []string                             `json:"permissions"`
	Fields      map[string]map[string]crm.FieldLevel `json:"fields,omitempty"`
}

func (a *API) Me(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	body := meBody{UserID: p.UserID, Email: p.Email, Name: p.Name, Role: p.Role,
		Language: p.Language, Via: string(p.Kind), Scope: p.Scope, TeamID: p.TeamID, ManagedTeams: p.Teams,
		Permissions: a.records.Permissions(p)}
	body.Fields = a.records.FieldLevels(p)
	httpx.WriteJSON(w, http.StatusOK, body)
	return nil
}

// Users lists whole user records to administrators and the staff
// directory (ids, names, roles) to everyone else; the service decides
// which a principal may read.
func (a *API) Users(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := a.identity.FindUsers(r.Context(), p)
	if crm.ErrorCode(err) == crm.EFORBIDDEN {
		staff, err := a.identity.FindStaff(r.Context(), p)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": staff})
		return nil
	} else if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) User(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	u, err := a.identity.FindUserByID(r.Context(), p, id)
	if crm.ErrorCode(err) == crm.EFORBIDDEN {
		m, err := a.identity.FindStaffMember(r.Context(), p, id)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, m)
		return nil
	} else if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (a *API) UpdateUser(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	var in crm.UserInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.identity.UpdateUser(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (a *API) Sessions(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := a.identity.FindSessions(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]httpx.SessionBody, 0, len(list))
	for _, x := range list {
		out = append(out, httpx.SessionBody{Session: x, Current: x.ID == p.SessionID})
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) RevokeSession(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	if err := a.identity.RevokeSession(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) Tokens(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := a.identity.FindTokens(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// tokenRequest creates a token for the caller. TTL is a Go duration
// ("24h", "720h"); the default is 30 days.
type tokenRequest struct {
	Name  *string         `json:"name"`
	Scope *crm.TokenScope `json:"scope"`
	TTL   *string         `json:"ttl"`
}

func (a *API) CreateToken(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	// A token cannot mint tokens: that would outlive its own expiry.
	if p.Kind != crm.KindSession {
		return crm.Errorf(crm.EFORBIDDEN, "tokens are created from a signed-in session")
	}
	var in tokenRequest
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	ttl := 30 * 24 * time.Hour
	if in.TTL != nil {
		d, err := time.ParseDuration(*in.TTL)
		if err != nil {
			return crm.Invalid("ttl", `must be a duration such as "24h" or "720h"`)
		}
		ttl = d
	}
	scope := crm.ScopeRead
	if in.Scope != nil {
		scope = *in.Scope
	}
	name := ""
	if in.Name != nil {
		name = *in.Name
	}
	nt, err := a.identity.CreateToken(r.Context(), p, p.UserID, name, scope, ttl)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, nt)
	return nil
}

func (a *API) RevokeToken(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	if err := a.identity.RevokeToken(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
