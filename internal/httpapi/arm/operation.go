package arm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// Operations that the service does at once (granting and revoking disk
// access) still answer 202 with polling URLs, as Azure's do. Their
// operation id carries what the status endpoint reports, so that no state
// is kept for them and any server node can answer.
const (
	syncPrefix = "x-"
	syncGrant  = "grant"
	syncRevoke = "revoke"
)

// syncOp is a finished operation encoded in its id.
type syncOp struct {
	Kind     string `json:"k"`
	Resource string `json:"r"` // the disk restore point's ARM id
	Disk     string `json:"d,omitempty"`
	Expires  int64  `json:"e,omitempty"` // unix seconds
	Start    int64  `json:"s"`           // unix milliseconds
}

func (o syncOp) encode() string {
	return syncPrefix + base64.RawURLEncoding.EncodeToString(mustJSON(o))
}

func decodeSyncOp(id string) (syncOp, error) {
	var o syncOp
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, syncPrefix))
	if err != nil {
		return o, fmt.Errorf("operation id %q: %w", id, err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, fmt.Errorf("operation id %q: %w", id, err)
	}
	if o.Kind != syncGrant && o.Kind != syncRevoke {
		return o, fmt.Errorf("operation id %q: unknown kind", id)
	}
	return o, nil
}

// getOperation answers an Azure-AsyncOperation URL with the operation's
// status (200, {"status": InProgress|Succeeded|Failed|Canceled, ...}),
// and a Location URL (the same with monitor=true) as ARM does: 202 while
// the operation runs, then 200 with the result (the resource made, or
// the accessSAS), 204 when there is no result, or the error with its
// status.
func (h *handlers) getOperation(ctx context.Context, q *request) (any, error) {
	if _, err := NormalizeLocation(q.value("loc")); err != nil {
		return nil, invalid("location", err)
	}
	id := q.value("op")
	monitor := strings.EqualFold(q.query.Get("monitor"), "true")
	if strings.HasPrefix(id, syncPrefix) {
		return h.getSyncOperation(q, id, monitor)
	}
	op, err := h.svc.GetOperation(ctx, q.caller, id)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, Errorf(http.StatusNotFound, CodeNotFound, "The operation '%s' was not found.", id)
		}
		return nil, err
	}
	st := h.operationStatus(ctx, q, op)
	if !monitor {
		hdr := http.Header{}
		if st.Status == StatusInProgress {
			h.retryAfter(hdr)
		}
		return &httpapi.Response{Header: hdr, Body: st}, nil
	}
	switch st.Status {
	case StatusInProgress:
		hdr := http.Header{}
		hdr.Set("Location", h.base(q.r)+q.r.URL.RequestURI())
		h.retryAfter(hdr)
		return &httpapi.Response{Status: http.StatusAccepted, Header: hdr}, nil
	case StatusSucceeded:
		return h.operationResult(ctx, q, op)
	}
	e := st.Error
	return nil, &Error{Status: opErrorStatus(e.Code, st.Status), Code: e.Code, Message: e.Message}
}

// getSyncOperation answers for a grant or revoke.
func (h *handlers) getSyncOperation(q *request, id string, monitor bool) (any, error) {
	o, err := decodeSyncOp(id)
	if err == nil {
		var rid ID
		if rid, err = ParseIDOf(KindDiskRestorePoint, o.Resource); err == nil && !strings.EqualFold(rid.Subscription, q.sub) {
			err = errors.New("another subscription's operation")
		}
	}
	if err != nil {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf("The operation '%s' was not found.", id), Err: err}
	}
	start := time.UnixMilli(o.Start)
	var out any
	if o.Kind == syncGrant {
		token := q.query.Get("sig")
		if token == "" {
			return nil, Errorf(http.StatusNotFound, CodeNotFound, "The operation '%s' was not found: its URL lacks the grant's signature.", id)
		}
		out = AccessURI{AccessSAS: h.sasURL(q.r, o.Disk, token, time.Unix(o.Expires, 0))}
	}
	if monitor {
		if out == nil {
			return &httpapi.Response{Status: http.StatusNoContent}, nil
		}
		return out, nil
	}
	st := OperationStatus{Name: id, Status: StatusSucceeded, StartTime: timePtr(start), EndTime: timePtr(start)}
	if out != nil {
		st.Properties = &OperationProperties{Output: out}
	}
	return st, nil
}

// operationStatus maps an operation to ARM's status. A copy's PUT is done
// when its restore point has succeeded, which is when the data copy has
// started (the copy itself goes on, shown by the instance view).
func (h *handlers) operationStatus(ctx context.Context, q *request, op *catalog.Operation) OperationStatus {
	st := OperationStatus{Name: op.ID, StartTime: timePtr(op.Started)}
	if st.StartTime == nil {
		st.StartTime = timePtr(op.Created)
	}
	switch op.State {
	case catalog.OpSucceeded:
		st.Status = StatusSucceeded
	case catalog.OpFailed:
		st.Status = StatusFailed
	case catalog.OpCanceled:
		st.Status = StatusCanceled
	default:
		st.Status = StatusInProgress
	}
	if op.Kind == service.OpCopy {
		if rp, err := h.svc.GetRestorePoint(ctx, q.caller, op.TargetID); err == nil {
			switch rp.State {
			case catalog.PointSucceeded, catalog.PointDeleting:
				st.Status = StatusSucceeded
				st.Error = nil
				return st
			case catalog.PointFailed:
				if st.Status != StatusCanceled {
					st.Status = StatusFailed
				}
				if op.Error == nil {
					st.Error = &ErrorDetail{Code: "RestorePointFailed", Message: rp.FailureReason}
				}
			}
		}
	}
	if op.State.Final() {
		st.EndTime = timePtr(op.Ended)
	}
	if st.Status == StatusFailed || st.Status == StatusCanceled {
		if op.Error != nil {
			st.Error = &ErrorDetail{Code: op.Error.Code, Message: op.Error.Message}
		} else if st.Error == nil {
			st.Error = &ErrorDetail{Code: "OperationFailed", Message: fmt.Sprintf("The operation %s %s.", op.Kind, strings.ToLower(st.Status))}
		}
	}
	return st
}

// operationResult is what a Location URL answers for a succeeded
// operation: the resource it made, or 204.
func (h *handlers) operationResult(ctx context.Context, q *request, op *catalog.Operation) (any, error) {
	switch op.Kind {
	case service.OpBackup, service.OpCopy:
		rp, err := h.svc.GetRestorePoint(ctx, q.caller, op.TargetID)
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				return &httpapi.Response{Status: http.StatusNoContent}, nil
			}
			return nil, err
		}
		v, err := h.svc.GetVault(ctx, q.caller, rp.VaultID)
		if err != nil {
			return nil, err
		}
		return h.pointView(vaultID(v), v, rp, false), nil
	case service.OpRestoreDisk:
		vol, err := h.svc.GetVolume(ctx, q.caller, op.TargetID)
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				return &httpapi.Response{Status: http.StatusNoContent}, nil
			}
			return nil, err
		}
		return diskView(vol), nil
	}
	return &httpapi.Response{Status: http.StatusNoContent}, nil
}

// opErrorStatus is the HTTP status a Location URL answers a failed
// operation with, from the error's code.
func opErrorStatus(code, status string) int {
	switch code {
	case service.CodeInvalid, service.CodeUnsupported:
		return http.StatusBadRequest
	case service.CodeNotFound:
		return http.StatusNotFound
	case service.CodeConflict, service.CodeExist:
		return http.StatusConflict
	case service.CodePermission:
		return http.StatusForbidden
	}
	if status == StatusCanceled {
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}
