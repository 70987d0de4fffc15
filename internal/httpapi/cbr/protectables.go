package cbr

import (
	"context"
	"net/http"
	"strings"

	"github.com/cairn-vm/cairn/internal/catalog"
)

// Protectable is a resource that can be backed up (ProtectablesResp): a
// VM with its volumes as children.
type Protectable struct {
	Children    []Protectable     `json:"children"`
	Detail      map[string]any    `json:"detail,omitempty"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Protectable *ProtectableState `json:"protectable,omitempty"`
	Size        int64             `json:"size"`
	Status      string            `json:"status"`
	Type        string            `json:"type"`
}

// ProtectableState says whether a resource can be bound, and to which
// vault it is bound.
type ProtectableState struct {
	Code    string `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Result  bool   `json:"result"`
	Vault   *Vault `json:"vault,omitempty"`
	Message string `json:"message,omitempty"`
}

// ProtectableList is the body of GET /protectables/server/instances.
type ProtectableList struct {
	Instances []Protectable `json:"instances"`
}

// ProtectableResponse is the body of GET
// /protectables/server/instances/{instance_id}.
type ProtectableResponse struct {
	Instance Protectable `json:"instance"`
}

// protectableView is a VM as a protectable instance.
func (h *handlers) protectableView(ctx context.Context, q *request, vm *catalog.Resource, boundTo map[string]*catalog.Vault) (Protectable, error) {
	out := Protectable{ID: publicID(vm.ID), Name: vm.Name, Type: TypeServer, Status: "active", Children: []Protectable{},
		Detail: map[string]any{"cairn_id": vm.ID, "region": vm.Region}, Protectable: &ProtectableState{Result: true}}
	var size int64
	for _, d := range vm.Disks {
		size += d.Size
		out.Children = append(out.Children, Protectable{ID: volumeID(vm.ID, d.Name), Name: d.Name, Type: TypeVolume,
			Status: "in-use", Size: gb(d.Size), Children: []Protectable{}, Detail: map[string]any{"bootable": d.OS}})
	}
	out.Size = gb(size)
	if v := boundTo[vm.ID]; v != nil {
		view, err := h.vaultView(ctx, q, v)
		if err != nil {
			return out, err
		}
		out.Protectable = &ProtectableState{Result: false, Code: CodeResourceInOther, Reason: "Resource already in other vault.", Vault: &view}
	}
	return out, nil
}

// boundVaults maps the VMs bound to the region's vaults to their vault.
func (h *handlers) boundVaults(ctx context.Context, q *request) (map[string]*catalog.Vault, error) {
	vaults, err := h.allVaults(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]*catalog.Vault{}
	for _, v := range vaults {
		bs, err := h.svc.ListVaultResources(ctx, q.caller, v.ID)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			out[b.ResourceID] = v
		}
	}
	return out, nil
}

// checkProtectableType checks the path's protectable type: cairn backs up
// servers.
func checkProtectableType(q *request) error {
	t := q.value("protectable_type")
	if err := oneOf("protectable_type", t, "server", "disk", "turbo", "workspace", "workspace_v2"); err != nil {
		return err
	}
	if t != "server" {
		return errorf(http.StatusBadRequest, CodeUnsupported, "protectable_type %s: cairn protects servers only", t)
	}
	return nil
}

func (h *handlers) listProtectables(ctx context.Context, q *request) (any, error) {
	if err := checkProtectableType(q); err != nil {
		return nil, err
	}
	limit, err := queryInt(q, "limit", 1000, 1, 1000)
	if err != nil {
		return nil, err
	}
	offset, err := queryInt(q, "offset", 0, 0, 1<<30)
	if err != nil {
		return nil, err
	}
	vms, err := h.allVMs(ctx, q)
	if err != nil {
		return nil, err
	}
	bound, err := h.boundVaults(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []Protectable
	for _, vm := range vms {
		if vm.Region != q.region() {
			continue
		}
		if n := q.query.Get("name"); n != "" && !strings.Contains(vm.Name, n) {
			continue
		}
		if id := q.query.Get("id"); id != "" && !matchesID(id, vm.ID) {
			continue
		}
		if id := q.query.Get("server_id"); id != "" && !matchesID(id, vm.ID) {
			continue
		}
		if s := q.query.Get("status"); s != "" && s != "active" {
			continue
		}
		p, err := h.protectableView(ctx, q, vm, bound)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return ProtectableList{Instances: nonNil(page(out, offset, limit))}, nil
}

func (h *handlers) showProtectable(ctx context.Context, q *request) (any, error) {
	if err := checkProtectableType(q); err != nil {
		return nil, err
	}
	vm, err := h.findVM(ctx, q, "instance_id", trimID(q.value("instance_id")))
	if err != nil {
		return nil, err
	}
	if vm.Region != q.region() {
		return nil, notFound(CodeResourceNotFound, "resource", q.value("instance_id"))
	}
	bound, err := h.boundVaults(ctx, q)
	if err != nil {
		return nil, err
	}
	p, err := h.protectableView(ctx, q, vm, bound)
	if err != nil {
		return nil, err
	}
	return ProtectableResponse{Instance: p}, nil
}

// ResourceID returns the id under which a CBR client sees a cairn VM (or
// any record whose cairn id is not a UUID): a name-based UUID of it.
// ListProtectable lists a region's VMs with these ids.
func ResourceID(cairnID string) string { return publicID(cairnID) }

// VolumeID returns the id under which a CBR client sees a disk of a VM.
func VolumeID(vmID, disk string) string { return volumeID(vmID, disk) }
