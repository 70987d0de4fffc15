package arm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// pointAttrs are the ARM extras of a restore point: the ids as given, so
// that GET reports them even after their resources are gone.
//
// The service keeps the VM's hardware, OS and storage profiles with the
// point; the rest of the sourceMetadata (vmId, diagnosticsProfile) is kept
// here, taken from the VM (or, for a copy, from the source point).
type pointAttrs struct {
	SourceRestorePointID string              `json:"armSourceRestorePointId,omitempty"`
	SourceLocation       string              `json:"armSourceLocation,omitempty"`
	ExcludeDisks         []string            `json:"armExcludeDisks,omitempty"`
	VMID                 string              `json:"armVmId,omitempty"`
	DiagnosticsProfile   *DiagnosticsProfile `json:"armDiagnosticsProfile,omitempty"`
}

var consistencyModes = canonSet("CrashConsistent", "FileSystemConsistent", "ApplicationConsistent")

// putRestorePoint starts making a restore point of the collection's VM,
// or copying one from another region: 201 with Location and
// Azure-AsyncOperation, provisioningState Creating.
func (h *handlers) putRestorePoint(ctx context.Context, q *request) (any, error) {
	v, vid, err := h.findCollection(ctx, q)
	if err != nil {
		return nil, err
	}
	name, err := q.pathName("rp", TypeRestorePoints)
	if err != nil {
		return nil, err
	}
	var in RestorePoint
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if err := checkBodyName(in.Name, name); err != nil {
		return nil, err
	}
	if _, err := h.svc.FindRestorePoint(ctx, q.caller, v.ID, name); err == nil {
		return nil, Errorf(http.StatusConflict, CodeOperationNotAllowed,
			"Restore point '%s' already exists: updating properties of an existing restore point is not allowed.", vid.Child(TypeRestorePoints, name))
	} else if !cairn.IsKind(err, cairn.NotExist) {
		return nil, err
	}
	p := in.Properties
	if p == nil {
		p = &RestorePointProperties{}
	}
	mode, err := canonValue("properties.consistencyMode", p.ConsistencyMode, consistencyModes)
	if err != nil {
		return nil, err
	}
	if p.InstantAccessDurationMinutes != nil && (*p.InstantAccessDurationMinutes < 60 || *p.InstantAccessDurationMinutes > 300) {
		return nil, invalidf("properties.instantAccessDurationMinutes", "The instant access duration %d is not valid: 60 to 300 minutes.", *p.InstantAccessDurationMinutes)
	}
	spec := service.RestorePointSpec{VaultID: v.ID, Name: name, ConsistencyMode: mode}
	var pa pointAttrs
	if p.SourceRestorePoint != nil {
		const path = "properties.sourceRestorePoint.id"
		if len(p.ExcludeDisks) > 0 {
			return nil, invalidf("properties.excludeDisks", "A copy of a restore point has the source's disks: excludeDisks cannot be given with sourceRestorePoint.")
		}
		sid, err := linkedID(q, path, KindRestorePoint, p.SourceRestorePoint.ID)
		if err != nil {
			return nil, err
		}
		src, err := h.svc.FindVault(ctx, q.caller, sid.ResourceGroup, sid.Names[0])
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				e := notFound(TypeRestorePointCollections, sid.Names[0], sid.ResourceGroup, err)
				e.Target = path
				return nil, e
			}
			return nil, err
		}
		srp, err := h.svc.FindRestorePoint(ctx, q.caller, src.ID, sid.Name())
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				e := notFoundChild(sid, err)
				e.Target = path
				return nil, e
			}
			return nil, err
		}
		if src.Region == v.Region {
			return nil, invalidf(path, "The source restore point '%s' is in location '%s', the same as restore point collection '%s': a copy goes to another region.", sid, src.Region, vid)
		}
		spec.SourcePointID = srp.ID
		spa := attrs[pointAttrs](srp.Attrs)
		pa = pointAttrs{SourceRestorePointID: vaultID(src).Child(TypeRestorePoints, srp.Name).String(), SourceLocation: src.Region,
			VMID: spa.VMID, DiagnosticsProfile: spa.DiagnosticsProfile}
	} else {
		if v.SourceResourceID == "" {
			return nil, invalidf("properties.sourceRestorePoint.id", "Restore point collection '%s' is a copy target (its source is a collection): its restore points are copies, made with properties.sourceRestorePoint.id.", vid)
		}
		vm, err := h.svc.GetVM(ctx, q.caller, v.SourceResourceID)
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				return nil, Errorf(http.StatusNotFound, CodeNotFound, "The source VM '%s' of restore point collection '%s' no longer exists.", v.SourceResourceID, vid)
			}
			return nil, err
		}
		spec.ResourceID = vm.ID
		prof := attrs[vmProfile](vm.Profile)
		pa.VMID, pa.DiagnosticsProfile = prof.VMID, prof.DiagnosticsProfile
		seen := map[string]bool{}
		for i, ref := range p.ExcludeDisks {
			path := fmt.Sprintf("properties.excludeDisks[%d].id", i)
			did, err := linkedID(q, path, KindDisk, ref.ID)
			if err != nil {
				return nil, err
			}
			disk := vmDisk(vm, did)
			if disk == "" {
				return nil, invalidf(path, "The disk '%s' is not a disk of VM '%s': its disks are %s.", ref.ID, vm.ID, strings.Join(vmDiskIDs(vm), ", "))
			}
			if seen[disk] {
				return nil, invalidf(path, "The disk '%s' is excluded twice.", ref.ID)
			}
			seen[disk] = true
			spec.ExcludeDisks = append(spec.ExcludeDisks, disk)
			pa.ExcludeDisks = append(pa.ExcludeDisks, DiskID(q.sub, vm.ResourceGroup, disk).String())
		}
	}
	spec.Attrs = mustJSON(pa)
	rp, op, err := h.svc.CreateRestorePoint(ctx, q.caller, spec)
	if err != nil {
		return nil, err
	}
	body := h.pointView(vid, v, rp, false)
	return h.accepted(q, http.StatusCreated, v.Region, op.ID, body, nil), nil
}

