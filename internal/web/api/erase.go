package api

import (
	"net/http"
	"slices"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// Erasure of a client for good (ENC-5) and the erasure ledger.

// registerErase adds the erase route of a collection whose records are of
// entity, if its records are clients that can be erased.
func registerErase(a *API, mux Mux, base, entity string) {
	if !slices.Contains(crm.ErasableEntities, entity) {
		return
	}
	mux.Handle("POST "+base+"/{id}/erase", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		e, err := a.records.EraseClient(r.Context(), p, entity, id)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, e)
		return nil
	}))
}

// Erasures is GET /api/v1/erasures: the erasure ledger, oldest first,
// paged by the id of the last entry seen (after).
func (a *API) Erasures(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	q, err := httpx.ParseQuery(r, "after", "limit")
	if err != nil {
		return err
	}
	after, limit := q.ID("after"), q.List().Limit
	if err := q.Err(); err != nil {
		return err
	}
	list, err := a.records.FindErasures(r.Context(), p, after, limit)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}
