package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Error is an error on its way to a client: the HTTP status it maps to,
// its kind, and the message a client may see. For a server-side failure
// (status 500 and up) Message is generic and the cause is only logged.
type Error struct {
	Status  int        // the HTTP status code
	Kind    cairn.Kind // the error's kind
	Message string     // safe to show to the client
	Err     error      // the error itself, for logs; never shown for a 5xx
}

// Error returns the message shown to the client.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// ErrorWriter writes an error response in a dialect's shape. It is given
// the error as the server classified it; it may choose another status
// where its dialect says so, and writes the status and body. It runs
// before any byte of the response has been written.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, e *Error)

// Generic messages for errors whose cause is not shown to clients.
const (
	msgInternal    = "internal server error; the server's log has the cause"
	msgUnavailable = "the server is shutting down or the request was canceled; retry"
)

// Classify maps err to the status and message a client gets, by the
// error's cairn.Kind:
//
//	Invalid, Unsupported     400 Bad Request
//	Permission               401 Unauthorized for an unauthenticated request, else 403 Forbidden
//	NotExist                 404 Not Found
//	Exist, Conflict          409 Conflict
//	Canceled                 503 Service Unavailable
//	Corrupt, IO, Other       500 Internal Server Error, with a generic message
//
// A body over the server's limit (*http.MaxBytesError anywhere in the
// chain) is 413 Request Entity Too Large, and an *Error in the chain is
// returned as it is. authenticated tells whether the request carried a
// valid token.
func Classify(err error, authenticated bool) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Kind: cairn.Invalid, Err: err,
			Message: fmt.Sprintf("request body too large: the limit is %d bytes", mbe.Limit)}
	}
	kind := cairn.KindOf(err)
	e := &Error{Kind: kind, Err: err, Message: err.Error()}
	switch kind {
	case cairn.Invalid, cairn.Unsupported:
		e.Status = http.StatusBadRequest
	case cairn.Permission:
		e.Status = http.StatusForbidden
		if !authenticated {
			e.Status = http.StatusUnauthorized
		}
	case cairn.NotExist:
		e.Status = http.StatusNotFound
	case cairn.Exist, cairn.Conflict:
		e.Status = http.StatusConflict
	case cairn.Canceled:
		e.Status, e.Message = http.StatusServiceUnavailable, msgUnavailable
	default:
		if errors.Is(err, context.Canceled) {
			e.Status, e.Kind, e.Message = http.StatusServiceUnavailable, cairn.Canceled, msgUnavailable
			break
		}
		e.Status, e.Message = http.StatusInternalServerError, msgInternal
	}
	return e
}

// Errorf returns an *Error with the given status and kind and a message
// formatted as by fmt.Errorf (so %w wraps).
func Errorf(status int, kind cairn.Kind, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Status: status, Kind: kind, Message: err.Error(), Err: err}
}
