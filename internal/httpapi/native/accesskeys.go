package native

import (
	"context"
	"net/http"

	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

func toAccessKey(k *service.AccessKey) nativeapi.AccessKey {
	return nativeapi.AccessKey{ID: k.ID, ProjectID: k.ProjectID, Name: k.Name, Created: k.Created.UTC()}
}

func toRegionalProject(rp *service.RegionalProject) nativeapi.RegionalProject {
	return nativeapi.RegionalProject{ID: rp.ID, ProjectID: rp.ProjectID, Region: rp.Region}
}

// CreateAccessKey creates an AK/SK credential (admin only) and returns its
// secret key, this once, with the project's regional project ids.
func (l Local) CreateAccessKey(ctx context.Context, spec nativeapi.AccessKeySpec) (*nativeapi.AccessKeyCreated, error) {
	k, sk, err := l.Service.CreateAccessKey(ctx, l.Caller, service.AccessKeySpec{ProjectID: spec.ProjectID, Name: spec.Name})
	if err != nil {
		return nil, err
	}
	rps, err := l.Service.RegionalProjects(ctx, l.Caller, k.ProjectID)
	if err != nil {
		return nil, err
	}
	out := &nativeapi.AccessKeyCreated{AccessKey: toAccessKey(k), SecretKey: sk, RegionalProjects: []nativeapi.RegionalProject{}}
	for _, rp := range rps {
		out.RegionalProjects = append(out.RegionalProjects, toRegionalProject(rp))
	}
	return out, nil
}

// ListAccessKeys lists a project's credentials ("" = the caller's).
func (l Local) ListAccessKeys(ctx context.Context, projectID string) (*nativeapi.List[nativeapi.AccessKey], error) {
	ks, err := l.Service.ListAccessKeys(ctx, l.Caller, projectID)
	if err != nil {
		return nil, err
	}
	return list(ks, "", toAccessKey), nil
}

// DeleteAccessKey deletes a credential.
func (l Local) DeleteAccessKey(ctx context.Context, id string) error {
	return l.Service.DeleteAccessKey(ctx, l.Caller, id)
}

// ListRegionalProjects lists a project's regional projects ("" = the
// caller's), one per region.
func (l Local) ListRegionalProjects(ctx context.Context, projectID string) (*nativeapi.List[nativeapi.RegionalProject], error) {
	rps, err := l.Service.RegionalProjects(ctx, l.Caller, projectID)
	if err != nil {
		return nil, err
	}
	return list(rps, "", toRegionalProject), nil
}

func (h handlers) listAccessKeys(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).ListAccessKeys(ctx, r.URL.Query().Get("projectId"))
}

func (h handlers) createAccessKey(ctx context.Context, r *http.Request) (any, error) {
	var spec nativeapi.AccessKeySpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return nil, err
	}
	k, err := h.local(ctx).CreateAccessKey(ctx, spec)
	if err != nil {
		return nil, err
	}
	resp := created(nativeapi.Prefix+"/accessKeys", k.AccessKey.ID, k)
	resp.Header.Set("Cache-Control", "no-store")
	return resp, nil
}

func (h handlers) deleteAccessKey(ctx context.Context, r *http.Request) (any, error) {
	return nil, h.local(ctx).DeleteAccessKey(ctx, r.PathValue("id"))
}

func (h handlers) listRegionalProjects(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).ListRegionalProjects(ctx, r.URL.Query().Get("projectId"))
}
