package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/retention"
	"github.com/cairn-vm/cairn/internal/vault"
)

// forgetOptions are the flags of "forget".
type forgetOptions struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
	WithinDays                                   int
	VM                                           string
	DryRun                                       bool
	Prune                                        bool
}

func newForgetCommand(g *globalOptions) *cobra.Command {
	var opts forgetOptions
	cmd := &cobra.Command{
		Use:   "forget DIR --keep-... N",
		Short: "Remove the restore points a retention policy does not keep",
		Long: `Apply a retention policy to the restore points of the vault in DIR and
remove those it does not keep. Each VM's restore points are judged on their
own. The rules are restic's: --keep-last N keeps the N newest points;
--keep-hourly/daily/weekly/monthly/yearly N keep the newest point of each
of the N newest hours, days, ISO weeks, months or years that have points
(in the local time zone); --keep-within-days N keeps every point of the
last N days. A point kept by any rule is kept, and the newest point of each
VM always is. At least one rule must be given.

Removing a restore point removes its record; the chunks it alone used stay
until a prune ('cairn prune', or --prune here) removes them. When running
backups keep --prune waiting for more than 10 minutes, the prune deletes
nothing and forget warns (exit code 0): run 'cairn prune' later.`,
		Example: `  cairn forget /srv/vault --keep-last 7 --keep-daily 14 --keep-weekly 8 --keep-monthly 12 --dry-run
  cairn forget /srv/vault --keep-within-days 30 --vm web --prune`,
		Args: wantArgs("DIR"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runForget(ctx, opts, g, args[0])
		}),
	}
	f := cmd.Flags()
	f.IntVar(&opts.Last, "keep-last", 0, "keep the `N` newest restore points")
	f.IntVar(&opts.Hourly, "keep-hourly", 0, "keep the newest point of each of the `N` newest hours")
	f.IntVar(&opts.Daily, "keep-daily", 0, "keep the newest point of each of the `N` newest days")
	f.IntVar(&opts.Weekly, "keep-weekly", 0, "keep the newest point of each of the `N` newest weeks")
	f.IntVar(&opts.Monthly, "keep-monthly", 0, "keep the newest point of each of the `N` newest months")
	f.IntVar(&opts.Yearly, "keep-yearly", 0, "keep the newest point of each of the `N` newest years")
	f.IntVar(&opts.WithinDays, "keep-within-days", 0, "keep every point of the last `N` days")
	f.StringVar(&opts.VM, "vm", "", "apply the policy only to the VM `NAME`")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would be removed, remove nothing")
	f.BoolVar(&opts.Prune, "prune", false, "then remove the chunks no restore point uses (see 'cairn prune')")
	return cmd
}

// policy returns the retention policy the flags give.
func (o forgetOptions) policy() (retention.Policy, error) {
	p := retention.Policy{
		Last: o.Last, Hourly: o.Hourly, Daily: o.Daily, Weekly: o.Weekly,
		Monthly: o.Monthly, Yearly: o.Yearly,
	}
	if o.WithinDays < 0 {
		return p, cairn.E(cairn.Invalid, fmt.Errorf("--keep-within-days must not be negative, is %d", o.WithinDays))
	}
	p.Within = time.Duration(o.WithinDays) * 24 * time.Hour
	if err := p.Validate(); err != nil {
		return p, err
	}
	if p.Empty() {
		return p, cairn.E(cairn.Invalid, errors.New("no retention policy: give at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within-days (e.g. --keep-last 7)"))
	}
	return p, nil
}

// forgetEntry is one restore point's verdict in the JSON output.
type forgetEntry struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Reasons []string  `json:"reasons,omitempty"`
}

// forgetGroup is the verdict on one VM's restore points.
type forgetGroup struct {
	VM     string        `json:"vm"`
	Keep   []forgetEntry `json:"keep"`
	Remove []forgetEntry `json:"remove"`
}

