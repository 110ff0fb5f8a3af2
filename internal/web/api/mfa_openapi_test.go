package api

import (
	"reflect"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestOpenAPIMFASchemas compares the schemas of the MFA, step-up and
// session routes with the Go types their handlers decode and encode, as
// TestOpenAPISchemasMatchGoTypes does for the rest.
func TestOpenAPIMFASchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, x := range []struct {
		schema string
		typ    any
		output bool
	}{
		{"CodeInput", codeRequest{}, false},
		{"MFAStatus", crm.MFAStatus{}, true},
		{"TOTPEnrolment", totpEnrolmentBody{}, true},
		{"RecoveryCodes", recoveryCodesBody{}, true},
		{"SignIn", signInBody{}, true},
		{"Revoked", revokedBody{}, true},
	} {
		ref := doc.Components.Schemas[x.schema]
		if ref == nil {
			t.Errorf("schema %s is missing", x.schema)
			continue
		}
		compareSchema(t, x.schema, reflect.TypeOf(x.typ), ref.Value, x.output)
	}
	codes := doc.Components.Schemas["ErrorCode"].Value.Enum
	for _, c := range []string{crm.EMFAREQUIRED, crm.ESTEPUPREQUIRED} {
		found := false
		for _, e := range codes {
			found = found || e == c
		}
		if !found {
			t.Errorf("ErrorCode lacks %q", c)
		}
	}
}
