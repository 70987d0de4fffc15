package arm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// vmProfile is what the dialect stores as a VM's profile, and what
// becomes a restore point's sourceMetadata: the VM's ARM properties
// (without adminPassword and customData), its unique id and location.
type vmProfile struct {
	VMID               string              `json:"vmId,omitempty"`
	Location           string              `json:"location,omitempty"`
	HardwareProfile    *HardwareProfile    `json:"hardwareProfile,omitempty"`
	OSProfile          *OSProfile          `json:"osProfile,omitempty"`
	StorageProfile     *VMStorageProfile   `json:"storageProfile,omitempty"`
	DiagnosticsProfile *DiagnosticsProfile `json:"diagnosticsProfile,omitempty"`
}

// Values ARM accepts for some disk fields, by their lower-case spelling.
var (
	osTypes       = canonSet("Linux", "Windows")
	cachingTypes  = canonSet("None", "ReadOnly", "ReadWrite")
	createOptions = canonSet("Attach", "FromImage")
)

func canonSet(vs ...string) map[string]string {
	m := map[string]string{}
	for _, v := range vs {
		m[strings.ToLower(v)] = v
	}
	return m
}

// canonValue returns v in its canonical spelling from set, "" for an
// empty v, or a 400 naming field.
func canonValue(field, v string, set map[string]string) (string, error) {
	if v == "" {
		return "", nil
	}
	c, ok := set[strings.ToLower(v)]
	if !ok {
		var allowed []string
		for _, a := range set {
			allowed = append(allowed, a)
		}
		return "", invalidf(field, "The value '%s' of %s is not valid: use one of %s.", v, field, strings.Join(sortStrings(allowed), ", "))
	}
	return c, nil
}

// putVM registers a VM (201) or replaces its registration (200).
func (h *handlers) putVM(ctx context.Context, q *request) (any, error) {
	name, err := q.pathName("vm", TypeVirtualMachines)
	if err != nil {
		return nil, err
	}
	var in VirtualMachine
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if err := checkBodyName(in.Name, name); err != nil {
		return nil, err
	}
	loc, err := h.checkRegion(ctx, q, "location", in.Location, ResourceTypeVM)
	if err != nil {
		return nil, err
	}
	if err := ValidateTags(in.Tags); err != nil {
		return nil, invalid("tags", err)
	}
	p := in.Properties
	if p == nil {
		return nil, invalidf("properties", "The property 'properties' is required: give hardwareProfile, osProfile and storageProfile.")
	}
	if p.HardwareProfile == nil || p.HardwareProfile.VMSize == "" {
		return nil, invalidf("properties.hardwareProfile.vmSize", "The property 'properties.hardwareProfile.vmSize' is required.")
	}
	if p.OSProfile != nil {
		if n := len(p.OSProfile.ComputerName); n > 64 {
			return nil, invalidf("properties.osProfile.computerName", "The computer name '%s' is too long: at most 64 characters.", p.OSProfile.ComputerName)
		}
		os := *p.OSProfile
		os.AdminPassword, os.CustomData = "", ""
		if w := os.WindowsConfiguration; w != nil {
			for i := range w.AdditionalUnattendContent {
				c := &w.AdditionalUnattendContent[i]
				if c.PassName == "" {
					c.PassName = c.Pass
				}
				if c.ComponentName == "" {
					c.ComponentName = c.Component
				}
				c.Pass, c.Component = "", ""
			}
		}
		p.OSProfile = &os
	}
	disks, storage, err := vmDisks(p.StorageProfile)
	if err != nil {
		return nil, err
	}
	vmID := VMID(q.sub, q.rg, name)
	prof := vmProfile{
		VMID:               uuid.NewString(),
		Location:           loc,
		HardwareProfile:    p.HardwareProfile,
		OSProfile:          p.OSProfile,
		StorageProfile:     storage,
		DiagnosticsProfile: p.DiagnosticsProfile,
	}
	if old, err := h.svc.GetVM(ctx, q.caller, vmID.String()); err == nil {
		if op := attrs[vmProfile](old.Profile); op.VMID != "" {
			prof.VMID = op.VMID // the VM is the same machine: its unique id stays
		}
	} else if !cairn.IsKind(err, cairn.NotExist) {
		return nil, err
	}
	res, created, err := h.svc.RegisterVM(ctx, q.caller, service.VMSpec{
		ID:            vmID.String(),
		ResourceGroup: q.rg,
		Name:          name,
		Region:        loc,
		Disks:         disks,
		Profile:       mustJSON(prof),
		Tags:          in.Tags,
	})
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			// A disk image that is not there is bad input of this PUT,
			// not a missing resource.
			return nil, invalid("properties.storageProfile", err)
		}
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &httpapi.Response{Status: status, Body: vmView(res)}, nil
}

