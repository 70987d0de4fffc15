// Package native is cairn's own JSON API, under /cairn/v1/: tokens, AK/SK
// credentials, projects and their regional project ids, regions, VMs,
// vaults, restore points and operations. It is
// what the command line's client mode speaks, and it is described by
// api/openapi.yaml, served at /cairn/v1/openapi.yaml.
//
// Errors are {"error": {"code": "...", "message": "..."}} with the codes
// of package nativeapi. Request bodies are strict: an unknown field is an
// error, so that a typo is never silently ignored.
package native

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	cairnapi "github.com/cairn-vm/cairn/api"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// Dialect is the native API.
type Dialect struct{}

var _ httpapi.Dialect = Dialect{}

// Name returns "native".
func (Dialect) Name() string { return "native" }

// Route is one route of the native API: its method and path pattern, as
// registered in the ServeMux (with the prefix).
type Route struct {
	Method, Path string
}

// Routes returns every route the dialect registers, for tests that check
// them against the OpenAPI description.
func Routes() []Route {
	var out []Route
	for _, r := range routes(nil) {
		m, p, _ := strings.Cut(r.pattern, " ")
		out = append(out, Route{Method: m, Path: p})
	}
	return out
}

type route struct {
	pattern string
	public  bool
	h       httpapi.HandlerFunc
}

// Register adds the native routes to mux.
func (Dialect) Register(mux *http.ServeMux, deps httpapi.Deps) {
	api := deps.API(writeError)
	for _, r := range routes(deps.Service) {
		if r.public {
			mux.Handle(r.pattern, api.Public(r.h))
		} else {
			mux.Handle(r.pattern, api.Handler(r.h))
		}
	}
	// Anything else under the prefix is a 404 in this dialect's shape.
	mux.Handle(nativeapi.Prefix+"/", api.Public(func(ctx context.Context, r *http.Request) (any, error) {
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("no native API route matches %s %s (see %s/openapi.yaml)", r.Method, r.URL.Path, nativeapi.Prefix))
	}))
}

// routes lists the native routes with their handlers on svc.
func routes(svc *service.Service) []route {
	h := handlers{svc: svc}
	p := nativeapi.Prefix
	return []route{
		{"GET " + p + "/openapi.yaml", true, h.openapi},
		{"GET " + p + "/whoami", false, h.whoami},
		{"GET " + p + "/projects", false, h.listProjects},
		{"POST " + p + "/projects", false, h.createProject},
		{"GET " + p + "/tokens", false, h.listTokens},
		{"POST " + p + "/tokens", false, h.createToken},
		{"DELETE " + p + "/tokens/{id}", false, h.deleteToken},
		{"GET " + p + "/accessKeys", false, h.listAccessKeys},
		{"POST " + p + "/accessKeys", false, h.createAccessKey},
		{"DELETE " + p + "/accessKeys/{id}", false, h.deleteAccessKey},
		{"GET " + p + "/regionalProjects", false, h.listRegionalProjects},
		{"GET " + p + "/regions", false, h.listRegions},
		{"GET " + p + "/vms", false, h.listVMs},
		{"POST " + p + "/vms", false, h.registerVM},
		{"GET " + p + "/vms/{id}", false, h.getVM},
		{"DELETE " + p + "/vms/{id}", false, h.deleteVM},
		{"GET " + p + "/vaults", false, h.listVaults},
		{"POST " + p + "/vaults", false, h.createVault},
		{"GET " + p + "/vaults/{id}", false, h.getVault},
		{"DELETE " + p + "/vaults/{id}", false, h.deleteVault},
		{"GET " + p + "/restorePoints", false, h.listRestorePoints},
		{"POST " + p + "/restorePoints", false, h.createRestorePoint},
		{"GET " + p + "/restorePoints/{id}", false, h.getRestorePoint},
		{"DELETE " + p + "/restorePoints/{id}", false, h.deleteRestorePoint},
		{"GET " + p + "/operations", false, h.listOperations},
		{"GET " + p + "/operations/{id}", false, h.getOperation},
		{"POST " + p + "/operations/{id}/cancel", false, h.cancelOperation},
	}
}

// writeError writes e as the native error body.
func writeError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
	}
	httpapi.WriteJSON(w, e.Status, nativeapi.ErrorBody{Error: nativeapi.ErrorDetail{
		Code: nativeapi.Code(e.Status, e.Kind), Message: e.Message,
	}})
}

type handlers struct {
	svc *service.Service
}

// local returns the native API as the request's caller.
func (h handlers) local(ctx context.Context) Local {
	c, _ := httpapi.CallerFrom(ctx)
	return Local{Service: h.svc, Caller: c}
}

func (h handlers) openapi(ctx context.Context, r *http.Request) (any, error) {
	return &httpapi.Response{Body: httpapi.RawBody{ContentType: "application/yaml", Data: cairnapi.OpenAPI}}, nil
}

func (h handlers) whoami(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).WhoAmI(ctx)
}

func (h handlers) listProjects(ctx context.Context, r *http.Request) (any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	return h.local(ctx).ListProjects(ctx, pg)
}

func (h handlers) createProject(ctx context.Context, r *http.Request) (any, error) {
	var spec nativeapi.ProjectSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return nil, err
	}
	p, err := h.local(ctx).CreateProject(ctx, spec)
	if err != nil {
		return nil, err
	}
	return created(nativeapi.Prefix+"/projects", p.ID, p), nil
}

func (h handlers) listTokens(ctx context.Context, r *http.Request) (any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	return h.local(ctx).ListTokens(ctx, r.URL.Query().Get("projectId"), pg)
}

