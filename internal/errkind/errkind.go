// Package errkind defines the small set of error kinds that every Urbis
// package wraps its errors in. Callers test them with errors.Is; the api
// package maps each kind to an HTTP status and a problem+json body in one
// table. Nothing here knows about HTTP.
package errkind

import (
	"errors"
	"fmt"
)

// Kind is a class of failure. A Kind is itself an error, so
// errors.Is(err, errkind.NotFound) works on any error that wraps one.
type Kind string

// The kinds. Add one only when no existing kind fits and a caller must
// tell it apart.
const (
	Invalid       Kind = "invalid"        // the input is malformed or breaks a rule
	Unprocessable Kind = "unprocessable"  // well-formed input whose content fails a check (a schema, a proof)
	NotFound      Kind = "not_found"      // the thing does not exist (or is not yours)
	Conflict      Kind = "conflict"       // the input clashes with current state
	Unauthorized  Kind = "unauthorized"   // no or bad credentials
	Forbidden     Kind = "forbidden"      // credentials fine, action not allowed
	Unsupported   Kind = "unsupported"    // a method, format or algorithm we do not implement
	NotAcceptable Kind = "not_acceptable" // no representation the client accepts
	BadMediaType  Kind = "bad_media_type" // a body in a format we do not read
	Gone          Kind = "gone"           // existed once, deactivated or removed
	TooLarge      Kind = "too_large"      // a body or a document exceeds a limit
	RateLimited   Kind = "rate_limited"   // too many requests
	Unavailable   Kind = "unavailable"    // a dependency (database, remote host) is down
	Internal      Kind = "internal"       // a bug or an unexpected failure
)

// Error implements error.
func (k Kind) Error() string { return string(k) }

// Error is a failure of some Kind with a message for humans. Field names
// the offending input (a JSON pointer or parameter name) where there is
// one; Code is a machine-readable code from a specification (for example
// the DID Resolution error "INVALID_DID") where one applies.
type Error struct {
	Kind  Kind
	Code  string
	Field string
	Msg   string
	Err   error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Msg
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	if msg == "" {
		return string(e.Kind)
	}
	return msg
}

// Unwrap lets errors.Is and errors.As see both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// New returns an Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Field returns an Error of kind k about the named input field.
func Field(k Kind, field, format string, args ...any) *Error {
	return &Error{Kind: k, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error of kind k that wraps err with a message.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: err}
}

// WithCode returns e with its specification code set.
func (e *Error) WithCode(code string) *Error {
	e.Code = code
	return e
}

// KindOf returns the kind of err, or Internal when it has none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	for _, k := range []Kind{Invalid, Unprocessable, NotFound, Conflict, Unauthorized, Forbidden, Unsupported,
		NotAcceptable, BadMediaType, Gone, TooLarge, RateLimited, Unavailable} {
		if errors.Is(err, k) {
			return k
		}
	}
	return Internal
}
