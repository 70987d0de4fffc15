package service

import (
	"context"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/vault"
)

// checkpointAttr is the key, in the Attrs of a restore point made for a
// checkpoint, of the checkpoint's id.
const checkpointAttr = "cairnCheckpoint"

// checkpointData is the Data of a checkpoint record.
type checkpointData struct {
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	AutoTrigger bool              `json:"autoTrigger,omitempty"`
	Incremental bool              `json:"incremental"`
	PolicyID    string            `json:"policyId,omitempty"`
	Points      []checkpointPoint `json:"points"`
	Skipped     []SkippedResource `json:"skipped,omitempty"`
	// SourceCheckpointID, for a checkpoint of replicas, is the
	// checkpoint they copy.
	SourceCheckpointID string `json:"sourceCheckpointId,omitempty"`
}

type checkpointPoint struct {
	PointID    string `json:"pointId"`
	ResourceID string `json:"resourceId"`
}

// CheckpointOf returns the id of the checkpoint a restore point was made
// for, or "".
func CheckpointOf(p *catalog.RestorePoint) string {
	return attrString(p.Attrs, checkpointAttr)
}

func (s *Service) createCheckpoint(ctx context.Context, c Caller, spec CheckpointSpec) (*Checkpoint, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	mode, err := vault.ParseConsistencyMode(spec.ConsistencyMode)
	if err != nil {
		return nil, err
	}
	var rec *catalog.Record
	err = s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, spec.VaultID)
		if err != nil {
			return err
		}
		if _, err := s.region(v.Region, cairn.Invalid); err != nil {
			return err
		}
		if v.SourceVaultID != "" {
			return invalid("vault %s is a copy target of another region's vault: it takes only copies", v.Name)
		}
		if del, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: v.ID, Kind: OpDeleteVault}); err != nil {
			return err
		} else if del != nil {
			return cairn.E(cairn.Conflict, fmt.Errorf("vault %s is being deleted (operation %s)", v.Name, del.ID))
		}
		bound, err := bindings(ctx, tx, v.ID)
		if err != nil {
			return err
		}
		boundBy := map[string]*VaultResource{}
		for _, b := range bound {
			boundBy[b.ResourceID] = b
		}
		want := spec.Resources
		if want == nil {
			for _, b := range bound {
				want = append(want, CheckpointResource{ResourceID: b.ResourceID})
			}
			if len(want) == 0 && v.SourceResourceID != "" {
				want = []CheckpointResource{{ResourceID: v.SourceResourceID}}
			}
		}
		if len(want) == 0 {
			return markErr(cairn.Invalid, ErrNothingToBackUp, "vault %s has no resource bound to it: nothing to back up", v.Name)
		}
		id := catalog.NewID()
		data := checkpointData{Name: spec.Name, Description: spec.Description, AutoTrigger: spec.AutoTrigger,
			Incremental: spec.Incremental, PolicyID: spec.PolicyID}
		seen := map[string]bool{}
		busy := 0
		for i, r := range want {
			if seen[r.ResourceID] {
				return markErr(cairn.Invalid, ErrDuplicateResource, "resource %s is given twice", r.ResourceID)
			}
			seen[r.ResourceID] = true
			b := boundBy[r.ResourceID]
			if b == nil && r.ResourceID != v.SourceResourceID {
				data.Skipped = append(data.Skipped, SkippedResource{ResourceID: r.ResourceID, Code: SkipNotBound,
					Reason: fmt.Sprintf("resource %s is not bound to vault %s", r.ResourceID, v.Name)})
				continue
			}
			vm, err := s.getResource(ctx, tx, c, catalog.KindVM, r.ResourceID)
			if cairn.IsKind(err, cairn.NotExist) {
				data.Skipped = append(data.Skipped, SkippedResource{ResourceID: r.ResourceID, Code: SkipNotFound,
					Reason: fmt.Sprintf("resource %s does not exist", r.ResourceID)})
				continue
			} else if err != nil {
				return err
			}
			if op, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: vm.ID}); err != nil {
				return err
			} else if op != nil {
				busy++
				what := "is being backed up"
				if op.Kind != OpBackup {
					what = "is busy with a " + op.Kind + " operation"
				}
				data.Skipped = append(data.Skipped, SkippedResource{ResourceID: vm.ID, Name: vm.Name, Code: SkipBusy,
					Reason: fmt.Sprintf("resource %s %s (operation %s)", vm.Name, what, op.ID)})
				continue
			}
			excl := r.ExcludeDisks
			if !r.OverrideExclude && b != nil {
				excl = b.ExcludeDisks
			}
			attrs := setAttr(nil, checkpointAttr, id)
			p, _, err := s.queueBackup(ctx, tx, c, v, RestorePointSpec{
				VaultID: v.ID, Name: fmt.Sprintf("cp-%s-%d", id, i+1), ResourceID: vm.ID,
				ExcludeDisks: excl, Attrs: attrs,
			}, mode)
			if err != nil {
				return err
			}
			data.Points = append(data.Points, checkpointPoint{PointID: p.ID, ResourceID: vm.ID})
		}
		if len(data.Points) == 0 {
			if busy == len(data.Skipped) {
				return markErr(cairn.Conflict, ErrResourceBusy, "every resource to back up is being backed up or busy: %s", data.Skipped[0].Reason)
			}
			return markErr(cairn.Invalid, ErrNothingToBackUp, "no resource of vault %s can be backed up: %s", v.Name, data.Skipped[0].Reason)
		}
		rec = &catalog.Record{Kind: recCheckpoint, ID: id, ProjectID: c.ProjectID, ParentID: v.ID}
		if err := putData(rec, data); err != nil {
			return err
		}
		return tx.PutRecord(ctx, rec)
	})
	if err != nil {
		return nil, err
	}
	s.runner.Kick()
	s.log.Info("checkpoint queued", "checkpoint", rec.ID, "vault", rec.ParentID, "project", c.ProjectID, "auto", spec.AutoTrigger)
	return s.checkpointView(ctx, rec)
}

