package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestDecodeExactKeys (ASVS v5.0.0-1.5.3, attack 26): a key that matches a
// field only under case folding ("TITLE", "laſt_name" with U+017F, a
// Kelvin sign) is an unknown field, at every depth; exact keys decode.
func TestDecodeExactKeys(t *testing.T) {
	decode := func(body string) (crm.ContactInput, error) {
		var in crm.ContactInput
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		err := DecodeJSON(httptest.NewRecorder(), r, &in)
		return in, err
	}
	for body, field := range map[string]string{
		`{"TITLE":"CEO"}`:                         "TITLE",
		`{"Title":"CEO"}`:                         "Title",
		`{"la\u017ft_name":"X"}`:                  "la\u017ft_name",
		`{"OWNER_ID":7}`:                          "OWNER_ID",
		`{"preferences":{"Channel":"email"}}`:     "Channel",
		`{"preferences":{"do_not_contacT":true}}`: "do_not_contacT",
	} {
		if _, err := decode(body); crm.ErrorCode(err) != crm.EINVALID || crm.ErrorFields(err)[field] != "unknown field" {
			t.Errorf("%s: %v, want %q an unknown field", body, err, field)
		}
	}
	in, err := decode(`{"title":"CEO","company_id":null,"preferences":{"channel":"email"},"tags":["a"]}`)
	if err != nil || *in.Title != "CEO" || !in.CompanyID.Set || *in.Preferences.Channel != "email" {
		t.Errorf("exact keys: %+v %v", in, err)
	}
}
