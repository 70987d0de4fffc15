package nativeapi

import (
	"net/http"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Error codes of ErrorDetail.Code. They are stable: programs branch on
// them.
const (
	CodeInvalid         = "InvalidInput"     // 400: a field breaks a rule, or malformed JSON
	CodeUnsupported     = "Unsupported"      // 400: something this server does not do
	CodeUnauthorized    = "Unauthorized"     // 401: no token, or an unknown or expired one
	CodeForbidden       = "PermissionDenied" // 403: the token may not do this
	CodeNotFound        = "NotFound"         // 404: no such record in the token's project
	CodeExist           = "AlreadyExists"    // 409: the name is taken
	CodeConflict        = "Conflict"         // 409: the record is busy, or its state forbids the call
	CodeTooLarge        = "RequestTooLarge"  // 413: the body is over the server's limit
	CodeUnsupportedType = "UnsupportedMediaType"
	CodeUnavailable     = "Unavailable" // 503: shutting down; retry
	CodeInternal        = "InternalError"
)

// Code returns the error code of an error response with the given status
// and kind.
func Code(status int, kind cairn.Kind) string {
	switch status {
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusForbidden:
		return CodeForbidden
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedType
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	switch kind {
	case cairn.Invalid:
		return CodeInvalid
	case cairn.Unsupported:
		return CodeUnsupported
	case cairn.NotExist:
		return CodeNotFound
	case cairn.Exist:
		return CodeExist
	case cairn.Conflict:
		return CodeConflict
	case cairn.Permission:
		return CodeForbidden
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeInvalid
}

// Kind returns the cairn kind of an error response, from its code (or its
// status when the code is unknown), so that a client's errors map to the
// same exit codes as local ones.
func Kind(status int, code string) cairn.Kind {
	switch code {
	case CodeInvalid, CodeTooLarge, CodeUnsupportedType:
		return cairn.Invalid
	case CodeUnsupported:
		return cairn.Unsupported
	case CodeUnauthorized, CodeForbidden:
		return cairn.Permission
	case CodeNotFound:
		return cairn.NotExist
	case CodeExist:
		return cairn.Exist
	case CodeConflict:
		return cairn.Conflict
	case CodeUnavailable, CodeInternal:
		return cairn.Other
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return cairn.Permission
	case status == http.StatusNotFound:
		return cairn.NotExist
	case status == http.StatusConflict:
		return cairn.Conflict
	case status >= 400 && status < 500:
		return cairn.Invalid
	}
	return cairn.Other
}
