package web

import (
	"context"
	"net/http"
	"time"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// healthz says the process is alive. It reveals no version to anonymous
// callers (ASVS v5.0.0-13.4.5 spirit): only a status.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether the server can serve: the database answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "error", err)
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	body := map[string]string{"status": "ready"}
	if s.opts.Status != nil {
		for k, v := range s.opts.Status() {
			if k != "status" {
				body[k] = v
			}
		}
	}
	httpx.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	httpx.WriteAPIError(s.log, w, r, crm.Errorf(crm.ENOTFOUND, "no such API route"))
}
