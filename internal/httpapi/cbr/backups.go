package cbr

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// backupCtx caches what several backups of one response share.
type backupCtx struct {
	h           *handlers
	q           *request
	vaults      map[string]*catalog.Vault
	checkpoints map[string]*service.Checkpoint
	vms         map[string]*catalog.Resource
}

func (h *handlers) newBackupCtx(q *request) *backupCtx {
	return &backupCtx{h: h, q: q, vaults: map[string]*catalog.Vault{}, checkpoints: map[string]*service.Checkpoint{}, vms: map[string]*catalog.Resource{}}
}

func (b *backupCtx) vault(ctx context.Context, id string) *catalog.Vault {
	if v, ok := b.vaults[id]; ok {
		return v
	}
	v, err := b.h.svc.GetVault(ctx, b.q.caller, id)
	if err != nil {
		v = nil
	}
	b.vaults[id] = v
	return v
}

func (b *backupCtx) checkpoint(ctx context.Context, id string) *service.Checkpoint {
	if id == "" {
		return nil
	}
	if cp, ok := b.checkpoints[id]; ok {
		return cp
	}
	cp, err := b.h.svc.GetCheckpoint(ctx, b.q.caller, id)
	if err != nil {
		cp = nil
	}
	b.checkpoints[id] = cp
	return cp
}

func (b *backupCtx) vm(ctx context.Context, id string) *catalog.Resource {
	if vm, ok := b.vms[id]; ok {
		return vm
	}
	vm, err := b.h.svc.GetVM(ctx, b.q.caller, id)
	if err != nil {
		vm = nil
	}
	b.vms[id] = vm
	return vm
}

// backupStatus is a restore point's status as a CBR backup.
func backupStatus(p *service.RestorePoint) string {
	if p.Operation != nil && p.Operation.State.Active() {
		switch p.Operation.Kind {
		case service.OpRestorePoint, service.OpRestoreDisk:
			return "restoring"
		case service.OpDeletePoint, service.OpDeleteVault:
			return "deleting"
		}
	}
	switch p.State {
	case catalog.PointCreating:
		return "protecting"
	case catalog.PointFailed:
		return "error"
	case catalog.PointDeleting:
		return "deleting"
	}
	if !p.Restorable {
		return "protecting"
	}
	return "available"
}

// view returns a restore point as a CBR backup, with its disks as
// children and, when replicas is set, its replication records.
func (b *backupCtx) view(ctx context.Context, p *service.RestorePoint, replicas bool) Backup {
	q := b.q
	out := Backup{
		ID: p.ID, CheckpointID: service.CheckpointOf(p.RestorePoint), CreatedAt: timeText(p.Created),
		ImageType: "backup", Name: p.Name, ProjectID: q.project.ID, ProtectedAt: timeText(p.Created),
		ResourceAz: p.Region, ResourceID: publicID(p.ResourceID), ResourceType: TypeServer,
		Status: backupStatus(p), UpdatedAt: timeText(p.Created), VaultID: publicID(p.VaultID),
		ReplicationRecords: []ReplicationRecord{}, EnterpriseProjectID: "0", ProviderID: ProviderServer,
		Children: []Backup{}, Incremental: true, Version: 1,
		ExtendInfo: BackupExtendInfo{SupportedRestoreMode: "backup", Encrypted: true},
	}
	if p.SourcePointID != "" {
		out.ImageType = "replication"
	}
	if p.Operation != nil && !p.Operation.Ended.IsZero() {
		out.UpdatedAt = timeText(p.Operation.Ended)
	}
	if v := b.vault(ctx, p.VaultID); v != nil {
		out.EnterpriseProjectID = cbrAttrs(v).EnterpriseProjectID
	}
	if cp := b.checkpoint(ctx, out.CheckpointID); cp != nil {
		if cp.Name != "" {
			out.Name = cp.Name
		}
		out.Description = cp.Description
		out.ExtendInfo.AutoTrigger = cp.AutoTrigger
		out.Incremental = cp.Incremental
	}
	vm := b.vm(ctx, p.ResourceID)
	if vm != nil {
		out.ResourceName = vm.Name
	}
	var size int64
	for _, d := range p.Disks {
		size += d.Size
		system := vm != nil && vm.Disk(d.DiskName) != nil && vm.Disk(d.DiskName).OS
		if system {
			out.ExtendInfo.ContainSystemDisk, out.ExtendInfo.Bootable = true, true
		}
		child := out
		child.ID, child.Name = d.ID, out.Name+"-"+d.DiskName
		child.ResourceID, child.ResourceName = volumeID(p.ResourceID, d.DiskName), d.DiskName
		child.ResourceSize, child.ResourceType, child.ProviderID = gb(d.Size), TypeVolume, ProviderDisk
		child.ParentID, child.Children, child.ReplicationRecords = "", []Backup{}, []ReplicationRecord{}
		child.ExtendInfo.SystemDisk, child.ExtendInfo.Bootable, child.ExtendInfo.ContainSystemDisk = system, system, system
		out.Children = append(out.Children, child)
	}
	out.ResourceSize = gb(size)
	if replicas && p.SourcePointID == "" {
		if reps, err := b.h.svc.PointReplicas(ctx, q.caller, p.ID); err == nil {
			for _, r := range reps {
				out.ReplicationRecords = append(out.ReplicationRecords, b.replicationRecord(ctx, p, r))
			}
		}
	}
	return out
}

