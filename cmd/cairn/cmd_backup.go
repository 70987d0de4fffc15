package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/vault"
)

// backupOptions are the flags of "backup".
type backupOptions struct {
	VM          string
	VMID        string
	Disks       []string // NAME=PATH
	Changes     []string // NAME=FILE
	Consistency string
	Parent      string
	Tags        []string // KEY=VALUE
	Metadata    string
}

func newBackupCommand(g *globalOptions) *cobra.Command {
	var opts backupOptions
	cmd := &cobra.Command{
		Use:   "backup DIR --vm NAME --disk NAME=PATH...",
		Short: "Back up the disks of a VM as a new restore point",
		Long: `Back up the disks of one VM into the vault in DIR as one restore point.
Each --disk NAME=PATH names a disk and gives its raw image or block device;
names follow the cloud naming rule: 1 to 64 letters, digits, CJK
characters, '_' or '-'.

The restore point's parent is the VM's newest restore point (or --parent
ID, or none with --parent none). With a change map for a disk (--changes
NAME=FILE, a JSON list of {"offset":N,"length":N} extents that changed
since the parent; the JSON of 'nbdinfo --map=qemu:dirty-bitmap:NAME' and
entries with "start" and "dirty" are read too), only those extents are read
and the rest is taken from the parent. Without one the whole disk is read (holes of a sparse image are
skipped) and only chunks the vault lacks are stored.

Everything is checked before anything is written: the names, the disks
(they exist and can be read), the change maps (they parse and fit the
disk), the metadata and the passphrase. A failed or interrupted backup
leaves no restore point; chunks it stored are removed by 'cairn prune'.

--metadata reads the VM description a cloud reports with a restore point
(Azure's sourceMetadata): vmId, location, hardwareProfile, osProfile and
storageProfile are kept; other fields are ignored.`,
		Example: `  cairn backup /srv/vault --vm web --disk os=web-os.raw --disk data0=web-data.raw
  cairn backup /srv/vault --vm web --disk os=web-os.raw --disk data0=web-data.raw \
      --changes os=os-dirty.json --changes data0=data0-dirty.json --consistency filesystem --tag env=prod
  cairn backup /srv/vault --vm web --disk os=/dev/vg0/web-os-snap --parent none --json`,
		Args: wantArgs("DIR"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runBackup(ctx, opts, g, args[0])
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.VM, "vm", "", "the VM's `NAME` (required)")
	f.StringVar(&opts.VMID, "vm-id", "", "the VM's `ID` in its cloud or hypervisor, recorded")
	f.StringArrayVar(&opts.Disks, "disk", nil, "a disk to back up, as `NAME=PATH` (repeat for each disk)")
	f.StringArrayVar(&opts.Changes, "changes", nil, "the change map of a disk since the parent, as `NAME=FILE` (JSON extents)")
	f.StringVar(&opts.Consistency, "consistency", "crash", "how consistent the disks are (`MODE`): crash, filesystem or application")
	f.StringVar(&opts.Parent, "parent", "", "the parent restore point `ID`, or none (default: the VM's newest)")
	f.StringArrayVar(&opts.Tags, "tag", nil, "a tag `KEY=VALUE` stored with the restore point (repeatable)")
	f.StringVar(&opts.Metadata, "metadata", "", "a JSON `FILE` describing the VM (Azure sourceMetadata)")
	return cmd
}

// diskArg is one --disk NAME=PATH.
type diskArg struct{ Name, Path string }

// splitPair splits a NAME=VALUE flag value.
func splitPair(flag, v, example string) (string, string, error) {
	name, value, ok := strings.Cut(v, "=")
	if !ok {
		return "", "", cairn.E(cairn.Invalid, fmt.Errorf("--%s %q: want %s", flag, v, example))
	}
	if name == "" || value == "" {
		return "", "", cairn.E(cairn.Invalid, fmt.Errorf("--%s %q: both sides of '=' must be given: want %s", flag, v, example))
	}
	return name, value, nil
}

// parseDiskArgs checks the --disk flags: syntax, names and duplicates.
func parseDiskArgs(vals []string) ([]diskArg, error) {
	if len(vals) == 0 {
		return nil, cairn.E(cairn.Invalid, errors.New("no disk to back up: give at least one --disk NAME=PATH, e.g. --disk os=web-os.raw"))
	}
	var out []diskArg
	seen := map[string]string{}
	for _, v := range vals {
		name, path, err := splitPair("disk", v, "NAME=PATH, e.g. --disk os=web-os.raw")
		if err != nil {
			return nil, err
		}
		if err := cairn.ValidateName("disk name", name); err != nil {
			return nil, fmt.Errorf("--disk %q: %w", v, err)
		}
		if prev, dup := seen[name]; dup {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("disk name %q is given twice (%s and %s): each disk of a VM needs its own name", name, prev, path))
		}
		seen[name] = path
		out = append(out, diskArg{name, path})
	}
	return out, nil
}

