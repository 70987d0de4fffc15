package cbr

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/jobs"
	"github.com/cairn-vm/cairn/internal/service"
)

// opTypes are CBR's operation_type of each service operation kind.
var opTypes = map[string]string{
	service.OpBackup:       "backup",
	service.OpCopy:         "replication",
	service.OpRestorePoint: "restore",
	service.OpRestoreDisk:  "restore",
	service.OpDeletePoint:  "delete",
	service.OpDeleteVault:  "vault_delete",
}

// opStatus is an operation's status as a CBR task: waiting, running,
// success, failed; canceled before it ran is skipped; a failure by time
// out is timeout.
func opStatus(op *catalog.Operation) string {
	switch op.State {
	case catalog.OpQueued:
		return "waiting"
	case catalog.OpRunning:
		return "running"
	case catalog.OpSucceeded:
		return "success"
	case catalog.OpCanceled:
		if op.Started.IsZero() {
			return "skipped"
		}
	}
	if op.Error != nil && strings.Contains(strings.ToLower(op.Error.Message), "deadline exceeded") {
		return "timeout"
	}
	return "failed"
}

// opLogView is an operation as a CBR operation log.
func (h *handlers) opLogView(ctx context.Context, q *request, info *service.OperationInfo) OperationLog {
	op := info.Operation
	out := OperationLog{
		CheckpointID: info.CheckpointID, CreatedAt: timeText(op.Created), EndedAt: timeText(op.Ended),
		ID: op.ID, OperationType: opTypes[op.Kind], PolicyID: info.PolicyID, ProjectID: q.project.ID,
		ProviderID: ProviderServer, StartedAt: timeText(op.Started), Status: opStatus(op),
		UpdatedAt: timeText(op.Created), VaultID: publicID(info.VaultID), VaultName: info.VaultName,
		ExtraInfo: OpExtraInfo{Common: OpCommon{Progress: op.Percent(), RequestID: op.ID, TaskID: op.ID}},
	}
	if info.VaultID == "" {
		out.VaultID = ""
	}
	if out.StartedAt == "" {
		out.StartedAt = out.CreatedAt
	}
	if !op.Ended.IsZero() {
		out.UpdatedAt = out.EndedAt
	} else if !op.Started.IsZero() {
		out.UpdatedAt = out.StartedAt
	}
	if v, err := h.svc.GetVault(ctx, q.caller, info.VaultID); err == nil {
		out.VaultName = cbrAttrs(v).Name
	}
	if op.Error != nil {
		out.ErrorInfo = OpErrorInfo{Code: opErrorCode(op.Error.Code), Message: op.Error.Message}
	}
	if info.ResourceID != "" {
		out.ExtraInfo.Resource = &OpResource{ID: publicID(info.ResourceID), Name: info.ResourceName, Type: TypeServer}
	}
	name := info.PointName
	if cp, err := h.svc.GetCheckpoint(ctx, q.caller, info.CheckpointID); err == nil && cp.Name != "" {
		name = cp.Name
	}
	switch op.Kind {
	case service.OpBackup:
		out.ExtraInfo.Backup = &OpBackup{BackupID: info.PointID, BackupName: name, Incremental: strconv.FormatBool(info.Incremental || info.CheckpointID == "")}
	case service.OpCopy:
		out.ExtraInfo.Replication = &OpReplication{
			DestinationBackupID: info.DestinationPointID, DestinationCheckpointID: info.DestinationCheckpointID,
			DestinationProjectID: info.DestinationRegionalProjectID, DestinationRegion: info.DestinationRegion,
			SourceBackupID: info.PointID, SourceCheckpointID: info.CheckpointID, SourceProjectID: q.project.ID,
			SourceRegion: info.Region, SourceBackupName: name, DestinationBackupName: info.DestinationPointName,
		}
	case service.OpRestorePoint, service.OpRestoreDisk:
		r := &OpRestore{BackupID: info.PointID, BackupName: name, TargetResourceID: info.RestoreTargetID}
		if strings.HasPrefix(info.RestoreTargetID, "/subscriptions/") {
			r.TargetResourceID = publicID(info.RestoreTargetID)
			if vm, err := h.svc.GetVM(ctx, q.caller, info.RestoreTargetID); err == nil {
				r.TargetResourceName = vm.Name
			}
		}
		out.ExtraInfo.Restore = r
	case service.OpDeletePoint:
		out.ExtraInfo.Delete = &OpDelete{BackupID: info.PointID, BackupName: name}
	case service.OpDeleteVault:
		vd := &OpVaultDelete{}
		for _, p := range op.Progress {
			vd.TotalCount = int(p.BytesTotal)
		}
		if op.State == catalog.OpFailed {
			vd.FailCount = 1
		}
		out.ExtraInfo.VaultDelete = vd
	}
	return out
}

