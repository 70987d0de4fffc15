package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/vault"
)

// restoreOptions are the flags of "restore".
type restoreOptions struct {
	To        string
	Disks     []string
	Rate      string
	Overwrite bool
	VM        string
}

func newRestoreCommand(g *globalOptions) *cobra.Command {
	var opts restoreOptions
	cmd := &cobra.Command{
		Use:   "restore DIR POINT --to OUTDIR",
		Short: "Restore the disks of a restore point as raw images",
		Long: `Restore the disks of a restore point into OUTDIR as raw images named
<disk>.raw: sparse files whose holes are the disk's zeros. POINT is a
restore point id, a unique prefix of it (4 digits or more), or "latest"
(the newest restore point, of the --vm VM if given).

Each image is written under a temporary name and renamed when complete, so
an interrupted or failed restore leaves no image that looks whole. Every
chunk is checked against its hash: a damaged chunk stops the restore and is
named (exit code 6). Existing images are refused unless --overwrite.`,
		Example: `  cairn restore /srv/vault latest --to ./out/
  cairn restore /srv/vault 3f2a9c1e --to /var/lib/images/ --disk os --rate 200MiB/s
  cairn restore /srv/vault latest --vm web --to ./out/ --overwrite`,
		Args: wantArgs("DIR", "POINT"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runRestore(ctx, opts, g, args[0], args[1])
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.To, "to", "", "write the images into `OUTDIR` (made if missing; required)")
	f.StringArrayVar(&opts.Disks, "disk", nil, "restore only the disk `NAME` (repeat for several; default: all)")
	f.StringVar(&opts.Rate, "rate", "", "write at most `RATE` bytes per second, e.g. 200MiB/s (default: unlimited)")
	f.BoolVar(&opts.Overwrite, "overwrite", false, "replace images that already exist in OUTDIR")
	f.StringVar(&opts.VM, "vm", "", "with POINT \"latest\": the newest restore point of the VM `NAME`")
	return cmd
}

// restoreDiskResult is one restored image in the JSON output.
type restoreDiskResult struct {
	restore.DiskResult
	Seconds float64 `json:"seconds"`
}

// restoreResult is the JSON output of "restore".
type restoreResult struct {
	Point   string              `json:"point"`
	VM      string              `json:"vm"`
	Time    time.Time           `json:"time"`
	Disks   []restoreDiskResult `json:"disks"`
	Seconds float64             `json:"seconds"`
}

func runRestore(ctx context.Context, opts restoreOptions, g *globalOptions, dir, ref string) error {
	if opts.To == "" {
		return cairn.E(cairn.Invalid, errors.New("missing --to OUTDIR: say where to write the images"))
	}
	var lim restore.Limiter
	if opts.Rate != "" {
		rate, err := ratelimit.ParseRate(opts.Rate)
		if err != nil {
			return fmt.Errorf("--rate: %w", err)
		}
		if l := ratelimit.New(rate); l != nil {
			lim = l
		}
	}
	if opts.VM != "" && ref != "latest" {
		return cairn.E(cairn.Invalid, fmt.Errorf("--vm goes with the restore point \"latest\", not %q", ref))
	}
	return g.withVault(ctx, dir, func(v *vault.Vault) error {
		rp, err := v.FindPoint(ctx, ref, opts.VM)
		if err != nil {
			return err
		}
		if _, err := restore.Select(rp, opts.Disks); err != nil {
			return err
		}
		prog := g.newProgress()
		timer := ui.NewTimer(prog)
		start := time.Now()
		res, err := restore.ToDir(ctx, v, rp, opts.To, restore.Options{
			Disks:     opts.Disks,
			Limiter:   lim,
			Overwrite: opts.Overwrite,
			Progress:  timer,
		})
		prog.Close()
		if cairn.IsKind(err, cairn.Corrupt) {
			return fmt.Errorf("restore %s: %w (run 'cairn verify --read-data' to find every damaged restore point)", short(rp.ID), err)
		}
		if err != nil {
			return fmt.Errorf("restore %s: %w", short(rp.ID), err)
		}
		out := restoreResult{Point: rp.ID, VM: rp.VM.Name, Time: rp.Time, Seconds: time.Since(start).Seconds()}
		for _, r := range res {
			took, _ := timer.Took(r.Disk)
			out.Disks = append(out.Disks, restoreDiskResult{DiskResult: r, Seconds: took.Seconds()})
		}
		if g.JSON {
			return g.printJSON(out)
		}
		g.printf("restored %s (VM %s, %s) into %s\n", short(rp.ID), rp.VM.Name, localTime(rp.Time), opts.To)
		if g.Quiet {
			return nil
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  DISK\tPATH\tSIZE\tWRITTEN\tTIME\tRATE")
		for _, d := range out.Disks {
			took := time.Duration(d.Seconds * float64(time.Second))
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", d.Disk, d.Path, ui.Bytes(d.Size), ui.Bytes(d.Written), ui.Duration(took), ui.Rate(d.Written, took))
		}
		return tw.Flush()
	})
}
