package cbr

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/service"
)

// skipCodes are the codes of skipped_resources, by the service's reason.
var skipCodes = map[string]string{
	service.SkipBusy:     CodeResourceBusy,
	service.SkipNotBound: CodeNotBound,
	service.SkipNotFound: CodeResourceNotFound,
}

func (h *handlers) createCheckpoint(ctx context.Context, q *request) (any, error) {
	var in VaultBackupReq
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Checkpoint == nil {
		return nil, badParam("invalid parameter checkpoint: it is required")
	}
	cb := in.Checkpoint
	if cb.VaultID == nil {
		return nil, badParam("invalid parameter checkpoint.vault_id: it is required")
	}
	if err := checkUUID("checkpoint.vault_id", *cb.VaultID); err != nil {
		return nil, err
	}
	p := cb.Parameters
	if p == nil {
		p = &CheckpointParam{}
	}
	spec := service.CheckpointSpec{Incremental: true}
	if p.AutoTrigger != nil {
		spec.AutoTrigger = *p.AutoTrigger
	}
	if p.Incremental != nil {
		spec.Incremental = *p.Incremental
	}
	if p.Description != nil {
		if err := checkLen("checkpoint.parameters.description", *p.Description, 0, 255); err != nil {
			return nil, err
		}
		spec.Description = *p.Description
	}
	if p.Name != nil {
		if err := checkBackupName("checkpoint.parameters.name", *p.Name); err != nil {
			return nil, err
		}
		spec.Name = *p.Name
	}
	if p.PolicyID != nil && *p.PolicyID != "" {
		if err := checkUUID("checkpoint.parameters.policy_id", *p.PolicyID); err != nil {
			return nil, err
		}
		spec.PolicyID = strings.ToLower(*p.PolicyID)
	}
	if p.ResourceDetails != nil && len(*p.ResourceDetails) > 256 {
		return nil, badParam("invalid parameter checkpoint.parameters.resource_details: %d items, at most 256", len(*p.ResourceDetails))
	}
	// Resources: ids in resources, and ids with details in
	// resource_details; each at most once.
	type want struct {
		field   string
		id      string
		exclude *[]string
	}
	var wants []want
	if p.Resources != nil {
		for i, id := range *p.Resources {
			f := "checkpoint.parameters.resources[" + strconv.Itoa(i) + "]"
			if err := checkUUID(f, id); err != nil {
				return nil, err
			}
			wants = append(wants, want{field: f, id: strings.ToLower(id)})
		}
	}
	if p.ResourceDetails != nil {
		for i, r := range *p.ResourceDetails {
			f := "checkpoint.parameters.resource_details[" + strconv.Itoa(i) + "]"
			if r.ID == nil {
				return nil, badParam("invalid parameter %s.id: it is required", f)
			}
			if err := checkUUID(f+".id", *r.ID); err != nil {
				return nil, err
			}
			if r.Type == nil {
				return nil, badParam("invalid parameter %s.type: it is required", f)
			}
			if err := oneOf(f+".type", *r.Type, TypeServer, TypeVolume, "OS::Ironic::BareMetalServer", "OS::Native::Server", "OS::Sfs::Turbo", "OS::Workspace::DesktopV2"); err != nil {
				return nil, err
			}
			if *r.Type != TypeServer {
				return nil, errorf(http.StatusBadRequest, CodeResourceType, "Resource not match vault resource type: %s is %s", *r.ID, *r.Type)
			}
			if r.Name != nil {
				if err := checkLen(f+".name", *r.Name, 0, 255); err != nil {
					return nil, err
				}
			}
			w := want{field: f, id: strings.ToLower(*r.ID)}
			if r.ExtraInfo != nil && r.ExtraInfo.ExcludeVolumes != nil {
				w.exclude = r.ExtraInfo.ExcludeVolumes
			}
			wants = append(wants, w)
		}
	}
	seen := map[string]bool{}
	for _, w := range wants {
		if seen[w.id] {
			return nil, errorf(http.StatusBadRequest, CodeDuplicateResource, "Duplicate resource: %s (%s) is given twice", w.id, w.field)
		}
		seen[w.id] = true
	}
	v, err := h.findVault(ctx, q, *cb.VaultID)
	if err != nil {
		return nil, err
	}
	a := cbrAttrs(v)
	if a.ProtectType == "replication" {
		return nil, errorf(http.StatusBadRequest, CodeNoResource, "No resource is available for backup: vault %s is a replication vault", *cb.VaultID)
	}
	spec.VaultID, spec.ConsistencyMode = v.ID, consistency(a.ConsistentLevel)
	if wants != nil {
		vms, err := h.allVMs(ctx, q)
		if err != nil {
			return nil, err
		}
		spec.Resources = []service.CheckpointResource{}
		for _, w := range wants {
			var vm *catalog.Resource
			for _, x := range vms {
				if matchesID(w.id, x.ID) {
					vm = x
				}
			}
			if vm == nil {
				// Not a VM of the caller: the vault cannot have it; the
				// service skips it as not bound.
				spec.Resources = append(spec.Resources, service.CheckpointResource{ResourceID: w.id})
				continue
			}
			cr := service.CheckpointResource{ResourceID: vm.ID}
			if w.exclude != nil {
				cr.OverrideExclude = true
				for j, vol := range *w.exclude {
					d := diskOf(vm, vol)
					if d == "" {
						return nil, badParam("invalid parameter %s.extra_info.exclude_volumes[%d]: VM %s has no volume %s", w.field, j, vm.Name, vol)
					}
					cr.ExcludeDisks = append(cr.ExcludeDisks, d)
				}
			}
			spec.Resources = append(spec.Resources, cr)
		}
	}
	if spec.Name == "" {
		spec.Name = "manualbk_" + catalog.NewID()[:4]
		if spec.AutoTrigger {
			spec.Name = "autobk_" + catalog.NewID()[:4]
		}
	}
	cp, err := h.svc.CreateCheckpoint(ctx, q.caller, spec)
	if err != nil {
		return nil, err
	}
	out, err := h.checkpointView(ctx, q, cp, v)
	if err != nil {
		return nil, err
	}
	return CheckpointResponse{Checkpoint: out}, nil
}

