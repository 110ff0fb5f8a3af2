package api

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

func (a *API) Timeline(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	q, err := httpx.ParseQuery(r, "limit", "cursor")
	if err != nil {
		return err
	}
	o := q.List()
	if err := q.Err(); err != nil {
		return err
	}
	pg, err := a.records.FindTimeline(r.Context(), p, id, o)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}

func (a *API) Consents(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	list, err := a.records.FindConsents(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) RecordConsent(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := httpx.PathID(r, "record")
	if err != nil {
		return err
	}
	var in crm.ConsentInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := a.records.RecordConsent(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (a *API) Pipelines(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := a.records.FindPipelines(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (a *API) CreatePipeline(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in crm.PipelineInput
	if err := httpx.DecodeJSON(w, r, &in); err != nil {
		return err
	}
	pl, err := a.records.CreatePipeline(r.Context(), p, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, pl)
	return nil
}

// DuplicateContacts lists groups of the contacts the caller may read that
// share an email or a phone (?match=email, the default, or phone).
func (a *API) DuplicateContacts(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	q, err := httpx.ParseQuery(r, "match", "limit", "cursor")
	if err != nil {
		return err
	}
	o := q.List()
	if err := q.Err(); err != nil {
		return err
	}
	match := q.Str("match")
	if match == "" {
		match = "email"
	}
	pg, err := a.records.FindDuplicateContacts(r.Context(), p, match, o)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, pg)
	return nil
}