// checkBodyName refuses a body whose name differs from the path's.
func checkBodyName(body, path string) error {
	if body != "" && !strings.EqualFold(body, path) {
		return invalidf("name", "The name '%s' in the body differs from the name '%s' in the URL.", body, path)
	}
	return nil
}

// vmDisks checks a VM's storage profile and turns it into the service's
// disk specs and the profile to store (canonical spellings).
func vmDisks(sp *VMStorageProfile) ([]service.DiskSpec, *VMStorageProfile, error) {
	if sp == nil || sp.OSDisk == nil {
		return nil, nil, invalidf("properties.storageProfile.osDisk", "The property 'properties.storageProfile.osDisk' is required: name the OS disk and its image in vhd.uri.")
	}
	out := &VMStorageProfile{}
	var specs []service.DiskSpec
	names := map[string]bool{}
	luns := map[int32]bool{}
	check := func(field string, d VMDisk, os bool) (VMDisk, error) {
		if d.Name == "" {
			return d, invalidf(field+".name", "The property '%s.name' is required.", field)
		}
		if err := cairn.ValidateName("disk name", d.Name); err != nil {
			return d, invalid(field+".name", err)
		}
		if names[strings.ToLower(d.Name)] {
			return d, invalidf(field+".name", "Disk name '%s' is used twice: disk names must be unique within a VM.", d.Name)
		}
		names[strings.ToLower(d.Name)] = true
		if d.ManagedDisk != nil && d.Vhd == nil {
			return d, invalidf(field+".vhd.uri", "Disk '%s' names a managed disk: cairn reads disks from image files, give the image in vhd.uri (file:///path/to/image.raw).", d.Name)
		}
		if d.Vhd == nil || d.Vhd.URI == "" {
			return d, invalidf(field+".vhd.uri", "The property '%s.vhd.uri' is required: the disk's image, e.g. file:///var/lib/images/%s.raw.", field, d.Name)
		}
		if err := checkImageURI(d.Vhd.URI); err != nil {
			return d, invalid(field+".vhd.uri", fmt.Errorf("disk '%s': %w", d.Name, err))
		}
		var err error
		if d.Caching, err = canonValue(field+".caching", d.Caching, cachingTypes); err != nil {
			return d, err
		}
		if d.CreateOption, err = canonValue(field+".createOption", d.CreateOption, createOptions); err != nil {
			return d, err
		}
		if d.DiskSizeGB != nil && (*d.DiskSizeGB < 1 || *d.DiskSizeGB > 32767) {
			return d, invalidf(field+".diskSizeGB", "The disk size %d GB of disk '%s' is not valid: 1 to 32767.", *d.DiskSizeGB, d.Name)
		}
		if os {
			if d.OSType, err = canonValue(field+".osType", d.OSType, osTypes); err != nil {
				return d, err
			}
			if d.Lun != nil {
				return d, invalidf(field+".lun", "The OS disk has no lun.")
			}
			return d, nil
		}
		if d.OSType != "" {
			return d, invalidf(field+".osType", "Data disk '%s' has an osType: only the OS disk has one.", d.Name)
		}
		if d.Lun == nil {
			return d, invalidf(field+".lun", "The property '%s.lun' is required.", field)
		}
		if *d.Lun < 0 || *d.Lun > 63 {
			return d, invalidf(field+".lun", "The lun %d of disk '%s' is not valid: 0 to 63.", *d.Lun, d.Name)
		}
		if luns[int32(*d.Lun)] {
			return d, invalidf(field+".lun", "Two data disks have lun %d.", *d.Lun)
		}
		luns[int32(*d.Lun)] = true
		return d, nil
	}
	osd, err := check("properties.storageProfile.osDisk", *sp.OSDisk, true)
	if err != nil {
		return nil, nil, err
	}
	out.OSDisk = &osd
	specs = append(specs, service.DiskSpec{Name: osd.Name, Path: osd.Vhd.URI, OS: true})
	for i, d := range sp.DataDisks {
		dd, err := check(fmt.Sprintf("properties.storageProfile.dataDisks[%d]", i), d, false)
		if err != nil {
			return nil, nil, err
		}
		out.DataDisks = append(out.DataDisks, dd)
		specs = append(specs, service.DiskSpec{Name: dd.Name, Path: dd.Vhd.URI, Lun: int(*dd.Lun)})
	}
	return specs, out, nil
}