// vmDisk returns the name of the disk of vm that a disk id names, or "".
// A VM's disks have the ids of managed disks in its resource group.
func vmDisk(vm *catalog.Resource, id ID) string {
	if !strings.EqualFold(id.ResourceGroup, vm.ResourceGroup) {
		return ""
	}
	for _, d := range vm.Disks {
		if strings.EqualFold(d.Name, id.Name()) {
			return d.Name
		}
	}
	return ""
}

func vmDiskIDs(vm *catalog.Resource) []string {
	var ids []string
	for _, d := range vm.Disks {
		ids = append(ids, DiskID(vm.ProjectID, vm.ResourceGroup, d.Name).String())
	}
	return ids
}

func (h *handlers) getRestorePoint(ctx context.Context, q *request) (any, error) {
	expand, err := q.expand("instanceView")
	if err != nil {
		return nil, err
	}
	v, rp, _, err := h.findPoint(ctx, q)
	if err != nil {
		return nil, err
	}
	return h.pointView(vaultID(v), v, rp, expand != ""), nil
}

// deleteRestorePoint deletes a restore point: 202 with the operation's
// URLs, or 204 when there is no such point.
func (h *handlers) deleteRestorePoint(ctx context.Context, q *request) (any, error) {
	v, rp, _, err := h.findPoint(ctx, q)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return &httpapi.Response{Status: http.StatusNoContent}, nil
		}
		return nil, err
	}
	op, err := h.svc.DeleteRestorePoint(ctx, q.caller, rp.ID)
	if err != nil {
		return nil, err
	}
	return h.accepted(q, http.StatusAccepted, v.Region, op.ID, nil, nil), nil
}

// listRestorePoints lists a collection's restore points. Azure lists
// them only through the collection's $expand=restorePoints; cairn also
// serves the list, paged like the others.
func (h *handlers) listRestorePoints(ctx context.Context, q *request) (any, error) {
	v, vid, err := h.findCollection(ctx, q)
	if err != nil {
		return nil, err
	}
	list, next, err := h.svc.ListRestorePoints(ctx, q.caller, v.ID, h.page(q))
	if err != nil {
		return nil, err
	}
	out := RestorePointList{Value: []RestorePoint{}, NextLink: h.nextLink(q, next)}
	for _, rp := range list {
		out.Value = append(out.Value, h.pointView(vid, v, rp, false))
	}
	return out, nil
}

// provisioningState maps a restore point's state to ARM's.
func provisioningState(s catalog.PointState) string {
	switch s {
	case catalog.PointSucceeded:
		return StateSucceeded
	case catalog.PointFailed:
		return StateFailed
	case catalog.PointDeleting:
		return StateDeleting
	}
	return StateCreating
}

// pointRefs are the ids a restore point's views need.
type pointRefs struct {
	id    ID     // the restore point
	sub   string // its subscription
	vmRG  string // the resource group of its VM, where its disks' ids are
	src   *ID    // for a copy: the restore point it copies
	attrs pointAttrs
}

