package api

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// Roles (ACL-1): every staff member reads them; changes need an
// administrator with a recent step-up, which the identity service checks.

func (a *API) Roles(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := a.identity.FindRoles(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

// roleName is the {name} of a role route; an impossible one is not found.
func roleName(r *http.Request) (crm.Role, error) {
	name := crm.Role(r.PathValue("name"))
	if !name.Valid() && !crm.ValidRoleName(string(name)) {
		return "", crm.NotFound("role")
	}
	return name, nil
}

func (a *API) Role(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	name, err := roleName(r)
	if err != nil {
		return err
	}
	d, err := a.identity.FindRole(r.Context(), p, name)
	if err != nil {
		return err
	}
	writeRole(w, http.StatusOK, d)
	return nil
}

func (a *API) CreateRole(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in crm.RoleInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := a.identity.CreateRole(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/roles/"+string(d.Name))
	writeRole(w, http.StatusCreated, d)
	return nil
}

func (a *API) UpdateRole(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	name, err := roleName(r)
	if err != nil {
		return err
	}
	ver, err := httpx.IfMatch(r)
	if err != nil {
		return err
	}
	var in crm.RoleInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	d, err := a.identity.UpdateRole(r.Context(), p, name, in, ver)
	if err != nil {
		return err
	}
	writeRole(w, http.StatusOK, d)
	return nil
}

func (a *API) DeleteRole(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	name, err := roleName(r)
	if err != nil {
		return err
	}
	if err := a.identity.DeleteRole(r.Context(), p, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func writeRole(w http.ResponseWriter, status int, d *crm.RoleDef) {
	if d.Version > 0 {
		w.Header().Set("ETag", httpx.ETag(d.Version))
	}
	httpx.WriteJSON(w, status, d)
}