// checkImageURI accepts file:///absolute/path and /absolute/path; what
// is at the path is for the service to check.
func checkImageURI(s string) error {
	if strings.HasPrefix(s, "/") {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("vhd.uri '%s' does not parse: %w", s, err)
	}
	if u.Scheme != "file" {
		return fmt.Errorf("vhd.uri '%s': cairn reads images from files: use file:///path (scheme %q is not supported)", s, u.Scheme)
	}
	if u.Host != "" && u.Host != "localhost" {
		return fmt.Errorf("vhd.uri '%s': a file URI names a local path: file:///path", s)
	}
	if !strings.HasPrefix(u.Path, "/") {
		return fmt.Errorf("vhd.uri '%s': the path must be absolute", s)
	}
	return nil
}

// vmView is a VM as ARM reports it.
func vmView(r *catalog.Resource) VirtualMachine {
	prof := attrs[vmProfile](r.Profile)
	sp := prof.StorageProfile
	if sp == nil {
		sp = &VMStorageProfile{}
		for _, d := range r.Disks {
			vd := VMDisk{Name: d.Name, Vhd: &VHD{URI: "file://" + d.URI}}
			if d.OS {
				sp.OSDisk = &vd
			} else {
				lun := FlexInt32(d.Lun)
				vd.Lun = &lun
				sp.DataDisks = append(sp.DataDisks, vd)
			}
		}
	}
	sizes := map[string]int64{}
	for _, d := range r.Disks {
		sizes[d.Name] = d.Size
	}
	withSize := func(d VMDisk) VMDisk {
		if s, ok := sizes[d.Name]; ok {
			d.DiskSizeGB = sizeGB(s)
		}
		return d
	}
	out := &VMStorageProfile{}
	if sp.OSDisk != nil {
		d := withSize(*sp.OSDisk)
		out.OSDisk = &d
	}
	for _, d := range sp.DataDisks {
		out.DataDisks = append(out.DataDisks, withSize(d))
	}
	return VirtualMachine{
		ID:       r.ID,
		Name:     r.Name,
		Type:     ResourceTypeVM,
		Location: r.Region,
		Tags:     r.Tags,
		Properties: &VMProperties{
			VMID:               prof.VMID,
			HardwareProfile:    prof.HardwareProfile,
			OSProfile:          prof.OSProfile,
			StorageProfile:     out,
			DiagnosticsProfile: prof.DiagnosticsProfile,
			ProvisioningState:  StateSucceeded,
			TimeCreated:        timePtr(r.Created),
		},
	}
}

// lookupVM returns the VM of the {vm} wildcard.
func (h *handlers) lookupVM(ctx context.Context, q *request) (*catalog.Resource, error) {
	name, err := q.pathName("vm", TypeVirtualMachines)
	if err != nil {
		return nil, err
	}
	r, err := h.svc.GetVM(ctx, q.caller, VMID(q.sub, q.rg, name).String())
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, notFound(TypeVirtualMachines, name, q.rg, err)
	}
	return r, err
}

func (h *handlers) getVM(ctx context.Context, q *request) (any, error) {
	r, err := h.lookupVM(ctx, q)
	if err != nil {
		return nil, err
	}
	return vmView(r), nil
}

// deleteVM unregisters a VM: 200, or 204 when there is none (as ARM
// answers a DELETE of a missing resource). Its restore points stay.
func (h *handlers) deleteVM(ctx context.Context, q *request) (any, error) {
	r, err := h.lookupVM(ctx, q)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) || isStatus(err, http.StatusNotFound) {
			return &httpapi.Response{Status: http.StatusNoContent}, nil
		}
		return nil, err
	}
	if err := h.svc.DeleteVM(ctx, q.caller, r.ID); err != nil {
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusOK}, nil
}

func (h *handlers) listVMs(ctx context.Context, q *request) (any, error) {
	list, next, err := h.svc.ListVMs(ctx, q.caller, service.VMFilter{ResourceGroup: q.rg}, h.page(q))
	if err != nil {
		return nil, err
	}
	out := VMList{Value: []VirtualMachine{}, NextLink: h.nextLink(q, next)}
	for _, r := range list {
		if r.ResourceGroup == "" {
			continue // registered by a dialect without resource groups: no ARM id
		}
		out.Value = append(out.Value, vmView(r))
	}
	return out, nil
}
