package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/vault"
)

// replicaAttr is the key, in the Attrs of a replica made by Replicate, of
// "auto" when a policy's schedule made it.
const replicaAutoAttr = "cairnReplicaAuto"

// agreementData is the Data of a replication-agreement record.
type agreementData struct {
	Source      string `json:"source"`      // the source regional project
	Destination string `json:"destination"` // the destination regional project
}

func agreementKey(src, dst string) string { return src + ">" + dst }

func agreementOf(r *catalog.Record) (*ReplicationAgreement, error) {
	var d agreementData
	if err := getData(r, &d); err != nil {
		return nil, err
	}
	return &ReplicationAgreement{ID: r.ID, ProjectID: r.ProjectID, SourceRegionalProjectID: d.Source,
		DestinationRegionalProjectID: d.Destination, Created: r.Created}, nil
}

func (s *Service) allowReplication(ctx context.Context, c Caller, destID, srcID string) (*ReplicationAgreement, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	dst, err := s.resolveRegional(ctx, destID)
	if err != nil {
		return nil, err
	}
	if dst.ProjectID != c.ProjectID {
		return nil, catalog.NotFound("project", destID)
	}
	src, err := s.resolveRegional(ctx, srcID)
	if err != nil {
		return nil, err
	}
	if src.ID == dst.ID {
		return nil, invalid("a project replicates to another project, not to itself (%s)", src.ID)
	}
	if src.Region == dst.Region {
		return nil, markErr(cairn.Invalid, ErrRegionMismatch, "projects %s and %s are both in region %s: replication goes to another region", src.ID, dst.ID, src.Region)
	}
	var out *ReplicationAgreement
	err = s.cat.Update(ctx, func(tx catalog.Tx) error {
		recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recAgreement, Key: agreementKey(src.ID, dst.ID)}, catalog.Page{Size: 1})
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			out, err = agreementOf(recs[0])
			return err
		}
		r := &catalog.Record{Kind: recAgreement, ProjectID: dst.ProjectID, ParentID: dst.ID, Key: agreementKey(src.ID, dst.ID)}
		if err := putData(r, agreementData{Source: src.ID, Destination: dst.ID}); err != nil {
			return err
		}
		if err := tx.PutRecord(ctx, r); err != nil {
			return err
		}
		out, err = agreementOf(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("replication agreed", "source", src.ID, "destination", dst.ID, "by", c.TokenID)
	return out, nil
}

func (s *Service) listAgreements(ctx context.Context, c Caller, destID string) ([]*ReplicationAgreement, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	f := catalog.RecordFilter{Kind: recAgreement, ProjectID: c.ProjectID}
	if destID != "" {
		dst, err := s.resolveRegional(ctx, destID)
		if err != nil {
			return nil, err
		}
		if dst.ProjectID != c.ProjectID {
			return nil, catalog.NotFound("project", destID)
		}
		f.ParentID = dst.ID
	}
	recs, err := listRecords(ctx, s.cat, f)
	if err != nil {
		return nil, err
	}
	out := make([]*ReplicationAgreement, 0, len(recs))
	for _, r := range recs {
		a, err := agreementOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *Service) deleteAgreement(ctx context.Context, c Caller, id string) error {
	return s.cat.Update(ctx, func(tx catalog.Tx) error {
		r, err := ownRecord(ctx, tx, c, recAgreement, "replication agreement", id)
		if err != nil {
			return err
		}
		return tx.DeleteRecord(ctx, recAgreement, r.ID)
	})
}

// agreed reports whether the destination regional project accepts
// replication from the source one.
func agreed(ctx context.Context, tx catalog.Tx, src, dst string) (bool, error) {
	recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recAgreement, Key: agreementKey(src, dst)}, catalog.Page{Size: 1})
	return len(recs) > 0, err
}

// acceleratedWorkers is the workers of an accelerated copy.
func (s *Service) acceleratedWorkers() int {
	if s.cfg.Copy.AcceleratedWorkers > 0 {
		return s.cfg.Copy.AcceleratedWorkers
	}
	w := s.cfg.Copy.Workers
	if w <= 0 {
		w = replicate.DefaultWorkers
	}
	return 4 * w
}

// replicatedTo reports whether a copy of point p exists, or is being made,
// in region: any copy not failed counts.
func replicatedTo(ctx context.Context, tx catalog.Tx, p *catalog.RestorePoint, region string) (bool, error) {
	copies, err := listAll(func(pg catalog.Page) ([]*catalog.RestorePoint, string, error) {
		return tx.ListRestorePoints(ctx, catalog.RestorePointFilter{SourcePointID: p.ID}, pg)
	})
	if err != nil {
		return false, err
	}
	for _, cp := range copies {
		if cp.State == catalog.PointFailed || cp.State == catalog.PointDeleting {
			continue
		}
		v, err := tx.GetVault(ctx, cp.VaultID)
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				continue
			}
			return false, err
		}
		if v.Region == region {
			return true, nil
		}
	}
	return false, nil
}

