package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// volumeProfile is the Profile of a volume the service restored.
type volumeProfile struct {
	CreateOption     string `json:"createOption"`     // "Restore"
	SourceResourceID string `json:"sourceResourceId"` // the disk restore point
	Path             string `json:"path"`             // the image
	Managed          bool   `json:"managed"`          // in the region's disks directory: deleted with the volume
}

func (s *Service) restoreDisk(ctx context.Context, c Caller, spec RestoreDiskSpec) (*Volume, *catalog.Operation, error) {
	if err := checkCaller(c); err != nil {
		return nil, nil, err
	}
	if err := validateGroup(spec.ResourceGroup); err != nil {
		return nil, nil, err
	}
	if err := cairn.ValidateName("disk name", spec.Name); err != nil {
		return nil, nil, err
	}
	id := DiskID(c.ProjectID, spec.ResourceGroup, spec.Name)
	if err := checkID(spec.ID, id); err != nil {
		return nil, nil, err
	}
	if err := firstErr(checkJSON("attrs", spec.Attrs), checkTags(spec.Tags)); err != nil {
		return nil, nil, err
	}
	if spec.DiskRestorePointID == "" {
		return nil, nil, invalid("disk %s: no source disk restore point given", spec.Name)
	}
	if spec.Region != "" {
		if _, err := s.region(spec.Region, cairn.Invalid); err != nil {
			return nil, nil, err
		}
	}
	managed := spec.Path == ""
	if !managed {
		if !filepath.IsAbs(spec.Path) {
			return nil, nil, invalid("disk %s: path %q must be absolute", spec.Name, spec.Path)
		}
		spec.Path = filepath.Clean(spec.Path)
	}
	var vol *catalog.Resource
	var op *catalog.Operation
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		d, p, err := getDiskTx(ctx, tx, c, spec.DiskRestorePointID)
		if err != nil {
			return err
		}
		disks, err := listAll(func(pg catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
			return tx.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: p.ID}, pg)
		})
		if err != nil {
			return err
		}
		if !restorable(p, disks) {
			return cairn.E(cairn.Conflict, fmt.Errorf("restore point %s is %s: it cannot be restored yet", p.Name, pointStatus(p, disks)))
		}
		region := spec.Region
		if region == "" {
			v, err := tx.GetVault(ctx, p.VaultID)
			if err != nil {
				return err
			}
			region = v.Region
		}
		reg, err := s.region(region, cairn.Invalid)
		if err != nil {
			return err
		}
		path := spec.Path
		if managed {
			path = filepath.Join(reg.disksDir(), spec.Name+".raw")
		}
		if _, err := tx.GetResource(ctx, id); err == nil {
			return cairn.E(cairn.Exist, fmt.Errorf("disk %s already exists", id))
		} else if !cairn.IsKind(err, cairn.NotExist) {
			return err
		}
		if err := s.pathFree(ctx, tx, path); err != nil {
			return err
		}
		prof, _ := json.Marshal(volumeProfile{CreateOption: "Restore", SourceResourceID: d.ID, Path: path, Managed: managed})
		vol = &catalog.Resource{
			ID:            id,
			ProjectID:     c.ProjectID,
			ResourceGroup: spec.ResourceGroup,
			Name:          spec.Name,
			Kind:          catalog.KindVolume,
			Region:        region,
			Profile:       prof,
			Disks:         []catalog.ResourceDisk{{Name: spec.Name, URI: path, Size: d.Size}},
			Tags:          spec.Tags,
			Attrs:         spec.Attrs,
		}
		if err := tx.PutResource(ctx, vol); err != nil {
			return err
		}
		params, _ := json.Marshal(restoreDiskParams{VolumeID: id, DiskRestorePointID: d.ID, PointID: p.ID, Path: path})
		op = &catalog.Operation{ProjectID: c.ProjectID, Kind: OpRestoreDisk, TargetID: id, ResourceID: id, Params: params}
		return tx.CreateOperation(ctx, op)
	})
	if err != nil {
		return nil, nil, err
	}
	s.runner.Kick()
	return s.volumeView(ctx, vol, op), op, nil
}

// pathFree fails with cairn.Exist when a file or a volume has path.
func (s *Service) pathFree(ctx context.Context, tx catalog.Tx, path string) error {
	for _, p := range []string{path, path + ".partial"} {
		if _, err := os.Lstat(p); err == nil {
			return cairn.E(cairn.Exist, fmt.Errorf("%s already exists", p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return cairn.E(cairn.Invalid, fmt.Errorf("disk path: %w", err))
		}
	}
	vols, err := listAll(func(pg catalog.Page) ([]*catalog.Resource, string, error) {
		return tx.ListResources(ctx, catalog.ResourceFilter{Kind: catalog.KindVolume}, pg)
	})
	if err != nil {
		return err
	}
	for _, v := range vols {
		for _, d := range v.Disks {
			if d.URI == path {
				return cairn.E(cairn.Exist, fmt.Errorf("%s is the image of another disk", path))
			}
		}
	}
	return nil
}

// volumeView assembles a Volume; op is its latest operation, or nil to
// look it up.
func (s *Service) volumeView(ctx context.Context, r *catalog.Resource, op *catalog.Operation) *Volume {
	v := &Volume{Resource: r, State: VolumeSucceeded, Operation: op}
	var prof volumeProfile
	if json.Unmarshal(r.Profile, &prof) == nil && prof.Path != "" {
		v.Path = prof.Path
	} else if len(r.Disks) > 0 {
		v.Path = r.Disks[0].URI
	}
	if op == nil {
		ops, err := listAll(func(pg catalog.Page) ([]*catalog.Operation, string, error) {
			return s.cat.ListOperations(ctx, catalog.OperationFilter{ResourceID: r.ID, Kind: OpRestoreDisk}, pg)
		})
		if err == nil && len(ops) > 0 {
			v.Operation = ops[len(ops)-1]
		}
	}
	if v.Operation != nil {
		switch {
		case v.Operation.State.Active():
			v.State = VolumeCreating
		case v.Operation.State != catalog.OpSucceeded:
			v.State = VolumeFailed
		}
	}
	return v
}

func (s *Service) getVolume(ctx context.Context, c Caller, id string) (*Volume, error) {
	r, err := s.getResource(ctx, s.cat, c, catalog.KindVolume, id)
	if err != nil {
		return nil, err
	}
	return s.volumeView(ctx, r, nil), nil
}

func (s *Service) listVolumes(ctx context.Context, c Caller, f VMFilter, page catalog.Page) ([]*Volume, string, error) {
	rs, next, err := s.listResources(ctx, c, catalog.KindVolume, f, page)
	if err != nil {
		return nil, "", err
	}
	out := make([]*Volume, len(rs))
	for i, r := range rs {
		out[i] = s.volumeView(ctx, r, nil)
	}
	return out, next, nil
}

func (s *Service) deleteVolume(ctx context.Context, c Caller, id string) error {
	var path string
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		r, err := s.getResource(ctx, tx, c, catalog.KindVolume, id)
		if err != nil {
			return err
		}
		var prof volumeProfile
		if json.Unmarshal(r.Profile, &prof) == nil && prof.Managed {
			path = prof.Path
		}
		return tx.DeleteResource(ctx, r.ID)
	})
	if err != nil {
		return err
	}
	if path != "" && strings.HasPrefix(path, s.paths.Regions+string(filepath.Separator)) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove a deleted disk's image", "disk", id, "path", path, "err", err)
		}
	}
	return nil
}
