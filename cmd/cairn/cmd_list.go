package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/vault"
)

// listOptions are the flags of "list".
type listOptions struct {
	VM string
}

func newListCommand(g *globalOptions) *cobra.Command {
	var opts listOptions
	cmd := &cobra.Command{
		Use:   "list DIR",
		Short: "List the restore points of a vault",
		Long: `List the restore points of the vault in DIR, oldest first: the id (its
first 8 digits; any unique prefix of 4 or more names the point), the time
in the local time zone, the VM, its disks, the size of the disks, the new
data the backup stored and the parent's id. With --json, every field of
every restore point.`,
		Example: `  cairn list /srv/vault
  cairn list /srv/vault --vm web --json`,
		Args: wantArgs("DIR"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runList(ctx, opts, g, args[0])
		}),
	}
	cmd.Flags().StringVar(&opts.VM, "vm", "", "list only the restore points of the VM `NAME`")
	return cmd
}

func runList(ctx context.Context, opts listOptions, g *globalOptions, dir string) error {
	return g.withVault(ctx, dir, func(v *vault.Vault) error {
		all, err := v.Points(ctx)
		if err != nil {
			return fmt.Errorf("list restore points: %w", err)
		}
		pts := make([]*vault.RestorePoint, 0, len(all))
		for _, rp := range all {
			if opts.VM == "" || rp.VM.Name == opts.VM {
				pts = append(pts, rp)
			}
		}
		if g.JSON {
			return g.printJSON(pts)
		}
		if len(pts) == 0 {
			if opts.VM != "" {
				g.printf("no restore points of VM %q\n", opts.VM)
			} else {
				g.printf("no restore points\n")
			}
			return nil
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tVM\tDISKS\tSIZE\tNEW DATA\tPARENT")
		var total int64
		for _, rp := range pts {
			names := make([]string, len(rp.Disks))
			var added int64
			for i, d := range rp.Disks {
				names[i] = d.Name
				added += d.NewBytes
			}
			total += added
			parent := "-"
			if rp.Parent != "" {
				parent = short(rp.Parent)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", short(rp.ID), localTime(rp.Time), rp.VM.Name,
				strings.Join(names, ","), ui.Bytes(rp.Size()), ui.Bytes(added), parent)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		g.printf("%d restore points, %s of new data stored\n", len(pts), ui.Bytes(total))
		return nil
	})
}

// short returns the first 8 digits of a restore point id.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// localTime formats t in the local time zone, to the second.
func localTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
