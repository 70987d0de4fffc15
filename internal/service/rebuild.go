package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/vault"
)

func (s *Service) rebuild(ctx context.Context, opts catalog.RebuildOptions) (*RebuildReport, error) {
	rep := &RebuildReport{Regions: map[string]*catalog.RebuildReport{}}
	names := make([]string, 0, len(s.regions))
	for name := range s.regions {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		pts, err := s.regions[name].vault.Points(ctx)
		if err != nil {
			return rep, fmt.Errorf("rebuild: region %s: %w", name, err)
		}
		if !opts.DryRun {
			if err := s.recreateOwners(ctx, name, pts, rep); err != nil {
				return rep, fmt.Errorf("rebuild: region %s: %w", name, err)
			}
		}
		r, err := catalog.Rebuild(ctx, s.cat, name, pts, opts)
		if err != nil {
			return rep, err
		}
		rep.Regions[name] = r
		s.log.Info("catalog rebuilt", "region", name, "added", len(r.Added), "completed", len(r.Completed), "missing", len(r.Missing), "unmatched", len(r.Unmatched))
	}
	return rep, nil
}

// recreateOwners recreates the projects and vaults that the tags of
// storage points name and the catalog lacks.
func (s *Service) recreateOwners(ctx context.Context, region string, pts []*vault.RestorePoint, rep *RebuildReport) error {
	for _, sp := range pts {
		t := sp.Tags
		projectID, vaultID := t[TagProject], t[catalog.TagVault]
		if projectID == "" || vaultID == "" {
			continue
		}
		if _, err := s.cat.GetProject(ctx, projectID); cairn.IsKind(err, cairn.NotExist) {
			name := t[TagProjectName]
			if name == "" {
				name = projectID
			}
			p := &catalog.Project{ID: projectID, Name: name}
			err := s.cat.PutProject(ctx, p)
			if cairn.IsKind(err, cairn.Exist) {
				p.Name = projectID // the name is taken by another project
				err = s.cat.PutProject(ctx, p)
			}
			if err != nil {
				return fmt.Errorf("project %s: %w", projectID, err)
			}
			rep.Projects = append(rep.Projects, projectID)
		} else if err != nil {
			return err
		}
		if _, err := s.cat.GetVault(ctx, vaultID); cairn.IsKind(err, cairn.NotExist) {
			name := t[TagVaultName]
			if name == "" {
				name = vaultID
			}
			v := &catalog.Vault{
				ID:               vaultID,
				ProjectID:        projectID,
				ResourceGroup:    t[TagVaultGroup],
				Name:             name,
				Region:           region,
				SourceResourceID: t[TagVaultSource],
				SourceVaultID:    t[TagVaultSourceVault],
			}
			if err := s.cat.PutVault(ctx, v); err != nil {
				if cairn.IsKind(err, cairn.Exist) {
					s.log.Warn("rebuild: a vault of the same name exists: its points stay unmatched", "vault", vaultID, "name", name)
					continue
				}
				return fmt.Errorf("vault %s: %w", vaultID, err)
			}
			rep.Vaults = append(rep.Vaults, vaultID)
		} else if err != nil {
			return err
		}
	}
	return nil
}
