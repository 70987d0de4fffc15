package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/jobs"
	"github.com/cairn-vm/cairn/internal/restore"
)

// restorePointParams are the Params of a restore-point operation.
type restorePointParams struct {
	PointID string          `json:"pointId"`
	VaultID string          `json:"vaultId,omitempty"`
	Region  string          `json:"region,omitempty"`
	VMID    string          `json:"vmId,omitempty"` // in place: the VM whose images are written
	Dir     string          `json:"dir,omitempty"`  // to new images: where they go
	Targets []restoreTarget `json:"targets"`
	InPlace bool            `json:"inPlace,omitempty"`
}

// restoreTarget is one image a restore-point operation writes.
type restoreTarget struct {
	DiskRestorePointID string      `json:"diskRestorePointId"`
	Disk               string      `json:"disk"` // the disk restore point's disk name
	Path               string      `json:"path"`
	MinSize            int64       `json:"minSize,omitempty"` // in place: the image keeps at least its old size
	Mode               fs.FileMode `json:"mode,omitempty"`
}

// RestorePointResult is the Result of a succeeded restore-point
// operation.
type RestorePointResult struct {
	PointID string               `json:"pointId"`
	Disks   []restore.DiskResult `json:"disks"`
}

func (s *Service) restorePoint(ctx context.Context, c Caller, spec RestoreSpec) (*catalog.Operation, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if (spec.ResourceID == "") == (spec.Dir == "") {
		return nil, invalid("restore: give the VM to restore in place or a directory for new images, one of the two")
	}
	if spec.Dir != "" {
		if !filepath.IsAbs(spec.Dir) {
			return nil, invalid("restore: the directory %q must be an absolute path", spec.Dir)
		}
		spec.Dir = filepath.Clean(spec.Dir)
	}
	var op *catalog.Operation
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		p, err := getPointTx(ctx, tx, c, spec.PointID)
		if err != nil {
			return err
		}
		disks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
			return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: p.ID}, pg)
		})
		if err != nil {
			return err
		}
		if !restorable(p, disks) {
			return markErr(cairn.Conflict, ErrNotRestorable, "restore point %s is %s: it cannot be restored", p.Name, pointStatus(p, disks))
		}
		chosen := map[string]string{} // disk name of the point -> disk name of the target
		if len(spec.Disks) == 0 {
			for _, d := range disks {
				chosen[d.DiskName] = d.DiskName
			}
		} else {
			for from, to := range spec.Disks {
				if to == "" {
					to = from
				}
				chosen[from] = to
			}
		}
		par := restorePointParams{PointID: p.ID, VaultID: p.VaultID}
		if v, err := tx.GetVault(ctx, p.VaultID); err == nil {
			par.Region = v.Region
		}
		resourceID := ""
		if spec.ResourceID != "" {
			vm, err := s.getResource(ctx, tx, c, catalog.KindVM, spec.ResourceID)
			if err != nil {
				return err
			}
			if vm.ID != p.ResourceID {
				return markErr(cairn.Invalid, ErrRestoreOtherServer, "restore point %s is of VM %s, not %s: a restore in place goes to the VM it was made of", p.Name, p.ResourceID, vm.ID)
			}
			if op, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: vm.ID}); err != nil {
				return err
			} else if op != nil {
				return markErr(cairn.Conflict, ErrResourceBusy, "VM %s is busy: operation %s (%s) is %s; restore it when that is done", vm.Name, op.ID, op.Kind, op.State)
			}
			par.VMID, par.InPlace, resourceID = vm.ID, true, vm.ID
			for _, d := range disks {
				to, ok := chosen[d.DiskName]
				if !ok {
					continue
				}
				delete(chosen, d.DiskName)
				vd := vm.Disk(to)
				if vd == nil {
					return invalid("restore: VM %s has no disk %q (it has %s)", vm.Name, to, diskNames(vm))
				}
				path, err := diskPath(vd.URI)
				if err != nil {
					return err
				}
				fi, err := os.Stat(path)
				if err != nil {
					return cairn.E(cairn.Invalid, fmt.Errorf("restore: the image of disk %s: %w", to, err))
				}
				if !fi.Mode().IsRegular() {
					return cairn.E(cairn.Unsupported, fmt.Errorf("restore: the image of disk %s, %s, is not a regular file: only image files are restored in place", to, path))
				}
				if fi.Size() < d.Size {
					return markErr(cairn.Invalid, ErrTargetTooSmall, "restore: disk %s of VM %s has %d bytes, the backup of %s %d", to, vm.Name, fi.Size(), d.DiskName, d.Size)
				}
				par.Targets = append(par.Targets, restoreTarget{DiskRestorePointID: d.ID, Disk: d.DiskName, Path: path, MinSize: fi.Size(), Mode: fi.Mode().Perm()})
			}
		} else {
			par.Dir, resourceID = spec.Dir, "dir:"+spec.Dir
			for _, d := range disks {
				if _, ok := chosen[d.DiskName]; !ok {
					continue
				}
				delete(chosen, d.DiskName)
				path := filepath.Join(spec.Dir, d.DiskName+".raw")
				if err := s.pathFree(ctx, tx, path); err != nil {
					return err
				}
				par.Targets = append(par.Targets, restoreTarget{DiskRestorePointID: d.ID, Disk: d.DiskName, Path: path, Mode: 0o600})
			}
		}
		for name := range chosen {
			return invalid("restore: restore point %s has no disk %q", p.Name, name)
		}
		if len(par.Targets) == 0 {
			return invalid("restore: no disk to restore")
		}
		params, _ := json.Marshal(par)
		op = &catalog.Operation{ProjectID: c.ProjectID, Kind: OpRestorePoint, TargetID: p.ID, ResourceID: resourceID, Params: params}
		if err := tx.CreateOperation(ctx, op); err != nil {
			if cairn.IsKind(err, cairn.Conflict) {
				return markErr(cairn.Conflict, ErrResourceBusy, "%v", err)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.runner.Kick()
	s.log.Info("restore queued", "point", spec.PointID, "op", op.ID, "inPlace", spec.ResourceID != "", "project", c.ProjectID)
	return op, nil
}

func (s *Service) runRestorePoint(ctx context.Context, op *catalog.Operation, prog jobs.Progress) (json.RawMessage, error) {
	var par restorePointParams
	if err := json.Unmarshal(op.Params, &par); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("operation parameters: %w", err))
	}
	res := RestorePointResult{PointID: par.PointID}
	for _, t := range par.Targets {
		v, _, m, err := s.openStoredDisk(ctx, t.DiskRestorePointID)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o755); err != nil {
			return nil, cairn.E(cairn.IO, fmt.Errorf("disk directory: %w", err))
		}
		// Every attempt writes the image anew under a temporary name in
		// the same directory, renamed over the target when complete.
		tmp := t.Path + ".cairn-restore"
		mode := t.Mode
		if mode == 0 {
			mode = 0o600
		}
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
		if err != nil {
			return nil, cairn.E(cairn.IO, fmt.Errorf("create %s: %w", tmp, err))
		}
		size := max(m.DiskSize, t.MinSize)
		n, err := func() (int64, error) {
			if err := f.Truncate(size); err != nil {
				return 0, cairn.E(cairn.IO, fmt.Errorf("size %s: %w", tmp, err))
			}
			opts := restore.Options{Progress: prog}
			if s.restoreLimit != nil {
				opts.Limiter = s.restoreLimit
			}
			n, err := restore.Manifest(ctx, v, m, f, t.Disk, opts)
			if err != nil {
				return 0, err
			}
			if err := f.Sync(); err != nil {
				return 0, cairn.E(cairn.IO, fmt.Errorf("sync %s: %w", tmp, err))
			}
			return n, nil
		}()
		cerr := f.Close()
		if err == nil && cerr != nil {
			err = cairn.E(cairn.IO, fmt.Errorf("close %s: %w", tmp, cerr))
		}
		if err == nil {
			if rerr := os.Rename(tmp, t.Path); rerr != nil {
				err = cairn.E(cairn.IO, fmt.Errorf("rename %s: %w", tmp, rerr))
			}
		}
		if err != nil {
			os.Remove(tmp)
			return nil, err
		}
		res.Disks = append(res.Disks, restore.DiskResult{Disk: t.Disk, Path: t.Path, Size: size, Written: n})
		s.log.Info("disk restored", "point", par.PointID, "disk", t.Disk, "path", t.Path, "inPlace", par.InPlace, "written", n)
	}
	return json.Marshal(res)
}

// restorePointTargets returns the images a restore-point operation
// writes, for views.
func restorePointTargets(op *catalog.Operation) restorePointParams {
	var par restorePointParams
	json.Unmarshal(op.Params, &par)
	return par
}
