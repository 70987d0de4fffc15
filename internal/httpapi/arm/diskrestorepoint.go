package arm

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/service"
)

func (h *handlers) getDiskRestorePoint(ctx context.Context, q *request) (any, error) {
	v, rp, d, _, err := h.findDiskPoint(ctx, q)
	if err != nil {
		return nil, err
	}
	return diskPointView(refsOf(vaultID(v), rp), rp, d), nil
}

// listDiskRestorePoints lists a restore point's disk restore points, all
// on one page.
func (h *handlers) listDiskRestorePoints(ctx context.Context, q *request) (any, error) {
	v, rp, _, err := h.findPoint(ctx, q)
	if err != nil {
		return nil, err
	}
	refs := refsOf(vaultID(v), rp)
	out := DiskRestorePointList{Value: []DiskRestorePoint{}}
	for _, d := range rp.Disks {
		out.Value = append(out.Value, diskPointView(refs, rp, d))
	}
	return out, nil
}

// diskPointView is a disk restore point as ARM reports it.
func diskPointView(refs pointRefs, rp *service.RestorePoint, d *catalog.DiskRestorePoint) DiskRestorePoint {
	size := d.Size
	gb := int32(*sizeGB(size))
	p := &DiskRestorePointProperties{
		TimeCreated:      timePtr(d.Created),
		SourceResourceID: DiskID(refs.sub, refs.vmRG, d.DiskName).String(),
		DiskSizeGB:       &gb,
		DiskSizeBytes:    &size,
	}
	if os := attrs[vmProfile](rp.Metadata).StorageProfile; os != nil && os.OSDisk != nil && os.OSDisk.Name == d.DiskName {
		p.OSType = os.OSDisk.OSType
	}
	if refs.src != nil {
		p.SourceResourceID = refs.src.Child(TypeDiskRestorePoints, d.DiskName).String()
		p.SourceResourceLocation = refs.attrs.SourceLocation
		code, pct := replState(rp, d)
		p.ReplicationState = map[string]string{replPending: "Pending", replInProgress: "InProgress", replSucceeded: "Succeeded", replFailed: "Failed"}[code]
		f := float32(pct)
		p.CompletionPercent = &f
	}
	return DiskRestorePoint{
		ID:         refs.id.Child(TypeDiskRestorePoints, d.DiskName).String(),
		Name:       d.DiskName,
		Type:       ResourceTypeDiskRestorePoint,
		Properties: p,
	}
}

// beginGetAccess grants read access to a disk restore point's bytes: 202
// with the operation's URLs, whose result is {"accessSAS": url}. Only
// "Read" access exists for a restore point, and only raw images are
// served.
func (h *handlers) beginGetAccess(ctx context.Context, q *request) (any, error) {
	v, _, d, id, err := h.findDiskPoint(ctx, q)
	if err != nil {
		return nil, err
	}
	var in GrantAccessData
	if err := decodeBody(q.r, &in); err != nil {
		return nil, err
	}
	access, err := canonValue("access", in.Access, canonSet("None", "Read", "Write"))
	if err != nil {
		return nil, err
	}
	if access != "Read" {
		return nil, invalidf("access", "The access '%s' is not valid for a disk restore point: use Read.", in.Access)
	}
	if in.DurationInSeconds == nil {
		return nil, invalidf("durationInSeconds", "The property 'durationInSeconds' is required.")
	}
	ttl := time.Duration(*in.DurationInSeconds) * time.Second
	if ttl <= 0 || ttl > service.MaxGrantTTL {
		return nil, invalidf("durationInSeconds", "The duration %d s is not valid: 1 to %d seconds.", *in.DurationInSeconds, int(service.MaxGrantTTL/time.Second))
	}
	if in.FileFormat != "" {
		return nil, invalidf("fileFormat", "The file format '%s' is not supported: cairn serves the disk's raw bytes; leave fileFormat out.", in.FileFormat)
	}
	g, err := h.svc.GrantDiskAccess(ctx, q.caller, d.ID, ttl)
	if err != nil {
		return nil, err
	}
	// The grant's token rides in the query, as in the SAS URL itself:
	// the server logs paths, not queries.
	op := syncOp{Kind: syncGrant, Resource: id.String(), Disk: d.DiskName, Expires: g.Expires.Unix(), Start: time.Now().UnixMilli()}
	return h.accepted(q, http.StatusAccepted, v.Region, op.encode(), nil, url.Values{"sig": {g.Token}}), nil
}

// endGetAccess revokes every grant of a disk restore point: 202 with the
// operation's URLs; the operation has already succeeded.
func (h *handlers) endGetAccess(ctx context.Context, q *request) (any, error) {
	v, _, d, id, err := h.findDiskPoint(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := h.svc.RevokeDiskAccess(ctx, q.caller, d.ID); err != nil {
		return nil, err
	}
	op := syncOp{Kind: syncRevoke, Resource: id.String(), Start: time.Now().UnixMilli()}
	return h.accepted(q, http.StatusAccepted, v.Region, op.encode(), nil, nil), nil
}

// sasURL is the signed URL of a grant, in the form of an Azure SAS URL:
// sv, sr, sp and se are informative, sig carries the grant's token.
func (h *handlers) sasURL(r *http.Request, disk, token string, expires time.Time) string {
	v := url.Values{}
	v.Set("sv", "2024-03-02")
	v.Set("sr", "b")
	v.Set("sp", "r")
	v.Set("se", expires.UTC().Format(time.RFC3339))
	v.Set("sig", token)
	return h.base(r) + SASPrefix + url.PathEscape(disk) + ".raw?" + v.Encode()
}