// parseChangeArgs checks the --changes flags against the disks.
func parseChangeArgs(vals []string, disks []diskArg) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vals {
		name, file, err := splitPair("changes", v, "NAME=FILE, e.g. --changes os=os-dirty.json")
		if err != nil {
			return nil, err
		}
		found := false
		for _, d := range disks {
			found = found || d.Name == name
		}
		if !found {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("--changes %q: there is no --disk named %q", v, name))
		}
		if _, dup := out[name]; dup {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("--changes: disk %q has two change maps: give one", name))
		}
		out[name] = file
	}
	return out, nil
}

// parseTags checks the --tag flags.
func parseTags(vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("--tag %q: want KEY=VALUE, e.g. --tag env=prod", v))
		}
		if _, dup := out[k]; dup {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("--tag: key %q is given twice", k))
		}
		out[k] = val
	}
	return out, nil
}

// sourceMetadata is the part of a VM description (Azure's restore point
// sourceMetadata) that a restore point keeps.
type sourceMetadata struct {
	VMID            string          `json:"vmId"`
	Location        string          `json:"location"`
	HardwareProfile json.RawMessage `json:"hardwareProfile"`
	OSProfile       json.RawMessage `json:"osProfile"`
	StorageProfile  json.RawMessage `json:"storageProfile"`
}

// vmOf builds the VM record from the flags and the --metadata file.
func vmOf(opts backupOptions) (vault.VM, error) {
	vm := vault.VM{Name: opts.VM, ID: opts.VMID}
	if opts.VM == "" {
		return vm, cairn.E(cairn.Invalid, errors.New("missing --vm NAME: name the VM the disks belong to"))
	}
	if err := cairn.ValidateName("VM name", opts.VM); err != nil {
		return vm, fmt.Errorf("--vm: %w", err)
	}
	if opts.Metadata == "" {
		return vm, nil
	}
	data, err := os.ReadFile(opts.Metadata)
	if errors.Is(err, fs.ErrNotExist) {
		return vm, cairn.E(cairn.NotExist, fmt.Errorf("--metadata: %s does not exist: check the path", opts.Metadata))
	}
	if err != nil {
		return vm, cairn.E(cairn.Invalid, fmt.Errorf("--metadata: %w", err))
	}
	var md sourceMetadata
	if err := json.Unmarshal(data, &md); err != nil {
		return vm, cairn.E(cairn.Invalid, fmt.Errorf("--metadata %s: not a JSON object describing the VM: %w", opts.Metadata, err))
	}
	if md.VMID != "" {
		if vm.ID != "" && vm.ID != md.VMID {
			return vm, cairn.E(cairn.Invalid, fmt.Errorf("--vm-id %q and the vmId %q of %s differ: give one", vm.ID, md.VMID, opts.Metadata))
		}
		vm.ID = md.VMID
	}
	vm.Location = md.Location
	vm.HardwareProfile, vm.OSProfile, vm.StorageProfile = md.HardwareProfile, md.OSProfile, md.StorageProfile
	return vm, nil
}

// backupWarning is a warning in the JSON output.
type backupWarning struct {
	Disk    string `json:"disk"`
	Message string `json:"message"`
}

// backupResult is the JSON output of "backup".
type backupResult struct {
	ID             string              `json:"id"`
	Point          *vault.RestorePoint `json:"point"`
	Warnings       []backupWarning     `json:"warnings"`
	BytesRead      int64               `json:"bytesRead"`
	NewBytes       int64               `json:"newBytes"`
	Seconds        float64             `json:"seconds"`
	BytesPerSecond float64             `json:"bytesPerSecond"`
}

