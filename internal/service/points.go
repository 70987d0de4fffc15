package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Tags that the service puts on storage restore points besides the
// catalog.Tag* ones, so that Rebuild can recreate the project and the
// vault of a point from the storage alone.
const (
	TagProject          = "cairn.project"          // the project's id
	TagProjectName      = "cairn.projectName"      // the project's name
	TagVaultName        = "cairn.vaultName"        // the catalog vault's name
	TagVaultGroup       = "cairn.vaultGroup"       // the catalog vault's resource group
	TagVaultSource      = "cairn.vaultSource"      // the catalog vault's SourceResourceID
	TagVaultSourceVault = "cairn.vaultSourceVault" // the catalog vault's SourceVaultID
)

// backupParams are the Params of a backup operation.
type backupParams struct {
	PointID    string `json:"pointId"`
	ResourceID string `json:"resourceId"`
	// Where the point goes, for views of the operation once it is gone.
	VaultID      string `json:"vaultId,omitempty"`
	Region       string `json:"region,omitempty"`
	CheckpointID string `json:"checkpointId,omitempty"`
}

// copyParams are the Params of a copy operation.
type copyParams struct {
	PointID       string `json:"pointId"`       // the new (destination) catalog point
	SourcePointID string `json:"sourcePointId"` // the catalog point copied
	// VaultPointID is the id of the destination storage point, chosen when
	// the copy is queued, so that every attempt makes the same point.
	VaultPointID string `json:"vaultPointId"`
	// Workers is how many chunks the copy moves at once; 0 = the
	// service's CopyConfig.Workers.
	Workers int `json:"workers,omitempty"`
	// Where the source point is, for views of the operation once it is
	// gone.
	SourceVaultID string `json:"sourceVaultId,omitempty"`
	SourceRegion  string `json:"sourceRegion,omitempty"`
}

// deletePointParams are the Params of a delete-point operation.
type deletePointParams struct {
	PointID string `json:"pointId"`
	// What the point was, for views of the operation once it is gone.
	VaultID    string `json:"vaultId,omitempty"`
	Region     string `json:"region,omitempty"`
	Name       string `json:"name,omitempty"`
	ResourceID string `json:"resourceId,omitempty"`
}

func getPointTx(ctx context.Context, tx catalog.Tx, c Caller, id string) (*catalog.RestorePoint, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("no restore point id given")
	}
	p, err := tx.GetRestorePoint(ctx, id)
	if err != nil {
		return nil, hide(err, "restore point", id)
	}
	if err := own(c, p.ProjectID, "restore point", id); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) createRestorePoint(ctx context.Context, c Caller, spec RestorePointSpec) (*RestorePoint, *catalog.Operation, error) {
	if err := checkCaller(c); err != nil {
		return nil, nil, err
	}
	if err := validateName("restore point name", spec.Name); err != nil {
		return nil, nil, err
	}
	if err := checkJSON("attrs", spec.Attrs); err != nil {
		return nil, nil, err
	}
	mode := ""
	if spec.ConsistencyMode != "" || spec.SourcePointID == "" {
		m, err := vault.ParseConsistencyMode(spec.ConsistencyMode)
		if err != nil {
			return nil, nil, err
		}
		mode = m
	}
	var p *catalog.RestorePoint
	var op *catalog.Operation
	var region string
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, spec.VaultID)
		if err != nil {
			return err
		}
		region = v.Region
		if _, err := s.region(v.Region, cairn.Invalid); err != nil {
			return err
		}
		if del, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: v.ID, Kind: OpDeleteVault}); err != nil {
			return err
		} else if del != nil {
			return cairn.E(cairn.Conflict, fmt.Errorf("vault %s is being deleted (operation %s)", v.Name, del.ID))
		}
		if spec.ID != "" {
			if _, err := tx.GetRestorePoint(ctx, spec.ID); err == nil {
				return cairn.E(cairn.Exist, fmt.Errorf("restore point %s already exists", spec.ID))
			} else if !cairn.IsKind(err, cairn.NotExist) {
				return err
			}
		}
		if spec.SourcePointID != "" {
			p, op, err = s.queueCopy(ctx, tx, c, v, spec, mode)
		} else {
			p, op, err = s.queueBackup(ctx, tx, c, v, spec, mode)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	s.runner.Kick()
	s.log.Info("restore point queued", "point", p.ID, "kind", op.Kind, "op", op.ID, "project", c.ProjectID)
	rp, err := s.pointView(ctx, s.cat, p, region)
	return rp, op, err
}

