package arm

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// diskAttrs are the ARM extras of a disk.
type diskAttrs struct {
	SourceResourceID string `json:"armSourceResourceId,omitempty"`
	SKU              string `json:"armSku,omitempty"`
	OSType           string `json:"armOsType,omitempty"`
}

var diskSKUs = canonSet("Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS", "PremiumV2_LRS")

// Azure's create options of a disk, of which cairn makes only Restore.
var diskCreateOptions = canonSet("Empty", "Attach", "FromImage", "Import", "Copy", "Restore", "Upload", "CopyStart", "ImportSecure", "UploadPreparedSecure", "CopyFromSanSnapshot")

// putDisk writes a new disk image from a disk restore point
// (creationData.createOption Restore) in the disk's location: 202 with
// the operation's URLs. A PUT of an existing disk with the same source
// answers 200 with the disk; with another source, 409.
func (h *handlers) putDisk(ctx context.Context, q *request) (any, error) {
	name, err := q.pathName("disk", TypeDisks)
	if err != nil {
		return nil, err
	}
	var in Disk
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	if err := checkBodyName(in.Name, name); err != nil {
		return nil, err
	}
	loc, err := h.checkRegion(ctx, q, "location", in.Location, ResourceTypeDisk)
	if err != nil {
		return nil, err
	}
	if err := ValidateTags(in.Tags); err != nil {
		return nil, invalid("tags", err)
	}
	var a diskAttrs
	if in.SKU != nil && in.SKU.Name != "" {
		if a.SKU, err = canonValue("sku.name", in.SKU.Name, diskSKUs); err != nil {
			return nil, err
		}
	}
	if in.Properties == nil || in.Properties.CreationData == nil {
		return nil, invalidf("properties.creationData", "The property 'properties.creationData' is required: {\"createOption\": \"Restore\", \"sourceResourceId\": <disk restore point id>}.")
	}
	cd := in.Properties.CreationData
	if cd.CreateOption == "" {
		return nil, invalidf("properties.creationData.createOption", "The property 'properties.creationData.createOption' is required.")
	}
	opt, err := canonValue("properties.creationData.createOption", cd.CreateOption, diskCreateOptions)
	if err != nil {
		return nil, err
	}
	if opt != "Restore" {
		return nil, invalidf("properties.creationData.createOption", "The create option '%s' is not supported: cairn makes disks from disk restore points, with createOption Restore.", cd.CreateOption)
	}
	if a.OSType, err = canonValue("properties.osType", in.Properties.OSType, osTypes); err != nil {
		return nil, err
	}
	const path = "properties.creationData.sourceResourceId"
	sid, err := linkedID(q, path, KindDiskRestorePoint, cd.SourceResourceID)
	if err != nil {
		return nil, err
	}
	a.SourceResourceID = sid.String()
	v, err := h.svc.FindVault(ctx, q.caller, sid.ResourceGroup, sid.Names[0])
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			e := notFound(TypeRestorePointCollections, sid.Names[0], sid.ResourceGroup, err)
			e.Target = path
			return nil, e
		}
		return nil, err
	}
	rp, err := h.svc.FindRestorePoint(ctx, q.caller, v.ID, sid.Names[1])
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			e := notFoundChild(sid.Parent(), err)
			e.Target = path
			return nil, e
		}
		return nil, err
	}
	var drp *catalog.DiskRestorePoint
	for _, d := range rp.Disks {
		if d.DiskName == sid.Name() {
			drp = d
		}
	}
	if drp == nil {
		e := notFoundChild(sid, errors.New("no such disk restore point"))
		e.Target = path
		return nil, e
	}
	if gb := in.Properties.DiskSizeGB; gb != nil && int64(*gb)<<30 < drp.Size {
		return nil, invalidf("properties.diskSizeGB", "The disk size %d GB is smaller than the disk restore point's %d bytes.", *gb, drp.Size)
	}

	did := DiskID(q.sub, q.rg, name)
	if old, err := h.svc.GetVolume(ctx, q.caller, did.String()); err == nil {
		if strings.EqualFold(attrs[diskAttrs](old.Attrs).SourceResourceID, a.SourceResourceID) && old.Region == loc {
			return diskView(old), nil
		}
		return nil, Errorf(http.StatusConflict, CodePropertyChangeNotAllow,
			"Disk '%s' already exists with another source or location: creationData cannot change.", did)
	} else if !cairn.IsKind(err, cairn.NotExist) {
		return nil, err
	}
	vol, op, err := h.svc.RestoreDisk(ctx, q.caller, service.RestoreDiskSpec{
		ID:                 did.String(),
		ResourceGroup:      q.rg,
		Name:               name,
		Region:             loc,
		DiskRestorePointID: drp.ID,
		Tags:               in.Tags,
		Attrs:              mustJSON(a),
	})
	if err != nil {
		return nil, err
	}
	return h.accepted(q, http.StatusAccepted, loc, op.ID, diskView(vol), nil), nil
}

