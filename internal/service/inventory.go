package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/disksource/file"
)

// checkImage checks that path is a readable, non-empty disk image and
// returns its size.
func checkImage(disk, path string) (int64, error) {
	d, err := file.Open(path)
	if err != nil {
		if cairn.IsKind(err, cairn.Permission) {
			// The server cannot read it: the caller's input is wrong,
			// not the caller's credentials.
			err = cairn.E(cairn.Invalid, err)
		}
		return 0, fmt.Errorf("disk %s: %w", disk, err)
	}
	defer d.Close()
	if d.Size() <= 0 {
		return 0, invalid("disk %s: the image %s is empty", disk, path)
	}
	return d.Size(), nil
}

func (s *Service) registerVM(ctx context.Context, c Caller, spec VMSpec) (*catalog.Resource, bool, error) {
	if err := checkCaller(c); err != nil {
		return nil, false, err
	}
	if err := validateGroup(spec.ResourceGroup); err != nil {
		return nil, false, err
	}
	if err := cairn.ValidateName("VM name", spec.Name); err != nil {
		return nil, false, err
	}
	id := VMID(c.ProjectID, spec.ResourceGroup, spec.Name)
	if err := checkID(spec.ID, id); err != nil {
		return nil, false, err
	}
	if spec.Region == "" {
		return nil, false, invalid("VM %s: no region (location) given", spec.Name)
	}
	if _, err := s.region(spec.Region, cairn.Invalid); err != nil {
		return nil, false, err
	}
	if err := firstErr(checkJSON("profile", spec.Profile), checkJSON("attrs", spec.Attrs), checkTags(spec.Tags)); err != nil {
		return nil, false, err
	}
	if len(spec.Disks) == 0 {
		return nil, false, invalid("VM %s: no disk: give at least one disk image", spec.Name)
	}
	seen := map[string]bool{}
	luns := map[int]bool{}
	osDisks := 0
	disks := make([]catalog.ResourceDisk, 0, len(spec.Disks))
	for _, d := range spec.Disks {
		if err := cairn.ValidateName("disk name", d.Name); err != nil {
			return nil, false, err
		}
		if seen[d.Name] {
			return nil, false, invalid("VM %s: disk name %q is given twice", spec.Name, d.Name)
		}
		seen[d.Name] = true
		if d.OS {
			osDisks++
		} else {
			if d.Lun < 0 || d.Lun > 63 {
				return nil, false, invalid("disk %s: lun %d is not in 0..63", d.Name, d.Lun)
			}
			if luns[d.Lun] {
				return nil, false, invalid("VM %s: two data disks have lun %d", spec.Name, d.Lun)
			}
			luns[d.Lun] = true
		}
		path, err := diskPath(d.Path)
		if err != nil {
			return nil, false, fmt.Errorf("disk %s: %w", d.Name, err)
		}
		size, err := checkImage(d.Name, path)
		if err != nil {
			return nil, false, err
		}
		disks = append(disks, catalog.ResourceDisk{Name: d.Name, URI: path, Size: size, Lun: d.Lun, OS: d.OS})
	}
	if osDisks > 1 {
		return nil, false, invalid("VM %s: %d OS disks, at most one", spec.Name, osDisks)
	}
	profile := withStorageProfile(spec.Profile, disks)
	r := &catalog.Resource{
		ID:            id,
		ProjectID:     c.ProjectID,
		ResourceGroup: spec.ResourceGroup,
		Name:          spec.Name,
		Kind:          catalog.KindVM,
		Region:        spec.Region,
		Profile:       profile,
		Disks:         disks,
		Tags:          spec.Tags,
		Attrs:         spec.Attrs,
	}
	created := false
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		old, err := tx.GetResource(ctx, id)
		switch {
		case cairn.IsKind(err, cairn.NotExist):
			created = true
		case err != nil:
			return err
		case old.Kind != catalog.KindVM:
			return cairn.E(cairn.Exist, fmt.Errorf("%s is not a VM", id))
		default:
			created = false
			if active, err := activeOn(ctx, tx, catalog.OperationFilter{ResourceID: id}); err != nil {
				return err
			} else if active != nil {
				return catalog.Busy(id, active)
			}
		}
		return tx.PutResource(ctx, r)
	})
	if err != nil {
		return nil, false, err
	}
	s.log.Info("VM registered", "vm", id, "disks", len(disks), "created", created)
	return r, created, nil
}

