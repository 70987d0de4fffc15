package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// newVMCommand returns the "vm" command group.
func newVMCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vm",
		Short: "Register and list the VMs that cairn serve protects",
		Long: `Manage the VMs of cairn serve: a VM is a name in a resource group and a
region, and its disks, which are raw images or block devices on the
server's machine.

Locally (--data DIR, the default ./cairn-data) the commands work on the
data directory; with --server URL they go through the server with --token
(CAIRN_SERVER, CAIRN_TOKEN), and --ca-cert trusts its certificate.`,
		RunE: groupRunE,
	}
	cmd.AddCommand(newVMRegisterCommand(g), newVMListCommand(g), newVMShowCommand(g), newVMDeleteCommand(g))
	return cmd
}

// vmRegisterOptions are the flags of "vm register".
type vmRegisterOptions struct {
	dataOptions
	Name          string
	ResourceGroup string
	Region        string
	Disks         []string
	OSDisk        string
	VMSize        string
	Tags          []string
}

func newVMRegisterCommand(g *globalOptions) *cobra.Command {
	var opts vmRegisterOptions
	cmd := &cobra.Command{
		Use:   "register --name NAME --disk NAME=PATH...",
		Short: "Register a VM and its disk images",
		Long: `Register a VM by its disks: raw images or block devices, named NAME=PATH.
The paths are on the server's machine; a relative path is made absolute
here. The OS disk is the one --os-disk names (default: a disk named "os",
else the first); the others are data disks, numbered (LUN) in order from 0.
Registering a VM of the same resource group and name again replaces its
registration.

The VM's id is its ARM id,
/subscriptions/<project>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>,
which vaults and restore points name as their source.`,
		Example: `  cairn vm register --name web --resource-group rg --region eastus --disk os=/srv/web-os.raw --disk data0=/srv/web-data.raw
  cairn --server https://127.0.0.1:8443 --token "$CAIRN_TOKEN" vm register --name db --disk os=/srv/db.raw --vm-size Standard_D2s_v3`,
		Args: cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runVMRegister(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	opts.addFlags(f, true)
	f.StringVar(&opts.Name, "name", "", "the VM's `NAME` (required)")
	f.StringVar(&opts.ResourceGroup, "resource-group", "default", "the VM's resource `GROUP`")
	f.StringVar(&opts.Region, "region", "eastus", "the `REGION` the VM runs in")
	f.StringArrayVar(&opts.Disks, "disk", nil, "a disk, `NAME=PATH` (repeat for each disk)")
	f.StringVar(&opts.OSDisk, "os-disk", "", "the `NAME` of the OS disk (default: \"os\", else the first disk)")
	f.StringVar(&opts.VMSize, "vm-size", "", "the VM's `SIZE`, as ARM names it (e.g. Standard_D2s_v3), kept in its hardware profile")
	f.StringArrayVar(&opts.Tags, "tag", nil, "a tag, `KEY=VALUE` (repeat for more)")
	return cmd
}

func runVMRegister(ctx context.Context, opts vmRegisterOptions, g *globalOptions) error {
	spec, err := vmSpec(opts)
	if err != nil {
		return err
	}
	if g.server() != "" && opts.Project != "" {
		return usageError("--project is for local use: through a server, a VM goes in the token's project")
	}
	return g.withAPI(ctx, opts.dataOptions, func(api nativeapi.API) error {
		vm, created, err := api.RegisterVM(ctx, spec)
		if err != nil {
			return err
		}
		if g.JSON {
			return g.printJSON(vm)
		}
		verb := "registered"
		if !created {
			verb = "replaced the registration of"
		}
		g.printf("%s VM %s in %s with %d disks (%s)\n  id: %s\n", verb, vm.Name, vm.Region, len(vm.Disks), ui.Bytes(vmSize(vm)), vm.ID)
		return nil
	})
}

// vmSpec checks the flags of "vm register" and builds the request.
func vmSpec(opts vmRegisterOptions) (nativeapi.VMSpec, error) {
	spec := nativeapi.VMSpec{ResourceGroup: opts.ResourceGroup, Name: opts.Name, Region: opts.Region}
	if opts.Name == "" {
		return spec, usageError("--name is required: name the VM (e.g. --name web)")
	}
	if len(opts.Disks) == 0 {
		return spec, usageError("no disk: give at least one --disk NAME=PATH, e.g. --disk os=/srv/web-os.raw")
	}
	disks, err := parseDiskArgs(opts.Disks)
	if err != nil {
		return spec, err
	}
	osDisk := opts.OSDisk
	if osDisk == "" {
		osDisk = disks[0].Name
		for _, d := range disks {
			if d.Name == "os" {
				osDisk = "os"
			}
		}
	}
	found, lun := false, 0
	for _, d := range disks {
		path, err := filepath.Abs(d.Path)
		if err != nil {
			return spec, cairn.E(cairn.Invalid, fmt.Errorf("--disk %s=%s: %w", d.Name, d.Path, err))
		}
		ds := nativeapi.DiskSpec{Name: d.Name, Path: path}
		if d.Name == osDisk {
			ds.OS, found = true, true
		} else {
			ds.Lun = lun
			lun++
		}
		spec.Disks = append(spec.Disks, ds)
	}
	if !found {
		return spec, cairn.E(cairn.Invalid, fmt.Errorf("--os-disk %q names none of the disks", osDisk))
	}
	if opts.VMSize != "" {
		profile, _ := json.Marshal(map[string]any{"hardwareProfile": map[string]string{"vmSize": opts.VMSize}})
		spec.Profile = profile
	}
	for _, t := range opts.Tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return spec, cairn.E(cairn.Invalid, fmt.Errorf("--tag %q: want KEY=VALUE", t))
		}
		if spec.Tags == nil {
			spec.Tags = map[string]string{}
		}
		spec.Tags[k] = v
	}
	return spec, nil
}

