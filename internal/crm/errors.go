package crm

import (
	"errors"
	"fmt"
)

// Error codes. They are part of the API: clients branch on them.
const (
	ECONFLICT        = "conflict"            // a unique value is taken, or a precondition failed
	EINTERNAL        = "internal"            // a bug or an outage; details go to the log only
	EINVALID         = "invalid"             // the input is malformed or breaks a rule
	ENOTFOUND        = "not_found"           // the record does not exist or the principal may not see it
	EUNAUTHENTICATED = "unauthenticated"     // no valid session or token
	EFORBIDDEN       = "forbidden"           // the principal may not perform this action
	ERATELIMITED     = "rate_limited"        // too many requests; retry later
	EPRECONDITION    = "precondition_failed" // If-Match did not match the record's version
	ETOOLARGE        = "too_large"           // the request body is over its limit
	EINTEGRITY       = "integrity"           // a stored encrypted value does not open: altered, moved, or its client erased
)

// Error is the one error type that crosses package boundaries. Message is safe
// to show to the caller; it never contains secrets or personal data. Fields
// names the offending input fields, each with a short reason.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("custos error: code=%s message=%s", e.Code, e.Message)
	}
	return fmt.Sprintf("custos error: code=%s message=%s fields=%v", e.Code, e.Message, e.Fields)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns the error for a record that does not exist or is not
// visible to the principal; the two cases are deliberately the same.
func NotFound(entity string) *Error {
	return &Error{Code: ENOTFOUND, Message: entity + " not found"}
}

// Invalid is the EINVALID error of one input field and its reason: the
// one shape of a validation failure, as FieldErrors.Err makes for several.
func Invalid(field, reason string) *Error {
	return &Error{Code: EINVALID, Message: "validation failed", Fields: map[string]string{field: reason}}
}

// FieldErrors collects validation failures, keyed by JSON field name.
type FieldErrors map[string]string

// Add records a failure for field unless one is already recorded.
func (f FieldErrors) Add(field, reason string) {
	if _, ok := f[field]; !ok {
		f[field] = reason
	}
}

// Err returns nil when nothing failed, or an EINVALID *Error naming the fields.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "validation failed", Fields: map[string]string(f)}
}

// ErrorCode returns the code of an *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of an *Error in err's chain, or a
// generic text for anything else, so internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field failures of an *Error in err's chain.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
