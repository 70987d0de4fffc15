package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/vault"
)

// pruneWait is how long prune waits for running backups by default.
const pruneWait = 10 * time.Minute

// pruneOptions are the flags of "prune".
type pruneOptions struct {
	DryRun bool
	Wait   time.Duration
}

func newPruneCommand(g *globalOptions) *cobra.Command {
	opts := pruneOptions{Wait: pruneWait}
	cmd := &cobra.Command{
		Use:   "prune DIR",
		Short: "Remove the chunks no restore point uses (garbage collection)",
		Long: `Remove from the vault in DIR the chunks and manifests that no restore
point uses: those of restore points removed by 'cairn forget', and those
left by interrupted backups.

Backups may run meanwhile: prune announces what it means to delete, waits
(up to --wait) for the backups running at that moment to finish, and
deletes only what is still unused. When they do not finish in time, prune
deletes nothing, says so and exits with code 5: run it again later.`,
		Example: `  cairn prune /srv/vault
  cairn prune /srv/vault --dry-run`,
		Args: wantArgs("DIR"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runPrune(ctx, opts, g, args[0])
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&opts.DryRun, "dry-run", false, "count what would be removed, remove nothing")
	f.DurationVar(&opts.Wait, "wait", pruneWait, "wait at most `DURATION` for running backups")
	return cmd
}

func runPrune(ctx context.Context, opts pruneOptions, g *globalOptions, dir string) error {
	return g.withVault(ctx, dir, func(v *vault.Vault) error {
		st, err := v.GC(ctx, vault.GCOptions{Wait: opts.Wait, DryRun: opts.DryRun})
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		if g.JSON {
			if err := g.printJSON(pruneResult{DryRun: opts.DryRun, GCStats: st}); err != nil {
				return err
			}
		} else {
			printGCStats(g, st, opts.DryRun)
		}
		if st.Deferred {
			return cairn.E(cairn.Conflict, errors.New("prune deferred: backups were still running; nothing was deleted, run 'cairn prune' again later"))
		}
		return nil
	})
}

// pruneResult is the JSON output of "prune".
type pruneResult struct {
	DryRun bool `json:"dryRun"`
	vault.GCStats
}

// printGCStats tells people what a garbage collection did.
func printGCStats(g *globalOptions, st vault.GCStats, dryRun bool) {
	g.printf("prune: %s use %d chunks; the vault holds %d chunks\n", plural(st.Points, "restore point"), st.ReferencedChunk, st.Chunks)
	switch {
	case dryRun:
		g.printf("prune (dry run): %d chunks are unused and would be removed; nothing was deleted\n", st.Candidates)
	case st.Deferred:
		g.warnf("prune deferred: backups still running (locks %v) did not finish in time; nothing was deleted: run 'cairn prune' again later", st.WaitedFor)
	default:
		g.printf("prune: removed %d chunks (%s) and %d other objects", st.DeletedChunks, ui.Bytes(st.DeletedBytes), st.DeletedOther)
		if st.KeptChunks > 0 {
			g.printf("; kept %d unused chunks written too recently to be sure no running backup needs them", st.KeptChunks)
		}
		g.printf("\n")
	}
	if len(st.RemovedStale) > 0 {
		g.printf("prune: removed %s of dead processes: %v\n", plural(len(st.RemovedStale), "stale lock"), st.RemovedStale)
	}
}
