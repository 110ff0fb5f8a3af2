package api

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/custos-crm/custos/internal/crm"
	"github.com/custos-crm/custos/internal/web/httpx"
)

// parseOpenAPI parses and validates the embedded document once; the tests
// only read the result.
var parseOpenAPI = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(Document)
	if err != nil {
		return nil, fmt.Errorf("openapi.json does not load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
})

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := parseOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// openAPIOperations lists the document's operations as "METHOD /path".
func openAPIOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Info.Title != "Custos API" || doc.Info.Version != "1" {
		t.Errorf("info = %q %q, want Custos API 1", doc.Info.Title, doc.Info.Version)
	}
	for _, name := range []string{"bearerAuth", "sessionCookie"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("security scheme %s is missing", name)
		}
	}
	if c := doc.Components.SecuritySchemes["sessionCookie"]; c != nil && (c.Value.In != "cookie" || c.Value.Name != httpx.SessionCookie) {
		t.Errorf("sessionCookie scheme is %s %q, want cookie %q", c.Value.In, c.Value.Name, httpx.SessionCookie)
	}
	if len(doc.Security) == 0 {
		t.Error("the document has no global security requirement")
	}
}

func TestOpenAPIOperationsAreComplete(t *testing.T) {
	doc := loadOpenAPI(t)
	ids := map[string]string{}
	for name, op := range openAPIOperations(doc) {
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", name)
		} else if other, dup := ids[op.OperationID]; dup {
			t.Errorf("%s and %s share the operationId %s", name, other, op.OperationID)
		} else {
			ids[op.OperationID] = name
		}
		has2xx := false
		for code := range op.Responses.Map() {
			has2xx = has2xx || strings.HasPrefix(code, "2")
		}
		if !has2xx {
			t.Errorf("%s documents no 2xx response", name)
		}
		public := op.Security != nil && len(*op.Security) == 0
		if !public && op.Responses.Value("401") == nil {
			t.Errorf("%s needs authentication but documents no 401 response", name)
		}
		if public && strings.HasPrefix(name, "GET /api/v1/") && name != "GET /api/v1/openapi.json" {
			t.Errorf("%s is documented as public", name)
		}
		if op.RequestBody != nil && op.Responses.Value("400") == nil {
			t.Errorf("%s takes a body but documents no 400 response", name)
		}
		if op.RequestBody != nil && op.Responses.Value("413") == nil {
			t.Errorf("%s takes a body but documents no 413 response", name)
		}
	}
}

// TestOpenAPIInputSchemasAreClosed checks that every request body schema
// refuses unknown fields, as decodeJSON does.
func TestOpenAPIInputSchemasAreClosed(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, op := range openAPIOperations(doc) {
		if op.RequestBody == nil {
			continue
		}
		mt := op.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil {
			t.Errorf("%s has a request body without an application/json schema", name)
			continue
		}
		if mt.Schema.Ref == "" {
			t.Errorf("%s: the request body schema is not a component", name)
		}
	}
	for name, ref := range doc.Components.Schemas {
		if !strings.HasSuffix(name, "Input") && name != "TokenRequest" {
			continue
		}
		ap := ref.Value.AdditionalProperties
		if ap.Has == nil || *ap.Has || ap.Schema != nil {
			t.Errorf("schema %s does not set additionalProperties: false", name)
		}
	}
}

