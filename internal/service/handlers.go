package service

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/disksource"
	"github.com/cairn-vm/cairn/internal/disksource/file"
	"github.com/cairn-vm/cairn/internal/jobs"
	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/vault"
)

// registerJobs registers the handlers of the operation kinds.
func (s *Service) registerJobs() {
	s.runner.Register(OpBackup, jobs.Kind{Run: s.runBackup, Finish: s.finishBackup})
	s.runner.Register(OpCopy, jobs.Kind{Run: s.runCopy, Finish: s.finishCopy})
	s.runner.Register(OpDeletePoint, jobs.Kind{Run: s.runDeletePoint, Finish: s.finishDeletePoint})
	s.runner.Register(OpDeleteVault, jobs.Kind{Run: s.runDeleteVault, Finish: s.finishDeleteVault})
	s.runner.Register(OpRestoreDisk, jobs.Kind{Run: s.runRestoreDisk, Finish: s.finishRestoreDisk})
	s.runner.Register(OpRestorePoint, jobs.Kind{Run: s.runRestorePoint})
}

// finishers returns the Finish of a kind, for operations canceled while
// queued (which no runner finishes).
func (s *Service) finisher(kind string) jobs.FinishFunc {
	switch kind {
	case OpBackup:
		return s.finishBackup
	case OpCopy:
		return s.finishCopy
	case OpDeletePoint:
		return s.finishDeletePoint
	case OpDeleteVault:
		return s.finishDeleteVault
	case OpRestoreDisk:
		return s.finishRestoreDisk
	}
	return nil
}

// gone is the error of a handler whose record was deleted meanwhile.
func gone(what, id string) error {
	return &catalog.OpError{Code: jobs.CodeNotFound, Message: fmt.Sprintf("%s %s was deleted meanwhile", what, id)}
}

// reason returns the failure reason of an outcome.
func reason(out *catalog.Outcome) string {
	if out.Error == nil {
		return string(out.State)
	}
	return out.Error.Message
}

// pointTags returns the tags of the storage point of catalog point p in
// catalog vault v.
func (s *Service) pointTags(ctx context.Context, p *catalog.RestorePoint, v *catalog.Vault) map[string]string {
	tags := map[string]string{
		catalog.TagVault:    v.ID,
		catalog.TagPoint:    p.ID,
		catalog.TagName:     p.Name,
		catalog.TagSource:   p.SourcePointID,
		TagProject:          v.ProjectID,
		TagProjectName:      "",
		TagVaultName:        v.Name,
		TagVaultGroup:       v.ResourceGroup,
		TagVaultSource:      v.SourceResourceID,
		TagVaultSourceVault: v.SourceVaultID,
	}
	if pr, err := s.cat.GetProject(ctx, v.ProjectID); err == nil {
		tags[TagProjectName] = pr.Name
	}
	return tags
}

// dropEmpty removes the tags with empty values.
func dropEmpty(tags map[string]string) map[string]string {
	for k, v := range tags {
		if v == "" {
			delete(tags, k)
		}
	}
	return tags
}

// --- backup

// backupOutput is the Result of a backup operation: BackupResult and the
// disks, for Finish.
type backupOutput struct {
	BackupResult
	Disks []vault.Disk `json:"disks"`
}

// diskSource adapts a disk reader to the backup engine, with the backup
// rate limit.
type diskSource struct {
	disksource.Reader
	ctx   context.Context
	limit interface {
		Wait(ctx context.Context, n int) error
	}
}

func (d diskSource) ReadAt(p []byte, off int64) (int, error) {
	if d.limit != nil {
		if err := d.limit.Wait(d.ctx, len(p)); err != nil {
			return 0, err
		}
	}
	return d.Reader.ReadAt(p, off)
}

// Allocated returns the extents of the disk that may hold data.
func (d diskSource) Allocated(ctx context.Context) ([]cairn.Extent, error) {
	return disksource.Extents(ctx, d.Reader)
}

var _ backup.Allocator = diskSource{}