func (s *Service) replicateVault(ctx context.Context, c Caller, spec ReplicateSpec) (*Replication, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if spec.DestinationVaultID == "" {
		return nil, invalid("no destination vault given")
	}
	dst, err := s.resolveRegional(ctx, spec.DestinationRegionalProjectID)
	if err != nil {
		return nil, err
	}
	workers := 0
	if spec.Accelerate {
		workers = s.acceleratedWorkers()
	}
	out := &Replication{DestinationRegionalProjectID: dst.ID, DestinationProjectID: dst.ProjectID, DestinationRegion: dst.Region}
	var ops []*catalog.Operation
	err = s.cat.Update(ctx, func(tx catalog.Tx) error {
		sv, err := getVaultTx(ctx, tx, c, spec.SourceVaultID)
		if err != nil {
			return err
		}
		out.SourceVaultID, out.SourceRegion = sv.ID, sv.Region
		if sv.Region == dst.Region {
			return markErr(cairn.Invalid, ErrRegionMismatch, "vault %s is in region %s, the destination's: replication goes to another region", sv.Name, sv.Region)
		}
		if _, err := s.region(dst.Region, cairn.Invalid); err != nil {
			return err
		}
		// A vault of the destination regional project: of its tenant, in
		// its region.
		dv, err := tx.GetVault(ctx, spec.DestinationVaultID)
		if err != nil || dv.ProjectID != dst.ProjectID || dv.Region != dst.Region {
			return catalog.NotFound("vault", spec.DestinationVaultID)
		}
		out.DestinationVaultID = dv.ID
		if dv.SourceResourceID != "" {
			return invalid("destination vault %s holds restore points of VM %s: replicas go to a vault without a source VM", dv.Name, dv.SourceResourceID)
		}
		if dv.SourceVaultID != "" && dv.SourceVaultID != sv.ID {
			return invalid("destination vault %s copies vault %s, not %s", dv.Name, dv.SourceVaultID, sv.Name)
		}
		src, err := s.ensureRegionalTx(ctx, tx, c.ProjectID, sv.Region)
		if err != nil {
			return err
		}
		if ok, err := agreed(ctx, tx, src.ID, dst.ID); err != nil {
			return err
		} else if !ok {
			return markErr(cairn.Permission, ErrNoConsent, "project %s has not agreed to receive replicas from project %s: its owner records the agreement first", dst.ID, src.ID)
		}
		if del, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: dv.ID, Kind: OpDeleteVault}); err != nil {
			return err
		} else if del != nil {
			return cairn.E(cairn.Conflict, fmt.Errorf("vault %s is being deleted (operation %s)", dv.Name, del.ID))
		}
		var points []*catalog.RestorePoint
		if spec.PointIDs != nil {
			for _, id := range spec.PointIDs {
				p, err := getPointTx(ctx, tx, c, id)
				if err != nil {
					return err
				}
				if p.VaultID != sv.ID {
					return catalog.NotFound("restore point", id)
				}
				points = append(points, p)
			}
		} else if points, err = s.vaultPoints(ctx, tx, sv.ID); err != nil {
			return err
		}
		candidates, already := 0, 0
		dstCheckpoints := map[string]*checkpointData{} // by source checkpoint
		dstCheckpointIDs := map[string]string{}
		for _, p := range points {
			if p.SourcePointID != "" {
				continue // a replica is not replicated again
			}
			disks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
				return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: p.ID}, pg)
			})
			if err != nil {
				return err
			}
			if !restorable(p, disks) {
				if spec.PointIDs != nil {
					return markErr(cairn.Conflict, ErrNotRestorable, "restore point %s is %s: only a complete restore point is replicated", p.Name, pointStatus(p, disks))
				}
				continue
			}
			candidates++
			if done, err := replicatedTo(ctx, tx, p, dst.Region); err != nil {
				return err
			} else if done {
				already++
				continue
			}
			var attrs json.RawMessage
			if spec.AutoTrigger {
				attrs = setAttr(nil, replicaAutoAttr, "auto")
			}
			srcCP := CheckpointOf(p)
			if srcCP != "" {
				id, ok := dstCheckpointIDs[srcCP]
				if !ok {
					id = catalog.NewID()
					dstCheckpointIDs[srcCP] = id
					d, err := checkpointRecord(ctx, tx, srcCP)
					if err != nil {
						return err
					}
					cd := &checkpointData{AutoTrigger: spec.AutoTrigger, Incremental: true, PolicyID: spec.PolicyID, SourceCheckpointID: srcCP}
					if d != nil {
						cd.Name, cd.Description, cd.Incremental = d.Name, d.Description, d.Incremental
					}
					dstCheckpoints[srcCP] = cd
				}
				attrs = setAttr(attrs, checkpointAttr, id)
			}
			rp, op, err := s.queueReplica(ctx, tx, c, p, disks, dv, attrs, workers)
			if err != nil {
				return err
			}
			if srcCP != "" {
				cd := dstCheckpoints[srcCP]
				cd.Points = append(cd.Points, checkpointPoint{PointID: rp.ID, ResourceID: rp.ResourceID})
			}
			out.Records = append(out.Records, ReplicationRecord{SourcePointID: p.ID, PointID: rp.ID, OperationID: op.ID})
			ops = append(ops, op)
		}
		switch {
		case len(out.Records) > 0:
		case candidates > 0 && already == candidates:
			return markErr(cairn.Conflict, ErrAlreadyReplicated, "every restore point of vault %s has been replicated, or is being replicated, to region %s", sv.Name, dst.Region)
		default:
			return markErr(cairn.Invalid, ErrNothingToReplicate, "vault %s has no complete restore point to replicate", sv.Name)
		}
		for srcCP, cd := range dstCheckpoints {
			r := &catalog.Record{Kind: recCheckpoint, ID: dstCheckpointIDs[srcCP], ProjectID: dv.ProjectID, ParentID: dv.ID}
			if err := putData(r, cd); err != nil {
				return err
			}
			if err := tx.PutRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.runner.Kick()
	s.log.Info("replication queued", "vault", out.SourceVaultID, "to", out.DestinationVaultID, "region", out.DestinationRegion,
		"points", len(out.Records), "accelerated", spec.Accelerate, "project", c.ProjectID)
	return out, nil
}

