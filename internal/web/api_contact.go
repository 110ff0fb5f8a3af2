package web

import (
	"net/http"

	"github.com/custos-crm/custos/internal/crm"
)

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	q, err := parseQuery(r, "limit", "cursor")
	if err != nil {
		return err
	}
	o := q.list()
	if err := q.err(); err != nil {
		return err
	}
	pg, err := s.records.FindTimeline(r.Context(), p, id, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pg)
	return nil
}

func (s *Server) apiConsents(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	list, err := s.records.FindConsents(r.Context(), p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *Server) apiRecordConsent(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in crm.ConsentInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	c, err := s.records.RecordConsent(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) apiPipelines(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	list, err := s.records.FindPipelines(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": list})
	return nil
}

func (s *Server) apiCreatePipeline(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
	var in crm.PipelineInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	pl, err := s.records.CreatePipeline(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, pl)
	return nil
}