// queueBackup records a new restore point of a VM and queues its backup.
func (s *Service) queueBackup(ctx context.Context, tx catalog.Tx, c Caller, v *catalog.Vault, spec RestorePointSpec, mode string) (*catalog.RestorePoint, *catalog.Operation, error) {
	if v.SourceVaultID != "" {
		return nil, nil, invalid("vault %s is a copy target of another region's vault: it takes only copies (give a source restore point)", v.Name)
	}
	resID := spec.ResourceID
	switch {
	case resID == "":
		resID = v.SourceResourceID
	case v.SourceResourceID != "" && resID != v.SourceResourceID:
		// Another VM may go in only if it is bound to the vault.
		if b, err := bindingOfResource(ctx, tx, resID); err != nil {
			return nil, nil, err
		} else if b == nil || b.ParentID != v.ID {
			return nil, nil, invalid("vault %s holds restore points of VM %s, not %s", v.Name, v.SourceResourceID, resID)
		}
	}
	if resID == "" {
		return nil, nil, invalid("vault %s has no source VM: say which VM to make a restore point of", v.Name)
	}
	vm, err := s.getResource(ctx, tx, c, catalog.KindVM, resID)
	if err != nil {
		return nil, nil, err
	}
	if vm.Region != v.Region {
		return nil, nil, invalid("VM %s is in region %s, vault %s in %s: a restore point is made in the VM's region", vm.Name, vm.Region, v.Name, v.Region)
	}
	var excluded []string
	for _, name := range spec.ExcludeDisks {
		if vm.Disk(name) == nil {
			return nil, nil, invalid("excludeDisks: VM %s has no disk %q (it has %s)", vm.Name, name, diskNames(vm))
		}
		if !slices.Contains(excluded, name) {
			excluded = append(excluded, name)
		}
	}
	if len(excluded) == len(vm.Disks) {
		return nil, nil, invalid("excludeDisks: every disk of VM %s is excluded: nothing to back up", vm.Name)
	}
	meta, err := json.Marshal(vmOf(vm))
	if err != nil {
		return nil, nil, err
	}
	p := &catalog.RestorePoint{
		ID:              spec.ID,
		VaultID:         v.ID,
		Name:            spec.Name,
		ResourceID:      vm.ID,
		ConsistencyMode: mode,
		State:           catalog.PointCreating,
		ExcludedDisks:   excluded,
		Metadata:        meta,
		Attrs:           spec.Attrs,
	}
	if err := tx.PutRestorePoint(ctx, p); err != nil {
		return nil, nil, err
	}
	params, _ := json.Marshal(backupParams{PointID: p.ID, ResourceID: vm.ID, VaultID: v.ID, Region: v.Region, CheckpointID: attrString(spec.Attrs, checkpointAttr)})
	op := &catalog.Operation{ProjectID: c.ProjectID, Kind: OpBackup, TargetID: p.ID, ResourceID: vm.ID, Params: params}
	if err := tx.CreateOperation(ctx, op); err != nil {
		return nil, nil, err
	}
	return p, op, nil
}

// queueCopy records a new restore point copied from another region and
// queues the copy.
func (s *Service) queueCopy(ctx context.Context, tx catalog.Tx, c Caller, v *catalog.Vault, spec RestorePointSpec, mode string) (*catalog.RestorePoint, *catalog.Operation, error) {
	src, err := getPointTx(ctx, tx, c, spec.SourcePointID)
	if err != nil {
		return nil, nil, fmt.Errorf("source restore point: %w", err)
	}
	srcVault, err := tx.GetVault(ctx, src.VaultID)
	if err != nil {
		return nil, nil, err
	}
	if srcVault.Region == v.Region {
		return nil, nil, invalid("source restore point %s is in region %s, the region of vault %s: a copy goes to another region", src.Name, v.Region, v.Name)
	}
	if _, err := s.region(srcVault.Region, cairn.Invalid); err != nil {
		return nil, nil, err
	}
	if v.SourceVaultID != "" && v.SourceVaultID != src.VaultID {
		return nil, nil, invalid("vault %s copies vault %s: restore point %s is in another vault", v.Name, v.SourceVaultID, src.Name)
	}
	if v.SourceResourceID != "" && v.SourceResourceID != src.ResourceID {
		return nil, nil, invalid("vault %s holds restore points of VM %s: restore point %s is of another VM", v.Name, v.SourceResourceID, src.Name)
	}
	srcDisks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
		return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: src.ID}, pg)
	})
	if err != nil {
		return nil, nil, err
	}
	if !restorable(src, srcDisks) {
		return nil, nil, cairn.E(cairn.Conflict, fmt.Errorf("source restore point %s is %s: only a complete restore point can be copied", src.Name, pointStatus(src, srcDisks)))
	}
	if mode == "" {
		mode = src.ConsistencyMode
	}
	p := &catalog.RestorePoint{
		ID:              spec.ID,
		VaultID:         v.ID,
		Name:            spec.Name,
		ResourceID:      src.ResourceID,
		ConsistencyMode: mode,
		State:           catalog.PointCreating,
		SourcePointID:   src.ID,
		ExcludedDisks:   src.ExcludedDisks,
		Metadata:        src.Metadata,
		Attrs:           spec.Attrs,
	}
	if err := tx.PutRestorePoint(ctx, p); err != nil {
		return nil, nil, err
	}
	for _, d := range srcDisks {
		dp := &catalog.DiskRestorePoint{RestorePointID: p.ID, DiskName: d.DiskName, Size: d.Size, ReplicationState: catalog.ReplicationPending, BytesTotal: d.Size}
		if err := tx.PutDiskRestorePoint(ctx, dp); err != nil {
			return nil, nil, err
		}
	}
	params, _ := json.Marshal(copyParams{PointID: p.ID, SourcePointID: src.ID, VaultPointID: vault.NewPointID(), Workers: spec.CopyWorkers})
	op := &catalog.Operation{ProjectID: c.ProjectID, Kind: OpCopy, TargetID: p.ID, ResourceID: p.ID, Params: params}
	if err := tx.CreateOperation(ctx, op); err != nil {
		return nil, nil, err
	}
	return p, op, nil
}

