package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Tags that a job writing a restore point into a storage vault puts in the
// point's vault.RestorePoint.Tags, so that Rebuild can link it back to its
// catalog records.
const (
	TagVault  = "cairn.vault"  // the catalog Vault's id
	TagPoint  = "cairn.point"  // the catalog RestorePoint's id
	TagName   = "cairn.name"   // the catalog RestorePoint's name
	TagSource = "cairn.source" // for a copy: the catalog id of the restore point copied
)

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// Prune deletes the catalog's succeeded restore points whose data is
	// no longer in the storage vault. Without it they are only reported.
	Prune bool
	// DryRun reports what Rebuild would do and changes nothing.
	DryRun bool
}

// RebuildReport tells what Rebuild did, or would do.
type RebuildReport struct {
	Added     []string // catalog ids of restore points added from the storage vault
	Completed []string // catalog restore points marked succeeded, or given missing disks
	Missing   []string // catalog restore points whose storage point is gone (deleted with Prune)
	Unmatched []string // storage point ids that no catalog vault claims
}

var errDryRun = errors.New("dry run")

// Rebuild makes the catalog's restore points of the vaults in region agree
// with points, the committed restore points of the region's storage vault
// (vault.Vault.Points): the storage is the source of truth.
//
// A storage point belongs to the catalog vault named by its TagVault tag;
// without the tag, to the catalog restore point that already records its
// id, or to the region's only vault (not a copy target) whose
// SourceResourceID is the point's VM id. A point that none of these
// claims is reported as unmatched. Each claimed point gets a catalog
// restore point in state PointSucceeded with a disk restore point per
// disk: a missing one is added (with the id and name of its TagPoint and
// TagName tags when free), one in another state is marked succeeded.
// Catalog restore points that are succeeded but whose storage point is
// gone are reported, and deleted when opts.Prune is set; points still
// being created are left alone.
//
// Rebuild runs in one transaction: it changes all of this or nothing.
func Rebuild(ctx context.Context, c Catalog, region string, points []*vault.RestorePoint, opts RebuildOptions) (*RebuildReport, error) {
	var rep *RebuildReport
	err := c.Update(ctx, func(tx Tx) error {
		var err error
		rep, err = rebuild(ctx, tx, region, points, opts)
		if err == nil && opts.DryRun {
			return errDryRun
		}
		return err
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return nil, fmt.Errorf("rebuild region %s: %w", region, err)
	}
	return rep, nil
}

// listAll collects every page of a list.
func listAll[T any](list func(Page) ([]*T, string, error)) ([]*T, error) {
	var all []*T
	page := Page{Size: MaxPageSize}
	for {
		items, next, err := list(page)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		page.Token = next
	}
}

func rebuild(ctx context.Context, tx Tx, region string, points []*vault.RestorePoint, opts RebuildOptions) (*RebuildReport, error) {
	if _, err := tx.GetRegion(ctx, region); err != nil {
		return nil, err
	}
	vaults, err := listAll(func(p Page) ([]*Vault, string, error) {
		return tx.ListVaults(ctx, VaultFilter{Region: region}, p)
	})
	if err != nil {
		return nil, err
	}
	byID := map[string]*Vault{}
	bySource := map[string][]*Vault{}
	byVaultPoint := map[string]*RestorePoint{} // storage point id -> catalog point
	byCatalogID := map[string]*RestorePoint{}
	var catalogPoints []*RestorePoint
	for _, v := range vaults {
		byID[v.ID] = v
		if v.SourceResourceID != "" && v.SourceVaultID == "" {
			bySource[v.SourceResourceID] = append(bySource[v.SourceResourceID], v)
		}
		pts, err := listAll(func(p Page) ([]*RestorePoint, string, error) {
			return tx.ListRestorePoints(ctx, RestorePointFilter{VaultID: v.ID}, p)
		})
		if err != nil {
			return nil, err
		}
		for _, p := range pts {
			catalogPoints = append(catalogPoints, p)
			byCatalogID[p.ID] = p
			if p.VaultPointID != "" {
				byVaultPoint[p.VaultPointID] = p
			}
		}
	}

	rep := &RebuildReport{}
	inStorage := map[string]bool{}
	for _, sp := range points {
		inStorage[sp.ID] = true
		existing := byVaultPoint[sp.ID]
		if existing == nil {
			if p := byCatalogID[sp.Tags[TagPoint]]; p != nil && p.VaultPointID == "" {
				existing = p
			}
		}
		var target *Vault
		switch {
		case existing != nil:
			target = byID[existing.VaultID]
		case byID[sp.Tags[TagVault]] != nil:
			target = byID[sp.Tags[TagVault]]
		case len(bySource[sp.VM.ID]) == 1:
			target = bySource[sp.VM.ID][0]
		default:
			rep.Unmatched = append(rep.Unmatched, sp.ID)
			continue
		}
		if existing != nil {
			changed, err := completePoint(ctx, tx, existing, sp)
			if err != nil {
				return nil, err
			}
			if changed {
				rep.Completed = append(rep.Completed, existing.ID)
			}
			continue
		}
		p, err := addPoint(ctx, tx, target, sp)
		if err != nil {
			return nil, err
		}
		rep.Added = append(rep.Added, p.ID)
	}

	for _, p := range catalogPoints {
		if p.State != PointSucceeded || p.VaultPointID == "" || inStorage[p.VaultPointID] {
			continue
		}
		rep.Missing = append(rep.Missing, p.ID)
		if opts.Prune {
			if err := tx.DeleteRestorePoint(ctx, p.ID); err != nil {
				return nil, err
			}
		}
	}
	return rep, nil
}

// addPoint records storage point sp in vault v.
func addPoint(ctx context.Context, tx Tx, v *Vault, sp *vault.RestorePoint) (*RestorePoint, error) {
	meta, err := json.Marshal(sp.VM)
	if err != nil {
		return nil, err
	}
	p := &RestorePoint{
		VaultID:         v.ID,
		Name:            sp.ID,
		ResourceID:      sp.VM.ID,
		VaultPointID:    sp.ID,
		ConsistencyMode: sp.ConsistencyMode,
		State:           PointSucceeded,
		SourcePointID:   sp.Tags[TagSource],
		ExcludedDisks:   sp.ExcludedDisks,
		Metadata:        meta,
		Created:         sp.Time,
	}
	if id := sp.Tags[TagPoint]; id != "" {
		if _, err := tx.GetRestorePoint(ctx, id); cairn.IsKind(err, cairn.NotExist) {
			p.ID = id
		} else if err != nil {
			return nil, err
		}
	}
	if name := sp.Tags[TagName]; name != "" {
		taken, _, err := tx.ListRestorePoints(ctx, RestorePointFilter{VaultID: v.ID, Name: name}, Page{Size: 1})
		if err != nil {
			return nil, err
		}
		if len(taken) == 0 {
			p.Name = name
		}
	}
	if err := tx.PutRestorePoint(ctx, p); err != nil {
		return nil, fmt.Errorf("restore point %s: %w", sp.ID, err)
	}
	if _, err := addDisks(ctx, tx, p, sp); err != nil {
		return nil, err
	}
	return p, nil
}

// completePoint marks catalog point p succeeded as storage point sp, and
// adds the disks it lacks. It reports whether it changed anything.
func completePoint(ctx context.Context, tx Tx, p *RestorePoint, sp *vault.RestorePoint) (bool, error) {
	changed := false
	if (p.State != PointSucceeded && p.State != PointDeleting) || p.VaultPointID != sp.ID {
		if p.State != PointDeleting {
			p.State, p.FailureReason = PointSucceeded, ""
		}
		p.VaultPointID = sp.ID
		if err := tx.PutRestorePoint(ctx, p); err != nil {
			return false, fmt.Errorf("restore point %s: %w", p.ID, err)
		}
		changed = true
	}
	added, err := addDisks(ctx, tx, p, sp)
	return changed || added, err
}

// addDisks adds the disk restore points of sp's disks that p lacks, and
// reports whether it added any.
func addDisks(ctx context.Context, tx Tx, p *RestorePoint, sp *vault.RestorePoint) (bool, error) {
	have, err := listAll(func(pg Page) ([]*DiskRestorePoint, string, error) {
		return tx.ListDiskRestorePoints(ctx, DiskRestorePointFilter{RestorePointID: p.ID}, pg)
	})
	if err != nil {
		return false, err
	}
	known := map[string]bool{}
	for _, d := range have {
		known[d.DiskName] = true
	}
	added := false
	for _, d := range sp.Disks {
		if known[d.Name] {
			continue
		}
		dp := &DiskRestorePoint{RestorePointID: p.ID, DiskName: d.Name, Size: d.Size, Created: sp.Time}
		if err := tx.PutDiskRestorePoint(ctx, dp); err != nil {
			return false, fmt.Errorf("restore point %s, disk %s: %w", p.ID, d.Name, err)
		}
		added = true
	}
	return added, nil
}
