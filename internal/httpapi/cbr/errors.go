package cbr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/apig"
	"github.com/cairn-vm/cairn/internal/service"
)

// ErrorBody is the body of every CBR error, as Huawei Cloud writes it.
type ErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// Error codes. Those CBR documents (its "Error Codes" page) keep CBR's
// number, message and status; cairn's own are BackupService.8xxx, a range
// CBR's page does not use. See the package documentation for the table.
const (
	// CodeBadRequestBody: the body is not JSON, or not one JSON object
	// (cairn's choice: CBR's page lists no code for it).
	CodeBadRequestBody = "BackupService.0005"
	// CodeInvalidParameter: a field or query parameter breaks the API's
	// rules, or has the wrong type (cairn's choice).
	CodeInvalidParameter = "BackupService.0006"

	CodeNoResource          = "BackupService.0001" // No resource is available for backup.
	CodeRegionNoReplication = "BackupService.1005" // The destination region does not support replication.
	CodeAlreadyReplicated   = "BackupService.1009" // The backup is being replicated or has been replicated to the destination region.
	CodeProjectNoReplicate  = "BackupService.1011" // The destination project does not support replication.
	CodeDiskTooSmall        = "BackupService.2001" // Restoration cannot be executed because the disk is smaller than the backup.
	CodeResourceBusy        = "BackupService.2002" // The resource is being backed up.
	CodeRestoreOtherServer  = "BackupService.2003" // Restoration to a different server is not allowed.
	CodeRestoreStatus       = "BackupService.2005" // Restoration is not allowed in the current backup status.
	CodeVaultResourcesLimit = "BackupService.6100" // Resources of vault over limit.
	CodeVaultSize           = "BackupService.6101" // Size of vault invalid.
	CodeResourceType        = "BackupService.6102" // Resource not match vault resource type.
	CodeResourceInOther     = "BackupService.6103" // Resource already in other vault.
	CodeDuplicateResource   = "BackupService.6104" // Duplicate resource.
	CodeVaultNotFound       = "BackupService.6105" // Vault Not Found.
	CodeVaultCannotDelete   = "BackupService.6111" // The vault can not delete.

	CodeCheckpointNotFound = "BackupService.8001" // cairn: no such checkpoint
	CodeBackupNotFound     = "BackupService.8002" // cairn: no such backup
	CodePolicyNotFound     = "BackupService.8003" // cairn: no such policy
	CodeOpLogNotFound      = "BackupService.8004" // cairn: no such operation log
	CodeResourceNotFound   = "BackupService.8005" // cairn: no such resource (VM or volume)
	CodeAgreementNotFound  = "BackupService.8006" // cairn: no such replication agreement
	CodeNotBound           = "BackupService.8007" // cairn: the resource is not bound to the vault
	CodeNothingToReplicate = "BackupService.8008" // cairn: the vault has no backup to replicate
	CodeNoConsent          = "BackupService.8009" // cairn: the destination project has not agreed to replication
	CodeUnsupported        = "BackupService.8010" // cairn: a feature cairn does not have
	CodeConflict           = "BackupService.8011" // cairn: the object is busy or in a state that forbids the call
	CodeExists             = "BackupService.8012" // cairn: a name or object taken
	CodePolicyNotBound     = "BackupService.8013" // cairn: the policy is not associated with the vault
	CodeInternal           = "BackupService.8999" // cairn: internal error (the cause is in the server's log)
)

// Error is an error answered with a status and a CBR error code.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errorf returns an *Error with a formatted message.
func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// badParam is a 400 CodeInvalidParameter.
func badParam(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, CodeInvalidParameter, format, args...)
}

// notFound is a 404 with a code naming what is missing.
func notFound(code, what, id string) *Error {
	return errorf(http.StatusNotFound, code, "%s %s not found", what, id)
}