func (h *handlers) showCheckpoint(ctx context.Context, q *request) (any, error) {
	id := trimID(q.value("checkpoint_id"))
	if !isUUID(id) {
		return nil, notFound(CodeCheckpointNotFound, "checkpoint", id)
	}
	cp, err := h.svc.GetCheckpoint(ctx, q.caller, strings.ToLower(id))
	if err != nil {
		return nil, err
	}
	v, err := h.svc.GetVault(ctx, q.caller, cp.VaultID)
	if err != nil || v.Region != q.region() {
		return nil, notFound(CodeCheckpointNotFound, "checkpoint", id)
	}
	out, err := h.checkpointView(ctx, q, cp, v)
	if err != nil {
		return nil, err
	}
	return CheckpointResponse{Checkpoint: out}, nil
}

// checkpointStatus maps a checkpoint's state to CBR's status.
func checkpointStatus(state string) string {
	switch state {
	case service.CheckpointProtecting:
		return "protecting"
	case service.CheckpointError:
		return "error"
	case service.CheckpointDeleted:
		return "deleted"
	}
	return "available"
}

// retentionDays returns the retention_duration of a vault's backup
// policy, -1 for none.
func (h *handlers) retentionDays(ctx context.Context, q *request, vaultID string) int {
	ps, err := h.svc.ListPolicies(ctx, q.caller, service.PolicyFilter{OperationType: service.PolicyBackup, VaultID: vaultID})
	if err != nil || len(ps) == 0 || ps[0].Retention.DurationDays == nil {
		return -1
	}
	return *ps[0].Retention.DurationDays
}

// checkpointView is a checkpoint as CBR shows it.
func (h *handlers) checkpointView(ctx context.Context, q *request, cp *service.Checkpoint, v *catalog.Vault) (Checkpoint, error) {
	a := cbrAttrs(v)
	out := Checkpoint{
		ID: cp.ID, ProjectID: q.project.ID, CreatedAt: timeText(cp.Created), Status: checkpointStatus(cp.State),
		Vault:     CheckpointVault{ID: publicID(v.ID), Name: a.Name, Resources: []CheckpointResource{}, SkippedResources: []SkippedResource{}},
		ExtraInfo: CheckpointExtraInfo{Name: cp.Name, Description: cp.Description, RetentionDuration: h.retentionDays(ctx, q, v.ID)},
	}
	points, err := h.vaultPoints(ctx, q, v.ID)
	if err != nil {
		return out, err
	}
	for _, p := range cp.Points {
		r := CheckpointResource{ID: publicID(p.ResourceID), Type: TypeServer, ProtectStatus: pointProtectStatus(p)}
		var size int64
		if vm, err := h.svc.GetVM(ctx, q.caller, p.ResourceID); err == nil {
			r.Name = vm.Name
			for _, d := range vm.Disks {
				size += d.Size
			}
		}
		r.ResourceSize = strconv.FormatInt(gb(size), 10)
		var count, bytes int64
		for _, x := range points {
			if x.ResourceID == p.ResourceID && x.State != catalog.PointFailed {
				count++
				for _, d := range x.Disks {
					bytes += d.Size
				}
			}
		}
		r.BackupCount = strconv.FormatInt(count, 10)
		r.BackupSize = strconv.FormatInt(mb(bytes), 10)
		if len(p.ExcludedDisks) > 0 {
			var vols []string
			for _, d := range p.ExcludedDisks {
				vols = append(vols, volumeID(p.ResourceID, d))
			}
			b, _ := json.Marshal(ResourceExtraInfo{ExcludeVolumes: &vols})
			r.ExtraInfo = string(b)
		}
		out.Vault.Resources = append(out.Vault.Resources, r)
	}
	for _, s := range cp.Skipped {
		out.Vault.SkippedResources = append(out.Vault.SkippedResources, SkippedResource{
			ID: publicID(s.ResourceID), Type: TypeServer, Name: s.Name, Code: skipCodes[s.Code], Reason: s.Reason,
		})
	}
	return out, nil
}

// pointProtectStatus is the protect_status of a checkpoint's resource:
// its restore point's progress.
func pointProtectStatus(p *service.RestorePoint) string {
	switch {
	case p.State == catalog.PointCreating:
		return "protecting"
	case p.State == catalog.PointFailed:
		return "error"
	case p.State == catalog.PointDeleting:
		return "removing"
	case !p.Restorable:
		return "protecting"
	}
	return "available"
}
