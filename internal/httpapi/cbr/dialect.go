package cbr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/apig"
	"github.com/cairn-vm/cairn/internal/service"
)

// Options tune the dialect. The zero Options are what `cairn serve` uses.
type Options struct {
	// Clock is the time AK/SK signatures are checked against (X-Sdk-Date
	// within 15 minutes of it); nil is clock.Real.
	Clock clock.Clock
	// MaxBodyBytes caps a signed request's body; 0 is 1 MiB.
	MaxBodyBytes int64
	// Replay remembers accepted signatures; nil is a new in-memory cache.
	Replay apig.ReplayCache
}

// Dialect is the CBR v3 dialect: vaults, checkpoints, backups, restores,
// replication, policies and operation logs under /v3/{project_id}/, with
// Huawei Cloud's shapes, codes and authentication.
type Dialect struct {
	opts Options
}

var _ httpapi.Dialect = (*Dialect)(nil)

// New returns the CBR dialect.
func New(opts Options) *Dialect {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = apig.DefaultMaxBodyBytes
	}
	return &Dialect{opts: opts}
}

// Name returns "cbr".
func (d *Dialect) Name() string { return "cbr" }

// Prefix is where the project's routes are.
const Prefix = "/v3/{project_id}"

// request is a parsed CBR request.
type request struct {
	r        *http.Request
	caller   service.Caller
	project  *service.RegionalProject // the URL's project
	query    url.Values
	signedBy string // the AK of a signed request, "" for a token
}

// value returns a path wildcard.
func (q *request) value(name string) string { return q.r.PathValue(name) }

// region is the URL's project's region.
func (q *request) region() string { return q.project.Region }

// handler is the shape of the dialect's handlers.
type handler func(ctx context.Context, q *request) (any, error)

// handlers holds what the handlers need.
type handlers struct {
	svc  *service.Service
	log  *slog.Logger
	opts Options
}

// Register adds the dialect's routes to mux.
func (d *Dialect) Register(mux *http.ServeMux, deps httpapi.Deps) {
	h := &handlers{svc: deps.Service, log: deps.Log, opts: d.opts}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	verifier := apig.NewVerifier(h.lookup, apig.Options{Replay: d.opts.Replay})
	api := deps.API(writeHTTPError, httpapi.WithCredential(credential), httpapi.WithAuthenticator(authenticator{svc: deps.Service}))
	wrap := func(next http.Handler) http.Handler {
		return verifier.Middleware(d.opts.Clock, d.opts.MaxBodyBytes, next)
	}
	route := func(pattern string, notFoundCode string, fn handler) {
		mux.Handle(pattern, wrap(api.Handler(h.adapt(notFoundCode, fn, true))))
	}

	// Vaults.
	route("POST "+Prefix+"/vaults", CodeVaultNotFound, h.createVault)
	route("GET "+Prefix+"/vaults", CodeVaultNotFound, h.listVaults)
	route("GET "+Prefix+"/vaults/{vault_id}", CodeVaultNotFound, h.showVault)
	route("PUT "+Prefix+"/vaults/{vault_id}", CodeVaultNotFound, h.updateVault)
	route("DELETE "+Prefix+"/vaults/{vault_id}", CodeVaultNotFound, h.deleteVault)
	route("POST "+Prefix+"/vaults/{vault_id}/addresources", CodeVaultNotFound, h.addResources)
	route("POST "+Prefix+"/vaults/{vault_id}/removeresources", CodeVaultNotFound, h.removeResources)
	route("POST "+Prefix+"/vaults/{vault_id}/associatepolicy", CodeVaultNotFound, h.associatePolicy)
	route("POST "+Prefix+"/vaults/{vault_id}/dissociatepolicy", CodeVaultNotFound, h.dissociatePolicy)

	// Checkpoints and replication.
	route("POST "+Prefix+"/checkpoints", CodeVaultNotFound, h.createCheckpoint)
	route("GET "+Prefix+"/checkpoints/{checkpoint_id}", CodeCheckpointNotFound, h.showCheckpoint)
	route("POST "+Prefix+"/checkpoints/replicate", CodeVaultNotFound, h.replicate)

	// Backups.
	route("GET "+Prefix+"/backups", CodeBackupNotFound, h.listBackups)
	route("GET "+Prefix+"/backups/{backup_id}", CodeBackupNotFound, h.showBackup)
	route("DELETE "+Prefix+"/backups/{backup_id}", CodeBackupNotFound, h.deleteBackup)
	route("POST "+Prefix+"/backups/{backup_id}/restore", CodeBackupNotFound, h.restoreBackup)

	// Policies.
	route("POST "+Prefix+"/policies", CodePolicyNotFound, h.createPolicy)
	route("GET "+Prefix+"/policies", CodePolicyNotFound, h.listPolicies)
	route("GET "+Prefix+"/policies/{policy_id}", CodePolicyNotFound, h.showPolicy)
	route("PUT "+Prefix+"/policies/{policy_id}", CodePolicyNotFound, h.updatePolicy)
	route("DELETE "+Prefix+"/policies/{policy_id}", CodePolicyNotFound, h.deletePolicy)

	// Resources that can be protected: the region's VMs.
	route("GET "+Prefix+"/protectables/{protectable_type}/instances", CodeResourceNotFound, h.listProtectables)
	route("GET "+Prefix+"/protectables/{protectable_type}/instances/{instance_id}", CodeResourceNotFound, h.showProtectable)

	// Operation logs (tasks).
	route("GET "+Prefix+"/operation-logs", CodeOpLogNotFound, h.listOpLogs)
	route("GET "+Prefix+"/operation-logs/{operation_log_id}", CodeOpLogNotFound, h.showOpLog)

	// cairn's own: a destination's consent to replication.
	route("POST "+Prefix+"/replication-agreements", CodeAgreementNotFound, h.createAgreement)
	route("GET "+Prefix+"/replication-agreements", CodeAgreementNotFound, h.listAgreements)
	route("DELETE "+Prefix+"/replication-agreements/{agreement_id}", CodeAgreementNotFound, h.deleteAgreement)

	// The tenant's projects, one per region (no project in the URL).
	mux.Handle("GET /v3/region-projects", wrap(api.Handler(h.adapt(CodeResourceNotFound, h.listProjects, false))))

	// Everything else under /v3/: API Gateway's answer to an unknown API.
	mux.Handle("/v3/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeAPIG(w, http.StatusNotFound, "APIG.0101", "The API does not exist or has not been published in the environment", apig.NewRequestID())
	}))
}