// forgetResult is the JSON output of "forget".
type forgetResult struct {
	Policy  string         `json:"policy"`
	DryRun  bool           `json:"dryRun"`
	Groups  []forgetGroup  `json:"groups"`
	Removed int            `json:"removed"`
	Prune   *vault.GCStats `json:"prune,omitempty"`
}

func runForget(ctx context.Context, opts forgetOptions, g *globalOptions, dir string) error {
	pol, err := opts.policy()
	if err != nil {
		return err
	}
	return g.withVault(ctx, dir, func(v *vault.Vault) error {
		pts, err := v.Points(ctx)
		if err != nil {
			return fmt.Errorf("forget: %w", err)
		}
		byVM := map[string][]*vault.RestorePoint{}
		byID := map[string]*vault.RestorePoint{}
		for _, rp := range pts {
			if opts.VM == "" || rp.VM.Name == opts.VM {
				byVM[rp.VM.Name] = append(byVM[rp.VM.Name], rp)
				byID[rp.ID] = rp
			}
		}
		vms := make([]string, 0, len(byVM))
		for vm := range byVM {
			vms = append(vms, vm)
		}
		sort.Strings(vms)

		res := forgetResult{Policy: pol.String(), DryRun: opts.DryRun, Groups: []forgetGroup{}}
		now := v.Clock().Now()
		for _, vm := range vms {
			items := make([]retention.Item, len(byVM[vm]))
			for i, rp := range byVM[vm] {
				items[i] = retention.Item{ID: rp.ID, Time: rp.Time}
			}
			keep, forget := retention.Apply(pol, items, now, time.Local)
			grp := forgetGroup{VM: vm, Keep: []forgetEntry{}, Remove: []forgetEntry{}}
			for _, d := range keep {
				grp.Keep = append(grp.Keep, forgetEntry{ID: d.Item.ID, Time: d.Item.Time, Reasons: d.Reasons})
			}
			for _, d := range forget {
				grp.Remove = append(grp.Remove, forgetEntry{ID: d.Item.ID, Time: d.Item.Time})
			}
			res.Groups = append(res.Groups, grp)
		}

		if !g.JSON {
			printForgetPlan(g, res, opts.VM)
		}
		if !opts.DryRun {
			for _, grp := range res.Groups {
				for _, e := range grp.Remove {
					if err := v.DeletePoint(ctx, byID[e.ID]); err != nil {
						return fmt.Errorf("forget: %d restore points removed, then: %w", res.Removed, err)
					}
					res.Removed++
				}
			}
			g.printf("removed %s\n", plural(res.Removed, "restore point"))
		}
		if opts.Prune && opts.DryRun {
			g.printf("dry run: nothing removed, so no prune\n")
		}
		if opts.Prune && !opts.DryRun {
			st, err := v.GC(ctx, vault.GCOptions{Wait: pruneWait})
			if err != nil {
				return fmt.Errorf("forget: %s removed; prune: %w", plural(res.Removed, "restore point"), err)
			}
			res.Prune = &st
			if !g.JSON {
				printGCStats(g, st, false)
			} else if st.Deferred {
				g.warnf("prune deferred: backups still running did not finish in time; nothing was deleted: run 'cairn prune' again later")
			}
		}
		if g.JSON {
			return g.printJSON(res)
		}
		return nil
	})
}

func printForgetPlan(g *globalOptions, res forgetResult, vm string) {
	if len(res.Groups) == 0 {
		if vm != "" {
			g.printf("no restore points of VM %q\n", vm)
		} else {
			g.printf("no restore points\n")
		}
		return
	}
	verb := "remove"
	if res.DryRun {
		verb = "would remove"
	}
	for _, grp := range res.Groups {
		g.printf("VM %s (policy: %s): keep %d, %s %d\n", grp.VM, res.Policy, len(grp.Keep), verb, len(grp.Remove))
		for _, e := range grp.Keep {
			g.printf("  keep    %s  %s  %s\n", short(e.ID), localTime(e.Time), strings.Join(e.Reasons, ", "))
		}
		for _, e := range grp.Remove {
			g.printf("  remove  %s  %s\n", short(e.ID), localTime(e.Time))
		}
	}
}