func (s *Service) runBackup(ctx context.Context, op *catalog.Operation, prog jobs.Progress) (json.RawMessage, error) {
	var par backupParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("operation parameters: %w", err))
	}
	p, err := s.cat.GetRestorePoint(ctx, par.PointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, gone("restore point", par.PointID)
	} else if err != nil {
		return nil, err
	}
	if p.State != catalog.PointCreating {
		return nil, cairn.E(cairn.Conflict, fmt.Errorf("restore point %s is %s", p.Name, p.State))
	}
	vm, err := s.cat.GetResource(ctx, par.ResourceID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, gone("VM", par.ResourceID)
	} else if err != nil {
		return nil, err
	}
	v, err := s.cat.GetVault(ctx, p.VaultID)
	if err != nil {
		return nil, err
	}
	reg, err := s.region(v.Region, cairn.NotExist)
	if err != nil {
		return nil, err
	}
	if op.Attempt > 1 {
		// An earlier attempt may have committed the point before it was
		// interrupted.
		if sp, err := findTagged(ctx, reg.vault, p.ID); err != nil {
			return nil, err
		} else if sp != nil {
			s.log.Info("backup: an earlier attempt committed the point", "point", p.ID, "vaultPoint", sp.ID)
			return backupResult(p.ID, sp)
		}
	}
	var disks []backup.Disk
	defer func() {
		for _, d := range disks {
			d.Source.(diskSource).Close()
		}
	}()
	for _, d := range vm.Disks {
		if contains(p.ExcludedDisks, d.Name) {
			continue
		}
		r, err := openDisk(d)
		if err != nil {
			return nil, err
		}
		src := diskSource{Reader: r, ctx: ctx}
		if s.backupLimit != nil {
			src.limit = s.backupLimit
		}
		disks = append(disks, backup.Disk{Name: d.Name, Source: src})
	}
	res, err := backup.Run(ctx, reg.vault, disks, backup.Options{
		VM:          vmOf(vm),
		Consistency: p.ConsistencyMode,
		Tags:        dropEmpty(s.pointTags(ctx, p, v)),
		Excluded:    p.ExcludedDisks,
		Parent:      "none",
		Progress:    prog,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		s.log.Warn("backup", "point", p.ID, "disk", w.Disk, "warning", w.Message)
	}
	return backupResult(p.ID, res.Point)
}

func backupResult(pointID string, sp *vault.RestorePoint) (json.RawMessage, error) {
	out := backupOutput{BackupResult: BackupResult{RestorePointID: pointID, VaultPointID: sp.ID}, Disks: sp.Disks}
	for _, d := range sp.Disks {
		out.BytesRead += d.ReadBytes
		out.NewBytes += d.NewBytes
		out.NewChunks += d.NewChunks
	}
	return json.Marshal(out)
}

// openDisk opens a VM disk's image.
func openDisk(d catalog.ResourceDisk) (disksource.Reader, error) {
	path, err := diskPath(d.URI)
	if err != nil {
		return nil, fmt.Errorf("disk %s: %w", d.Name, err)
	}
	r, err := file.Open(path)
	if err != nil {
		return nil, fmt.Errorf("disk %s: %w", d.Name, err)
	}
	return r, nil
}

// findTagged returns the storage point that the catalog point id made, or
// nil.
func findTagged(ctx context.Context, v *vault.Vault, pointID string) (*vault.RestorePoint, error) {
	pts, err := v.Points(ctx)
	if err != nil {
		return nil, err
	}
	for _, sp := range pts {
		if sp.Tags[catalog.TagPoint] == pointID {
			return sp, nil
		}
	}
	return nil, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Service) finishBackup(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
	var par backupParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil
	}
	p, err := tx.GetRestorePoint(ctx, par.PointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if out.State != catalog.OpSucceeded {
		p.State, p.FailureReason = catalog.PointFailed, reason(out)
		return tx.PutRestorePoint(ctx, p)
	}
	var res backupOutput
	if err := json.Unmarshal(out.Result, &res); err != nil {
		return cairn.E(cairn.Corrupt, fmt.Errorf("backup result: %w", err))
	}
	p.State, p.FailureReason, p.VaultPointID = catalog.PointSucceeded, "", res.VaultPointID
	if err := tx.PutRestorePoint(ctx, p); err != nil {
		return err
	}
	if err := putDisks(ctx, tx, p, res.Disks, catalog.ReplicationNone); err != nil {
		return err
	}
	out.Result, _ = json.Marshal(res.BackupResult)
	return nil
}

