package api

import (
	"net/http"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// Shares of a record (ACL-2) and the reveal of one masked value (ACL-3),
// mounted for every collection by Register.

// registerShares adds the share and reveal routes of a collection whose
// records are of entity ("contact").
func registerShares(a *API, mux Mux, base, entity string) {
	mux.Handle("GET "+base+"/{id}/shares", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		list, err := a.records.FindShares(r.Context(), p, entity, id)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
		return nil
	}))
	mux.Handle("POST "+base+"/{id}/shares", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		var in crm.ShareInput
		if err := httpx.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		sh, created, err := a.records.ShareRecord(r.Context(), p, entity, id, in)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		w.Header().Set("Location", base+"/"+strconv.FormatInt(id, 10)+"/shares/"+strconv.FormatInt(sh.ID, 10))
		httpx.WriteJSON(w, status, sh)
		return nil
	}))
	mux.Handle("DELETE "+base+"/{id}/shares/{share_id}", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		shareID, err := httpx.PathIDOf(r, "share_id", "share")
		if err != nil {
			return err
		}
		if err := a.records.RevokeShare(r.Context(), p, entity, id, shareID); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("POST "+base+"/{id}/reveal", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		var in struct {
			Field *string `json:"field"`
		}
		if err := httpx.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		if in.Field == nil {
			return crm.Invalid("field", "required")
		}
		value, err := a.records.RevealField(r.Context(), p, entity, id, *in.Field)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"field": *in.Field, "value": value})
		return nil
	}))
}
