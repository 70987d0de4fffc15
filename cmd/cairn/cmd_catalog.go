package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/catalog"
)

// newCatalogCommand returns the "catalog" command group.
func newCatalogCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Repair the server's catalog from its vaults",
		RunE:  groupRunE,
	}
	cmd.AddCommand(newCatalogRebuildCommand(g))
	return cmd
}

// catalogRebuildOptions are the flags of "catalog rebuild".
type catalogRebuildOptions struct {
	Data   string
	Prune  bool
	DryRun bool
}

func newCatalogRebuildCommand(g *globalOptions) *cobra.Command {
	var opts catalogRebuildOptions
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Make the catalog's restore points agree with the regions' vaults",
		Long: `Rebuild the catalog of a data directory from its regions' vaults, which are
the source of truth for restore points: restore points found in a vault
but missing from the catalog are added (with their projects and vaults,
from the tags cairn writes with each point), points the catalog still
shows as being made are marked succeeded, and succeeded points whose data
is gone are reported (deleted with --prune).

It works on the data directory only, not through a server; it is safe
while the server runs, but best run while it is stopped.`,
		Example: `  cairn catalog rebuild --data /srv/cairn --dry-run
  cairn catalog rebuild --data /srv/cairn --prune`,
		Args: cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runCatalogRebuild(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", defaultDataDir, "the data `DIR` of cairn serve")
	f.BoolVar(&opts.Prune, "prune", false, "delete catalog restore points whose data is gone from their vault")
	f.BoolVar(&opts.DryRun, "dry-run", false, "report what would change and change nothing")
	return cmd
}

func runCatalogRebuild(ctx context.Context, opts catalogRebuildOptions, g *globalOptions) error {
	if g.server() != "" {
		return usageError("catalog rebuild works on a data directory (--data), not through --server")
	}
	svc, err := openLocalService(ctx, opts.Data)
	if err != nil {
		return err
	}
	defer svc.Close()
	rep, err := svc.Rebuild(ctx, catalog.RebuildOptions{Prune: opts.Prune, DryRun: opts.DryRun})
	if err != nil {
		return err
	}
	if g.JSON {
		return g.printJSON(rep)
	}
	would := ""
	if opts.DryRun {
		would = "would be "
	}
	if len(rep.Projects) > 0 {
		g.printf("projects %srecreated: %d\n", would, len(rep.Projects))
	}
	if len(rep.Vaults) > 0 {
		g.printf("vaults %srecreated: %d\n", would, len(rep.Vaults))
	}
	regions := make([]string, 0, len(rep.Regions))
	for r := range rep.Regions {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		rr := rep.Regions[r]
		if rr == nil {
			continue
		}
		missing := "reported"
		if opts.Prune {
			missing = "deleted"
		}
		g.printf("%s: %d restore points %sadded, %d %scompleted, %d with data gone (%s%s), %d unmatched in the vault\n",
			r, len(rr.Added), would, len(rr.Completed), would, len(rr.Missing), would, missing, len(rr.Unmatched))
		for _, id := range rr.Unmatched {
			fmt.Fprintf(g.stderr, "warning: %s: vault restore point %s belongs to no catalog vault\n", r, id)
		}
	}
	return nil
}