// putDisks records a disk restore point for each disk that p lacks.
func putDisks(ctx context.Context, tx catalog.Tx, p *catalog.RestorePoint, disks []vault.Disk, state catalog.ReplicationState) error {
	have, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
		return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: p.ID}, pg)
	})
	if err != nil {
		return err
	}
	for _, d := range disks {
		found := false
		for _, h := range have {
			found = found || h.DiskName == d.Name
		}
		if found {
			continue
		}
		if err := tx.PutDiskRestorePoint(ctx, &catalog.DiskRestorePoint{RestorePointID: p.ID, DiskName: d.Name, Size: d.Size, ReplicationState: state}); err != nil {
			return err
		}
	}
	return nil
}

// --- copy

func (s *Service) runCopy(ctx context.Context, op *catalog.Operation, prog jobs.Progress) (json.RawMessage, error) {
	var par copyParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("operation parameters: %w", err))
	}
	p, err := s.cat.GetRestorePoint(ctx, par.PointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, gone("restore point", par.PointID)
	} else if err != nil {
		return nil, err
	}
	src, err := s.cat.GetRestorePoint(ctx, par.SourcePointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, gone("source restore point", par.SourcePointID)
	} else if err != nil {
		return nil, err
	}
	if src.VaultPointID == "" {
		return nil, cairn.E(cairn.Conflict, fmt.Errorf("source restore point %s is not committed", src.Name))
	}
	dstVault, err := s.cat.GetVault(ctx, p.VaultID)
	if err != nil {
		return nil, err
	}
	srcVault, err := s.cat.GetVault(ctx, src.VaultID)
	if err != nil {
		return nil, err
	}
	dstReg, err := s.region(dstVault.Region, cairn.NotExist)
	if err != nil {
		return nil, err
	}
	srcReg, err := s.region(srcVault.Region, cairn.NotExist)
	if err != nil {
		return nil, err
	}
	// The copy has started: the point is succeeded, its disks replicate.
	err = s.cat.Update(ctx, func(tx catalog.Tx) error {
		p, err := tx.GetRestorePoint(ctx, par.PointID)
		if err != nil {
			return err
		}
		if p.State == catalog.PointCreating {
			p.State = catalog.PointSucceeded
			if err := tx.PutRestorePoint(ctx, p); err != nil {
				return err
			}
		}
		return setReplication(ctx, tx, p.ID, catalog.ReplicationCopying)
	})
	if err != nil {
		return nil, err
	}
	workers := s.cfg.Copy.Workers
	if par.Workers > 0 {
		workers = par.Workers
	}
	opts := replicate.Options{
		Workers:    workers,
		Progress:   prog,
		SkipVerify: s.cfg.Copy.SkipVerify,
		PointID:    par.VaultPointID,
		Tags:       s.pointTags(ctx, p, dstVault),
	}
	if s.copyLimit != nil {
		opts.Limiter = s.copyLimit
	}
	res, err := replicate.Copy(ctx, srcReg.vault, dstReg.vault, src.VaultPointID, opts)
	if err != nil {
		return nil, err
	}
	s.log.Info("copy done", "point", p.ID, "from", srcVault.Region, "to", dstVault.Region,
		"bytesWritten", res.BytesWritten, "chunksCopied", res.ChunksCopied, "chunksSkipped", res.ChunksSkipped, "existed", res.Existed)
	return json.Marshal(CopyResult{
		RestorePointID: p.ID,
		VaultPointID:   res.Point.ID,
		BytesRead:      res.BytesRead,
		BytesWritten:   res.BytesWritten,
		ChunksCopied:   res.ChunksCopied,
		ChunksSkipped:  res.ChunksSkipped,
		Verified:       res.Verified,
	})
}

