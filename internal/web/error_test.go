package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// TestOneErrorMapping: an error answers the same status on an API route
// and on a page (issue 10 item 3: the UI used to turn a stale edit's 412
// into 409), and a page names the status in its title.
func TestOneErrorMapping(t *testing.T) {
	srv, _ := testUI(t)
	p := &crm.Principal{Kind: crm.KindSession, UserID: 7, Role: crm.RoleSales, Language: "en"}
	for _, c := range []struct {
		err  error
		want int
	}{
		{crm.Invalid("email", "must be a valid email address"), http.StatusBadRequest},
		{crm.Errorf(crm.EFORBIDDEN, "no"), http.StatusForbidden},
		{crm.NotFound("contact"), http.StatusNotFound},
		{crm.Errorf(crm.ECONFLICT, "already exists"), http.StatusConflict},
		{crm.Errorf(crm.EPRECONDITION, "changed meanwhile"), http.StatusPreconditionFailed},
		{crm.Errorf(crm.ETOOLARGE, "too large"), http.StatusRequestEntityTooLarge},
		{crm.Errorf(crm.ERATELIMITED, "slow down"), http.StatusTooManyRequests},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		r := httptest.NewRequest("GET", "/contacts", nil)
		api, page := httptest.NewRecorder(), httptest.NewRecorder()
		httpx.WriteAPIError(srv.log, api, r, c.err)
		srv.ui.RenderError(page, r, p, c.err)
		if api.Code != c.want || page.Code != c.want {
			t.Errorf("%v: API %d, page %d, want %d for both", c.err, api.Code, page.Code, c.want)
		}
	}
}