func diskNames(r *catalog.Resource) string {
	var names []string
	for _, d := range r.Disks {
		names = append(names, fmt.Sprintf("%q", d.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return fmt.Sprint(names)
}

// vmOf returns what a storage restore point records of a VM.
func vmOf(r *catalog.Resource) vault.VM {
	vm := vault.VM{Name: r.Name, ID: r.ID, Location: r.Region}
	var prof struct {
		HardwareProfile json.RawMessage `json:"hardwareProfile"`
		OSProfile       json.RawMessage `json:"osProfile"`
		StorageProfile  json.RawMessage `json:"storageProfile"`
	}
	if len(r.Profile) > 0 && json.Unmarshal(r.Profile, &prof) == nil {
		vm.HardwareProfile, vm.OSProfile, vm.StorageProfile = prof.HardwareProfile, prof.OSProfile, prof.StorageProfile
	}
	return vm
}

// restorable reports whether a point can be read: succeeded, committed,
// and every disk replicated.
func restorable(p *catalog.RestorePoint, disks []*catalog.DiskRestorePoint) bool {
	if p.State != catalog.PointSucceeded || p.VaultPointID == "" {
		return false
	}
	for _, d := range disks {
		if d.ReplicationState != catalog.ReplicationNone && d.ReplicationState != catalog.ReplicationSucceeded {
			return false
		}
	}
	return true
}

// pointStatus describes why a point is not restorable.
func pointStatus(p *catalog.RestorePoint, disks []*catalog.DiskRestorePoint) string {
	if p.State != catalog.PointSucceeded {
		return string(p.State)
	}
	for _, d := range disks {
		if d.ReplicationState != catalog.ReplicationNone && d.ReplicationState != catalog.ReplicationSucceeded {
			return "still replicating (disk " + d.DiskName + " is " + string(d.ReplicationState) + ")"
		}
	}
	if p.VaultPointID == "" {
		return "not committed yet"
	}
	return "restorable"
}

// pointView assembles what Get returns: the disks, the operation and live
// copy progress.
func (s *Service) pointView(ctx context.Context, tx catalog.Tx, p *catalog.RestorePoint, region string) (*RestorePoint, error) {
	disks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
		return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: p.ID}, pg)
	})
	if err != nil {
		return nil, err
	}
	if region == "" {
		v, err := tx.GetVault(ctx, p.VaultID)
		if err != nil {
			return nil, err
		}
		region = v.Region
	}
	ops, err := listAll(func(pg catalog.Page) ([]*catalog.Operation, string, error) {
		return tx.ListOperations(ctx, catalog.OperationFilter{TargetID: p.ID}, pg)
	})
	if err != nil {
		return nil, err
	}
	var op *catalog.Operation
	for _, o := range ops {
		if o.State.Active() || op == nil || !op.State.Active() {
			op = o
		}
	}
	if op != nil && op.Kind == OpCopy && op.State.Active() {
		for _, d := range disks {
			if d.ReplicationState != catalog.ReplicationCopying && d.ReplicationState != catalog.ReplicationPending {
				continue
			}
			for _, pr := range op.Progress {
				if pr.Disk == d.DiskName && pr.BytesTotal > 0 {
					d.BytesDone, d.BytesTotal = pr.BytesDone, pr.BytesTotal
				}
			}
		}
	}
	return &RestorePoint{RestorePoint: p, Disks: disks, Operation: op, Region: region, Restorable: restorable(p, disks)}, nil
}

func (s *Service) getRestorePoint(ctx context.Context, c Caller, id string) (*RestorePoint, error) {
	p, err := getPointTx(ctx, s.cat, c, id)
	if err != nil {
		return nil, err
	}
	return s.pointView(ctx, s.cat, p, "")
}

