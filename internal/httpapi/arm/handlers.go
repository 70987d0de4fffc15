package arm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// handlers holds what the dialect's handlers share.
type handlers struct {
	svc  *service.Service
	opts Options
}

// pathName returns a name wildcard of the path, checked against the
// naming rules of its resource type (400 InvalidResourceName).
func (q *request) pathName(wildcard, typ string) (string, error) {
	name := q.value(wildcard)
	if err := ValidateName(typ, name); err != nil {
		e := Errorf(http.StatusBadRequest, CodeInvalidResourceName, "The resource name '%s' is invalid: %v", name, err)
		e.Target = wildcard
		return "", e
	}
	return name, nil
}

// notFound is ARM's 404 for a top-level resource of a resource group.
func notFound(typ, name, rg string, err error) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeResourceNotFound, Err: err,
		Message: fmt.Sprintf("The Resource '%s/%s/%s' under resource group '%s' was not found.", Provider, typ, name, rg)}
}

// notFoundChild is Compute's 404 for a nested resource.
func notFoundChild(id ID, err error) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Err: err,
		Message: fmt.Sprintf("The entity '%s' was not found.", id)}
}

// checkRegion normalises a location and checks that it is one of the
// service's regions: ARM's LocationNotAvailableForResourceType otherwise.
func (h *handlers) checkRegion(ctx context.Context, q *request, field, location, resourceType string) (string, error) {
	loc, err := NormalizeLocation(location)
	if err != nil {
		return "", invalid(field, err)
	}
	if _, err := h.svc.GetRegion(ctx, q.caller, loc); err != nil {
		if !cairn.IsKind(err, cairn.NotExist) {
			return "", err
		}
		var names []string
		if regions, lerr := h.svc.ListRegions(ctx, q.caller); lerr == nil {
			for _, r := range regions {
				names = append(names, r.Name)
			}
		}
		e := Errorf(http.StatusBadRequest, CodeLocationNotAvailable,
			"The provided location '%s' is not available for resource type '%s'. List of available regions for the resource type is '%s'.",
			location, resourceType, strings.Join(names, ","))
		e.Target = field
		return "", e
	}
	return loc, nil
}

// findCollection returns the collection of the request's resource group
// named by the {rpc} wildcard, and its ARM id.
func (h *handlers) findCollection(ctx context.Context, q *request) (*catalog.Vault, ID, error) {
	name, err := q.pathName("rpc", TypeRestorePointCollections)
	if err != nil {
		return nil, ID{}, err
	}
	id := CollectionID(q.sub, q.rg, name)
	v, err := h.svc.FindVault(ctx, q.caller, q.rg, name)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, id, notFound(TypeRestorePointCollections, name, q.rg, err)
		}
		return nil, id, err
	}
	return v, vaultID(v), nil
}

// findPoint returns the restore point named by the {rp} wildcard in the
// collection of the {rpc} wildcard.
func (h *handlers) findPoint(ctx context.Context, q *request) (*catalog.Vault, *service.RestorePoint, ID, error) {
	v, vid, err := h.findCollection(ctx, q)
	if err != nil {
		return nil, nil, ID{}, err
	}
	name, err := q.pathName("rp", TypeRestorePoints)
	if err != nil {
		return nil, nil, ID{}, err
	}
	id := vid.Child(TypeRestorePoints, name)
	rp, err := h.svc.FindRestorePoint(ctx, q.caller, v.ID, name)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, nil, id, notFoundChild(id, err)
		}
		return nil, nil, id, err
	}
	return v, rp, id, nil
}

// findDiskPoint returns the disk restore point named by the {drp}
// wildcard, with its restore point and collection.
func (h *handlers) findDiskPoint(ctx context.Context, q *request) (*catalog.Vault, *service.RestorePoint, *catalog.DiskRestorePoint, ID, error) {
	v, rp, rpID, err := h.findPoint(ctx, q)
	if err != nil {
		return nil, nil, nil, ID{}, err
	}
	name, err := q.pathName("drp", TypeDiskRestorePoints)
	if err != nil {
		return nil, nil, nil, ID{}, err
	}
	id := rpID.Child(TypeDiskRestorePoints, name)
	for _, d := range rp.Disks {
		if d.DiskName == name {
			return v, rp, d, id, nil
		}
	}
	return nil, nil, nil, id, notFoundChild(id, cairn.E(cairn.NotExist, fmt.Errorf("no disk restore point %s", name)))
}

// vaultID returns the ARM id of a vault.
func vaultID(v *catalog.Vault) ID {
	return CollectionID(v.ProjectID, v.ResourceGroup, v.Name)
}

// accepted is a 201 or 202 of a long-running operation: the body (if
// any), Location and Azure-AsyncOperation, and a polling hint. extra are
// query parameters of the operation's URLs, for what must not be in the
// path (which the server logs).
func (h *handlers) accepted(q *request, status int, location, opID string, body any, extra url.Values) *httpapi.Response {
	hdr := http.Header{}
	async := h.operationURL(q, location, opID, extra)
	hdr.Set("Azure-AsyncOperation", async)
	hdr.Set("Location", async+"&monitor=true")
	h.retryAfter(hdr)
	return &httpapi.Response{Status: status, Header: hdr, Body: body}
}

// operationURL returns the Azure-AsyncOperation URL of an operation.
func (h *handlers) operationURL(q *request, location, opID string, extra url.Values) string {
	if location == "" {
		location = "global"
	}
	v := url.Values{}
	for k, vs := range extra {
		v[k] = vs
	}
	v.Set("api-version", q.apiVersion)
	return fmt.Sprintf("%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?%s",
		h.base(q.r), q.sub, Provider, location, url.PathEscape(opID), v.Encode())
}

// retryAfter sets the polling hint headers.
func (h *handlers) retryAfter(hdr http.Header) {
	d := h.opts.RetryAfter
	if d < 0 {
		return
	}
	secs := int((d + 999999999) / 1e9)
	hdr.Set("Retry-After", fmt.Sprint(secs))
	if d%1e9 != 0 {
		hdr.Set("retry-after-ms", fmt.Sprint(d.Milliseconds()))
	}
}

// attrs decodes dialect extras, ignoring what does not decode: records
// made by other dialects carry their own.
func attrs[T any](raw json.RawMessage) T {
	var v T
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &v)
	}
	return v
}

// mustJSON encodes v, which cannot fail for the dialect's own types.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("arm: encode %T: %v", v, err))
	}
	return b
}

// sizeGB returns a size in bytes as whole GiB, rounded up.
func sizeGB(size int64) *FlexInt32 {
	gb := FlexInt32((size + (1<<30 - 1)) >> 30)
	return &gb
}

// linkedID parses an id given in a body, checking its kind and that it
// is in the request's subscription.
func linkedID(q *request, path, kind, value string) (ID, error) {
	if value == "" {
		return ID{}, invalidf(path, "The property '%s' is required.", path)
	}
	id, err := ParseIDOf(kind, value)
	if err != nil {
		return ID{}, invalidID(path, value, err)
	}
	if !strings.EqualFold(id.Subscription, q.sub) {
		e := Errorf(http.StatusForbidden, CodeLinkedAuthorization,
			"The client has permission to perform action '%s/%s' on scope '/subscriptions/%s', however it does not have permission to use the linked resource '%s' of property '%s'.",
			Provider, q.action, q.sub, value, path)
		e.Target = path
		return ID{}, e
	}
	id.Subscription = q.sub
	return id, nil
}