// asError maps a service error to a CBR error: the service's sentinels to
// their codes, then the cairn kinds. what names the object of a
// cairn.NotExist ("vault", "backup", ...), with its code.
func asError(err error, notFoundCode string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	switch {
	case errors.Is(err, service.ErrResourceInOtherVault):
		return &Error{Status: http.StatusBadRequest, Code: CodeResourceInOther, Message: "Resource already in other vault: " + msg, Err: err}
	case errors.Is(err, service.ErrDuplicateResource):
		return &Error{Status: http.StatusBadRequest, Code: CodeDuplicateResource, Message: "Duplicate resource: " + msg, Err: err}
	case errors.Is(err, service.ErrResourceBusy):
		return &Error{Status: http.StatusBadRequest, Code: CodeResourceBusy, Message: "The resource is being backed up: " + msg, Err: err}
	case errors.Is(err, service.ErrNothingToBackUp):
		return &Error{Status: http.StatusBadRequest, Code: CodeNoResource, Message: "No resource is available for backup: " + msg, Err: err}
	case errors.Is(err, service.ErrAlreadyReplicated):
		return &Error{Status: http.StatusBadRequest, Code: CodeAlreadyReplicated, Message: "The backup is being replicated or has been replicated to the destination region: " + msg, Err: err}
	case errors.Is(err, service.ErrNothingToReplicate):
		return &Error{Status: http.StatusBadRequest, Code: CodeNothingToReplicate, Message: msg, Err: err}
	case errors.Is(err, service.ErrNoConsent):
		return &Error{Status: http.StatusForbidden, Code: CodeNoConsent, Message: msg, Err: err}
	case errors.Is(err, service.ErrRestoreOtherServer):
		return &Error{Status: http.StatusBadRequest, Code: CodeRestoreOtherServer, Message: "Restoration to a different server is not allowed: " + msg, Err: err}
	case errors.Is(err, service.ErrNotRestorable):
		return &Error{Status: http.StatusBadRequest, Code: CodeRestoreStatus, Message: "Restoration is not allowed in the current backup status: " + msg, Err: err}
	case errors.Is(err, service.ErrTargetTooSmall):
		return &Error{Status: http.StatusBadRequest, Code: CodeDiskTooSmall, Message: msg, Err: err}
	case errors.Is(err, service.ErrRegionMismatch):
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: msg, Err: err}
	}
	switch cairn.KindOf(err) {
	case cairn.Invalid:
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Message: msg, Err: err}
	case cairn.Unsupported:
		return &Error{Status: http.StatusBadRequest, Code: CodeUnsupported, Message: msg, Err: err}
	case cairn.NotExist:
		if notFoundCode == "" {
			notFoundCode = CodeResourceNotFound
		}
		return &Error{Status: http.StatusNotFound, Code: notFoundCode, Message: msg, Err: err}
	case cairn.Exist:
		return &Error{Status: http.StatusConflict, Code: CodeExists, Message: msg, Err: err}
	case cairn.Conflict:
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: msg, Err: err}
	case cairn.Permission:
		return &Error{Status: http.StatusForbidden, Code: apig.CodeIAMForbidden, Message: msg, Err: err}
	}
	return nil // the server's own failure: httpapi classifies it
}

// toHTTPError turns a handler's error into one the server's adapter
// answers with its status; server-side failures keep their kind, so that
// the adapter logs them and answers 500 with a generic message.
func toHTTPError(err error, notFoundCode string) error {
	var ae *apig.Error
	if errors.As(err, &ae) {
		return &httpapi.Error{Status: ae.Status, Kind: cairn.Permission, Message: ae.Message, Err: err}
	}
	var he *httpapi.Error
	if errors.As(err, &he) {
		return err
	}
	e := asError(err, notFoundCode)
	if e == nil {
		return err
	}
	return &httpapi.Error{Status: e.Status, Kind: cairn.KindOf(err), Message: e.Message, Err: e}
}

// writeHTTPError is the dialect's ErrorWriter: CBR errors in CBR's shape,
// authentication failures and server-level errors in API Gateway's (as
// Huawei Cloud's gateway answers them), each with an X-Request-Id.
func writeHTTPError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	id := w.Header().Get(apig.HeaderRequestID)
	if id == "" {
		id = apig.NewRequestID()
		w.Header().Set(apig.HeaderRequestID, id)
	}
	var ae *apig.Error
	if errors.As(e.Err, &ae) {
		apig.WriteError(w, ae)
		return
	}
	var ce *Error
	if errors.As(e.Err, &ce) {
		writeBody(w, ce.Status, ErrorBody{ErrorCode: ce.Code, ErrorMsg: ce.Message})
		return
	}
	switch e.Status {
	case http.StatusUnauthorized:
		writeAPIG(w, e.Status, apig.CodeIAMAuth, "Incorrect IAM authentication information: "+e.Message, id)
	case http.StatusForbidden:
		writeAPIG(w, e.Status, apig.CodeIAMForbidden, "The IAM user is not authorized to access the API: "+e.Message, id)
	case http.StatusRequestEntityTooLarge:
		writeAPIG(w, e.Status, apig.CodeRequestError, "Request entity too large: "+e.Message, id)
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		writeBody(w, http.StatusBadRequest, ErrorBody{ErrorCode: CodeBadRequestBody, ErrorMsg: e.Message})
	case http.StatusNotFound:
		writeBody(w, e.Status, ErrorBody{ErrorCode: CodeResourceNotFound, ErrorMsg: e.Message})
	case http.StatusConflict:
		writeBody(w, e.Status, ErrorBody{ErrorCode: CodeConflict, ErrorMsg: e.Message})
	default:
		writeBody(w, e.Status, ErrorBody{ErrorCode: CodeInternal, ErrorMsg: e.Message})
	}
}

func writeBody(w http.ResponseWriter, status int, body ErrorBody) {
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

func writeAPIG(w http.ResponseWriter, status int, code, msg, id string) {
	data, _ := json.Marshal(apig.ErrorBody{ErrorCode: code, ErrorMsg: msg, RequestID: id})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