// setReplication sets the replication state of a point's disks.
func setReplication(ctx context.Context, tx catalog.Tx, pointID string, state catalog.ReplicationState) error {
	disks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
		return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: pointID}, pg)
	})
	if err != nil {
		return err
	}
	for _, d := range disks {
		if d.ReplicationState == state {
			continue
		}
		d.ReplicationState = state
		if state == catalog.ReplicationSucceeded {
			d.BytesDone, d.BytesTotal = d.Size, d.Size
		}
		if err := tx.PutDiskRestorePoint(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) finishCopy(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
	var par copyParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil
	}
	p, err := tx.GetRestorePoint(ctx, par.PointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if out.State != catalog.OpSucceeded {
		p.State, p.FailureReason = catalog.PointFailed, reason(out)
		if err := tx.PutRestorePoint(ctx, p); err != nil {
			return err
		}
		return setReplication(ctx, tx, p.ID, catalog.ReplicationFailed)
	}
	var res CopyResult
	if err := json.Unmarshal(out.Result, &res); err != nil {
		return cairn.E(cairn.Corrupt, fmt.Errorf("copy result: %w", err))
	}
	p.State, p.FailureReason, p.VaultPointID = catalog.PointSucceeded, "", res.VaultPointID
	if err := tx.PutRestorePoint(ctx, p); err != nil {
		return err
	}
	return setReplication(ctx, tx, p.ID, catalog.ReplicationSucceeded)
}

// --- delete

// deleteStored deletes the storage point of catalog point p, if any.
func (s *Service) deleteStored(ctx context.Context, p *catalog.RestorePoint) error {
	if p.VaultPointID == "" {
		return nil
	}
	v, err := s.cat.GetVault(ctx, p.VaultID)
	if err != nil {
		return err
	}
	reg, err := s.region(v.Region, cairn.NotExist)
	if err != nil {
		return err
	}
	sp, err := reg.vault.LoadPoint(ctx, p.VaultPointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return reg.vault.DeletePoint(ctx, sp)
}

func (s *Service) runDeletePoint(ctx context.Context, op *catalog.Operation, prog jobs.Progress) (json.RawMessage, error) {
	var par deletePointParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("operation parameters: %w", err))
	}
	p, err := s.cat.GetRestorePoint(ctx, par.PointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return nil, s.deleteStored(ctx, p)
}

func (s *Service) finishDeletePoint(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
	var par deletePointParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil
	}
	p, err := tx.GetRestorePoint(ctx, par.PointID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if out.State == catalog.OpSucceeded {
		return ignoreNotExist(tx.DeleteRestorePoint(ctx, p.ID))
	}
	// The storage point may be gone already: the point is not usable.
	p.State, p.FailureReason = catalog.PointFailed, "deletion did not complete: "+reason(out)
	return tx.PutRestorePoint(ctx, p)
}

func ignoreNotExist(err error) error {
	if cairn.IsKind(err, cairn.NotExist) {
		return nil
	}
	return err
}

func (s *Service) vaultPoints(ctx context.Context, tx catalog.Tx, vaultID string) ([]*catalog.RestorePoint, error) {
	return listAll(func(pg catalog.Page) ([]*catalog.RestorePoint, string, error) {
		return tx.ListRestorePoints(ctx, catalog.RestorePointFilter{VaultID: vaultID}, pg)
	})
}

func (s *Service) runDeleteVault(ctx context.Context, op *catalog.Operation, prog jobs.Progress) (json.RawMessage, error) {
	var par deleteVaultParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("operation parameters: %w", err))
	}
	points, err := s.vaultPoints(ctx, s.cat, par.VaultID)
	if err != nil {
		return nil, err
	}
	for i, p := range points {
		prog.Set("points", int64(i), int64(len(points)))
		if err := s.deleteStored(ctx, p); err != nil {
			return nil, fmt.Errorf("restore point %s: %w", p.Name, err)
		}
	}
	prog.Set("points", int64(len(points)), int64(len(points)))
	return nil, nil
}