func vmSize(vm *nativeapi.VM) int64 {
	var n int64
	for _, d := range vm.Disks {
		n += d.Size
	}
	return n
}

// vmListOptions are the flags of "vm list".
type vmListOptions struct {
	dataOptions
	ResourceGroup string
	Region        string
}

func newVMListCommand(g *globalOptions) *cobra.Command {
	var opts vmListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the registered VMs",
		Example: `  cairn vm list
  cairn --server https://127.0.0.1:8443 --token "$CAIRN_TOKEN" vm list --json`,
		Args: cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runVMList(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	opts.addFlags(f, true)
	f.StringVar(&opts.ResourceGroup, "resource-group", "", "only the VMs of resource `GROUP`")
	f.StringVar(&opts.Region, "region", "", "only the VMs in `REGION`")
	return cmd
}

func runVMList(ctx context.Context, opts vmListOptions, g *globalOptions) error {
	if g.server() != "" && opts.Project != "" {
		return usageError("--project is for local use: through a server, the token's project is listed")
	}
	return g.withAPI(ctx, opts.dataOptions, func(api nativeapi.API) error {
		var all []nativeapi.VM
		pg := nativeapi.Page{}
		for {
			l, err := api.ListVMs(ctx, nativeapi.VMFilter{ResourceGroup: opts.ResourceGroup, Region: opts.Region}, pg)
			if err != nil {
				return err
			}
			all = append(all, l.Items...)
			if l.NextPageToken == "" {
				break
			}
			pg.Token = l.NextPageToken
		}
		if g.JSON {
			return g.printJSON(nativeapi.List[nativeapi.VM]{Items: all})
		}
		if len(all) == 0 {
			g.printf("no VMs: register one with 'cairn vm register'\n")
			return nil
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tRESOURCE GROUP\tREGION\tDISKS\tSIZE\tID")
		for i := range all {
			vm := &all[i]
			names := make([]string, len(vm.Disks))
			for j, d := range vm.Disks {
				names[j] = d.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", vm.Name, vm.ResourceGroup, vm.Region, strings.Join(names, ","), ui.Bytes(vmSize(vm)), vm.ID)
		}
		return tw.Flush()
	})
}

func newVMShowCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one VM (as JSON)",
		Args:  wantArgs("ID"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				vm, err := api.GetVM(ctx, args[0])
				if err != nil {
					return err
				}
				return g.printJSON(vm)
			})
		}),
	}
	opts.addFlags(cmd.Flags(), true)
	return cmd
}

func newVMDeleteCommand(g *globalOptions) *cobra.Command {
	var opts dataOptions
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Unregister a VM (its images and restore points stay)",
		Args:  wantArgs("ID"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return g.withAPI(ctx, opts, func(api nativeapi.API) error {
				if err := api.DeleteVM(ctx, args[0]); err != nil {
					return err
				}
				g.printf("unregistered VM %s\n", args[0])
				return nil
			})
		}),
	}
	opts.addFlags(cmd.Flags(), true)
	return cmd
}