// activeOn returns an active operation matching f, or nil.
func activeOn(ctx context.Context, tx catalog.Tx, f catalog.OperationFilter) (*catalog.Operation, error) {
	f.States = []catalog.OpState{catalog.OpQueued, catalog.OpRunning}
	ops, _, err := tx.ListOperations(ctx, f, catalog.Page{Size: 1})
	if err != nil || len(ops) == 0 {
		return nil, err
	}
	return ops[0], nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// getResource returns a resource of the caller of the given kind.
func (s *Service) getResource(ctx context.Context, tx catalog.Tx, c Caller, kind, id string) (*catalog.Resource, error) {
	what := "VM"
	if kind == catalog.KindVolume {
		what = "disk"
	}
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("no %s id given", what)
	}
	r, err := tx.GetResource(ctx, id)
	if err != nil {
		return nil, hide(err, what, id)
	}
	if err := own(c, r.ProjectID, what, id); err != nil {
		return nil, err
	}
	if r.Kind != kind {
		return nil, catalog.NotFound(what, id)
	}
	return r, nil
}

func (s *Service) getVM(ctx context.Context, c Caller, id string) (*catalog.Resource, error) {
	return s.getResource(ctx, s.cat, c, catalog.KindVM, id)
}

func (s *Service) listResources(ctx context.Context, c Caller, kind string, f VMFilter, page catalog.Page) ([]*catalog.Resource, string, error) {
	if err := checkCaller(c); err != nil {
		return nil, "", err
	}
	return s.cat.ListResources(ctx, catalog.ResourceFilter{
		ProjectID:     c.ProjectID,
		ResourceGroup: f.ResourceGroup,
		Name:          f.Name,
		Kind:          kind,
		Region:        f.Region,
	}, page)
}

func (s *Service) deleteResource(ctx context.Context, c Caller, kind, id string) error {
	return s.cat.Update(ctx, func(tx catalog.Tx) error {
		r, err := s.getResource(ctx, tx, c, kind, id)
		if err != nil {
			return err
		}
		return tx.DeleteResource(ctx, r.ID)
	})
}

// withStorageProfile adds to a VM's profile, when it has none (a VM
// registered by the CLI or the native API), a storageProfile in the shape
// the dialects report, ARM's: the OS disk and the data disks with their
// luns and images, so that restore points of it say which disk is which.
func withStorageProfile(profile json.RawMessage, disks []catalog.ResourceDisk) json.RawMessage {
	fields := map[string]json.RawMessage{}
	if len(profile) > 0 {
		if err := json.Unmarshal(profile, &fields); err != nil {
			return profile // not an object: kept as given
		}
	}
	if _, ok := fields["storageProfile"]; ok {
		return profile
	}
	type vhd struct {
		URI string `json:"uri"`
	}
	type disk struct {
		Name       string `json:"name"`
		Lun        *int   `json:"lun,omitempty"`
		DiskSizeGB int64  `json:"diskSizeGB"`
		Vhd        vhd    `json:"vhd"`
	}
	var sp struct {
		OSDisk    *disk  `json:"osDisk,omitempty"`
		DataDisks []disk `json:"dataDisks,omitempty"`
	}
	for _, d := range disks {
		dd := disk{Name: d.Name, DiskSizeGB: (d.Size + 1<<30 - 1) >> 30, Vhd: vhd{URI: "file://" + d.URI}}
		if d.OS {
			sp.OSDisk = &dd
			continue
		}
		lun := d.Lun
		dd.Lun = &lun
		sp.DataDisks = append(sp.DataDisks, dd)
	}
	b, err := json.Marshal(sp)
	if err != nil {
		return profile
	}
	fields["storageProfile"] = b
	out, err := json.Marshal(fields)
	if err != nil {
		return profile
	}
	return out
}