func (s *Service) finishDeleteVault(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
	var par deleteVaultParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil
	}
	points, err := s.vaultPoints(ctx, tx, par.VaultID)
	if err != nil {
		return err
	}
	if out.State != catalog.OpSucceeded {
		for _, p := range points {
			if p.State == catalog.PointDeleting {
				p.State, p.FailureReason = catalog.PointFailed, "the vault's deletion did not complete: "+reason(out)
				if err := tx.PutRestorePoint(ctx, p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, p := range points {
		if p.State != catalog.PointDeleting {
			// Made after the deletion began: keep the vault.
			return cairn.E(cairn.Conflict, fmt.Errorf("restore point %s was added to the vault during its deletion", p.Name))
		}
		if err := ignoreNotExist(tx.DeleteRestorePoint(ctx, p.ID)); err != nil {
			return err
		}
	}
	if err := deleteVaultRecords(ctx, tx, par.VaultID); err != nil {
		return err
	}
	return ignoreNotExist(tx.DeleteVault(ctx, par.VaultID))
}

// --- restore a disk

// restoreDiskParams are the Params of a restore-disk operation.
type restoreDiskParams struct {
	VolumeID           string `json:"volumeId"`
	DiskRestorePointID string `json:"diskRestorePointId"`
	PointID            string `json:"pointId"`
	Path               string `json:"path"`
}

func (s *Service) runRestoreDisk(ctx context.Context, op *catalog.Operation, prog jobs.Progress) (json.RawMessage, error) {
	var par restoreDiskParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("operation parameters: %w", err))
	}
	vol, err := s.cat.GetResource(ctx, par.VolumeID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, gone("disk", par.VolumeID)
	} else if err != nil {
		return nil, err
	}
	v, disk, m, err := s.openStoredDisk(ctx, par.DiskRestorePointID)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(par.Path), 0o755); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("disk directory: %w", err))
	}
	// Every attempt writes the image anew under a temporary name.
	tmp := par.Path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("create %s: %w", tmp, err))
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Truncate(m.DiskSize); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("size %s: %w", tmp, err))
	}
	opts := restore.Options{Progress: prog}
	if s.restoreLimit != nil {
		opts.Limiter = s.restoreLimit
	}
	n, err := restore.Manifest(ctx, v, m, f, vol.Name, opts)
	if err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("sync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("close %s: %w", tmp, err))
	}
	if err := os.Rename(tmp, par.Path); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("rename %s: %w", tmp, err))
	}
	ok = true
	s.log.Info("disk restored", "disk", vol.ID, "from", disk.Name, "path", par.Path, "written", n)
	return json.Marshal(RestoreDiskResult{VolumeID: vol.ID, Path: par.Path, Size: m.DiskSize, Written: n})
}

// openStoredDisk finds the vault, the storage disk and the manifest of a
// disk restore point.
func (s *Service) openStoredDisk(ctx context.Context, drpID string) (*vault.Vault, *vault.Disk, *vault.Manifest, error) {
	d, err := s.cat.GetDiskRestorePoint(ctx, drpID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, nil, nil, gone("disk restore point", drpID)
	} else if err != nil {
		return nil, nil, nil, err
	}
	p, err := s.cat.GetRestorePoint(ctx, d.RestorePointID)
	if err != nil {
		return nil, nil, nil, err
	}
	if p.VaultPointID == "" {
		return nil, nil, nil, cairn.E(cairn.Conflict, fmt.Errorf("restore point %s is not committed", p.Name))
	}
	cv, err := s.cat.GetVault(ctx, p.VaultID)
	if err != nil {
		return nil, nil, nil, err
	}
	reg, err := s.region(cv.Region, cairn.NotExist)
	if err != nil {
		return nil, nil, nil, err
	}
	sp, err := reg.vault.LoadPoint(ctx, p.VaultPointID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("restore point %s: %w", p.Name, err)
	}
	disk := sp.Disk(d.DiskName)
	if disk == nil {
		return nil, nil, nil, cairn.E(cairn.Corrupt, fmt.Errorf("restore point %s has no disk %q in storage", p.Name, d.DiskName))
	}
	m, err := reg.vault.LoadManifest(ctx, disk)
	if err != nil {
		return nil, nil, nil, err
	}
	return reg.vault, disk, m, nil
}

func (s *Service) finishRestoreDisk(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
	if out.State != catalog.OpSucceeded {
		return nil
	}
	var par restoreDiskParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil
	}
	var res RestoreDiskResult
	if err := json.Unmarshal(out.Result, &res); err != nil {
		return cairn.E(cairn.Corrupt, fmt.Errorf("restore result: %w", err))
	}
	vol, err := tx.GetResource(ctx, par.VolumeID)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil
	} else if err != nil {
		return err
	}
	if len(vol.Disks) == 1 && vol.Disks[0].Size != res.Size {
		vol.Disks[0].Size = res.Size
		return tx.PutResource(ctx, vol)
	}
	return nil
}
