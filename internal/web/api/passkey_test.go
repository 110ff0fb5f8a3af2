package api

import (
	"reflect"
	"testing"

	"github.com/custos-crm/custos/internal/crm"
)

// TestOpenAPIPasskeySchemas compares the schemas of the passkey routes
// with the Go types their handlers decode and encode. The credential
// itself is the browser's PublicKeyCredential JSON, which the WebAuthn
// library parses; the schema leaves it open.
func TestOpenAPIPasskeySchemas(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, x := range []struct {
		schema string
		typ    any
		output bool
	}{
		{"Passkey", crm.Passkey{}, true},
		{"PasskeyList", passkeyList{}, true},
		{"PasskeyRenameInput", passkeyRename{}, false},
	} {
		ref := doc.Components.Schemas[x.schema]
		if ref == nil {
			t.Errorf("schema %s is missing", x.schema)
			continue
		}
		compareSchema(t, x.schema, reflect.TypeOf(x.typ), ref.Value, x.output)
	}
	for _, name := range []string{"PasskeyRegistrationInput", "PasskeyAssertionInput"} {
		s := doc.Components.Schemas[name]
		if s == nil || s.Value.Properties["credential"] == nil {
			t.Errorf("schema %s lacks the credential", name)
		}
	}
}