func (h handlers) createToken(ctx context.Context, r *http.Request) (any, error) {
	var spec nativeapi.TokenSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return nil, err
	}
	if spec.TTLSeconds < 0 {
		return nil, cairn.E(cairn.Invalid, errors.New("ttlSeconds must not be negative"))
	}
	t, err := h.local(ctx).CreateToken(ctx, spec)
	if err != nil {
		return nil, err
	}
	resp := created(nativeapi.Prefix+"/tokens", t.Token.ID, t)
	resp.Header.Set("Cache-Control", "no-store")
	return resp, nil
}

func (h handlers) deleteToken(ctx context.Context, r *http.Request) (any, error) {
	return nil, h.local(ctx).DeleteToken(ctx, r.PathValue("id"))
}

func (h handlers) listRegions(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).ListRegions(ctx)
}

func (h handlers) listVMs(ctx context.Context, r *http.Request) (any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	return h.local(ctx).ListVMs(ctx, nativeapi.VMFilter{ResourceGroup: q.Get("resourceGroup"), Region: q.Get("region"), Name: q.Get("name")}, pg)
}

func (h handlers) registerVM(ctx context.Context, r *http.Request) (any, error) {
	var spec nativeapi.VMSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return nil, err
	}
	vm, isNew, err := h.local(ctx).RegisterVM(ctx, spec)
	if err != nil {
		return nil, err
	}
	if !isNew {
		return vm, nil
	}
	return created(nativeapi.Prefix+"/vms", vm.ID, vm), nil
}

func (h handlers) getVM(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).GetVM(ctx, r.PathValue("id"))
}

func (h handlers) deleteVM(ctx context.Context, r *http.Request) (any, error) {
	return nil, h.local(ctx).DeleteVM(ctx, r.PathValue("id"))
}

func (h handlers) listVaults(ctx context.Context, r *http.Request) (any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	return h.local(ctx).ListVaults(ctx, pg)
}

func (h handlers) createVault(ctx context.Context, r *http.Request) (any, error) {
	var spec nativeapi.VaultSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return nil, err
	}
	v, isNew, err := h.local(ctx).CreateVault(ctx, spec)
	if err != nil {
		return nil, err
	}
	if !isNew {
		return v, nil
	}
	return created(nativeapi.Prefix+"/vaults", v.ID, v), nil
}

func (h handlers) getVault(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).GetVault(ctx, r.PathValue("id"))
}

func (h handlers) deleteVault(ctx context.Context, r *http.Request) (any, error) {
	op, err := h.local(ctx).DeleteVault(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return accepted(op), nil
}

func (h handlers) listRestorePoints(ctx context.Context, r *http.Request) (any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	return h.local(ctx).ListRestorePoints(ctx, r.URL.Query().Get("vaultId"), pg)
}

func (h handlers) createRestorePoint(ctx context.Context, r *http.Request) (any, error) {
	var spec nativeapi.RestorePointSpec
	if err := httpapi.DecodeJSON(r, &spec); err != nil {
		return nil, err
	}
	rp, err := h.local(ctx).CreateRestorePoint(ctx, spec)
	if err != nil {
		return nil, err
	}
	resp := accepted(&rp.Operation)
	resp.Body = rp
	return resp, nil
}

func (h handlers) getRestorePoint(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).GetRestorePoint(ctx, r.PathValue("id"))
}

func (h handlers) deleteRestorePoint(ctx context.Context, r *http.Request) (any, error) {
	op, err := h.local(ctx).DeleteRestorePoint(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return accepted(op), nil
}

func (h handlers) listOperations(ctx context.Context, r *http.Request) (any, error) {
	pg, err := pageOf(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := nativeapi.OperationFilter{Kind: q.Get("kind"), TargetID: q.Get("targetId"), ResourceID: q.Get("resourceId")}
	for _, s := range q["state"] {
		for _, st := range strings.Split(s, ",") {
			if !catalog.OpState(st).Valid() {
				return nil, cairn.E(cairn.Invalid, fmt.Errorf("state %q: must be queued, running, succeeded, failed or canceled", st))
			}
			f.States = append(f.States, st)
		}
	}
	return h.local(ctx).ListOperations(ctx, f, pg)
}

func (h handlers) getOperation(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).GetOperation(ctx, r.PathValue("id"))
}

func (h handlers) cancelOperation(ctx context.Context, r *http.Request) (any, error) {
	return h.local(ctx).CancelOperation(ctx, r.PathValue("id"))
}

// created answers 201 with the new record's Location.
func created(collection, id string, body any) *httpapi.Response {
	return &httpapi.Response{Status: http.StatusCreated, Body: body,
		Header: http.Header{"Location": {collection + "/" + url.PathEscape(id)}}}
}

// accepted answers 202 with the operation, and its Location to poll.
func accepted(op *nativeapi.Operation) *httpapi.Response {
	return &httpapi.Response{Status: http.StatusAccepted, Body: op,
		Header: http.Header{"Location": {nativeapi.Prefix + "/operations/" + url.PathEscape(op.ID)}}}
}

// pageOf reads the pageToken and pageSize query parameters.
func pageOf(r *http.Request) (nativeapi.Page, error) {
	q := r.URL.Query()
	pg := nativeapi.Page{Token: q.Get("pageToken")}
	if s := q.Get("pageSize"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > catalog.MaxPageSize {
			return pg, cairn.E(cairn.Invalid, fmt.Errorf("pageSize %q: must be a number from 1 to %d", s, catalog.MaxPageSize))
		}
		pg.Size = n
	}
	return pg, nil
}