// replicationRecord is a replica of p as a CBR replication record: its
// id is the copy operation's.
func (b *backupCtx) replicationRecord(ctx context.Context, p *service.RestorePoint, r *service.Replica) ReplicationRecord {
	rec := ReplicationRecord{
		CreatedAt: timeText(r.Point.Created), DestinationBackupID: r.Point.ID, DestinationCheckpointID: service.CheckpointOf(r.Point.RestorePoint),
		DestinationRegion: r.Region, DestinationVaultID: publicID(r.VaultID), SourceBackupID: p.ID,
		SourceCheckpointID: service.CheckpointOf(p.RestorePoint), SourceProjectID: b.q.project.ID, SourceRegion: p.Region,
		VaultID: publicID(p.VaultID), Status: "replicating",
		ExtraInfo: ReplicationRecordExtra{DestinationVaultID: publicID(r.VaultID)},
	}
	op := r.Point.Operation
	if op != nil {
		rec.ID = op.ID
		if info, err := b.h.svc.DescribeOperation(ctx, b.q.caller, op.ID); err == nil {
			rec.DestinationProjectID = info.DestinationRegionalProjectID
		}
		rec.CreatedAt = timeText(op.Created)
		rec.ExtraInfo.Progress = replicationProgress(r.Point)
		switch {
		case op.State == catalog.OpQueued:
			rec.Status = "waiting_replicate"
		case op.State == catalog.OpRunning:
			rec.Status = "replicating"
		case op.State == catalog.OpSucceeded:
			rec.Status = "success"
		default:
			rec.Status = "fail"
			if op.Error != nil {
				rec.ExtraInfo.FailCode, rec.ExtraInfo.FailReason = op.Error.Code, op.Error.Message
			}
		}
	}
	if r.Point.Restorable {
		rec.Status, rec.ExtraInfo.Progress = "success", 100
	}
	if attrOf(r.Point) {
		rec.ExtraInfo.AutoTrigger = true
	}
	return rec
}

// attrOf reports whether a replica was made by a schedule.
func attrOf(p *service.RestorePoint) bool {
	return strings.Contains(string(p.Attrs), `"cairnReplicaAuto":"auto"`)
}

// replicationProgress is a replica's progress, 0 to 100: 100 only once it
// is restorable.
func replicationProgress(p *service.RestorePoint) int {
	if p.Restorable {
		return 100
	}
	var done, total int64
	for _, d := range p.Disks {
		done += d.BytesDone
		total += d.BytesTotal
	}
	if total <= 0 {
		return 0
	}
	return min(99, int(done*100/total))
}

