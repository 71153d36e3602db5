// Package rest holds the thin HTTP handlers: parse the request, call the
// domain layer, write GitLab-shaped JSON. Errors go through one table.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/pkgreg/registry/server/registry"
)

// Status maps a domain error kind to its HTTP status.
func Status(k registry.Kind) int {
	switch k {
	case registry.KindInvalid:
		return http.StatusBadRequest
	case registry.KindNotFound:
		return http.StatusNotFound
	case registry.KindConflict:
		return http.StatusConflict
	case registry.KindForbidden:
		return http.StatusForbidden
	case registry.KindUnauthenticated:
		return http.StatusUnauthorized
	case registry.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case registry.KindUnavailable:
		return http.StatusServiceUnavailable
	case registry.KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case registry.KindBadGateway:
		return http.StatusBadGateway
	case registry.KindGatewayTimeout:
		return http.StatusGatewayTimeout
	case registry.KindLoopDetected:
		return http.StatusLoopDetected
	}
	return http.StatusInternalServerError
}

// gitlabReason is the reason phrase GitLab writes after the code.
var gitlabReason = map[int]string{
	400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method Not Allowed",
	409: "Conflict", 413: "Payload Too Large", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
	504: "Gateway Timeout", 508: "Loop Detected",
}

// Message renders a domain error the way GitLab's API does: messages that
// already start with the status code are used as they are, others get
// "<code> <reason> - " in front.
func Message(status int, err error) string {
	msg := registry.PublicMessage(err)
	code := strconv.Itoa(status)
	if strings.HasPrefix(msg, code) {
		return msg
	}
	if msg == "" {
		return code + " " + gitlabReason[status]
	}
	return code + " " + gitlabReason[status] + " - " + msg
}

// WriteError writes err as {"message": "..."} with its status. Internal
// errors are logged with their cause; the client sees only a generic text.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody is listening
	}
	var pe *registry.ParamError
	if errors.As(err, &pe) {
		// Grape's shape for parameter validation failures.
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": registry.PublicMessage(err)})
		return
	}
	status := Status(registry.KindOf(err))
	ErrorHeaders(w, r, status, err)
	WriteJSON(w, status, map[string]string{"message": Message(status, err)})
}

// ErrorHeaders logs a server-side failure and sets the headers an error
// response needs: the Basic challenge on 401, Retry-After on 503, and the
// loop mark that lets a remote project reading this one report the loop.
func ErrorHeaders(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "err", err, "method", r.Method, "path", r.URL.Path)
	}
	setChallenge(w, status)
	if registry.IsLoop(err) {
		w.Header().Set(registry.LoopHeader, "1")
	}
}

// retryAfter is the Retry-After of a 503 (seconds). Unavailable means a
// dependency failed in a way that passes (a lost database connection that
// retries inside the request could not ride out, a blob store blip); a
// client that waits a moment and repeats the request is expected to succeed.
const retryAfter = "1"

// setChallenge sets the headers a status asks of the client: credentials
// for a 401, when to come back for a 503.
func setChallenge(w http.ResponseWriter, status int) {
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfter)
	}
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