// diskView is a disk as ARM reports it.
func diskView(vol *service.Volume) Disk {
	a := attrs[diskAttrs](vol.Attrs)
	sku := a.SKU
	if sku == "" {
		sku = "Standard_LRS"
	}
	p := &DiskProperties{
		CreationData: &CreationData{CreateOption: "Restore", SourceResourceID: a.SourceResourceID},
		OSType:       a.OSType,
		TimeCreated:  timePtr(vol.Created),
		UniqueID:     vol.ID,
	}
	if len(vol.Disks) > 0 {
		size := vol.Disks[0].Size
		p.DiskSizeGB, p.DiskSizeBytes = sizeGB(size), &size
	}
	switch vol.State {
	case service.VolumeSucceeded:
		p.ProvisioningState, p.DiskState = StateSucceeded, "Unattached"
	case service.VolumeFailed:
		p.ProvisioningState = StateFailed
	default:
		p.ProvisioningState = StateCreating
	}
	if a.SourceResourceID == "" {
		p.CreationData.CreateOption = "Import"
	}
	return Disk{
		ID:         vol.ID,
		Name:       vol.Name,
		Type:       ResourceTypeDisk,
		Location:   vol.Region,
		Tags:       vol.Tags,
		SKU:        &DiskSKU{Name: sku},
		Properties: p,
	}
}

func (h *handlers) lookupDisk(ctx context.Context, q *request) (*service.Volume, error) {
	name, err := q.pathName("disk", TypeDisks)
	if err != nil {
		return nil, err
	}
	vol, err := h.svc.GetVolume(ctx, q.caller, DiskID(q.sub, q.rg, name).String())
	if cairn.IsKind(err, cairn.NotExist) {
		return nil, notFound(TypeDisks, name, q.rg, err)
	}
	return vol, err
}

func (h *handlers) getDisk(ctx context.Context, q *request) (any, error) {
	vol, err := h.lookupDisk(ctx, q)
	if err != nil {
		return nil, err
	}
	return diskView(vol), nil
}

// deleteDisk deletes a disk and the image the service wrote: 200, or 204
// when there is none.
func (h *handlers) deleteDisk(ctx context.Context, q *request) (any, error) {
	vol, err := h.lookupDisk(ctx, q)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return &httpapi.Response{Status: http.StatusNoContent}, nil
		}
		return nil, err
	}
	if err := h.svc.DeleteVolume(ctx, q.caller, vol.ID); err != nil {
		return nil, err
	}
	return &httpapi.Response{Status: http.StatusOK}, nil
}

func (h *handlers) listDisks(ctx context.Context, q *request) (any, error) {
	list, next, err := h.svc.ListVolumes(ctx, q.caller, service.VMFilter{ResourceGroup: q.rg}, h.page(q))
	if err != nil {
		return nil, err
	}
	out := DiskList{Value: []Disk{}, NextLink: h.nextLink(q, next)}
	for _, vol := range list {
		if vol.ResourceGroup == "" {
			continue
		}
		out.Value = append(out.Value, diskView(vol))
	}
	return out, nil
}

// serveSAS serves the raw bytes of the disk restore point a grant's
// signed URL names, streamed from the vault, with HTTP Range support.
// Errors are written as Azure Storage writes them: XML.
func (h *handlers) serveSAS(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("sig")
	if token == "" {
		storageError(w, http.StatusForbidden, "AuthenticationFailed", "Server failed to authenticate the request: the URL has no signature (sig).")
		return
	}
	dr, err := h.svc.OpenDisk(r.Context(), token)
	if err != nil {
		switch cairn.KindOf(err) {
		case cairn.Permission:
			storageError(w, http.StatusForbidden, "AuthenticationFailed", "Server failed to authenticate the request: the signature is not valid, has expired or was revoked.")
		case cairn.NotExist:
			storageError(w, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist: its restore point was deleted.")
		case cairn.Conflict:
			storageError(w, http.StatusConflict, "BlobNotReady", err.Error())
		default:
			storageError(w, http.StatusInternalServerError, "InternalError", "The server encountered an internal error; its log has the cause.")
		}
		return
	}
	defer dr.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("x-ms-blob-type", "PageBlob")
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(dr, 0, dr.Size()))
}

// storageError writes an Azure Storage error body.
func storageError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>`+code+`</Code><Message>`+xmlEscape(msg)+`</Message></Error>`)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
