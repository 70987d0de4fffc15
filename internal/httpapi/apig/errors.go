package apig

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Reasons a request is refused. Verify, ReadBody and Authorize return
// errors that wrap one of them (test with errors.Is) inside an *Error that
// says how to answer.
var (
	// ErrMissingCredentials: neither an Authorization nor an X-Auth-Token
	// header.
	ErrMissingCredentials = errors.New("apig: no Authorization or X-Auth-Token header")
	// ErrAmbiguousCredentials: both an Authorization and an X-Auth-Token
	// header.
	ErrAmbiguousCredentials = errors.New("apig: both an Authorization and an X-Auth-Token header")
	// ErrMalformedAuthorization: the Authorization header does not parse.
	ErrMalformedAuthorization = errors.New("apig: malformed Authorization header")
	// ErrUnsupportedAlgorithm: the Authorization header names an
	// algorithm other than SDK-HMAC-SHA256 (or V11-HMAC-SHA256 where
	// enabled).
	ErrUnsupportedAlgorithm = errors.New("apig: unsupported signing algorithm")
	// ErrUnknownAccessKey: no secret key for the access key. A Lookup
	// returns it (or an error of kind cairn.NotExist).
	ErrUnknownAccessKey = errors.New("apig: unknown access key")
	// ErrSignatureMismatch: the signature is not the one the request and
	// the secret key give.
	ErrSignatureMismatch = errors.New("apig: signature mismatch")
	// ErrDateMissing: no X-Sdk-Date header.
	ErrDateMissing = errors.New("apig: no X-Sdk-Date header")
	// ErrDateMalformed: X-Sdk-Date is not one value in DateFormat, or a
	// derived credential's date is not its day.
	ErrDateMalformed = errors.New("apig: malformed X-Sdk-Date header")
	// ErrDateOutOfRange: X-Sdk-Date is further than the allowed skew
	// from the server's time; ErrDateExpired and ErrDateFuture wrap it.
	ErrDateOutOfRange = errors.New("apig: X-Sdk-Date out of range")
	// ErrDateExpired: the request was signed too long ago.
	ErrDateExpired = fmt.Errorf("%w: signed too long ago", ErrDateOutOfRange)
	// ErrDateFuture: the request is signed for a time too far ahead.
	ErrDateFuture = fmt.Errorf("%w: signed in the future", ErrDateOutOfRange)
	// ErrUnsignedPayload: X-Sdk-Content-Sha256 is UNSIGNED-PAYLOAD and
	// the Verifier does not accept an unsigned body.
	ErrUnsignedPayload = errors.New("apig: unsigned payload not accepted")
	// ErrReplay: a request with the same signature was accepted before,
	// within the validity window.
	ErrReplay = errors.New("apig: replayed request")
	// ErrReplayCacheFull: the replay cache holds as many unexpired
	// signatures as it may; the request is refused rather than let a
	// replay through.
	ErrReplayCacheFull = errors.New("apig: replay cache full")
	// ErrBodyTooLarge: the body is over the limit.
	ErrBodyTooLarge = errors.New("apig: request body too large")
	// ErrProjectForbidden: the project in the URL is not one of the
	// credentials' tenant, or not the one their X-Project-Id names.
	ErrProjectForbidden = errors.New("apig: project not accessible with these credentials")
)

// APIG error codes cairn answers with, as Huawei Cloud's API Gateway
// spells them (support.huaweicloud.com, APIG "Error Codes" and "Common
// Errors Related to IAM Authentication Information").
const (
	// CodeRequestError is "API request error" (400) and "Request entity
	// too large" (413).
	CodeRequestError = "APIG.0201"
	// CodeIAMAuth is "Incorrect IAM authentication information" (401):
	// every failure of a token or an AK/SK signature.
	CodeIAMAuth = "APIG.0301"
	// CodeIAMForbidden is "The IAM user is not authorized to access the
	// API" (403).
	CodeIAMForbidden = "APIG.0302"
	// CodeAppAuth is "Incorrect app authentication information" (401), for
	// APIG's app authentication. CBR's API uses IAM authentication, so
	// cairn does not answer with it; it is named so that nobody reaches
	// for it.
	CodeAppAuth = "APIG.0303"
	// CodeThrottled is "The throttling threshold has been reached" (429).
	CodeThrottled = "APIG.0308"
	// CodeInternal is "Internal server error" (500).
	CodeInternal = "APIG.0601"
)

// Message prefixes of APIG's errors.
const (
	msgIAMAuth      = "Incorrect IAM authentication information: "
	msgIAMForbidden = "The IAM user is not authorized to access the API: "
	msgInternal     = "Internal server error"
)

// Error is a refusal with the status, APIG error code and message a
// client is answered with. Message is safe to show; Err, the cause, may
// carry detail for the server's log only (such as the canonical request
// a signature was checked against).
type Error struct {
	Status  int    // HTTP status
	Code    string // APIG error code, e.g. CodeIAMAuth
	Message string // the error_msg a client sees
	Err     error  // the cause; wraps one of the package's sentinels
}

// Error returns the message and the cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Code + " " + e.Message
	}
	return e.Code + " " + e.Message + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// authError is a 401 APIG.0301 refusal of kind cairn.Permission.
func authError(detail string, cause error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeIAMAuth, Message: msgIAMAuth + detail,
		Err: cairn.E(cairn.Permission, cause)}
}

// forbidden is a 403 APIG.0302 refusal of kind cairn.Permission.
func forbidden(detail string, cause error) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeIAMForbidden, Message: msgIAMForbidden + detail,
		Err: cairn.E(cairn.Permission, cause)}
}

// internalError is a 500 APIG.0601 whose cause is not shown.
func internalError(cause error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: msgInternal, Err: cause}
}

// ErrorOf returns the answer to err: the *Error in its chain; else 413
// APIG.0201 for an *http.MaxBytesError; else 500 APIG.0601 with a generic
// message. ErrorOf(nil) is nil.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit, err)
	}
	return internalError(err)
}

func tooLarge(limit int64, cause error) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeRequestError,
		Message: fmt.Sprintf("Request entity too large: the limit is %d bytes", limit),
		Err:     cairn.E(cairn.Invalid, fmt.Errorf("%w: %w", ErrBodyTooLarge, cause))}
}

// ErrorBody is the JSON body of an APIG error, the shape the SDK's
// ServiceResponseError reads.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError answers with err as ErrorOf maps it: its status and an
// ErrorBody, and an X-Request-Id header (the one already set on w, or a
// new one) that the body repeats. It must run before anything else is
// written to w.
func WriteError(w http.ResponseWriter, err error) {
	e := ErrorOf(err)
	id := w.Header().Get(HeaderRequestID)
	if id == "" {
		id = NewRequestID()
		w.Header().Set(HeaderRequestID, id)
	}
	body, _ := json.Marshal(ErrorBody{ErrorCode: e.Code, ErrorMsg: e.Message, RequestID: id})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(append(body, '\n'))
}

// NewRequestID returns a request id as Huawei Cloud writes them: 32
// lower-case hex digits.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
