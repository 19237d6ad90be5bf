// Package apperr is Ferry's one application error type: a code that says what
// kind of failure it is (and so which HTTP status it becomes), a message that
// is safe to show to a person, and optional per-field messages for forms.
package apperr

import (
	"errors"
	"fmt"
	"sort"
)

// Code classifies an error for callers and for the HTTP layer.
type Code string

const (
	CodeInvalid      Code = "invalid"
	CodeNotFound     Code = "not_found"
	CodeConflict     Code = "conflict"
	CodeForbidden    Code = "forbidden"
	CodeUnauthorized Code = "unauthorized"
	CodeInternal     Code = "internal"
)

// FieldChange describes one field of a record that someone else changed while
// the caller was editing it: what is stored now against what the caller sent.
type FieldChange struct {
	Field  string `json:"field"`
	Label  string `json:"label"`
	Stored string `json:"stored"`
	Yours  string `json:"yours"`
}

// Error is the application error. Message is safe to show; Err (the cause) is
// for logs only.
type Error struct {
	Code    Code
	Message string
	// Fields maps a form field name to the message to show next to it.
	Fields map[string]string
	// Changes lists, for a version conflict, what differs from the stored record.
	Changes []FieldChange
	// CurrentVersion is the stored record's version, for a version conflict.
	CurrentVersion int64
	Err            error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// SortedFields returns the field names that carry messages, in a stable order.
func (e *Error) SortedFields() []string {
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Invalid reports bad input; fields may be nil.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: fields}
}

// NotFound reports a missing record, named for the person ("project", "source").
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// Conflict reports a clash with the stored state.
func Conflict(message string) *Error {
	return &Error{Code: CodeConflict, Message: message}
}

// VersionConflict reports that a record changed since the caller read it.
func VersionConflict(what string, currentVersion int64, changes []FieldChange) *Error {
	return &Error{
		Code:           CodeConflict,
		Message:        "Someone else saved this " + what + " while you were editing it. Your changes are kept below; review what they changed and save again.",
		Changes:        changes,
		CurrentVersion: currentVersion,
	}
}

// Forbidden reports an action the actor's role does not allow.
func Forbidden(message string) *Error {
	return &Error{Code: CodeForbidden, Message: message}
}

// Unauthorized reports a missing or invalid credential.
func Unauthorized(message string) *Error {
	return &Error{Code: CodeUnauthorized, Message: message}
}

// Internal wraps an unexpected failure; the message shown is generic.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "Something went wrong", Err: err}
}

// As returns the *Error in err's chain, or an internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// CodeOf returns the code of err, CodeInternal for foreign errors and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}

// Is reports whether err is an application error with the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Detail is the message followed by every field message, on one line, for
// places without a form to show them next to (the CLI, logs).
func (e *Error) Detail() string {
	s := e.Message
	for _, f := range e.SortedFields() {
		s += " " + f + ": " + e.Fields[f]
	}
	return s
}
