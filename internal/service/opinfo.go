package service

import (
	"context"
	"encoding/json"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// describeOperation gathers what an operation works on, from its
// parameters and the records they name (those still there).
func (s *Service) describeOperation(ctx context.Context, c Caller, id string) (*OperationInfo, error) {
	op, err := getOpTx(ctx, s.cat, c, id)
	if err != nil {
		return nil, err
	}
	info := &OperationInfo{Operation: op}
	point := func(id string) *catalog.RestorePoint {
		if id == "" {
			return nil
		}
		p, err := s.cat.GetRestorePoint(ctx, id)
		if err != nil {
			return nil
		}
		return p
	}
	vaultOf := func(id string) *catalog.Vault {
		if id == "" {
			return nil
		}
		v, err := s.cat.GetVault(ctx, id)
		if err != nil {
			return nil
		}
		return v
	}
	setVault := func(v *catalog.Vault) {
		if v != nil {
			info.VaultID, info.VaultName, info.Region = v.ID, v.Name, v.Region
		}
	}
	setPoint := func(p *catalog.RestorePoint) {
		if p == nil {
			return
		}
		info.PointID, info.PointName, info.ResourceID = p.ID, p.Name, p.ResourceID
		info.CheckpointID = CheckpointOf(p)
		if d, err := checkpointRecord(ctx, s.cat, info.CheckpointID); err == nil && d != nil {
			info.AutoTrigger, info.PolicyID, info.Incremental = d.AutoTrigger, d.PolicyID, d.Incremental
		}
		setVault(vaultOf(p.VaultID))
	}
	switch op.Kind {
	case OpBackup:
		var par backupParams
		json.Unmarshal(op.Params, &par)
		info.PointID, info.ResourceID, info.VaultID, info.Region, info.CheckpointID = par.PointID, par.ResourceID, par.VaultID, par.Region, par.CheckpointID
		if d, err := checkpointRecord(ctx, s.cat, par.CheckpointID); err == nil && d != nil {
			info.AutoTrigger, info.PolicyID, info.Incremental = d.AutoTrigger, d.PolicyID, d.Incremental
		}
		setVault(vaultOf(par.VaultID))
		setPoint(point(par.PointID))
	case OpCopy:
		var par copyParams
		json.Unmarshal(op.Params, &par)
		info.PointID, info.VaultID, info.Region = par.SourcePointID, par.SourceVaultID, par.SourceRegion
		setVault(vaultOf(par.SourceVaultID))
		setPoint(point(par.SourcePointID))
		if dp := point(par.PointID); dp != nil {
			info.DestinationPointID, info.DestinationPointName = dp.ID, dp.Name
			info.DestinationCheckpointID = CheckpointOf(dp)
			info.AutoTrigger = attrString(dp.Attrs, replicaAutoAttr) == "auto"
			if dv := vaultOf(dp.VaultID); dv != nil {
				info.DestinationVaultID, info.DestinationRegion, info.DestinationProjectID = dv.ID, dv.Region, dv.ProjectID
				if recs, _, err := s.cat.ListRecords(ctx, catalog.RecordFilter{Kind: recRegionalProject, Key: dv.ProjectID + "/" + dv.Region}, catalog.Page{Size: 1}); err == nil && len(recs) > 0 {
					info.DestinationRegionalProjectID = recs[0].ID
				}
			}
			if d, err := checkpointRecord(ctx, s.cat, info.DestinationCheckpointID); err == nil && d != nil && d.PolicyID != "" {
				info.PolicyID = d.PolicyID
			}
		}
	case OpRestorePoint:
		par := restorePointTargets(op)
		info.PointID, info.VaultID, info.Region = par.PointID, par.VaultID, par.Region
		setVault(vaultOf(par.VaultID))
		setPoint(point(par.PointID))
		info.RestoreTargetID = par.VMID
		if par.VMID == "" {
			info.RestoreTargetID = par.Dir
		}
	case OpRestoreDisk:
		var par restoreDiskParams
		json.Unmarshal(op.Params, &par)
		setPoint(point(par.PointID))
		info.RestoreTargetID = par.VolumeID
	case OpDeletePoint:
		var par deletePointParams
		json.Unmarshal(op.Params, &par)
		info.PointID, info.PointName, info.ResourceID, info.VaultID, info.Region = par.PointID, par.Name, par.ResourceID, par.VaultID, par.Region
		setPoint(point(par.PointID))
		if v := vaultOf(par.VaultID); v != nil {
			setVault(v)
		}
	case OpDeleteVault:
		var par deleteVaultParams
		json.Unmarshal(op.Params, &par)
		info.VaultID, info.VaultName, info.Region = par.VaultID, par.Name, par.Region
		setVault(vaultOf(par.VaultID))
	}
	if info.ResourceID != "" {
		if r, err := s.cat.GetResource(ctx, info.ResourceID); err == nil {
			info.ResourceName = r.Name
		} else if !cairn.IsKind(err, cairn.NotExist) {
			return nil, err
		}
	}
	return info, nil
}
