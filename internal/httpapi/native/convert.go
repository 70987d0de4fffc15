package native

import (
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// The conversions from the service's records to wire types.

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toProject(p *catalog.Project) nativeapi.Project {
	return nativeapi.Project{ID: p.ID, Name: p.Name, Created: p.Created.UTC()}
}

func toToken(t *catalog.Token) nativeapi.Token {
	return nativeapi.Token{ID: t.ID, ProjectID: t.ProjectID, Name: t.Name, Admin: t.Admin,
		Created: t.Created.UTC(), Expires: optTime(t.Expires)}
}

func toRegion(r *catalog.Region) nativeapi.Region {
	return nativeapi.Region{Name: r.Name, Created: r.Created.UTC()}
}

func toVM(r *catalog.Resource) nativeapi.VM {
	vm := nativeapi.VM{ID: r.ID, ResourceGroup: r.ResourceGroup, Name: r.Name, Region: r.Region,
		Disks: make([]nativeapi.Disk, len(r.Disks)), Profile: r.Profile, Tags: r.Tags, Created: r.Created.UTC()}
	for i, d := range r.Disks {
		vm.Disks[i] = nativeapi.Disk{Name: d.Name, Path: d.URI, Size: d.Size, Lun: d.Lun, OS: d.OS}
	}
	return vm
}

func toVault(v *catalog.Vault) nativeapi.Vault {
	return nativeapi.Vault{ID: v.ID, ResourceGroup: v.ResourceGroup, Name: v.Name, Region: v.Region,
		SourceResourceID: v.SourceResourceID, SourceVaultID: v.SourceVaultID, Tags: v.Tags, Created: v.Created.UTC()}
}

func toRestorePoint(p *service.RestorePoint) nativeapi.RestorePoint {
	rp := nativeapi.RestorePoint{
		ID: p.ID, VaultID: p.VaultID, Name: p.Name, ResourceID: p.ResourceID, Region: p.Region,
		State: string(p.State), Restorable: p.Restorable, ConsistencyMode: p.ConsistencyMode,
		SourcePointID: p.SourcePointID, ExcludedDisks: p.ExcludedDisks, FailureReason: p.FailureReason,
		Disks: make([]nativeapi.DiskRestorePoint, len(p.Disks)), Created: p.Created.UTC(),
	}
	for i, d := range p.Disks {
		pct := d.Percent()
		if d.ReplicationState == catalog.ReplicationNone && p.State == catalog.PointSucceeded {
			pct = 100 // made here, not copied: whole once the point succeeded
		}
		rp.Disks[i] = nativeapi.DiskRestorePoint{ID: d.ID, DiskName: d.DiskName, Size: d.Size,
			ReplicationState: string(d.ReplicationState), BytesDone: d.BytesDone, BytesTotal: d.BytesTotal, Percent: pct}
	}
	if p.Operation != nil {
		op := toOperation(p.Operation)
		rp.Operation = &op
	}
	return rp
}

func toOperation(o *catalog.Operation) nativeapi.Operation {
	op := nativeapi.Operation{
		ID: o.ID, Kind: o.Kind, TargetID: o.TargetID, ResourceID: o.ResourceID, State: string(o.State),
		Percent: o.Percent(), CancelRequested: o.CancelRequested, Result: o.Result, Attempt: o.Attempt,
		Created: o.Created.UTC(), Started: optTime(o.Started), Ended: optTime(o.Ended),
	}
	for _, p := range o.Progress {
		op.Progress = append(op.Progress, nativeapi.DiskProgress{Disk: p.Disk, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal})
	}
	if o.Error != nil {
		op.Error = &nativeapi.ErrorDetail{Code: o.Error.Code, Message: o.Error.Message}
	}
	return op
}

// list converts a page of records.
func list[R, W any](items []R, next string, conv func(R) W) *nativeapi.List[W] {
	out := &nativeapi.List[W]{Items: make([]W, len(items)), NextPageToken: next}
	for i, it := range items {
		out.Items[i] = conv(it)
	}
	return out
}

func page(p nativeapi.Page) catalog.Page { return catalog.Page{Token: p.Token, Size: p.Size} }
