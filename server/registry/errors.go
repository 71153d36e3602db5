package registry

import (
	"errors"
	"fmt"

	"github.com/pkgreg/registry/server/database"
)

// Kind classifies a domain error; the REST and GraphQL layers map kinds to
// status codes and error codes in one table each.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindNotFound
	KindConflict
	KindForbidden
	KindUnauthenticated
	KindTooLarge
	KindUnavailable
	KindMethodNotAllowed
	KindBadGateway
	KindGatewayTimeout
	// KindLoopDetected is a request that came back to a remote project it
	// already passed through (508).
	KindLoopDetected
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "INVALID"
	case KindNotFound:
		return "NOT_FOUND"
	case KindConflict:
		return "CONFLICT"
	case KindForbidden:
		return "FORBIDDEN"
	case KindUnauthenticated:
		return "UNAUTHENTICATED"
	case KindTooLarge:
		return "TOO_LARGE"
	case KindUnavailable:
		return "UNAVAILABLE"
	case KindMethodNotAllowed:
		return "METHOD_NOT_ALLOWED"
	case KindBadGateway:
		return "BAD_GATEWAY"
	case KindGatewayTimeout:
		return "GATEWAY_TIMEOUT"
	case KindLoopDetected:
		return "LOOP_DETECTED"
	}
	return "INTERNAL"
}

// Error is a domain error: Message is safe to show to the caller, Cause is
// for logs only (it may hold SQL or storage details).
type Error struct {
	Kind    Kind
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

func newErr(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports bad input the caller can fix.
func Invalid(format string, args ...any) *Error { return newErr(KindInvalid, format, args...) }

// NotFound reports a missing object, or one the caller may not know exists.
func NotFound(format string, args ...any) *Error { return newErr(KindNotFound, format, args...) }

// Conflict reports a clash with existing state.
func Conflict(format string, args ...any) *Error { return newErr(KindConflict, format, args...) }

// Forbidden reports an authenticated caller that lacks permission.
func Forbidden(format string, args ...any) *Error { return newErr(KindForbidden, format, args...) }

// Unauthenticated reports missing or bad credentials.
func Unauthenticated(format string, args ...any) *Error {
	return newErr(KindUnauthenticated, format, args...)
}

// TooLarge reports a body or value over a limit.
func TooLarge(format string, args ...any) *Error { return newErr(KindTooLarge, format, args...) }

// MethodNotAllowed reports an operation the repository mode does not allow.
func MethodNotAllowed(format string, args ...any) *Error {
	return newErr(KindMethodNotAllowed, format, args...)
}

// Internal wraps an unexpected failure; the caller sees only msg. A
// database failure that is not the request's fault and may pass (a lost
// connection, a serialization failure) is Unavailable instead: the client
// gets 503 and Retry-After, not 500.
func Internal(cause error, msg string) *Error {
	if database.Transient(cause) {
		return Unavailable(cause, msg)
	}
	return &Error{Kind: KindInternal, Message: msg, Cause: cause}
}

// Unavailable wraps a dependency that is down.
func Unavailable(cause error, msg string) *Error {
	return &Error{Kind: KindUnavailable, Message: msg, Cause: cause}
}

// KindOf returns the kind of err (KindInternal for foreign errors, but
// KindUnavailable for transient database failures, as in Internal).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if database.Transient(err) {
		return KindUnavailable
	}
	return KindInternal
}

// PublicMessage is what a client may see for err.
func PublicMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if database.Transient(err) {
		return "the database is unavailable; try again"
	}
	return "internal server error"
}

// errNotVisible is the one message for "missing, or you may not know it
// exists": GitLab's wording, so existence never leaks.
const errNotVisible = "The resource that you are attempting to access does not exist or you don't have permission to perform this action"

// ParamError is a request parameter that failed validation; REST renders it
// as Grape does: 400 {"error": "<param> is invalid"}.
type ParamError struct{ Param, Reason string }

func (e *ParamError) Error() string {
	if e.Reason != "" {
		return e.Param + " is invalid: " + e.Reason
	}
	return e.Param + " is invalid"
}

func InvalidParam(param, reason string) error {
	return &Error{Kind: KindInvalid, Message: (&ParamError{param, reason}).Error(), Cause: &ParamError{param, reason}}
}
