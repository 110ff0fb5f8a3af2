package crm

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// Nullable is an input field that distinguishes "absent" (Set false: leave
// the stored value alone) from null (Set true, Valid false: clear it) and a
// value (Set and Valid true).
type Nullable[T any] struct {
	Set   bool
	Valid bool
	V     T
}

// Value returns a set, valid Nullable holding v.
func Value[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Valid: true, V: v} }

// Null returns a set Nullable that clears the field.
func Null[T any]() Nullable[T] { return Nullable[T]{Set: true} }

// UnmarshalJSON implements json.Unmarshaler; json calls it for null too.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Valid = false
		var zero T
		n.V = zero
		return nil
	}
	if err := json.Unmarshal(b, &n.V); err != nil {
		return err
	}
	n.Valid = true
	return nil
}

// MarshalJSON implements json.Marshaler.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(n.V)
}

// Ptr returns a pointer to the value, or nil when the Nullable is not valid.
func (n Nullable[T]) Ptr() *T {
	if !n.Valid {
		return nil
	}
	v := n.V
	return &v
}

// given reports whether the field was in the input (null included).
func (n Nullable[T]) given() bool { return n.Set }

// GivenFields returns the JSON names of the fields an input struct (a
// ContactInput, DealInput, …) carries: its non-nil pointers and its set
// Nullables. Field-level security checks them against what the caller may
// edit (ACL-3).
func GivenFields(in any) []string {
	v := reflect.ValueOf(in)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	t := v.Type()
	for i := range t.NumField() {
		f := v.Field(i)
		given := false
		switch {
		case f.Kind() == reflect.Pointer:
			given = !f.IsNil()
		case f.CanInterface():
			if g, ok := f.Interface().(interface{ given() bool }); ok {
				given = g.given()
			}
		}
		if given {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}
