package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// getVaultTx returns a vault of the caller.
func getVaultTx(ctx context.Context, tx catalog.Tx, c Caller, id string) (*catalog.Vault, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("no vault id given")
	}
	v, err := tx.GetVault(ctx, id)
	if err != nil {
		return nil, hide(err, "vault", id)
	}
	if err := own(c, v.ProjectID, "vault", id); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Service) getVault(ctx context.Context, c Caller, id string) (*catalog.Vault, error) {
	return getVaultTx(ctx, s.cat, c, id)
}

func findVaultTx(ctx context.Context, tx catalog.Tx, c Caller, group, name string) (*catalog.Vault, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	vs, _, err := tx.ListVaults(ctx, catalog.VaultFilter{ProjectID: c.ProjectID, ResourceGroup: group, Name: name}, catalog.Page{Size: 1})
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, catalog.NotFound("vault", group+"/"+name)
	}
	return vs[0], nil
}

func (s *Service) findVault(ctx context.Context, c Caller, group, name string) (*catalog.Vault, error) {
	return findVaultTx(ctx, s.cat, c, group, name)
}

func (s *Service) listVaults(ctx context.Context, c Caller, f VaultFilter, page catalog.Page) ([]*catalog.Vault, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	return s.cat.ListVaults(ctx, catalog.VaultFilter{
		ProjectID:        c.ProjectID,
		ResourceGroup:    f.ResourceGroup,
		Region:           f.Region,
		SourceResourceID: f.SourceResourceID,
		SourceVaultID:    f.SourceVaultID,
	}, page)
}

func (s *Service) putVault(ctx context.Context, c Caller, spec VaultSpec) (*catalog.Vault, bool, error) {
	if err := checkCaller(c); err != nil {
		return nil, false, err
	}
	if spec.ResourceGroup != "" {
		if err := validateGroup(spec.ResourceGroup); err != nil {
			return nil, false, err
		}
	}
	if err := validateName("vault name", spec.Name); err != nil {
		return nil, false, err
	}
	if err := firstErr(checkJSON("attrs", spec.Attrs), checkTags(spec.Tags)); err != nil {
		return nil, false, err
	}
	if spec.SourceResourceID != "" && spec.SourceVaultID != "" {
		return nil, false, invalid("vault %s: give a source VM or a source vault, not both", spec.Name)
	}
	if spec.Region != "" {
		if _, err := s.region(spec.Region, cairn.Invalid); err != nil {
			return nil, false, err
		}
	}
	var out *catalog.Vault
	created := false
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		old, err := findVaultTx(ctx, tx, c, spec.ResourceGroup, spec.Name)
		if err != nil && !cairn.IsKind(err, cairn.NotExist) {
			return err
		}
		if old != nil {
			if len(spec.Resources) > 0 {
				return cairn.E(cairn.Exist, fmt.Errorf("vault %s exists already: bind resources to it with BindResources", old.Name))
			}
			return updateVault(ctx, tx, old, spec, &out)
		}
		v := &catalog.Vault{
			ID:            spec.ID,
			ProjectID:     c.ProjectID,
			ResourceGroup: spec.ResourceGroup,
			Name:          spec.Name,
			Region:        spec.Region,
			Tags:          spec.Tags,
			Attrs:         spec.Attrs,
		}
		switch {
		case spec.SourceResourceID != "":
			vm, err := s.getResource(ctx, tx, c, catalog.KindVM, spec.SourceResourceID)
			if err != nil {
				return err
			}
			if v.Region == "" {
				v.Region = vm.Region
			} else if v.Region != vm.Region {
				return invalid("vault %s: in region %s, but its source VM %s is in region %s: a vault of a VM is in the VM's region", spec.Name, v.Region, vm.Name, vm.Region)
			}
			v.SourceResourceID = vm.ID
		case spec.SourceVaultID != "":
			src, err := getVaultTx(ctx, tx, c, spec.SourceVaultID)
			if err != nil {
				return err
			}
			if v.Region == "" {
				return invalid("vault %s: a copy target needs a region (location) other than its source's, %s", spec.Name, src.Region)
			}
			if v.Region == src.Region {
				return invalid("vault %s: its source vault %s is in the same region, %s: a copy target must be in another region", spec.Name, src.Name, src.Region)
			}
			v.SourceVaultID = src.ID
		default:
			if v.Region == "" {
				return invalid("vault %s: no region (location) given", spec.Name)
			}
		}
		if v.ID != "" {
			if _, err := tx.GetVault(ctx, v.ID); err == nil {
				return cairn.E(cairn.Exist, fmt.Errorf("vault %s already exists", v.ID))
			} else if !cairn.IsKind(err, cairn.NotExist) {
				return err
			}
		}
		if err := tx.PutVault(ctx, v); err != nil {
			return err
		}
		if len(spec.Resources) > 0 {
			if _, err := s.bindTx(ctx, tx, c, v, spec.Resources); err != nil {
				return err
			}
		}
		out, created = v, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		s.log.Info("vault created", "vault", out.ID, "region", out.Region, "project", out.ProjectID)
	}
	return out, created, nil
}