func (s *Service) findRestorePoint(ctx context.Context, c Caller, vaultID, name string) (*RestorePoint, error) {
	v, err := getVaultTx(ctx, s.cat, c, vaultID)
	if err != nil {
		return nil, err
	}
	ps, _, err := s.cat.ListRestorePoints(ctx, catalog.RestorePointFilter{ProjectID: c.ProjectID, VaultID: v.ID, Name: name}, catalog.Page{Size: 1})
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, catalog.NotFound("restore point", v.Name+"/"+name)
	}
	return s.pointView(ctx, s.cat, ps[0], v.Region)
}

func (s *Service) listRestorePoints(ctx context.Context, c Caller, vaultID string, page catalog.Page) ([]*RestorePoint, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	region := ""
	if vaultID != "" {
		v, err := getVaultTx(ctx, s.cat, c, vaultID)
		if err != nil {
			return nil, "", err
		}
		region = v.Region
	}
	ps, next, err := s.cat.ListRestorePoints(ctx, catalog.RestorePointFilter{ProjectID: c.ProjectID, VaultID: vaultID}, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*RestorePoint, 0, len(ps))
	for _, p := range ps {
		rp, err := s.pointView(ctx, s.cat, p, region)
		if err != nil {
			return nil, "", err
		}
		out = append(out, rp)
	}
	return out, next, nil
}

func (s *Service) deleteRestorePoint(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	var op *catalog.Operation
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		p, err := getPointTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		busy, err := busyPoints(ctx, tx, c.ProjectID)
		if err != nil {
			return err
		}
		if why := busy[p.ID]; why != "" {
			return cairn.E(cairn.Conflict, fmt.Errorf("restore point %s %s", p.Name, why))
		}
		if p.State != catalog.PointDeleting {
			p.State = catalog.PointDeleting
			if err := tx.PutRestorePoint(ctx, p); err != nil {
				return err
			}
		}
		dp := deletePointParams{PointID: p.ID, VaultID: p.VaultID, Name: p.Name, ResourceID: p.ResourceID}
		if v, err := tx.GetVault(ctx, p.VaultID); err == nil {
			dp.Region = v.Region
		}
		params, _ := json.Marshal(dp)
		op = &catalog.Operation{ProjectID: c.ProjectID, Kind: OpDeletePoint, TargetID: p.ID, ResourceID: p.ID, Params: params}
		return tx.CreateOperation(ctx, op)
	})
	if err != nil {
		return nil, err
	}
	s.runner.Kick()
	return op, nil
}

// getDiskTx returns a disk restore point of the caller with its point.
func getDiskTx(ctx context.Context, tx catalog.Tx, c Caller, id string) (*catalog.DiskRestorePoint, *catalog.RestorePoint, error) {
	if err := checkCaller(c); err != nil {
		return nil, nil, err
	}
	if id == "" {
		return nil, nil, invalid("no disk restore point id given")
	}
	d, err := tx.GetDiskRestorePoint(ctx, id)
	if err != nil {
		return nil, nil, hide(err, "disk restore point", id)
	}
	if err := own(c, d.ProjectID, "disk restore point", id); err != nil {
		return nil, nil, err
	}
	p, err := tx.GetRestorePoint(ctx, d.RestorePointID)
	if err != nil {
		return nil, nil, hide(err, "disk restore point", id)
	}
	return d, p, nil
}

// liveDisk returns d with its point's live copy progress.
func (s *Service) liveDisk(ctx context.Context, d *catalog.DiskRestorePoint, p *catalog.RestorePoint) (*catalog.DiskRestorePoint, error) {
	rp, err := s.pointView(ctx, s.cat, p, "")
	if err != nil {
		return nil, err
	}
	for _, x := range rp.Disks {
		if x.ID == d.ID {
			return x, nil
		}
	}
	return d, nil
}

func (s *Service) getDiskRestorePoint(ctx context.Context, c Caller, id string) (*catalog.DiskRestorePoint, error) {
	d, p, err := getDiskTx(ctx, s.cat, c, id)
	if err != nil {
		return nil, err
	}
	return s.liveDisk(ctx, d, p)
}

func (s *Service) findDiskRestorePoint(ctx context.Context, c Caller, pointID, diskName string) (*catalog.DiskRestorePoint, error) {
	p, err := getPointTx(ctx, s.cat, c, pointID)
	if err != nil {
		return nil, err
	}
	ds, _, err := s.cat.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{ProjectID: c.ProjectID, RestorePointID: p.ID, DiskName: diskName}, catalog.Page{Size: 1})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, catalog.NotFound("disk restore point", p.Name+"/"+diskName)
	}
	return s.liveDisk(ctx, ds[0], p)
}
