package arm

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// vaultAttrs are the ARM extras of a collection: its source as given, so
// that GET reports it even after the source is gone.
type vaultAttrs struct {
	SourceID       string `json:"armSourceId,omitempty"`
	SourceLocation string `json:"armSourceLocation,omitempty"`
}

// putCollection creates a collection (201) or updates one's tags (200).
// Only tags change on an existing collection: another location is 409
// InvalidResourceLocation, another source 409 PropertyChangeNotAllowed.
func (h *handlers) putCollection(ctx context.Context, q *request) (any, error) {
	name, err := q.pathName("rpc", TypeRestorePointCollections)
	if err != nil {
		return nil, err
	}
	var in RestorePointCollection
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if err := checkBodyName(in.Name, name); err != nil {
		return nil, err
	}
	loc, err := h.checkRegion(ctx, q, "location", in.Location, ResourceTypeCollection)
	if err != nil {
		return nil, err
	}
	if err := ValidateTags(in.Tags); err != nil {
		return nil, invalid("tags", err)
	}
	var srcID string
	if in.Properties != nil && in.Properties.Source != nil {
		srcID = in.Properties.Source.ID
	}
	old, err := h.svc.FindVault(ctx, q.caller, q.rg, name)
	switch {
	case err == nil:
		if old.Region != loc {
			return nil, Errorf(http.StatusConflict, "InvalidResourceLocation",
				"The resource '%s' already exists in location '%s' in resource group '%s'. A resource with the same name cannot be created in location '%s'.",
				name, old.Region, q.rg, loc)
		}
		if err := h.checkSameSource(ctx, q, old, srcID); err != nil {
			return nil, err
		}
		v, err := h.svc.UpdateVaultTags(ctx, q.caller, old.ID, in.Tags)
		if err != nil {
			return nil, err
		}
		return h.collectionView(ctx, q, v, false)
	case !cairn.IsKind(err, cairn.NotExist):
		return nil, err
	}

	const path = "properties.source.id"
	if srcID == "" {
		return nil, invalidf(path, "The property '%s' is required: the id of a virtual machine (a local collection) or of a restore point collection in another region (a copy target).", path)
	}
	sid, err := ParseID(srcID)
	if err != nil {
		return nil, invalidID(path, srcID, err)
	}
	if sid, err = linkedID(q, path, sid.Kind(), srcID); err != nil {
		return nil, err
	}
	spec := service.VaultSpec{ResourceGroup: q.rg, Name: name, Region: loc, Tags: in.Tags}
	var va vaultAttrs
	switch sid.Kind() {
	case KindVM:
		vm, err := h.svc.GetVM(ctx, q.caller, sid.String())
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				e := notFound(TypeVirtualMachines, sid.Name(), sid.ResourceGroup, err)
				e.Target = path
				return nil, e
			}
			return nil, err
		}
		if vm.Region != loc {
			return nil, invalidf("location", "The restore point collection must be in its source VM's location '%s', not '%s'.", vm.Region, loc)
		}
		spec.SourceResourceID = vm.ID
		va = vaultAttrs{SourceID: sid.String(), SourceLocation: vm.Region}
	case KindCollection:
		src, err := h.svc.FindVault(ctx, q.caller, sid.ResourceGroup, sid.Name())
		if err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				e := notFound(TypeRestorePointCollections, sid.Name(), sid.ResourceGroup, err)
				e.Target = path
				return nil, e
			}
			return nil, err
		}
		if src.Region == loc {
			return nil, invalidf(path, "The source restore point collection '%s' is in location '%s', the same as this one's: a copy target must be in another region.", sid, src.Region)
		}
		spec.SourceVaultID = src.ID
		va = vaultAttrs{SourceID: vaultID(src).String(), SourceLocation: src.Region}
	default:
		return nil, invalidID(path, srcID, fmt.Errorf("a source is a %s or a %s, not a %s", ResourceTypeVM, ResourceTypeCollection, sid.ResourceType()))
	}
	spec.Attrs = mustJSON(va)
	v, created, err := h.svc.PutVault(ctx, q.caller, spec)
	if err != nil {
		return nil, err
	}
	body, err := h.collectionView(ctx, q, v, false)
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &httpapi.Response{Status: status, Body: body}, nil
}

// checkSameSource refuses a source id that differs from the collection's.
func (h *handlers) checkSameSource(ctx context.Context, q *request, v *catalog.Vault, srcID string) error {
	if srcID == "" {
		return nil
	}
	cur := h.sourceOf(ctx, q, v)
	given, err := ParseID(srcID)
	if err != nil {
		return invalidID("properties.source.id", srcID, err)
	}
	if cur.ID == "" || !strings.EqualFold(cur.ID, given.String()) {
		e := Errorf(http.StatusConflict, CodePropertyChangeNotAllow,
			"Changing property 'source.id' is not allowed: restore point collection '%s' has source '%s'; only tags change on an existing collection.", v.Name, cur.ID)
		e.Target = "properties.source.id"
		return e
	}
	return nil
}