// checkpointView assembles a Checkpoint from its record.
func (s *Service) checkpointView(ctx context.Context, rec *catalog.Record) (*Checkpoint, error) {
	var d checkpointData
	if err := getData(rec, &d); err != nil {
		return nil, err
	}
	cp := &Checkpoint{
		ID: rec.ID, ProjectID: rec.ProjectID, VaultID: rec.ParentID, Name: d.Name, Description: d.Description,
		AutoTrigger: d.AutoTrigger, Incremental: d.Incremental, PolicyID: d.PolicyID, Created: rec.Created,
		Skipped: d.Skipped, SourceCheckpointID: d.SourceCheckpointID,
	}
	v, err := s.cat.GetVault(ctx, rec.ParentID)
	if err != nil && !cairn.IsKind(err, cairn.NotExist) {
		return nil, err
	}
	region := ""
	if v != nil {
		region = v.Region
	}
	creating, failed := 0, 0
	for _, pp := range d.Points {
		p, err := s.cat.GetRestorePoint(ctx, pp.PointID)
		if cairn.IsKind(err, cairn.NotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		rp, err := s.pointView(ctx, s.cat, p, region)
		if err != nil {
			return nil, err
		}
		cp.Points = append(cp.Points, rp)
		switch p.State {
		case catalog.PointCreating:
			creating++
		case catalog.PointFailed:
			failed++
		}
	}
	switch {
	case len(cp.Points) == 0:
		cp.State = CheckpointDeleted
	case creating > 0:
		cp.State = CheckpointProtecting
	case failed > 0:
		cp.State = CheckpointError
	default:
		cp.State = CheckpointAvailable
	}
	return cp, nil
}

func (s *Service) getCheckpoint(ctx context.Context, c Caller, id string) (*Checkpoint, error) {
	rec, err := ownRecord(ctx, s.cat, c, recCheckpoint, "checkpoint", id)
	if err != nil {
		return nil, err
	}
	return s.checkpointView(ctx, rec)
}

func (s *Service) listCheckpoints(ctx context.Context, c Caller, vaultID string, page catalog.Page) ([]*Checkpoint, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	if vaultID != "" {
		if _, err := getVaultTx(ctx, s.cat, c, vaultID); err != nil {
			return nil, "", err
		}
	}
	recs, next, err := s.cat.ListRecords(ctx, catalog.RecordFilter{Kind: recCheckpoint, ProjectID: c.ProjectID, ParentID: vaultID}, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*Checkpoint, 0, len(recs))
	for _, r := range recs {
		cp, err := s.checkpointView(ctx, r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, cp)
	}
	return out, next, nil
}

// checkpointRecord returns the data of a checkpoint record by id, or nil
// when there is none.
func checkpointRecord(ctx context.Context, tx catalog.Tx, id string) (*checkpointData, error) {
	if id == "" {
		return nil, nil
	}
	rec, err := tx.GetRecord(ctx, recCheckpoint, id)
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var d checkpointData
	if err := getData(rec, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
