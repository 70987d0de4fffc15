package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/cbrpolicy"
	"github.com/cairn-vm/cairn/internal/retention"
	"github.com/cairn-vm/cairn/internal/schedule"
)

// policyData is the Data of a policy record.
type policyData struct {
	Name                string              `json:"name"`
	Enabled             bool                `json:"enabled"`
	OperationType       string              `json:"operationType"`
	Patterns            []string            `json:"patterns"`
	StartTime           time.Time           `json:"startTime,omitzero"`
	Retention           cbrpolicy.Retention `json:"retention"`
	DestinationRegion   string              `json:"destinationRegion,omitempty"`
	DestinationRegional string              `json:"destinationRegionalProject,omitempty"`
	Accelerate          bool                `json:"accelerate,omitempty"`
	LastFired           time.Time           `json:"lastFired,omitzero"`
}

// vaultPolicyData is the Data of a vault-policy record.
type vaultPolicyData struct {
	VaultID            string `json:"vaultId"`
	DestinationVaultID string `json:"destinationVaultId,omitempty"`
}

func vaultPolicyKey(vaultID, typ string) string { return vaultID + "/" + typ }

// checkPolicy validates a policy's fields.
func (s *Service) checkPolicy(ctx context.Context, c Caller, d *policyData) (schedule.Trigger, error) {
	if n := utf8.RuneCountInString(d.Name); n < 1 || n > 255 || strings.TrimSpace(d.Name) == "" {
		return schedule.Trigger{}, invalid("policy name %q: must be 1 to 255 characters", d.Name)
	}
	switch d.OperationType {
	case PolicyBackup:
		if d.DestinationRegion != "" || d.DestinationRegional != "" || d.Accelerate {
			return schedule.Trigger{}, invalid("a backup policy has no destination region, destination project or acceleration: those are a replication policy's")
		}
	case PolicyReplication:
		if d.DestinationRegion == "" || d.DestinationRegional == "" {
			return schedule.Trigger{}, invalid("a replication policy needs a destination region and a destination project")
		}
		if _, err := s.region(d.DestinationRegion, cairn.Invalid); err != nil {
			return schedule.Trigger{}, err
		}
		rp, err := s.resolveRegional(ctx, d.DestinationRegional)
		if err != nil {
			return schedule.Trigger{}, cairn.E(cairn.Invalid, fmt.Errorf("destination project: %w", err))
		}
		if rp.Region != d.DestinationRegion {
			return schedule.Trigger{}, markErr(cairn.Invalid, ErrRegionMismatch, "destination project %s is in region %s, not %s", rp.ID, rp.Region, d.DestinationRegion)
		}
	default:
		return schedule.Trigger{}, invalid("policy operation type %q: must be %s or %s", d.OperationType, PolicyBackup, PolicyReplication)
	}
	trig, err := schedule.ParseTrigger(d.Patterns, d.StartTime)
	if err != nil {
		return schedule.Trigger{}, err
	}
	if err := d.Retention.Validate(); err != nil {
		return schedule.Trigger{}, err
	}
	return trig, nil
}

// policyView assembles a Policy from its record.
func policyView(ctx context.Context, tx catalog.Tx, r *catalog.Record) (*Policy, error) {
	var d policyData
	if err := getData(r, &d); err != nil {
		return nil, err
	}
	p := &Policy{
		ID: r.ID, ProjectID: r.ProjectID, Name: d.Name, Enabled: d.Enabled, OperationType: d.OperationType,
		Patterns: d.Patterns, StartTime: d.StartTime, Retention: d.Retention, DestinationRegion: d.DestinationRegion,
		DestinationRegionalProjectID: d.DestinationRegional, Accelerate: d.Accelerate, Created: r.Created, LastFired: d.LastFired,
	}
	assoc, err := listRecords(ctx, tx, catalog.RecordFilter{Kind: recVaultPolicy, ParentID: r.ID})
	if err != nil {
		return nil, err
	}
	for _, a := range assoc {
		var vd vaultPolicyData
		if err := getData(a, &vd); err != nil {
			return nil, err
		}
		p.Vaults = append(p.Vaults, PolicyVault{VaultID: vd.VaultID, DestinationVaultID: vd.DestinationVaultID})
	}
	return p, nil
}

func (s *Service) createPolicy(ctx context.Context, c Caller, spec PolicySpec) (*Policy, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	d := policyData{Name: spec.Name, Enabled: spec.Enabled, OperationType: spec.OperationType, Patterns: spec.Patterns,
		StartTime: spec.StartTime, Retention: spec.Retention, DestinationRegion: spec.DestinationRegion,
		DestinationRegional: spec.DestinationRegionalProjectID, Accelerate: spec.Accelerate}
	trig, err := s.checkPolicy(ctx, c, &d)
	if err != nil {
		return nil, err
	}
	r := &catalog.Record{Kind: recPolicy, ProjectID: c.ProjectID}
	if err := putData(r, d); err != nil {
		return nil, err
	}
	if err := s.cat.PutRecord(ctx, r); err != nil {
		return nil, err
	}
	s.schedulePolicy(r.ID, d, trig)
	s.log.Info("policy created", "policy", r.ID, "type", d.OperationType, "project", c.ProjectID)
	return policyView(ctx, s.cat, r)
}