// TestOpenAPISchemasMatchGoTypes compares the component schemas with the
// Go types the handlers decode and encode: the same JSON field names, types
// that agree, and for responses every field that is always present
// (no omitempty) listed as required.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	types := []struct {
		schema string
		typ    any
		output bool
	}{
		{"Contact", crm.Contact{}, true},
		{"ContactInput", crm.ContactInput{}, false},
		{"Company", crm.Company{}, true},
		{"CompanyInput", crm.CompanyInput{}, false},
		{"Deal", crm.Deal{}, true},
		{"DealInput", crm.DealInput{}, false},
		{"Pipeline", crm.Pipeline{}, true},
		{"PipelineInput", crm.PipelineInput{}, false},
		{"Activity", crm.Activity{}, true},
		{"ActivityInput", crm.ActivityInput{}, false},
		{"Task", crm.Task{}, true},
		{"TaskInput", crm.TaskInput{}, false},
		{"Consent", crm.Consent{}, true},
		{"ConsentInput", crm.ConsentInput{}, false},
		{"User", crm.User{}, true},
		{"UserInput", crm.UserInput{}, false},
		{"Session", httpx.SessionBody{}, true},
		{"Token", crm.Token{}, true},
		{"NewToken", crm.NewToken{}, true},
		{"TokenRequest", tokenRequest{}, false},
		{"Me", meBody{}, true},
		{"Error", httpx.ErrorBody{}, true},
		{"ContactPage", crm.Page[*crm.Contact]{}, true},
		{"CompanyPage", crm.Page[*crm.Company]{}, true},
		{"DealPage", crm.Page[*crm.Deal]{}, true},
		{"ActivityPage", crm.Page[*crm.Activity]{}, true},
		{"TaskPage", crm.Page[*crm.Task]{}, true},
		{"RoleDef", crm.RoleDef{}, true},
		{"RoleInput", crm.RoleInput{}, false},
		{"Share", crm.Share{}, true},
		{"ShareInput", crm.ShareInput{}, false},
	}
	for _, x := range types {
		ref := doc.Components.Schemas[x.schema]
		if ref == nil {
			t.Errorf("schema %s is missing", x.schema)
			continue
		}
		compareSchema(t, x.schema, reflect.TypeOf(x.typ), ref.Value, x.output)
	}
}

type jsonField struct {
	name      string
	typ       reflect.Type
	omitempty bool
}

// jsonFields lists the JSON fields of struct type t as encoding/json sees
// them, with untagged embedded structs flattened.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			out = append(out, jsonFields(et)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: f.Type, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty")})
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// isNullable reports whether t is a crm.Nullable[T], whose JSON null clears.
func isNullable(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.PkgPath() == reflect.TypeFor[crm.Nullable[int]]().PkgPath() &&
		strings.HasPrefix(t.Name(), "Nullable[")
}

// jsonTypeOf is the JSON Schema type of a Go type as encoding/json writes it.
func jsonTypeOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return openapi3.TypeString
	case t.Kind() == reflect.String:
		return openapi3.TypeString
	case t.Kind() == reflect.Bool:
		return openapi3.TypeBoolean
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return openapi3.TypeInteger
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return openapi3.TypeNumber
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return openapi3.TypeArray
	default:
		return openapi3.TypeObject
	}
}

// compareSchema checks schema against Go type t, recursing into nested
// objects and array items.
func compareSchema(t *testing.T, where string, typ reflect.Type, schema *openapi3.Schema, output bool) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	nullable := isNullable(typ)
	if nullable {
		typ = typ.Field(2).Type // V
	}
	want := jsonTypeOf(typ)
	if !schema.Type.Includes(want) {
		t.Errorf("%s: schema type %v, want %s (Go %s)", where, schema.Type.Slice(), want, typ)
	}
	if got := schema.Type.Includes(openapi3.TypeNull); got != nullable {
		t.Errorf("%s: schema allows null = %v, want %v", where, got, nullable)
	}
	switch {
	case typ == timeType:
		if schema.Format != "date-time" {
			t.Errorf("%s: a time is format %q, want date-time", where, schema.Format)
		}
	case typ.Kind() == reflect.Slice:
		if schema.Items == nil {
			t.Errorf("%s: array schema has no items", where)
			return
		}
		compareSchema(t, where+"[]", typ.Elem(), schema.Items.Value, output)
	case typ.Kind() == reflect.Struct:
		fields := jsonFields(typ)
		var names []string
		for _, f := range fields {
			names = append(names, f.name)
			prop := schema.Properties[f.name]
			if prop == nil {
				t.Errorf("%s: field %s is not in the schema", where, f.name)
				continue
			}
			compareSchema(t, where+"."+f.name, f.typ, prop.Value, output)
			if output && !f.omitempty && !slices.Contains(schema.Required, f.name) {
				t.Errorf("%s: field %s is always present but not required", where, f.name)
			}
			if output && f.omitempty && slices.Contains(schema.Required, f.name) {
				t.Errorf("%s: field %s is omitted when empty but listed as required", where, f.name)
			}
		}
		for name := range schema.Properties {
			if !slices.Contains(names, name) {
				t.Errorf("%s: schema property %s has no Go field", where, name)
			}
		}
	}
}