// patchCollection updates a collection's tags (RestorePointCollections
// Update).
func (h *handlers) patchCollection(ctx context.Context, q *request) (any, error) {
	v, _, err := h.findCollection(ctx, q)
	if err != nil {
		return nil, err
	}
	var in RestorePointCollection
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if in.Properties != nil && in.Properties.Source != nil {
		if err := h.checkSameSource(ctx, q, v, in.Properties.Source.ID); err != nil {
			return nil, err
		}
	}
	tags := v.Tags
	if in.Tags != nil {
		if err := ValidateTags(in.Tags); err != nil {
			return nil, invalid("tags", err)
		}
		tags = in.Tags
	}
	v, err = h.svc.UpdateVaultTags(ctx, q.caller, v.ID, tags)
	if err != nil {
		return nil, err
	}
	return h.collectionView(ctx, q, v, false)
}

func (h *handlers) getCollection(ctx context.Context, q *request) (any, error) {
	expand, err := q.expand("restorePoints")
	if err != nil {
		return nil, err
	}
	v, _, err := h.findCollection(ctx, q)
	if err != nil {
		return nil, err
	}
	return h.collectionView(ctx, q, v, expand != "")
}

// deleteCollection deletes a collection and its restore points: 202 with
// the operation's URLs, or 204 when there is no such collection.
func (h *handlers) deleteCollection(ctx context.Context, q *request) (any, error) {
	v, _, err := h.findCollection(ctx, q)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return &httpapi.Response{Status: http.StatusNoContent}, nil
		}
		return nil, err
	}
	op, err := h.svc.DeleteVault(ctx, q.caller, v.ID)
	if err != nil {
		return nil, err
	}
	return h.accepted(q, http.StatusAccepted, v.Region, op.ID, nil, nil), nil
}

func (h *handlers) listCollections(ctx context.Context, q *request) (any, error) {
	list, next, err := h.svc.ListVaults(ctx, q.caller, service.VaultFilter{ResourceGroup: q.rg}, h.page(q))
	if err != nil {
		return nil, err
	}
	out := CollectionList{Value: []RestorePointCollection{}, NextLink: h.nextLink(q, next)}
	for _, v := range list {
		if v.ResourceGroup == "" {
			continue // made by a dialect without resource groups: no ARM id
		}
		c, err := h.collectionView(ctx, q, v, false)
		if err != nil {
			return nil, err
		}
		out.Value = append(out.Value, c)
	}
	return out, nil
}

// sourceOf returns a collection's source: from its ARM extras, else
// looked up.
func (h *handlers) sourceOf(ctx context.Context, q *request, v *catalog.Vault) CollectionSource {
	a := attrs[vaultAttrs](v.Attrs)
	if a.SourceID != "" {
		return CollectionSource{ID: a.SourceID, Location: a.SourceLocation}
	}
	switch {
	case v.SourceResourceID != "":
		src := CollectionSource{ID: v.SourceResourceID, Location: v.Region}
		if vm, err := h.svc.GetVM(ctx, q.caller, v.SourceResourceID); err == nil {
			src.Location = vm.Region
		}
		return src
	case v.SourceVaultID != "":
		if sv, err := h.svc.GetVault(ctx, q.caller, v.SourceVaultID); err == nil && sv.ResourceGroup != "" {
			return CollectionSource{ID: vaultID(sv).String(), Location: sv.Region}
		}
	}
	return CollectionSource{}
}

// collectionView is a collection as ARM reports it, with its restore
// points when withPoints.
func (h *handlers) collectionView(ctx context.Context, q *request, v *catalog.Vault, withPoints bool) (RestorePointCollection, error) {
	id := vaultID(v)
	out := RestorePointCollection{
		ID:       id.String(),
		Name:     v.Name,
		Type:     ResourceTypeCollection,
		Location: v.Region,
		Tags:     v.Tags,
		Properties: &CollectionProperties{
			ProvisioningState:        StateSucceeded,
			RestorePointCollectionID: v.ID,
		},
	}
	if src := h.sourceOf(ctx, q, v); src.ID != "" {
		out.Properties.Source = &src
	}
	if withPoints {
		points, err := h.allPoints(ctx, q, v.ID)
		if err != nil {
			return out, err
		}
		out.Properties.RestorePoints = []RestorePoint{}
		for _, rp := range points {
			out.Properties.RestorePoints = append(out.Properties.RestorePoints, h.pointView(id, v, rp, false))
		}
	}
	return out, nil
}

// allPoints lists every restore point of a vault.
func (h *handlers) allPoints(ctx context.Context, q *request, vaultID string) ([]*service.RestorePoint, error) {
	var all []*service.RestorePoint
	page := catalog.Page{Size: catalog.MaxPageSize}
	for {
		list, next, err := h.svc.ListRestorePoints(ctx, q.caller, vaultID, page)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
		if next == "" {
			return all, nil
		}
		page.Token = next
	}
}

// isStatus reports whether err is an *Error with the given status.
func isStatus(err error, status int) bool {
	e := AsError(err)
	return e.Status == status
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