// ensureRegionalTx is ensureRegional inside a transaction.
func (s *Service) ensureRegionalTx(ctx context.Context, tx catalog.Tx, projectID, region string) (*RegionalProject, error) {
	key := projectID + "/" + region
	recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recRegionalProject, Key: key}, catalog.Page{Size: 1})
	if err != nil {
		return nil, err
	}
	if len(recs) > 0 {
		return regionalOf(recs[0])
	}
	r := &catalog.Record{Kind: recRegionalProject, ID: newRegionalID(), ProjectID: projectID, Key: key}
	if err := putData(r, regionalData{Region: region}); err != nil {
		return nil, err
	}
	if err := tx.PutRecord(ctx, r); err != nil {
		return nil, err
	}
	return regionalOf(r)
}

// queueReplica records a copy of point p in vault dv (maybe of another
// project) and queues the copy, as the caller's operation.
func (s *Service) queueReplica(ctx context.Context, tx catalog.Tx, c Caller, p *catalog.RestorePoint, disks []*catalog.DiskRestorePoint,
	dv *catalog.Vault, attrs json.RawMessage, workers int) (*catalog.RestorePoint, *catalog.Operation, error) {
	rp := &catalog.RestorePoint{
		VaultID:         dv.ID,
		Name:            "rep-" + catalog.NewID(),
		ResourceID:      p.ResourceID,
		ConsistencyMode: p.ConsistencyMode,
		State:           catalog.PointCreating,
		SourcePointID:   p.ID,
		ExcludedDisks:   p.ExcludedDisks,
		Metadata:        p.Metadata,
		Attrs:           attrs,
	}
	if err := tx.PutRestorePoint(ctx, rp); err != nil {
		return nil, nil, err
	}
	for _, d := range disks {
		dp := &catalog.DiskRestorePoint{RestorePointID: rp.ID, DiskName: d.DiskName, Size: d.Size, ReplicationState: catalog.ReplicationPending, BytesTotal: d.Size}
		if err := tx.PutDiskRestorePoint(ctx, dp); err != nil {
			return nil, nil, err
		}
	}
	par := copyParams{PointID: rp.ID, SourcePointID: p.ID, VaultPointID: vault.NewPointID(), Workers: workers, SourceVaultID: p.VaultID}
	if sv, err := tx.GetVault(ctx, p.VaultID); err == nil {
		par.SourceRegion = sv.Region
	}
	params, _ := json.Marshal(par)
	op := &catalog.Operation{ProjectID: c.ProjectID, Kind: OpCopy, TargetID: rp.ID, ResourceID: rp.ID, Params: params}
	if err := tx.CreateOperation(ctx, op); err != nil {
		return nil, nil, err
	}
	return rp, op, nil
}

func (s *Service) pointReplicas(ctx context.Context, c Caller, pointID string) ([]*Replica, error) {
	p, err := getPointTx(ctx, s.cat, c, pointID)
	if err != nil {
		return nil, err
	}
	copies, err := listAll(func(pg catalog.Page) ([]*catalog.RestorePoint, string, error) {
		return s.cat.ListRestorePoints(ctx, catalog.RestorePointFilter{SourcePointID: p.ID}, pg)
	})
	if err != nil {
		return nil, err
	}
	var out []*Replica
	for _, cp := range copies {
		v, err := s.cat.GetVault(ctx, cp.VaultID)
		if err != nil {
			continue
		}
		view, err := s.pointView(ctx, s.cat, cp, v.Region)
		if err != nil {
			return nil, err
		}
		// Only replicas the caller may know of: its own, or made by its
		// operations.
		if cp.ProjectID != c.ProjectID && (view.Operation == nil || view.Operation.ProjectID != c.ProjectID) {
			continue
		}
		out = append(out, &Replica{Point: view, VaultID: v.ID, ProjectID: v.ProjectID, Region: v.Region})
	}
	return out, nil
}
