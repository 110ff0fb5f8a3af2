package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// router wraps a ServeMux and remembers each path's methods, so that a
// wrong method on an API path gets a JSON 405 with an Allow header, and the
// OpenAPI test can compare the documented routes with the real ones.
type router struct {
	mux     *http.ServeMux
	methods map[string][]string // path → methods
}

func newRouter() *router {
	return &router{mux: http.NewServeMux(), methods: map[string][]string{}}
}

// Handle registers a "METHOD /path" pattern.
func (rt *router) Handle(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	rt.methods[path] = append(rt.methods[path], method)
	rt.mux.Handle(pattern, h)
}

// HandleFunc registers a "METHOD /path" pattern.
func (rt *router) HandleFunc(pattern string, h http.HandlerFunc) { rt.Handle(pattern, h) }

// routes lists the registered "METHOD /path" patterns, sorted.
func (rt *router) routes() []string {
	var out []string
	for path, ms := range rt.methods {
		for _, m := range ms {
			out = append(out, m+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// finish adds the method-not-allowed fallbacks for API paths.
func (rt *router) finish(s *Server) {
	for path, ms := range rt.methods {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		allow := append([]string{}, ms...)
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		slices.Sort(allow)
		allowHeader := strings.Join(allow, ", ")
		rt.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowHeader)
			httpx.WriteAPIError(s.log, w, r, &crm.Error{Code: "method_not_allowed", Message: "method " + r.Method + " is not allowed here; allowed: " + allowHeader})
		})
	}
}
