package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
)

// resource describes one client-record collection of the API, so that the
// five collections share one implementation of list, get, create, update,
// delete and restore, with the same status codes and ETag handling.
type resource[T any, In any, F any] struct {
	name    string   // collection path segment, e.g. "contacts"
	filters []string // accepted filter parameters besides listParams
	filter  func(q *query, deleted bool) F
	find    func(ctx context.Context, p *crm.Principal, id int64) (T, error)
	list    func(ctx context.Context, p *crm.Principal, f F, o crm.ListOptions) (*crm.Page[T], error)
	create  func(ctx context.Context, p *crm.Principal, in In) (T, error)
	update  func(ctx context.Context, p *crm.Principal, id int64, in In, ifVersion int64) (T, error)
	remove  func(ctx context.Context, p *crm.Principal, id int64) error
	restore func(ctx context.Context, p *crm.Principal, id int64) (T, error)
	id      func(T) int64
	version func(T) int64
}

// register adds the collection's routes to mux.
func register[T any, In any, F any](s *Server, mux *router, res resource[T, In, F]) {
	base := "/api/v1/" + res.name
	mux.Handle("GET "+base, s.apiQuery(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		q, err := parseQuery(r, append(res.filters, listParams...)...)
		if err != nil {
			return err
		}
		o := q.list()
		deleted := q.boolean("deleted")
		f := res.filter(q, deleted)
		if err := q.err(); err != nil {
			return err
		}
		pg, err := res.list(r.Context(), p, f, o)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, pg)
		return nil
	}))
	mux.Handle("POST "+base, s.api(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		var in In
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		v, err := res.create(r.Context(), p, in)
		if err != nil {
			return err
		}
		w.Header().Set("Location", base+"/"+strconv.FormatInt(res.id(v), 10))
		w.Header().Set("ETag", etag(res.version(v)))
		writeJSON(w, http.StatusCreated, v)
		return nil
	}))
	mux.Handle("GET "+base+"/{id}", s.api(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		v, err := res.find(r.Context(), p, id)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(res.version(v)))
		writeJSON(w, http.StatusOK, v)
		return nil
	}))
	mux.Handle("PATCH "+base+"/{id}", s.api(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		ver, err := ifMatch(r)
		if err != nil {
			return err
		}
		var in In
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		v, err := res.update(r.Context(), p, id, in, ver)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(res.version(v)))
		writeJSON(w, http.StatusOK, v)
		return nil
	}))
	mux.Handle("DELETE "+base+"/{id}", s.api(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := res.remove(r.Context(), p, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("POST "+base+"/{id}/restore", s.api(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		v, err := res.restore(r.Context(), p, id)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(res.version(v)))
		writeJSON(w, http.StatusOK, v)
		return nil
	}))
}
