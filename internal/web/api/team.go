package api

import (
	"net/http"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// Teams and their members (ACL-2). Reads are for every staff member;
// changes need an administrator with a recent step-up, which the identity
// service checks.

// Teams lists every team.
func (a *API) Teams(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	teams, err := a.identity.FindTeams(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": teams})
	return nil
}

// Team returns one team.
func (a *API) Team(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "team")
	if err != nil {
		return err
	}
	tm, err := a.identity.FindTeam(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, tm)
	return nil
}

// CreateTeam makes a team.
func (a *API) CreateTeam(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in crm.TeamInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	tm, err := a.identity.CreateTeam(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/teams/"+strconv.FormatInt(tm.ID, 10))
	writeTeam(w, http.StatusCreated, tm)
	return nil
}

// UpdateTeam renames, moves or re-manages a team; If-Match guards against
// a lost update.
func (a *API) UpdateTeam(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "team")
	if err != nil {
		return err
	}
	ver, err := httpx.IfMatch(r)
	if err != nil {
		return err
	}
	var in crm.TeamInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	tm, err := a.identity.UpdateTeam(r.Context(), p, id, in, ver)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, tm)
	return nil
}

// DeleteTeam removes a team without members or sub-teams.
func (a *API) DeleteTeam(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "team")
	if err != nil {
		return err
	}
	if err := a.identity.DeleteTeam(r.Context(), p, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// AddTeamMember puts a user into the team (out of any other).
func (a *API) AddTeamMember(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	return a.member(w, r, p, true)
}

// RemoveTeamMember takes a user out of the team.
func (a *API) RemoveTeamMember(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	return a.member(w, r, p, false)
}

func (a *API) member(w http.ResponseWriter, r *http.Request, p *crm.Principal, add bool) error {
	id, err := httpx.PathID(r, "team")
	if err != nil {
		return err
	}
	userID, err := httpx.PathIDOf(r, "user_id", "user")
	if err != nil {
		return err
	}
	change := a.identity.RemoveTeamMember
	if add {
		change = a.identity.AddTeamMember
	}
	tm, err := change(r.Context(), p, id, userID)
	if err != nil {
		return err
	}
	writeTeam(w, http.StatusOK, tm)
	return nil
}

func writeTeam(w http.ResponseWriter, status int, tm *crm.Team) {
	w.Header().Set("ETag", httpx.ETag(tm.Version))
	httpx.WriteJSON(w, status, tm)
}