func (s *Service) getPolicy(ctx context.Context, c Caller, id string) (*Policy, error) {
	r, err := ownRecord(ctx, s.cat, c, recPolicy, "policy", id)
	if err != nil {
		return nil, err
	}
	return policyView(ctx, s.cat, r)
}

func (s *Service) listPolicies(ctx context.Context, c Caller, f PolicyFilter) ([]*Policy, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	recs, err := listRecords(ctx, s.cat, catalog.RecordFilter{Kind: recPolicy, ProjectID: c.ProjectID})
	if err != nil {
		return nil, err
	}
	var out []*Policy
	for _, r := range recs {
		p, err := policyView(ctx, s.cat, r)
		if err != nil {
			return nil, err
		}
		if f.OperationType != "" && p.OperationType != f.OperationType {
			continue
		}
		if f.VaultID != "" && !slices.ContainsFunc(p.Vaults, func(v PolicyVault) bool { return v.VaultID == f.VaultID }) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Service) updatePolicy(ctx context.Context, c Caller, id string, u PolicyUpdate) (*Policy, error) {
	var rec *catalog.Record
	var d policyData
	var trig schedule.Trigger
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		r, err := ownRecord(ctx, tx, c, recPolicy, "policy", id)
		if err != nil {
			return err
		}
		if err := getData(r, &d); err != nil {
			return err
		}
		if u.Name != nil {
			d.Name = *u.Name
		}
		if u.Enabled != nil {
			d.Enabled = *u.Enabled
		}
		if u.Patterns != nil {
			d.Patterns = u.Patterns
		}
		if u.StartTime != nil {
			d.StartTime = *u.StartTime
		}
		if u.Retention != nil {
			d.Retention = *u.Retention
		}
		if u.DestinationRegion != nil {
			d.DestinationRegion = *u.DestinationRegion
		}
		if u.DestinationRegionalProjectID != nil {
			d.DestinationRegional = *u.DestinationRegionalProjectID
		}
		if u.Accelerate != nil {
			d.Accelerate = *u.Accelerate
		}
		if trig, err = s.checkPolicy(ctx, c, &d); err != nil {
			return err
		}
		if err := putData(r, d); err != nil {
			return err
		}
		rec = r
		return tx.PutRecord(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	s.schedulePolicy(rec.ID, d, trig)
	return policyView(ctx, s.cat, rec)
}

func (s *Service) deletePolicy(ctx context.Context, c Caller, id string) error {
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		r, err := ownRecord(ctx, tx, c, recPolicy, "policy", id)
		if err != nil {
			return err
		}
		assoc, err := listRecords(ctx, tx, catalog.RecordFilter{Kind: recVaultPolicy, ParentID: r.ID})
		if err != nil {
			return err
		}
		for _, a := range assoc {
			if err := tx.DeleteRecord(ctx, recVaultPolicy, a.ID); err != nil {
				return err
			}
		}
		return tx.DeleteRecord(ctx, recPolicy, r.ID)
	})
	if err != nil {
		return err
	}
	s.unschedulePolicy(id)
	return nil
}

