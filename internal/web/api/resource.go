package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// Resource describes one client-record collection of the API, so that the
// five collections share one implementation of list, get, create, update,
// delete and restore, with the same status codes and ETag handling.
type Resource[T any, In any, F any] struct {
	Name    string   // collection path segment, e.g. "contacts"
	Entity  string   // its records' entity, e.g. "contact" (shares, reveal)
	Filters []string // accepted filter parameters besides httpx.ListParams
	Filter  func(q *httpx.Query, deleted bool) F
	Find    func(ctx context.Context, p *crm.Principal, id int64) (T, error)
	List    func(ctx context.Context, p *crm.Principal, f F, o crm.ListOptions) (*crm.Page[T], error)
	Create  func(ctx context.Context, p *crm.Principal, in In) (T, error)
	Update  func(ctx context.Context, p *crm.Principal, id int64, in In, ifVersion int64) (T, error)
	Remove  func(ctx context.Context, p *crm.Principal, id int64) error
	Restore func(ctx context.Context, p *crm.Principal, id int64) (T, error)
	ID      func(T) int64
	Version func(T) int64
}

// Mux is where Register adds routes: the server's router.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register adds the collection's routes to mux: list, create, get, update,
// delete, restore, and its records' shares and reveal (share.go); the web
// package's routes.go calls it for each collection, with the rest of the
// route table.
func Register[T any, In any, F any](a *API, mux Mux, res Resource[T, In, F]) {
	base := "/api/v1/" + res.Name
	registerShares(a, mux, base, res.Entity)
	registerErase(a, mux, base, res.Entity)
	mux.Handle("GET "+base, a.AuthQuery(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		q, err := httpx.ParseQuery(r, append(res.Filters, httpx.ListParams...)...)
		if err != nil {
			return err
		}
		o := q.List()
		deleted := q.Bool("deleted")
		f := res.Filter(q, deleted)
		if err := q.Err(); err != nil {
			return err
		}
		pg, err := res.List(r.Context(), p, f, o)
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, http.StatusOK, pg)
		return nil
	}))
	mux.Handle("POST "+base, a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		var in In
		if err := httpx.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		v, err := res.Create(r.Context(), p, in)
		if err != nil {
			return err
		}
		w.Header().Set("Location", base+"/"+strconv.FormatInt(res.ID(v), 10))
		w.Header().Set("ETag", httpx.ETag(res.Version(v)))
		httpx.WriteJSON(w, http.StatusCreated, v)
		return nil
	}))
	mux.Handle("GET "+base+"/{id}", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		v, err := res.Find(r.Context(), p, id)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", httpx.ETag(res.Version(v)))
		httpx.WriteJSON(w, http.StatusOK, v)
		return nil
	}))
	mux.Handle("PATCH "+base+"/{id}", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		ver, err := httpx.IfMatch(r)
		if err != nil {
			return err
		}
		var in In
		if err := httpx.DecodeJSON(w, r, &in); err != nil {
			return err
		}
		v, err := res.Update(r.Context(), p, id, in, ver)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", httpx.ETag(res.Version(v)))
		httpx.WriteJSON(w, http.StatusOK, v)
		return nil
	}))
	mux.Handle("DELETE "+base+"/{id}", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		if err := res.Remove(r.Context(), p, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	mux.Handle("POST "+base+"/{id}/restore", a.Auth(func(w http.ResponseWriter, r *http.Request, p *crm.Principal) error {
		id, err := httpx.PathID(r, "record")
		if err != nil {
			return err
		}
		v, err := res.Restore(r.Context(), p, id)
		if err != nil {
			return err
		}
		w.Header().Set("ETag", httpx.ETag(res.Version(v)))
		httpx.WriteJSON(w, http.StatusOK, v)
		return nil
	}))
}
