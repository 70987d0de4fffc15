package arm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// ErrorResponse is the body of every ARM error: {"error":{...}}.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code, message and optional target of an ARM error.
type ErrorDetail struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Target  string        `json:"target,omitempty"`
	Details []ErrorDetail `json:"details,omitempty"`
}

// ARM error codes the dialect returns, as Azure spells them.
const (
	CodeMissingAPIVersion      = "MissingApiVersionParameter"
	CodeInvalidAPIVersion      = "InvalidApiVersionParameter"
	CodeInvalidRequestContent  = "InvalidRequestContent"
	CodeInvalidResourceName    = "InvalidResourceName"
	CodeInvalidParameter       = "InvalidParameter"
	CodeInvalidLinkedID        = "LinkedInvalidPropertyId"
	CodeLocationNotAvailable   = "LocationNotAvailableForResourceType"
	CodeInvalidResourceType    = "InvalidResourceType"
	CodeResourceNotFound       = "ResourceNotFound"
	CodeNotFound               = "NotFound"
	CodeAuthorizationFailed    = "AuthorizationFailed"
	CodeLinkedAuthorization    = "LinkedAuthorizationFailed"
	CodeAuthenticationFailed   = "AuthenticationFailed"
	CodeConflict               = "Conflict"
	CodeOperationNotAllowed    = "OperationNotAllowed"
	CodePropertyChangeNotAllow = "PropertyChangeNotAllowed"
	CodeRequestTooLarge        = "RequestEntityTooLarge"
	CodeMethodNotAllowed       = "MethodNotAllowed"
	CodeInternalError          = "InternalServerError"
	CodeCanceled               = "OperationCanceled"
	CodeUnsupported            = "NotSupported"
)

// Error is an error with the HTTP status and ARM error code it is answered
// with. Handlers return it; everything else is mapped by its cairn.Kind.
type Error struct {
	Status  int
	Code    string
	Message string
	Target  string // the field or parameter at fault, if one
	Err     error  // the cause, if any
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message. A %w verb in format
// records the cause.
func Errorf(status int, code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Status: status, Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// invalid returns a 400 InvalidParameter error naming target.
func invalid(target string, err error) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: err.Error(), Target: target, Err: err}
}

// invalidf returns a 400 InvalidParameter error naming target.
func invalidf(target, format string, args ...any) *Error {
	e := Errorf(http.StatusBadRequest, CodeInvalidParameter, format, args...)
	e.Target = target
	return e
}

// invalidID returns the error ARM gives for an id in a body that does not
// parse.
func invalidID(path, value string, err error) *Error {
	return &Error{
		Status: http.StatusBadRequest, Code: CodeInvalidLinkedID, Target: path, Err: err,
		Message: fmt.Sprintf("Property id '%s' at path '%s' is invalid: %v", value, path, err),
	}
}

// AsError maps any error to the *Error it is answered with: an *Error in
// the chain as is, otherwise by its cairn.Kind.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	switch cairn.KindOf(err) {
	case cairn.Invalid:
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: msg, Err: err}
	case cairn.NotExist:
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: msg, Err: err}
	case cairn.Exist:
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: msg, Err: err}
	case cairn.Permission:
		return &Error{Status: http.StatusForbidden, Code: CodeAuthorizationFailed, Message: msg, Err: err}
	case cairn.Conflict:
		return &Error{Status: http.StatusConflict, Code: CodeOperationNotAllowed, Message: msg, Err: err}
	case cairn.Unsupported:
		return &Error{Status: http.StatusBadRequest, Code: CodeUnsupported, Message: msg, Err: err}
	case cairn.Canceled:
		return &Error{Status: http.StatusConflict, Code: CodeCanceled, Message: msg, Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternalError, Message: msg, Err: err}
}

// writeJSON writes v as the JSON body of a response with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes err as an ARM error response.
func WriteError(w http.ResponseWriter, err error) {
	e := AsError(err)
	writeJSON(w, e.Status, ErrorResponse{Error: ErrorDetail{Code: e.Code, Message: e.Message, Target: e.Target}})
}
