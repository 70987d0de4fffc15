package service

import (
	"context"
	"errors"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

var errNotYet = cairn.E(cairn.Unsupported, errors.New("not yet implemented"))

func (s *Service) bootstrap(ctx context.Context) (*BootstrapResult, error) {
	return nil, errNotYet
}

func (s *Service) authenticate(ctx context.Context, secret string) (Caller, error) {
	return Caller{}, errNotYet
}

func (s *Service) createProject(ctx context.Context, c Caller, spec ProjectSpec) (*catalog.Project, error) {
	return nil, errNotYet
}

func (s *Service) getProject(ctx context.Context, c Caller, id string) (*catalog.Project, error) {
	return nil, errNotYet
}

func (s *Service) listProjects(ctx context.Context, c Caller, page catalog.Page) ([]*catalog.Project, string, error) {
	return nil, "", errNotYet
}

func (s *Service) createToken(ctx context.Context, c Caller, spec TokenSpec) (*catalog.Token, string, error) {
	return nil, "", errNotYet
}

func (s *Service) listTokens(ctx context.Context, c Caller, projectID string, page catalog.Page) ([]*catalog.Token, string, error) {
	return nil, "", errNotYet
}

func (s *Service) deleteToken(ctx context.Context, c Caller, id string) error {
	return errNotYet
}

func (s *Service) listRegions(ctx context.Context, c Caller) ([]*catalog.Region, error) {
	return nil, errNotYet
}

func (s *Service) getRegion(ctx context.Context, c Caller, name string) (*catalog.Region, error) {
	return nil, errNotYet
}

func (s *Service) registerVM(ctx context.Context, c Caller, spec VMSpec) (*catalog.Resource, bool, error) {
	return nil, false, errNotYet
}

func (s *Service) getVM(ctx context.Context, c Caller, id string) (*catalog.Resource, error) {
	return nil, errNotYet
}

func (s *Service) listResources(ctx context.Context, c Caller, kind string, f VMFilter, page catalog.Page) ([]*catalog.Resource, string, error) {
	return nil, "", errNotYet
}

func (s *Service) deleteResource(ctx context.Context, c Caller, kind, id string) error {
	return errNotYet
}

func (s *Service) putVault(ctx context.Context, c Caller, spec VaultSpec) (*catalog.Vault, bool, error) {
	return nil, false, errNotYet
}

func (s *Service) updateVaultTags(ctx context.Context, c Caller, id string, tags map[string]string) (*catalog.Vault, error) {
	return nil, errNotYet
}

func (s *Service) getVault(ctx context.Context, c Caller, id string) (*catalog.Vault, error) {
	return nil, errNotYet
}

func (s *Service) findVault(ctx context.Context, c Caller, resourceGroup, name string) (*catalog.Vault, error) {
	return nil, errNotYet
}

func (s *Service) listVaults(ctx context.Context, c Caller, f VaultFilter, page catalog.Page) ([]*catalog.Vault, string, error) {
	return nil, "", errNotYet
}

func (s *Service) deleteVault(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return nil, errNotYet
}

func (s *Service) createRestorePoint(ctx context.Context, c Caller, spec RestorePointSpec) (*RestorePoint, *catalog.Operation, error) {
	return nil, nil, errNotYet
}

func (s *Service) getRestorePoint(ctx context.Context, c Caller, id string) (*RestorePoint, error) {
	return nil, errNotYet
}

func (s *Service) findRestorePoint(ctx context.Context, c Caller, vaultID, name string) (*RestorePoint, error) {
	return nil, errNotYet
}

func (s *Service) listRestorePoints(ctx context.Context, c Caller, vaultID string, page catalog.Page) ([]*RestorePoint, string, error) {
	return nil, "", errNotYet
}

func (s *Service) deleteRestorePoint(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return nil, errNotYet
}

func (s *Service) getDiskRestorePoint(ctx context.Context, c Caller, id string) (*catalog.DiskRestorePoint, error) {
	return nil, errNotYet
}

func (s *Service) findDiskRestorePoint(ctx context.Context, c Caller, pointID, diskName string) (*catalog.DiskRestorePoint, error) {
	return nil, errNotYet
}

func (s *Service) grantDiskAccess(ctx context.Context, c Caller, diskRestorePointID string, ttl time.Duration) (*AccessGrant, error) {
	return nil, errNotYet
}

func (s *Service) revokeDiskAccess(ctx context.Context, c Caller, diskRestorePointID string) error {
	return errNotYet
}

func (s *Service) openDisk(ctx context.Context, token string) (DiskReader, error) {
	return nil, errNotYet
}

func (s *Service) restoreDisk(ctx context.Context, c Caller, spec RestoreDiskSpec) (*Volume, *catalog.Operation, error) {
	return nil, nil, errNotYet
}

func (s *Service) getVolume(ctx context.Context, c Caller, id string) (*Volume, error) {
	return nil, errNotYet
}

func (s *Service) listVolumes(ctx context.Context, c Caller, f VMFilter, page catalog.Page) ([]*Volume, string, error) {
	return nil, "", errNotYet
}

func (s *Service) deleteVolume(ctx context.Context, c Caller, id string) error {
	return errNotYet
}

func (s *Service) getOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return nil, errNotYet
}

func (s *Service) listOperations(ctx context.Context, c Caller, f OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error) {
	return nil, "", errNotYet
}

func (s *Service) cancelOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return nil, errNotYet
}

func (s *Service) waitOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return nil, errNotYet
}

func (s *Service) rebuild(ctx context.Context, opts catalog.RebuildOptions) (*RebuildReport, error) {
	return nil, errNotYet
}
