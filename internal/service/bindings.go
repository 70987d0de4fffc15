package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// MaxVaultResources is the most resources bound to one vault.
const MaxVaultResources = 256

// bindingData is the Data of a vault-resource record.
type bindingData struct {
	ExcludeDisks []string `json:"excludeDisks,omitempty"`
}

func bindingOf(r *catalog.Record) (*VaultResource, error) {
	var d bindingData
	if err := getData(r, &d); err != nil {
		return nil, err
	}
	return &VaultResource{VaultID: r.ParentID, ResourceID: r.Key, ExcludeDisks: d.ExcludeDisks, Created: r.Created}, nil
}

// bindings returns the resources bound to a vault, in the order bound.
func bindings(ctx context.Context, tx catalog.Tx, vaultID string) ([]*VaultResource, error) {
	recs, err := listRecords(ctx, tx, catalog.RecordFilter{Kind: recVaultResource, ParentID: vaultID})
	if err != nil {
		return nil, err
	}
	out := make([]*VaultResource, 0, len(recs))
	for _, r := range recs {
		b, err := bindingOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// bindingOfResource returns the binding of a resource, or nil.
func bindingOfResource(ctx context.Context, tx catalog.Tx, resourceID string) (*catalog.Record, error) {
	recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recVaultResource, Key: resourceID}, catalog.Page{Size: 1})
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	return recs[0], nil
}

// checkExclude checks the disks to leave out of a VM's backups.
func checkExclude(vm *catalog.Resource, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if vm.Disk(n) == nil {
			return nil, invalid("exclude disks: VM %s has no disk %q (it has %s)", vm.Name, n, diskNames(vm))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(vm.Disks) > 0 && len(out) == len(vm.Disks) {
		return nil, invalid("exclude disks: every disk of VM %s is excluded: nothing to back up", vm.Name)
	}
	return out, nil
}

// bindTx binds resources to vault v inside tx.
func (s *Service) bindTx(ctx context.Context, tx catalog.Tx, c Caller, v *catalog.Vault, specs []BindSpec) ([]*VaultResource, error) {
	if v.SourceVaultID != "" {
		return nil, invalid("vault %s is a copy target of another region's vault: it takes no resources", v.Name)
	}
	have, err := bindings(ctx, tx, v.ID)
	if err != nil {
		return nil, err
	}
	if len(have)+len(specs) > MaxVaultResources {
		return nil, invalid("vault %s: %d resources bound and %d more given, at most %d", v.Name, len(have), len(specs), MaxVaultResources)
	}
	seen := map[string]bool{}
	for _, b := range have {
		seen[b.ResourceID] = true
	}
	var out []*VaultResource
	given := map[string]bool{}
	for _, spec := range specs {
		vm, err := s.getResource(ctx, tx, c, catalog.KindVM, spec.ResourceID)
		if err != nil {
			return nil, err
		}
		if given[vm.ID] {
			return nil, markErr(cairn.Invalid, ErrDuplicateResource, "resource %s is given twice", vm.ID)
		}
		given[vm.ID] = true
		if seen[vm.ID] {
			return nil, markErr(cairn.Invalid, ErrDuplicateResource, "resource %s is bound to vault %s already", vm.ID, v.Name)
		}
		if vm.Region != v.Region {
			return nil, markErr(cairn.Invalid, ErrRegionMismatch, "VM %s is in region %s, vault %s in %s: a vault protects the VMs of its region", vm.Name, vm.Region, v.Name, v.Region)
		}
		excl, err := checkExclude(vm, spec.ExcludeDisks)
		if err != nil {
			return nil, err
		}
		if other, err := bindingOfResource(ctx, tx, vm.ID); err != nil {
			return nil, err
		} else if other != nil {
			return nil, markErr(cairn.Exist, ErrResourceInOtherVault, "resource %s is bound to another vault (%s)", vm.ID, other.ParentID)
		}
		r := &catalog.Record{Kind: recVaultResource, ProjectID: v.ProjectID, ParentID: v.ID, Key: vm.ID}
		if err := putData(r, bindingData{ExcludeDisks: excl}); err != nil {
			return nil, err
		}
		if err := tx.PutRecord(ctx, r); err != nil {
			if cairn.IsKind(err, cairn.Exist) {
				return nil, markErr(cairn.Exist, ErrResourceInOtherVault, "resource %s is bound to another vault", vm.ID)
			}
			return nil, err
		}
		b, err := bindingOf(r)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (s *Service) bindResources(ctx context.Context, c Caller, vaultID string, specs []BindSpec) ([]*VaultResource, error) {
	if len(specs) == 0 {
		return nil, invalid("no resource given")
	}
	var out []*VaultResource
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, vaultID)
		if err != nil {
			return err
		}
		out, err = s.bindTx(ctx, tx, c, v, specs)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("resources bound", "vault", vaultID, "resources", len(out), "project", c.ProjectID)
	return out, nil
}

func (s *Service) unbindResources(ctx context.Context, c Caller, vaultID string, resourceIDs []string) error {
	if len(resourceIDs) == 0 {
		return invalid("no resource given")
	}
	return s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, vaultID)
		if err != nil {
			return err
		}
		given := map[string]bool{}
		for _, id := range resourceIDs {
			if given[id] {
				return markErr(cairn.Invalid, ErrDuplicateResource, "resource %s is given twice", id)
			}
			given[id] = true
			recs, _, err := tx.ListRecords(ctx, catalog.RecordFilter{Kind: recVaultResource, ParentID: v.ID, Key: id}, catalog.Page{Size: 1})
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				return cairn.E(cairn.NotExist, fmt.Errorf("resource %s is not bound to vault %s", id, v.Name))
			}
			if err := tx.DeleteRecord(ctx, recVaultResource, recs[0].ID); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) listVaultResources(ctx context.Context, c Caller, vaultID string) ([]*VaultResource, error) {
	v, err := getVaultTx(ctx, s.cat, c, vaultID)
	if err != nil {
		return nil, err
	}
	return bindings(ctx, s.cat, v.ID)
}

// deleteVaultRecords deletes the records that hang off a deleted vault:
// its bindings, checkpoints and policy associations.
func deleteVaultRecords(ctx context.Context, tx catalog.Tx, vaultID string) error {
	for _, kind := range []string{recVaultResource, recCheckpoint} {
		recs, err := listRecords(ctx, tx, catalog.RecordFilter{Kind: kind, ParentID: vaultID})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := ignoreNotExist(tx.DeleteRecord(ctx, kind, r.ID)); err != nil {
				return err
			}
		}
	}
	for _, typ := range []string{PolicyBackup, PolicyReplication} {
		recs, err := listRecords(ctx, tx, catalog.RecordFilter{Kind: recVaultPolicy, Key: vaultID + "/" + typ})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := ignoreNotExist(tx.DeleteRecord(ctx, recVaultPolicy, r.ID)); err != nil {
				return err
			}
		}
	}
	return nil
}
