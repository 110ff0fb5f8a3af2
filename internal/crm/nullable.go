package crm

import (
	"bytes"
	"encoding/json"
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