// opErrorCode maps a failed operation's code to a CBR code.
func opErrorCode(code string) string {
	switch code {
	case jobs.CodeInvalid:
		return CodeInvalidParameter
	case jobs.CodeNotFound:
		return CodeResourceNotFound
	case jobs.CodeConflict, jobs.CodeExist:
		return CodeConflict
	case jobs.CodeUnsupported:
		return CodeUnsupported
	case "", jobs.CodeInternal, jobs.CodeIO, jobs.CodeCorrupt, jobs.CodeCanceled, jobs.CodePermission, jobs.CodeUnknownKind:
		return CodeInternal
	}
	return code
}

func (h *handlers) listOpLogs(ctx context.Context, q *request) (any, error) {
	limit, err := queryInt(q, "limit", 1000, 1, 1000)
	if err != nil {
		return nil, err
	}
	offset, err := queryInt(q, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	start, err := queryTime(q, "start_time")
	if err != nil {
		return nil, err
	}
	end, err := queryTime(q, "end_time")
	if err != nil {
		return nil, err
	}
	typ := q.query.Get("operation_type")
	if typ != "" {
		if err := oneOf("operation_type", typ, "backup", "copy", "replication", "restore", "delete", "sync", "vault_delete", "remove_resource"); err != nil {
			return nil, err
		}
	}
	status := q.query.Get("status")
	if status != "" {
		if err := oneOf("status", status, "success", "skipped", "failed", "running", "timeout", "waiting"); err != nil {
			return nil, err
		}
	}
	if p := q.query.Get("provider_id"); p != "" {
		if err := checkUUID("provider_id", p); err != nil {
			return nil, err
		}
	}
	var ops []*catalog.Operation
	pg := catalog.Page{Size: catalog.MaxPageSize}
	for {
		list, next, err := h.svc.ListOperations(ctx, q.caller, service.OperationFilter{}, pg)
		if err != nil {
			return nil, err
		}
		ops = append(ops, list...)
		if next == "" {
			break
		}
		pg.Token = next
	}
	var out []OperationLog
	for _, op := range ops {
		if _, ok := opTypes[op.Kind]; !ok {
			continue
		}
		if typ != "" && opTypes[op.Kind] != typ {
			continue
		}
		if status != "" && opStatus(op) != status {
			continue
		}
		if !start.IsZero() && op.Created.Before(start) || !end.IsZero() && op.Created.After(end) {
			continue
		}
		info, err := h.svc.DescribeOperation(ctx, q.caller, op.ID)
		if err != nil {
			return nil, err
		}
		if info.Region != q.region() {
			continue
		}
		if v := q.query.Get("vault_id"); v != "" && !matchesID(v, info.VaultID) {
			continue
		}
		if r := q.query.Get("resource_id"); r != "" && !matchesID(r, info.ResourceID) {
			continue
		}
		l := h.opLogView(ctx, q, info)
		if n := q.query.Get("vault_name"); n != "" && !strings.Contains(l.VaultName, n) {
			continue
		}
		if n := q.query.Get("resource_name"); n != "" && (l.ExtraInfo.Resource == nil || !strings.Contains(l.ExtraInfo.Resource.Name, n)) {
			continue
		}
		out = append(out, l)
	}
	slices.Reverse(out) // newest first, as CBR lists tasks
	return OperationLogList{OperationLogs: nonNil(page(out, offset, limit)), Count: len(out), Limit: limit, Offset: offset}, nil
}

func (h *handlers) showOpLog(ctx context.Context, q *request) (any, error) {
	id := strings.ToLower(trimID(q.value("operation_log_id")))
	if !isUUID(id) {
		return nil, notFound(CodeOpLogNotFound, "operation log", id)
	}
	info, err := h.svc.DescribeOperation(ctx, q.caller, id)
	if err != nil {
		return nil, err
	}
	if _, ok := opTypes[info.Operation.Kind]; !ok || info.Region != q.region() {
		return nil, notFound(CodeOpLogNotFound, "operation log", id)
	}
	return OperationLogResponse{OperationLog: h.opLogView(ctx, q, info)}, nil
}