func refsOf(vid ID, rp *service.RestorePoint) pointRefs {
	r := pointRefs{id: vid.Child(TypeRestorePoints, rp.Name), sub: vid.Subscription, vmRG: vid.ResourceGroup, attrs: attrs[pointAttrs](rp.Attrs)}
	if vm, err := ParseIDOf(KindVM, rp.ResourceID); err == nil {
		r.vmRG = vm.ResourceGroup
	}
	if r.attrs.SourceRestorePointID != "" {
		if s, err := ParseIDOf(KindRestorePoint, r.attrs.SourceRestorePointID); err == nil {
			r.src = &s
		}
	}
	return r
}

// pointView is a restore point as ARM reports it, with its instance view
// when withInstanceView.
func (h *handlers) pointView(vid ID, v *catalog.Vault, rp *service.RestorePoint, withInstanceView bool) RestorePoint {
	refs := refsOf(vid, rp)
	p := &RestorePointProperties{
		ProvisioningState:   provisioningState(rp.State),
		ConsistencyMode:     rp.ConsistencyMode,
		TimeCreated:         timePtr(rp.Created),
		ProvisioningDetails: &ProvisioningDetails{CreationTime: timePtr(rp.Created)},
		SourceMetadata:      sourceMetadata(rp, refs, v.Region),
	}
	if refs.src != nil {
		p.SourceRestorePoint = &SubResource{ID: refs.src.String()}
	}
	excl := refs.attrs.ExcludeDisks
	if len(excl) == 0 {
		for _, d := range rp.ExcludedDisks {
			excl = append(excl, DiskID(refs.sub, refs.vmRG, d).String())
		}
	}
	for _, id := range excl {
		p.ExcludeDisks = append(p.ExcludeDisks, SubResource{ID: id})
	}
	if withInstanceView {
		p.InstanceView = instanceView(rp, refs)
	}
	return RestorePoint{ID: refs.id.String(), Name: rp.Name, Type: ResourceTypeRestorePoint, Properties: p}
}

// sourceMetadata is the VM at the restore point, from the profile the
// point keeps, with the disks the point holds and their disk restore
// points.
func sourceMetadata(rp *service.RestorePoint, refs pointRefs, region string) *SourceMetadata {
	prof := attrs[vmProfile](rp.Metadata)
	disks := map[string]*catalog.DiskRestorePoint{}
	for _, d := range rp.Disks {
		disks[d.DiskName] = d
	}
	conv := func(d VMDisk) RPDisk {
		out := RPDisk{Lun: d.Lun, OSType: d.OSType, Name: d.Name, Caching: d.Caching,
			ManagedDisk: &ManagedDisk{ID: DiskID(refs.sub, refs.vmRG, d.Name).String()}}
		if d.ManagedDisk != nil {
			out.ManagedDisk.StorageAccountType = d.ManagedDisk.StorageAccountType
		}
		if drp := disks[d.Name]; drp != nil {
			out.DiskSizeGB = sizeGB(drp.Size)
			out.DiskRestorePoint = &DiskRestorePointRef{ID: refs.id.Child(TypeDiskRestorePoints, d.Name).String()}
			if refs.src != nil {
				out.DiskRestorePoint.SourceDiskRestorePoint = &SubResource{ID: refs.src.Child(TypeDiskRestorePoints, d.Name).String()}
			}
		} else if d.DiskSizeGB != nil {
			out.DiskSizeGB = d.DiskSizeGB
		}
		return out
	}
	sm := &SourceMetadata{
		VMID:               prof.VMID,
		Location:           prof.Location,
		HardwareProfile:    prof.HardwareProfile,
		OSProfile:          prof.OSProfile,
		DiagnosticsProfile: prof.DiagnosticsProfile,
		StorageProfile:     &RPStorageProfile{},
	}
	if sm.VMID == "" {
		sm.VMID = refs.attrs.VMID
	}
	if sm.DiagnosticsProfile == nil {
		sm.DiagnosticsProfile = refs.attrs.DiagnosticsProfile
	}
	if sm.Location == "" {
		sm.Location = region
	}
	included := func(name string) bool { return len(rp.Disks) == 0 || disks[name] != nil }
	if sp := prof.StorageProfile; sp != nil {
		if sp.OSDisk != nil && included(sp.OSDisk.Name) {
			d := conv(*sp.OSDisk)
			d.Lun = nil
			sm.StorageProfile.OSDisk = &d
		}
		for _, dd := range sp.DataDisks {
			if included(dd.Name) {
				sm.StorageProfile.DataDisks = append(sm.StorageProfile.DataDisks, conv(dd))
			}
		}
	} else {
		for i, d := range rp.Disks {
			lun := FlexInt32(i)
			sm.StorageProfile.DataDisks = append(sm.StorageProfile.DataDisks, conv(VMDisk{Name: d.DiskName, Lun: &lun}))
		}
	}
	return sm
}