func (s *Service) associatePolicy(ctx context.Context, c Caller, vaultID, policyID, destVaultID string) (*PolicyVault, error) {
	var out *PolicyVault
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, vaultID)
		if err != nil {
			return err
		}
		r, err := ownRecord(ctx, tx, c, recPolicy, "policy", policyID)
		if err != nil {
			return err
		}
		var d policyData
		if err := getData(r, &d); err != nil {
			return err
		}
		vd := vaultPolicyData{VaultID: v.ID}
		switch d.OperationType {
		case PolicyBackup:
			if destVaultID != "" {
				return invalid("a backup policy takes no destination vault")
			}
			if v.SourceVaultID != "" {
				return invalid("vault %s is a copy target: a backup policy goes on a vault that backs up VMs", v.Name)
			}
		case PolicyReplication:
			if destVaultID == "" {
				return invalid("a replication policy needs a destination vault")
			}
			if v.Region == d.DestinationRegion {
				return markErr(cairn.Invalid, ErrRegionMismatch, "vault %s is in the policy's destination region %s: replication goes to another region", v.Name, v.Region)
			}
			dst, err := s.resolveRegional(ctx, d.DestinationRegional)
			if err != nil {
				return err
			}
			dv, err := tx.GetVault(ctx, destVaultID)
			if err != nil || dv.ProjectID != dst.ProjectID || dv.Region != dst.Region {
				return catalog.NotFound("vault", destVaultID)
			}
			src, err := s.ensureRegionalTx(ctx, tx, c.ProjectID, v.Region)
			if err != nil {
				return err
			}
			if ok, err := agreed(ctx, tx, src.ID, dst.ID); err != nil {
				return err
			} else if !ok {
				return markErr(cairn.Permission, ErrNoConsent, "project %s has not agreed to receive replicas from project %s", dst.ID, src.ID)
			}
			vd.DestinationVaultID = dv.ID
		}
		key := vaultPolicyKey(v.ID, d.OperationType)
		recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recVaultPolicy, Key: key}, catalog.Page{Size: 1})
		if err != nil {
			return err
		}
		a := &catalog.Record{Kind: recVaultPolicy, ProjectID: c.ProjectID, ParentID: r.ID, Key: key}
		if len(recs) > 0 {
			a.ID = recs[0].ID // one policy of each type per vault: this one replaces the other
			if recs[0].ParentID != r.ID {
				if err := tx.DeleteRecord(ctx, recVaultPolicy, recs[0].ID); err != nil {
					return err
				}
				a.ID = ""
			}
		}
		if err := putData(a, vd); err != nil {
			return err
		}
		if err := tx.PutRecord(ctx, a); err != nil {
			return err
		}
		out = &PolicyVault{VaultID: v.ID, DestinationVaultID: vd.DestinationVaultID}
		return nil
	})
	return out, err
}

func (s *Service) dissociatePolicy(ctx context.Context, c Caller, vaultID, policyID string) error {
	return s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, vaultID)
		if err != nil {
			return err
		}
		r, err := ownRecord(ctx, tx, c, recPolicy, "policy", policyID)
		if err != nil {
			return err
		}
		assoc, err := listRecords(ctx, tx, catalog.RecordFilter{Kind: recVaultPolicy, ParentID: r.ID})
		if err != nil {
			return err
		}
		for _, a := range assoc {
			var vd vaultPolicyData
			if getData(a, &vd) == nil && vd.VaultID == v.ID {
				return tx.DeleteRecord(ctx, recVaultPolicy, a.ID)
			}
		}
		return cairn.E(cairn.NotExist, fmt.Errorf("policy %s is not associated with vault %s", policyID, v.Name))
	})
}

// --- the scheduler

// startScheduler loads every policy into a new scheduler and runs it
// until ctx ends.
func (s *Service) startScheduler(ctx context.Context) error {
	if s.cfg.Schedule.Off {
		return nil
	}
	sched := schedule.New(s.clock, s.firePolicy, schedule.Options{Poll: s.cfg.Schedule.Poll})
	recs, err := listRecords(ctx, s.cat, catalog.RecordFilter{Kind: recPolicy})
	if err != nil {
		return err
	}
	s.schedMu.Lock()
	s.sched = sched
	s.schedMu.Unlock()
	for _, r := range recs {
		var d policyData
		if err := getData(r, &d); err != nil {
			s.log.Warn("policy not scheduled", "policy", r.ID, "err", err)
			continue
		}
		trig, err := schedule.ParseTrigger(d.Patterns, d.StartTime)
		if err != nil {
			s.log.Warn("policy not scheduled", "policy", r.ID, "err", err)
			continue
		}
		s.schedulePolicy(r.ID, d, trig)
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		if err := sched.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("policy scheduler stopped", "err", err)
		}
	}()
	return nil
}

func (s *Service) schedulePolicy(id string, d policyData, trig schedule.Trigger) {
	s.schedMu.Lock()
	sched := s.sched
	s.schedMu.Unlock()
	if sched != nil {
		sched.Set(id, schedule.Entry{Trigger: trig, Loc: time.UTC, Enabled: d.Enabled, Last: d.LastFired})
	}
}

func (s *Service) unschedulePolicy(id string) {
	s.schedMu.Lock()
	sched := s.sched
	s.schedMu.Unlock()
	if sched != nil {
		sched.Remove(id)
	}
}

