package native

import (
	"context"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// Local is the native API on a service in this process, as one caller:
// what the command line uses on a data directory, and what the HTTP
// handlers call with the caller of each request.
type Local struct {
	Service *service.Service
	Caller  service.Caller
}

var _ nativeapi.API = Local{}

// WhoAmI describes the caller.
func (l Local) WhoAmI(ctx context.Context) (*nativeapi.WhoAmI, error) {
	return &nativeapi.WhoAmI{ProjectID: l.Caller.ProjectID, TokenID: l.Caller.TokenID, Admin: l.Caller.Admin}, nil
}

// CreateProject creates a project (admin only).
func (l Local) CreateProject(ctx context.Context, spec nativeapi.ProjectSpec) (*nativeapi.Project, error) {
	p, err := l.Service.CreateProject(ctx, l.Caller, service.ProjectSpec{ID: spec.ID, Name: spec.Name})
	if err != nil {
		return nil, err
	}
	out := toProject(p)
	return &out, nil
}

// ListProjects lists the projects the caller reaches.
func (l Local) ListProjects(ctx context.Context, pg nativeapi.Page) (*nativeapi.List[nativeapi.Project], error) {
	ps, next, err := l.Service.ListProjects(ctx, l.Caller, page(pg))
	if err != nil {
		return nil, err
	}
	return list(ps, next, toProject), nil
}

// CreateToken creates a token and returns its secret, this once.
func (l Local) CreateToken(ctx context.Context, spec nativeapi.TokenSpec) (*nativeapi.TokenCreated, error) {
	t, secret, err := l.Service.CreateToken(ctx, l.Caller, service.TokenSpec{
		ProjectID: spec.ProjectID, Name: spec.Name, Admin: spec.Admin, TTL: time.Duration(spec.TTLSeconds) * time.Second,
	})
	if err != nil {
		return nil, err
	}
	return &nativeapi.TokenCreated{Token: toToken(t), Secret: secret}, nil
}

// ListTokens lists a project's tokens ("" = the caller's).
func (l Local) ListTokens(ctx context.Context, projectID string, pg nativeapi.Page) (*nativeapi.List[nativeapi.Token], error) {
	ts, next, err := l.Service.ListTokens(ctx, l.Caller, projectID, page(pg))
	if err != nil {
		return nil, err
	}
	return list(ts, next, toToken), nil
}

// DeleteToken deletes a token.
func (l Local) DeleteToken(ctx context.Context, id string) error {
	return l.Service.DeleteToken(ctx, l.Caller, id)
}

// ListRegions lists the regions.
func (l Local) ListRegions(ctx context.Context) (*nativeapi.List[nativeapi.Region], error) {
	rs, err := l.Service.ListRegions(ctx, l.Caller)
	if err != nil {
		return nil, err
	}
	return list(rs, "", toRegion), nil
}

// RegisterVM registers a VM, or replaces the registration of the VM of
// the same resource group and name.
func (l Local) RegisterVM(ctx context.Context, spec nativeapi.VMSpec) (*nativeapi.VM, bool, error) {
	s := service.VMSpec{ResourceGroup: spec.ResourceGroup, Name: spec.Name, Region: spec.Region,
		Profile: spec.Profile, Tags: spec.Tags}
	for _, d := range spec.Disks {
		s.Disks = append(s.Disks, service.DiskSpec{Name: d.Name, Path: d.Path, Lun: d.Lun, OS: d.OS})
	}
	r, created, err := l.Service.RegisterVM(ctx, l.Caller, s)
	if err != nil {
		return nil, false, err
	}
	out := toVM(r)
	return &out, created, nil
}

// ListVMs lists the caller's VMs.
func (l Local) ListVMs(ctx context.Context, f nativeapi.VMFilter, pg nativeapi.Page) (*nativeapi.List[nativeapi.VM], error) {
	rs, next, err := l.Service.ListVMs(ctx, l.Caller, service.VMFilter{ResourceGroup: f.ResourceGroup, Region: f.Region, Name: f.Name}, page(pg))
	if err != nil {
		return nil, err
	}
	return list(rs, next, toVM), nil
}

// GetVM returns a VM.
func (l Local) GetVM(ctx context.Context, id string) (*nativeapi.VM, error) {
	r, err := l.Service.GetVM(ctx, l.Caller, id)
	if err != nil {
		return nil, err
	}
	out := toVM(r)
	return &out, nil
}

// DeleteVM unregisters a VM.
func (l Local) DeleteVM(ctx context.Context, id string) error {
	return l.Service.DeleteVM(ctx, l.Caller, id)
}

// CreateVault creates a vault, or updates the tags of the vault of the
// same resource group and name.
func (l Local) CreateVault(ctx context.Context, spec nativeapi.VaultSpec) (*nativeapi.Vault, bool, error) {
	v, created, err := l.Service.PutVault(ctx, l.Caller, service.VaultSpec{
		ResourceGroup: spec.ResourceGroup, Name: spec.Name, Region: spec.Region,
		SourceResourceID: spec.SourceResourceID, SourceVaultID: spec.SourceVaultID, Tags: spec.Tags,
	})
	if err != nil {
		return nil, false, err
	}
	out := toVault(v)
	return &out, created, nil
}

// ListVaults lists the caller's vaults.
func (l Local) ListVaults(ctx context.Context, pg nativeapi.Page) (*nativeapi.List[nativeapi.Vault], error) {
	vs, next, err := l.Service.ListVaults(ctx, l.Caller, service.VaultFilter{}, page(pg))
	if err != nil {
		return nil, err
	}
	return list(vs, next, toVault), nil
}

// GetVault returns a vault.
func (l Local) GetVault(ctx context.Context, id string) (*nativeapi.Vault, error) {
	v, err := l.Service.GetVault(ctx, l.Caller, id)
	if err != nil {
		return nil, err
	}
	out := toVault(v)
	return &out, nil
}

// DeleteVault queues the deletion of a vault and returns its operation.
func (l Local) DeleteVault(ctx context.Context, id string) (*nativeapi.Operation, error) {
	return opOrErr(l.Service.DeleteVault(ctx, l.Caller, id))
}

// CreateRestorePoint creates a restore point, made from a VM or copied
// from another region, and returns it with its operation.
func (l Local) CreateRestorePoint(ctx context.Context, spec nativeapi.RestorePointSpec) (*nativeapi.RestorePointCreated, error) {
	p, op, err := l.Service.CreateRestorePoint(ctx, l.Caller, service.RestorePointSpec{
		VaultID: spec.VaultID, Name: spec.Name, ResourceID: spec.ResourceID, ConsistencyMode: spec.ConsistencyMode,
		ExcludeDisks: spec.ExcludeDisks, SourcePointID: spec.SourcePointID,
	})
	if err != nil {
		return nil, err
	}
	return &nativeapi.RestorePointCreated{RestorePoint: toRestorePoint(p), Operation: toOperation(op)}, nil
}

// ListRestorePoints lists a vault's restore points ("" = all the
// caller's).
func (l Local) ListRestorePoints(ctx context.Context, vaultID string, pg nativeapi.Page) (*nativeapi.List[nativeapi.RestorePoint], error) {
	ps, next, err := l.Service.ListRestorePoints(ctx, l.Caller, vaultID, page(pg))
	if err != nil {
		return nil, err
	}
	return list(ps, next, toRestorePoint), nil
}

// GetRestorePoint returns a restore point with its disks and progress.
func (l Local) GetRestorePoint(ctx context.Context, id string) (*nativeapi.RestorePoint, error) {
	p, err := l.Service.GetRestorePoint(ctx, l.Caller, id)
	if err != nil {
		return nil, err
	}
	out := toRestorePoint(p)
	return &out, nil
}

// DeleteRestorePoint queues the deletion of a restore point.
func (l Local) DeleteRestorePoint(ctx context.Context, id string) (*nativeapi.Operation, error) {
	return opOrErr(l.Service.DeleteRestorePoint(ctx, l.Caller, id))
}

// ListOperations lists the caller's operations.
func (l Local) ListOperations(ctx context.Context, f nativeapi.OperationFilter, pg nativeapi.Page) (*nativeapi.List[nativeapi.Operation], error) {
	sf := service.OperationFilter{Kind: f.Kind, TargetID: f.TargetID, ResourceID: f.ResourceID}
	for _, s := range f.States {
		sf.States = append(sf.States, catalog.OpState(s))
	}
	ops, next, err := l.Service.ListOperations(ctx, l.Caller, sf, page(pg))
	if err != nil {
		return nil, err
	}
	return list(ops, next, toOperation), nil
}

// GetOperation returns an operation.
func (l Local) GetOperation(ctx context.Context, id string) (*nativeapi.Operation, error) {
	return opOrErr(l.Service.GetOperation(ctx, l.Caller, id))
}

// CancelOperation cancels an operation.
func (l Local) CancelOperation(ctx context.Context, id string) (*nativeapi.Operation, error) {
	return opOrErr(l.Service.CancelOperation(ctx, l.Caller, id))
}

func opOrErr(op *catalog.Operation, err error) (*nativeapi.Operation, error) {
	if err != nil {
		return nil, err
	}
	out := toOperation(op)
	return &out, nil
}
