package api

import (
	"reflect"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestOpenAPIRecoverySchemas compares the schemas of the invitation, reset
// and email-change routes with their Go types (see
// TestOpenAPISchemasMatchGoTypes).
func TestOpenAPIRecoverySchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, x := range []struct {
		schema string
		typ    any
		output bool
	}{
		{"Invitation", crm.Invitation{}, true},
		{"InvitationInput", invitationInput{}, false},
		{"PasswordResetInput", passwordResetInput{}, false},
		{"PasswordResetCompleteInput", passwordResetCompleteInput{}, false},
		{"EmailChangeInput", emailChangeInput{}, false},
		{"Accepted", acceptedBody{}, true},
	} {
		ref := doc.Components.Schemas[x.schema]
		if ref == nil {
			t.Errorf("schema %s is missing", x.schema)
			continue
		}
		compareSchema(t, x.schema, reflect.TypeOf(x.typ), ref.Value, x.output)
	}
}