// regionPoints lists the caller's restore points in the request's region.
func (h *handlers) regionPoints(ctx context.Context, q *request) ([]*service.RestorePoint, error) {
	vaults, err := h.allVaults(ctx, q)
	if err != nil {
		return nil, err
	}
	var all []*service.RestorePoint
	for _, v := range vaults {
		ps, err := h.vaultPoints(ctx, q, v.ID)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	slices.SortStableFunc(all, func(a, b *service.RestorePoint) int { return a.Created.Compare(b.Created) })
	return all, nil
}

func (h *handlers) listBackups(ctx context.Context, q *request) (any, error) {
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
	dec, _, err := queryBool(q, "dec")
	if err != nil {
		return nil, err
	}
	if _, _, err := queryBool(q, "show_replication"); err != nil {
		return nil, err
	}
	if s := q.query.Get("status"); s != "" {
		if err := oneOf("status", s, "available", "protecting", "deleting", "restoring", "error", "waiting_protect", "waiting_delete", "waiting_restore"); err != nil {
			return nil, err
		}
	}
	if t := q.query.Get("image_type"); t != "" {
		if err := oneOf("image_type", t, "backup", "replication"); err != nil {
			return nil, err
		}
	}
	if t := q.query.Get("resource_type"); t != "" {
		if err := oneOf("resource_type", t, TypeServer, TypeVolume, "OS::Workspace::DesktopV2"); err != nil {
			return nil, err
		}
	}
	if s := q.query.Get("sort"); s != "" {
		if err := oneOf("sort", s, "created_at:desc", "created_at:asc", "created_at"); err != nil {
			return nil, err
		}
		dec = s == "created_at:desc"
	}
	points, err := h.regionPoints(ctx, q)
	if err != nil {
		return nil, err
	}
	bc := h.newBackupCtx(q)
	var out []Backup
	for _, p := range points {
		if v := q.query.Get("vault_id"); v != "" && !matchesID(v, p.VaultID) {
			continue
		}
		if id := q.query.Get("checkpoint_id"); id != "" && !strings.EqualFold(id, service.CheckpointOf(p.RestorePoint)) {
			continue
		}
		if id := q.query.Get("resource_id"); id != "" && !matchesID(id, p.ResourceID) {
			continue
		}
		if !start.IsZero() && p.Created.Before(start) || !end.IsZero() && p.Created.After(end) {
			continue
		}
		b := bc.view(ctx, p, true)
		if s := q.query.Get("status"); s != "" && b.Status != s {
			continue
		}
		if t := q.query.Get("image_type"); t != "" && b.ImageType != t {
			continue
		}
		if n := q.query.Get("name"); n != "" && !strings.Contains(b.Name, n) {
			continue
		}
		if n := q.query.Get("resource_name"); n != "" && !strings.Contains(b.ResourceName, n) {
			continue
		}
		if t := q.query.Get("resource_type"); t == TypeVolume {
			out = append(out, b.Children...)
			continue
		} else if t != "" && t != TypeServer {
			continue
		}
		out = append(out, b)
	}
	if dec {
		slices.Reverse(out)
	}
	return BackupList{Backups: nonNil(page(out, offset, limit)), Count: len(out), Offset: offset, Limit: limit}, nil
}

// findBackup returns the restore point of a backup id in the request's
// region, and the disk name when the id is a child (a disk's) backup.
func (h *handlers) findBackup(ctx context.Context, q *request, id string) (*service.RestorePoint, string, error) {
	id = strings.ToLower(trimID(id))
	if !isUUID(id) {
		return nil, "", notFound(CodeBackupNotFound, "backup", id)
	}
	p, err := h.svc.GetRestorePoint(ctx, q.caller, id)
	disk := ""
	if cairn.IsKind(err, cairn.NotExist) {
		d, derr := h.svc.GetDiskRestorePoint(ctx, q.caller, id)
		if derr != nil {
			return nil, "", notFound(CodeBackupNotFound, "backup", id)
		}
		disk = d.DiskName
		p, err = h.svc.GetRestorePoint(ctx, q.caller, d.RestorePointID)
	}
	if err != nil {
		return nil, "", err
	}
	if p.Region != q.region() {
		return nil, "", notFound(CodeBackupNotFound, "backup", id)
	}
	return p, disk, nil
}

func (h *handlers) showBackup(ctx context.Context, q *request) (any, error) {
	p, disk, err := h.findBackup(ctx, q, q.value("backup_id"))
	if err != nil {
		return nil, err
	}
	b := h.newBackupCtx(q).view(ctx, p, true)
	if disk != "" {
		for _, c := range b.Children {
			if c.ResourceName == disk {
				c.ParentID = b.ID
				return BackupResponse{Backup: c}, nil
			}
		}
	}
	return BackupResponse{Backup: b}, nil
}

func (h *handlers) deleteBackup(ctx context.Context, q *request) (any, error) {
	p, disk, err := h.findBackup(ctx, q, q.value("backup_id"))
	if err != nil {
		return nil, err
	}
	if disk != "" {
		return nil, errorf(http.StatusBadRequest, CodeUnsupported, "backup %s is a disk of backup %s: delete the server's backup", q.value("backup_id"), p.ID)
	}
	if _, err := h.svc.DeleteRestorePoint(ctx, q.caller, p.ID); err != nil {
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusNoContent}, nil
}

func (h *handlers) restoreBackup(ctx context.Context, q *request) (any, error) {
	var in BackupRestoreReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Restore == nil {
		return nil, badParam("invalid parameter restore: it is required")
	}
	r := in.Restore
	server := ""
	for _, f := range []struct {
		name string
		v    *string
	}{{"restore.server_id", r.ServerID}, {"restore.resource_id", r.ResourceID}} {
		if f.v == nil || *f.v == "" {
			continue
		}
		if err := checkUUID(f.name, *f.v); err != nil {
			return nil, err
		}
		if server != "" && !strings.EqualFold(server, *f.v) {
			return nil, badParam("invalid parameter restore.resource_id: %s is not restore.server_id %s", *f.v, server)
		}
		server = *f.v
	}
	dir := ""
	if r.Details != nil && r.Details.DestinationPath != nil {
		dir = *r.Details.DestinationPath
		if dir == "" || !filepath.IsAbs(dir) {
			return nil, badParam("invalid parameter restore.details.destination_path: %q must be an absolute directory (new images go there)", dir)
		}
		if server != "" {
			return nil, badParam("invalid parameter restore.details.destination_path: give a server to restore to, or a destination path for new images, not both")
		}
	}
	if r.VolumeID != nil && *r.VolumeID != "" {
		if err := checkUUID("restore.volume_id", *r.VolumeID); err != nil {
			return nil, err
		}
	}
	if r.Mappings != nil {
		for i, m := range *r.Mappings {
			f := "restore.mappings[" + strconv.Itoa(i) + "]"
			if m.BackupID == nil || m.VolumeID == nil {
				return nil, badParam("invalid parameter %s: backup_id and volume_id are required", f)
			}
			if err := checkUUID(f+".backup_id", *m.BackupID); err != nil {
				return nil, err
			}
		}
	}
	p, disk, err := h.findBackup(ctx, q, q.value("backup_id"))
	if err != nil {
		return nil, err
	}
	spec := service.RestoreSpec{PointID: p.ID, Dir: dir}
	if dir == "" {
		spec.ResourceID = p.ResourceID
		if server != "" {
			vm, err := h.findVM(ctx, q, "restore.server_id", server)
			if err != nil {
				return nil, err
			}
			spec.ResourceID = vm.ID
		}
	}
	var vm *catalog.Resource
	if spec.ResourceID != "" {
		if x, err := h.svc.GetVM(ctx, q.caller, spec.ResourceID); err == nil {
			vm = x
		}
	}
	mapping := map[string]string{}
	if disk != "" {
		to := disk
		if r.VolumeID != nil && *r.VolumeID != "" && vm != nil {
			if to = diskOf(vm, *r.VolumeID); to == "" {
				return nil, badParam("invalid parameter restore.volume_id: VM %s has no volume %s", vm.Name, *r.VolumeID)
			}
		}
		mapping[disk] = to
	}
	if r.Mappings != nil {
		for i, m := range *r.Mappings {
			f := "restore.mappings[" + strconv.Itoa(i) + "]"
			from := ""
			for _, d := range p.Disks {
				if strings.EqualFold(d.ID, *m.BackupID) {
					from = d.DiskName
				}
			}
			if from == "" {
				return nil, badParam("invalid parameter %s.backup_id: %s is not a disk backup of backup %s", f, *m.BackupID, p.ID)
			}
			to := from
			if vm != nil {
				if to = diskOf(vm, *m.VolumeID); to == "" {
					return nil, badParam("invalid parameter %s.volume_id: VM %s has no volume %s", f, vm.Name, *m.VolumeID)
				}
			}
			if _, dup := mapping[from]; dup {
				return nil, errorf(http.StatusBadRequest, CodeDuplicateResource, "Duplicate resource: %s.backup_id %s is mapped twice", f, *m.BackupID)
			}
			mapping[from] = to
		}
	}
	if len(mapping) > 0 {
		spec.Disks = mapping
	}
	if _, err := h.svc.RestorePoint(ctx, q.caller, spec); err != nil {
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusAccepted}, nil
}