// prepareBackup checks every input of a backup and opens its disks, without
// touching the vault. The caller must close the returned disks.
func prepareBackup(opts backupOptions) ([]backup.Disk, backup.Options, func(), error) {
	bopts := backup.Options{Parent: opts.Parent}
	nop := func() {}
	var err error
	if bopts.VM, err = vmOf(opts); err != nil {
		return nil, bopts, nop, err
	}
	if bopts.Consistency, err = vault.ParseConsistencyMode(opts.Consistency); err != nil {
		return nil, bopts, nop, fmt.Errorf("--consistency: %w", err)
	}
	if bopts.Tags, err = parseTags(opts.Tags); err != nil {
		return nil, bopts, nop, err
	}
	if opts.Parent != "" && opts.Parent != "none" && opts.Parent != "latest" && len(opts.Parent) < 4 {
		return nil, bopts, nop, cairn.E(cairn.Invalid, fmt.Errorf("--parent %q: give 4 to 32 hex digits of a restore point id, or none", opts.Parent))
	}
	if opts.Parent == "latest" {
		bopts.Parent = ""
	}
	args, err := parseDiskArgs(opts.Disks)
	if err != nil {
		return nil, bopts, nop, err
	}
	changes, err := parseChangeArgs(opts.Changes, args)
	if err != nil {
		return nil, bopts, nop, err
	}
	disks, closeAll, err := openDisks(args, changes)
	if err != nil {
		return nil, bopts, nop, err
	}
	if err := backup.Validate(disks, bopts); err != nil {
		closeAll()
		return nil, bopts, nop, err
	}
	return disks, bopts, closeAll, nil
}

func runBackup(ctx context.Context, opts backupOptions, g *globalOptions, dir string) error {
	disks, bopts, closeDisks, err := prepareBackup(opts)
	if err != nil {
		return err
	}
	defer closeDisks()
	return g.withVault(ctx, dir, func(v *vault.Vault) error {
		res, took, err := doBackup(ctx, g, v, disks, bopts)
		if err != nil {
			return err
		}
		return printBackup(g, res, took)
	})
}

// doBackup runs a backup with progress and returns its result and time.
func doBackup(ctx context.Context, g *globalOptions, v *vault.Vault, disks []backup.Disk, bopts backup.Options) (*backup.Result, time.Duration, error) {
	prog := g.newProgress()
	bopts.Progress = prog
	start := time.Now()
	res, err := backup.Run(ctx, v, disks, bopts)
	took := time.Since(start)
	prog.Close()
	if err != nil {
		return nil, took, fmt.Errorf("backup of VM %s: %w", bopts.VM.Name, err)
	}
	return res, took, nil
}

func printBackup(g *globalOptions, res *backup.Result, took time.Duration) error {
	rp := res.Point
	var read, stored int64
	for _, d := range rp.Disks {
		read += d.ReadBytes
		stored += d.NewBytes
	}
	for _, w := range res.Warnings {
		g.warnf("disk %s: %s", w.Disk, w.Message)
	}
	if g.JSON {
		out := backupResult{ID: rp.ID, Point: rp, Warnings: []backupWarning{}, BytesRead: read, NewBytes: stored, Seconds: took.Seconds()}
		if s := took.Seconds(); s > 0 {
			out.BytesPerSecond = float64(read) / s
		}
		for _, w := range res.Warnings {
			out.Warnings = append(out.Warnings, backupWarning{Disk: w.Disk, Message: w.Message})
		}
		return g.printJSON(out)
	}
	if g.Quiet {
		fmt.Fprintln(g.stdout, rp.ID)
		return nil
	}
	parent := "no parent"
	if rp.Parent != "" {
		parent = "parent " + short(rp.Parent)
	}
	g.printf("restore point %s of VM %s (%s, %s)\n", rp.ID, rp.VM.Name, parent, rp.ConsistencyMode)
	tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  DISK\tMODE\tSIZE\tREAD\tNEW DATA\tNEW CHUNKS")
	for _, d := range rp.Disks {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\n", d.Name, d.Mode, ui.Bytes(d.Size), ui.Bytes(d.ReadBytes), ui.Bytes(d.NewBytes), d.NewChunks)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	g.printf("read %s in %s (%s), stored %s of new data\n", ui.Bytes(read), ui.Duration(took), ui.Rate(read, took), ui.Bytes(stored))
	return nil
}