// firePolicy runs a policy whose trigger fired: a checkpoint of each
// vault of a backup policy, a replication of each vault of a replication
// policy, each marked automatic; then its retention.
func (s *Service) firePolicy(ctx context.Context, id string, firedAt time.Time) {
	var d policyData
	var projectID string
	var assoc []*catalog.Record
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		r, err := tx.GetRecord(ctx, recPolicy, id)
		if err != nil {
			return err
		}
		if err := getData(r, &d); err != nil {
			return err
		}
		projectID = r.ProjectID
		if firedAt.After(d.LastFired) {
			d.LastFired = firedAt
		}
		if err := putData(r, d); err != nil {
			return err
		}
		if err := tx.PutRecord(ctx, r); err != nil {
			return err
		}
		assoc, err = listRecords(ctx, tx, catalog.RecordFilter{Kind: recVaultPolicy, ParentID: id})
		return err
	})
	if cairn.IsKind(err, cairn.NotExist) {
		s.unschedulePolicy(id)
		return
	}
	if err != nil {
		s.log.Error("policy fired but could not run", "policy", id, "err", err)
		return
	}
	c := Caller{ProjectID: projectID, TokenID: "policy:" + id}
	s.log.Info("policy fired", "policy", id, "type", d.OperationType, "at", firedAt, "vaults", len(assoc))
	for _, a := range assoc {
		var vd vaultPolicyData
		if err := getData(a, &vd); err != nil {
			continue
		}
		switch d.OperationType {
		case PolicyBackup:
			cp, err := s.createCheckpoint(ctx, c, CheckpointSpec{
				VaultID: vd.VaultID, Name: "autobk_" + firedAt.UTC().Format("20060102T150405Z"),
				AutoTrigger: true, Incremental: true, PolicyID: id,
			})
			if err != nil {
				s.log.Warn("scheduled backup not made", "policy", id, "vault", vd.VaultID, "err", err)
				continue
			}
			s.retainAfter(ctx, c, vd.VaultID, d.Retention, false, checkpointOps(cp))
		case PolicyReplication:
			rep, err := s.replicateVault(ctx, c, ReplicateSpec{
				SourceVaultID: vd.VaultID, DestinationRegionalProjectID: d.DestinationRegional,
				DestinationVaultID: vd.DestinationVaultID, AutoTrigger: true, PolicyID: id, Accelerate: d.Accelerate,
			})
			if err != nil {
				s.log.Info("scheduled replication not made", "policy", id, "vault", vd.VaultID, "err", err)
				continue
			}
			var ops []string
			for _, r := range rep.Records {
				ops = append(ops, r.OperationID)
			}
			s.retainAfter(ctx, c, vd.DestinationVaultID, d.Retention, true, ops)
		}
	}
}

func checkpointOps(cp *Checkpoint) []string {
	var ops []string
	for _, p := range cp.Points {
		if p.Operation != nil {
			ops = append(ops, p.Operation.ID)
		}
	}
	return ops
}

// retainAfter applies a policy's retention to a vault's automatic
// restore points once the operations ops (of caller c) are done, in the
// background.
func (s *Service) retainAfter(ctx context.Context, c Caller, vaultID string, ret cbrpolicy.Retention, replicas bool, ops []string) {
	if ret.KeepsForever() {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for _, id := range ops {
			if _, err := s.waitOperation(ctx, c, id); err != nil {
				return
			}
		}
		if err := s.applyRetention(ctx, vaultID, ret, replicas); err != nil && ctx.Err() == nil {
			s.log.Warn("retention not applied", "vault", vaultID, "err", err)
		}
	}()
}

// applyRetention deletes the automatic restore points of a vault that the
// retention rules forget, per resource: the points of checkpoints made by
// a schedule (replicas made by a schedule when replicas is set).
func (s *Service) applyRetention(ctx context.Context, vaultID string, ret cbrpolicy.Retention, replicas bool) error {
	v, err := s.cat.GetVault(ctx, vaultID)
	if err != nil {
		return err
	}
	points, err := s.vaultPoints(ctx, s.cat, vaultID)
	if err != nil {
		return err
	}
	auto := map[string]bool{} // checkpoint id -> made by a schedule
	byResource := map[string][]retention.Item{}
	for _, p := range points {
		if p.State != catalog.PointSucceeded {
			continue
		}
		isAuto := false
		if replicas {
			isAuto = p.SourcePointID != "" && attrString(p.Attrs, replicaAutoAttr) == "auto"
		} else if cp := CheckpointOf(p); cp != "" && p.SourcePointID == "" {
			a, ok := auto[cp]
			if !ok {
				d, err := checkpointRecord(ctx, s.cat, cp)
				if err != nil {
					return err
				}
				a = d != nil && d.AutoTrigger
				auto[cp] = a
			}
			isAuto = a
		}
		if isAuto {
			byResource[p.ResourceID] = append(byResource[p.ResourceID], retention.Item{ID: p.ID, Time: p.Created})
		}
	}
	owner := Caller{ProjectID: v.ProjectID, TokenID: "retention"}
	now := s.clock.Now()
	for res, items := range byResource {
		_, forget := cbrpolicy.Apply(ret, items, now)
		for _, f := range forget {
			if _, err := s.deleteRestorePoint(ctx, owner, f.Item.ID); err != nil {
				s.log.Warn("retention: restore point not deleted", "point", f.Item.ID, "resource", res, "err", err)
				continue
			}
			s.log.Info("retention: restore point expired", "point", f.Item.ID, "resource", res, "vault", vaultID)
		}
	}
	return nil
}