// Replication status codes of the instance view.
const (
	replPending    = "pending"
	replInProgress = "inProgress"
	replSucceeded  = "succeeded"
	replFailed     = "failed"
)

var replDisplay = map[string]string{
	replPending:    "Replication pending",
	replInProgress: "Replication in progress",
	replSucceeded:  "Replication succeeded",
	replFailed:     "Replication failed",
}

// replState returns a disk's replication state code and completion
// percent. A copy reports its own progress, and 100 only once the disk
// has replicated (its bytes may all have moved before the copy is
// committed: that is 99); a local point's disks are
// "replicated" once the point has been made, and report the backup's
// progress until then.
func replState(rp *service.RestorePoint, d *catalog.DiskRestorePoint) (string, int) {
	if rp.SourcePointID != "" {
		state := d.ReplicationState
		if op := rp.Operation; op != nil && op.Kind == service.OpCopy && op.State.Final() &&
			(state == catalog.ReplicationPending || state == catalog.ReplicationCopying) {
			// The disks were read just before the copy finished (its
			// finish updates them in the same transaction): the
			// operation has the newer word.
			state = catalog.ReplicationFailed
			if op.State == catalog.OpSucceeded {
				state = catalog.ReplicationSucceeded
			}
		}
		switch state {
		case catalog.ReplicationSucceeded:
			return replSucceeded, 100
		case catalog.ReplicationFailed:
			return replFailed, min(d.Percent(), 99)
		case catalog.ReplicationCopying:
			return replInProgress, min(d.Percent(), 99)
		}
		return replPending, min(d.Percent(), 99)
	}
	switch rp.State {
	case catalog.PointSucceeded, catalog.PointDeleting:
		return replSucceeded, 100
	case catalog.PointFailed:
		return replFailed, 0
	}
	if op := rp.Operation; op != nil {
		for _, p := range op.Progress {
			if p.Disk == d.DiskName {
				return replInProgress, min(p.Percent(), 99)
			}
		}
	}
	return replInProgress, 0
}

// instanceView is the restore point's statuses and its disks'
// replication status.
func instanceView(rp *service.RestorePoint, refs pointRefs) *RestorePointInstanceView {
	iv := &RestorePointInstanceView{DiskRestorePoints: []DiskRestorePointInstanceView{}, Statuses: []InstanceViewStatus{}}
	state := provisioningState(rp.State)
	st := InstanceViewStatus{
		Code:          "ProvisioningState/" + lowerFirst(state),
		Level:         "Info",
		DisplayStatus: map[string]string{StateCreating: "Creating", StateSucceeded: "Provisioning succeeded", StateFailed: "Provisioning failed", StateDeleting: "Deleting"}[state],
		Time:          timePtr(stateTime(rp)),
	}
	if rp.State == catalog.PointFailed {
		st.Level, st.Message = "Error", rp.FailureReason
	}
	iv.Statuses = append(iv.Statuses, st)
	all, failed, done := len(rp.Disks), 0, 0
	for _, d := range rp.Disks {
		code, pct := replState(rp, d)
		s := &InstanceViewStatus{Code: "ReplicationState/" + code, Level: "Info", DisplayStatus: replDisplay[code]}
		switch code {
		case replFailed:
			s.Level = "Error"
			failed++
		case replSucceeded:
			done++
		}
		iv.DiskRestorePoints = append(iv.DiskRestorePoints, DiskRestorePointInstanceView{
			ID:                refs.id.Child(TypeDiskRestorePoints, d.DiskName).String(),
			ReplicationStatus: &ReplicationStatus{Status: s, CompletionPercent: FlexInt32(pct)},
		})
	}
	if rp.SourcePointID != "" {
		code := replInProgress
		switch {
		case failed > 0:
			code = replFailed
		case all > 0 && done == all:
			code = replSucceeded
		case all == 0 || done == 0 && rp.State == catalog.PointCreating:
			code = replPending
		}
		s := InstanceViewStatus{Code: "ReplicationState/" + code, Level: "Info", DisplayStatus: replDisplay[code]}
		if code == replFailed {
			s.Level = "Error"
		}
		iv.Statuses = append(iv.Statuses, s)
	}
	return iv
}

// stateTime is when a restore point reached its state, as well as the
// catalog knows.
func stateTime(rp *service.RestorePoint) time.Time {
	if op := rp.Operation; op != nil && rp.State != catalog.PointCreating {
		if !op.Ended.IsZero() && rp.SourcePointID == "" {
			return op.Ended
		}
		if !op.Started.IsZero() {
			return op.Started
		}
	}
	return rp.Created
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
