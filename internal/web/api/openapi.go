package api

import (
	_ "embed"
	"net/http"
)

// Document is the OpenAPI 3.1 description of /api/v1. A test checks it
// against the route table in both directions.
//
//go:embed openapi.json
var Document []byte

// OpenAPI serves the document.
func (a *API) OpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(Document)
}