// updateVault applies spec to the existing vault old: only tags and attrs
// may change.
func updateVault(ctx context.Context, tx catalog.Tx, old *catalog.Vault, spec VaultSpec, out **catalog.Vault) error {
	switch {
	case spec.ID != "" && spec.ID != old.ID:
		return cairn.E(cairn.Conflict, fmt.Errorf("vault %s exists with id %s, not %s", spec.Name, old.ID, spec.ID))
	case spec.Region != "" && spec.Region != old.Region:
		return cairn.E(cairn.Conflict, fmt.Errorf("vault %s is in region %s: its region cannot change", spec.Name, old.Region))
	case spec.SourceResourceID != "" && spec.SourceResourceID != old.SourceResourceID,
		spec.SourceVaultID != "" && spec.SourceVaultID != old.SourceVaultID:
		return cairn.E(cairn.Conflict, fmt.Errorf("vault %s: its source cannot change", spec.Name))
	}
	v := *old
	v.Tags = spec.Tags
	if len(spec.Attrs) > 0 {
		v.Attrs = spec.Attrs
	}
	if err := tx.PutVault(ctx, &v); err != nil {
		return err
	}
	*out = &v
	return nil
}

func (s *Service) updateVaultTags(ctx context.Context, c Caller, id string, tags map[string]string) (*catalog.Vault, error) {
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	var out *catalog.Vault
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		v.Tags = maps.Clone(tags)
		if err := tx.PutVault(ctx, v); err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

// deleteVaultParams are the Params of a delete-vault operation.
type deleteVaultParams struct {
	VaultID string `json:"vaultId"`
	// What the vault was, for views of the operation once it is gone.
	Region string `json:"region,omitempty"`
	Name   string `json:"name,omitempty"`
}

func (s *Service) deleteVault(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	var op *catalog.Operation
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		v, err := getVaultTx(ctx, tx, c, id)
		if err != nil {
			return err
		}
		copies, _, err := tx.ListVaults(ctx, catalog.VaultFilter{ProjectID: c.ProjectID, SourceVaultID: v.ID}, catalog.Page{Size: 1})
		if err != nil {
			return err
		}
		if len(copies) > 0 {
			return cairn.E(cairn.Conflict, fmt.Errorf("vault %s is the source of copy target %s: delete that first", v.Name, copies[0].Name))
		}
		points, err := listAll(func(pg catalog.Page) ([]*catalog.RestorePoint, string, error) {
			return tx.ListRestorePoints(ctx, catalog.RestorePointFilter{VaultID: v.ID}, pg)
		})
		if err != nil {
			return err
		}
		busy, err := busyPoints(ctx, tx, c.ProjectID)
		if err != nil {
			return err
		}
		for _, p := range points {
			if why := busy[p.ID]; why != "" {
				return cairn.E(cairn.Conflict, fmt.Errorf("vault %s: restore point %s %s", v.Name, p.Name, why))
			}
			// A replica that another project's operation is making.
			if op, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: p.ID}); err != nil {
				return err
			} else if op != nil {
				return cairn.E(cairn.Conflict, fmt.Errorf("vault %s: restore point %s is being made (operation %s)", v.Name, p.Name, op.ID))
			}
		}
		for _, p := range points {
			if p.State != catalog.PointDeleting {
				p.State = catalog.PointDeleting
				if err := tx.PutRestorePoint(ctx, p); err != nil {
					return err
				}
			}
		}
		params, _ := json.Marshal(deleteVaultParams{VaultID: v.ID, Region: v.Region, Name: v.Name})
		op = &catalog.Operation{ProjectID: c.ProjectID, Kind: OpDeleteVault, TargetID: v.ID, ResourceID: v.ID, Params: params}
		return tx.CreateOperation(ctx, op)
	})
	if err != nil {
		return nil, err
	}
	s.runner.Kick()
	return op, nil
}

// busyPoints returns the restore points of a project that active
// operations use, each with why.
func busyPoints(ctx context.Context, tx catalog.Tx, projectID string) (map[string]string, error) {
	ops, err := listAll(func(pg catalog.Page) ([]*catalog.Operation, string, error) {
		return tx.ListOperations(ctx, catalog.OperationFilter{ProjectID: projectID, States: []catalog.OpState{catalog.OpQueued, catalog.OpRunning}}, pg)
	})
	if err != nil {
		return nil, err
	}
	busy := map[string]string{}
	for _, op := range ops {
		switch op.Kind {
		case OpBackup:
			busy[op.TargetID] = "is being made (operation " + op.ID + ")"
		case OpCopy:
			busy[op.TargetID] = "is being copied (operation " + op.ID + ")"
			var p copyParams
			if json.Unmarshal(op.Params, &p) == nil && p.SourcePointID != "" {
				busy[p.SourcePointID] = "is being copied to another region (operation " + op.ID + ")"
			}
		case OpRestoreDisk:
			var p restoreDiskParams
			if json.Unmarshal(op.Params, &p) == nil {
				busy[p.PointID] = "is being restored (operation " + op.ID + ")"
			}
		case OpDeletePoint:
			busy[op.TargetID] = "is being deleted (operation " + op.ID + ")"
		case OpRestorePoint:
			busy[op.TargetID] = "is being restored (operation " + op.ID + ")"
		}
	}
	return busy, nil
}

// errGone is the error of a handler whose record was deleted meanwhile.
var errGone = errors.New("deleted meanwhile")
