package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/crm"
)

// Request body limits (SHD-4, ASVS v5.0.0-15.2.2).
const (
	maxJSONBody  = 256 << 10
	maxJSONDepth = 32
)

// DecodeJSON reads a JSON object into dst strictly: a size limit, valid
// UTF-8, a depth limit, no duplicate keys (ASVS v5.0.0-1.5.3), no unknown
// fields (mass assignment, v5.0.0-15.3.3), no trailing data. Type errors
// name the field.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &crm.Error{Code: crm.EINVALID, Message: "Content-Type must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return crm.Errorf(crm.ETOOLARGE, "request body is larger than %d bytes", maxJSONBody)
	} else if err != nil {
		return crm.Errorf(crm.EINVALID, "could not read the request body")
	}
	if !utf8.Valid(body) {
		return &crm.Error{Code: crm.EINVALID, Message: "request body is not valid UTF-8", Fields: map[string]string{"body": "invalid UTF-8"}}
	}
	if err := checkStructure(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return crm.Errorf(crm.EINVALID, "malformed JSON: data after the object")
	}
	// encoding/json matched the keys under Unicode case folding: "TITLE"
	// and "laſt_name" were written to title and last_name. A proxy or a
	// filter in front that reads keys exactly would see another request
	// (ASVS v5.0.0-1.5.3, attack 26): only exact names are accepted.
	var tree any
	if err := json.Unmarshal(body, &tree); err != nil {
		return crm.Errorf(crm.EINVALID, "malformed JSON")
	}
	return exactKeys(tree, reflect.TypeOf(dst))
}

// exactKeys checks that every key of every object in v names a field of
// the matching struct of t by its exact JSON name. It stops at types that
// decode themselves (json.Unmarshaler: times, crm.Nullable of a scalar).
func exactKeys(v any, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // a type error, reported by the decoder
		}
		fields := jsonNames(t)
		for k, x := range obj {
			ft, ok := fields[k]
			if !ok {
				return crm.Invalid(k, "unknown field")
			}
			if err := exactKeys(x, ft); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if list, ok := v.([]any); ok {
			for _, x := range list {
				if err := exactKeys(x, t.Elem()); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]any); ok {
			for _, x := range obj {
				if err := exactKeys(x, t.Elem()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	jsonNamesCache  sync.Map // reflect.Type → map[string]reflect.Type
)

// jsonNames returns the JSON names of struct type t's fields, with their
// types, as encoding/json names them (the tag's name, or the Go name).
func jsonNames(t reflect.Type) map[string]reflect.Type {
	if m, ok := jsonNamesCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" {
			// An untagged embedded struct's fields are the outer one's.
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonNames(et) {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = f.Type
	}
	jsonNamesCache.Store(t, m)
	return m
}

// jsonError turns a decoding error into a field error.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return crm.Errorf(crm.EINVALID, "request body must be a JSON object")
		}
		return crm.Invalid(field, "must be of type "+jsonType(te.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return crm.Errorf(crm.EINVALID, "malformed JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this case.
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return crm.Invalid(name, "unknown field")
	default:
		// Errors from custom unmarshalers (time.Time, Nullable).
		return crm.Errorf(crm.EINVALID, "malformed JSON value")
	}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	default:
		return "number"
	}
}

// checkStructure walks the tokens once to enforce the depth limit and to
// refuse duplicate keys, which other parsers would read differently.
func checkStructure(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		obj     bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			return crm.Errorf(crm.EINVALID, "malformed JSON")
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if k, ok := tok.(string); ok {
				// encoding/json matches field names under Unicode case
				// folding, so "owner_id", "OWNER_ID" and spellings with ſ
				// (U+017F) or the Kelvin sign (U+212A) are the same key to
				// it: compare by the same folding.
				folded := foldKey(k)
				if top.keys[folded] {
					return crm.Invalid(k, "duplicate key")
				}
				top.keys[folded] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxJSONDepth {
				return crm.Errorf(crm.EINVALID, "JSON is nested too deeply")
			}
			stack = append(stack, &frame{obj: tok == json.Delim('{'), keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].wantKey = true
		}
	}
	return nil
}

// WriteJSON writes v with status. API responses are never cached.
// Contacts and pages of contacts, the busiest responses, are encoded by hand
// into a pooled buffer (PRF-1, contactjson.go); the bytes are the same as
// encoding/json's, which encodes everything else.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if fastJSON && writeFastJSON(w, status, v) {
		return
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// foldKey maps a key onto one representative of its Unicode simple case
// folding class (the smallest rune of each orbit), so that two keys get
// the same result exactly when strings.EqualFold, the matching
// encoding/json applies to field names, holds for them: "laſt_name" and
// "last_name", "\u212Aey" and "key".
func foldKey(k string) string {
	ascii := true
	for i := 0; i < len(k) && ascii; i++ {
		ascii = k[i] < utf8.RuneSelf
	}
	if ascii {
		// The smallest member of an ASCII letter's orbit is its upper case
		// (K < k < U+212A, S < s < U+017F); other ASCII runes fold to
		// themselves. Keys are ASCII almost always: this is the fast path.
		return strings.ToUpper(k)
	}
	var b strings.Builder
	b.Grow(len(k))
	for _, r := range k {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}