// credential returns a request's token secret: its X-Auth-Token, or, for
// a request the AK/SK middleware verified, a marker that the
// authenticator turns into the signer's caller.
func credential(r *http.Request) string {
	if t := r.Header.Get(apig.HeaderAuthToken); t != "" {
		return t
	}
	if _, ok := apig.PrincipalFrom(r.Context()); ok {
		return signedMarker
	}
	return ""
}

// signedMarker stands for the verified signature of a signed request; it
// is no token, so it authenticates nothing without one.
const signedMarker = "\x00aksk"

// authenticator authenticates tokens with the service, and signed
// requests by the principal the middleware verified.
type authenticator struct {
	svc *service.Service
}

// Authenticate implements httpapi.Authenticator.
func (a authenticator) Authenticate(ctx context.Context, secret string) (service.Caller, error) {
	if secret == signedMarker {
		p, ok := apig.PrincipalFrom(ctx)
		if !ok {
			return service.Caller{}, cairn.E(cairn.Permission, errors.New("unsigned request"))
		}
		return service.Caller{ProjectID: p.DomainID, TokenID: "ak:" + p.AccessKey}, nil
	}
	return a.svc.Authenticate(ctx, secret)
}

// lookup is the verifier's Lookup: the service's AK/SK credentials, the
// tenant as the domain.
func (h *handlers) lookup(ctx context.Context, ak string) (apig.Secret, error) {
	sk, c, err := h.svc.LookupAccessKey(ctx, ak)
	if err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return apig.Secret{}, fmt.Errorf("%w: %w", apig.ErrUnknownAccessKey, err)
		}
		return apig.Secret{}, err
	}
	return apig.Secret{SecretKey: sk, DomainID: c.ProjectID}, nil
}

// adapt wraps fn with what every route checks first: the URL's project
// must be one of the caller's tenant's (a signed X-Project-Id must name
// it too); any other, or one that does not exist, is 403 APIG.0302.
func (h *handlers) adapt(notFoundCode string, fn handler, withProject bool) httpapi.HandlerFunc {
	return func(ctx context.Context, r *http.Request) (any, error) {
		caller, _ := httpapi.CallerFrom(ctx)
		q := &request{r: r, caller: caller, query: r.URL.Query()}
		if p, ok := apig.PrincipalFrom(ctx); ok {
			q.signedBy = p.AccessKey
		}
		out, err := func() (any, error) {
			if withProject {
				if err := h.checkProject(ctx, q); err != nil {
					return nil, err
				}
			}
			return fn(ctx, q)
		}()
		if err != nil {
			return nil, toHTTPError(err, notFoundCode)
		}
		return out, nil
	}
}

// checkProject resolves the URL's project and checks the caller's right
// to it.
func (h *handlers) checkProject(ctx context.Context, q *request) error {
	id := q.value("project_id")
	domainOf := func(ctx context.Context, id string) (string, error) {
		rp, err := h.svc.ResolveRegionalProject(ctx, id)
		if err != nil {
			return "", err
		}
		return rp.ProjectID, nil
	}
	if p, ok := apig.PrincipalFrom(ctx); ok {
		if err := p.Authorize(ctx, id, domainOf); err != nil {
			return err
		}
	} else if domain, err := domainOf(ctx, id); err != nil || domain != q.caller.ProjectID {
		if err != nil && !cairn.IsKind(err, cairn.NotExist) {
			return err
		}
		return &httpapi.Error{Status: http.StatusForbidden, Kind: cairn.Permission,
			Message: "project " + id + " is not accessible with this token",
			Err:     cairn.E(cairn.Permission, fmt.Errorf("project %q is not the token's", id))}
	}
	rp, err := h.svc.ResolveRegionalProject(ctx, id)
	if err != nil {
		return err
	}
	q.project = rp
	return nil
}

// trimID returns s without surrounding space.
func trimID(s string) string { return strings.TrimSpace(s) }

// signedProject returns the X-Project-Id a signed request was signed
// with.
func signedProject(ctx context.Context) (string, bool) {
	p, ok := apig.PrincipalFrom(ctx)
	if !ok {
		return "", false
	}
	return p.ProjectID, true
}
