package arm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// Options tune the dialect. The zero Options are what `cairn serve` uses.
type Options struct {
	// PageSize is the number of items in one page of a list (the rest
	// follow through nextLink); 0 means catalog.DefaultPageSize.
	PageSize int
	// RetryAfter is the polling interval advertised with long-running
	// operations (Retry-After, and retry-after-ms when it is not whole
	// seconds); 0 means one second, a negative value sends no hint.
	RetryAfter time.Duration
	// BaseURL, when set, is the scheme and host put in Location,
	// Azure-AsyncOperation, nextLink and SAS URLs (for a server behind a
	// proxy); otherwise they name the host the request was sent to.
	BaseURL string
}

// Dialect is the ARM (Microsoft.Compute) dialect: virtual machines,
// restore point collections, restore points, disk restore points, disks
// and asynchronous operations, with the routes, shapes, status codes and
// headers of Azure Resource Manager.
type Dialect struct {
	opts Options
}

var _ httpapi.Dialect = (*Dialect)(nil)

// New returns the ARM dialect.
func New(opts Options) *Dialect {
	if opts.PageSize <= 0 {
		opts.PageSize = catalog.DefaultPageSize
	}
	if opts.RetryAfter == 0 {
		opts.RetryAfter = time.Second
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Dialect{opts: opts}
}

// Name returns "arm".
func (d *Dialect) Name() string { return "arm" }

// Route prefixes.
const (
	rgPrefix  = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute"
	subPrefix = "/subscriptions/{sub}/providers/Microsoft.Compute"
	rpcPath   = rgPrefix + "/restorePointCollections/{rpc}"
	rpPath    = rpcPath + "/restorePoints/{rp}"
	drpPath   = rpPath + "/diskRestorePoints/{drp}"
	// SASPrefix is where the signed URLs of disk access grants point.
	SASPrefix = "/arm/sas/"
)

// handler is the shape of the dialect's handlers: the parsed request in,
// a body or *httpapi.Response out.
type handler func(ctx context.Context, q *request) (any, error)

// Register adds the dialect's routes to mux.
func (d *Dialect) Register(mux *http.ServeMux, deps httpapi.Deps) {
	h := &handlers{svc: deps.Service, opts: d.opts}
	api := deps.API(writeHTTPError)
	route := func(pattern, action string, fn handler) {
		mux.Handle(pattern, d.canonical(mux, api.Handler(h.adapt(action, fn))))
	}

	// Virtual machines: the inventory.
	route("PUT "+rgPrefix+"/virtualMachines/{vm}", "virtualMachines/write", h.putVM)
	route("GET "+rgPrefix+"/virtualMachines/{vm}", "virtualMachines/read", h.getVM)
	route("DELETE "+rgPrefix+"/virtualMachines/{vm}", "virtualMachines/delete", h.deleteVM)
	route("GET "+rgPrefix+"/virtualMachines", "virtualMachines/read", h.listVMs)
	route("GET "+subPrefix+"/virtualMachines", "virtualMachines/read", h.listVMs)

	// Restore point collections.
	route("PUT "+rpcPath, "restorePointCollections/write", h.putCollection)
	route("PATCH "+rpcPath, "restorePointCollections/write", h.patchCollection)
	route("GET "+rpcPath, "restorePointCollections/read", h.getCollection)
	route("DELETE "+rpcPath, "restorePointCollections/delete", h.deleteCollection)
	route("GET "+rgPrefix+"/restorePointCollections", "restorePointCollections/read", h.listCollections)
	route("GET "+subPrefix+"/restorePointCollections", "restorePointCollections/read", h.listCollections)

	// Restore points.
	route("PUT "+rpPath, "restorePointCollections/restorePoints/write", h.putRestorePoint)
	route("GET "+rpPath, "restorePointCollections/restorePoints/read", h.getRestorePoint)
	route("DELETE "+rpPath, "restorePointCollections/restorePoints/delete", h.deleteRestorePoint)
	route("GET "+rpcPath+"/restorePoints", "restorePointCollections/restorePoints/read", h.listRestorePoints)

	// Disk restore points and access to their bytes.
	route("GET "+drpPath, "restorePointCollections/restorePoints/diskRestorePoints/read", h.getDiskRestorePoint)
	route("GET "+rpPath+"/diskRestorePoints", "restorePointCollections/restorePoints/diskRestorePoints/read", h.listDiskRestorePoints)
	route("POST "+drpPath+"/beginGetAccess", "restorePointCollections/restorePoints/diskRestorePoints/beginGetAccess/action", h.beginGetAccess)
	route("POST "+drpPath+"/endGetAccess", "restorePointCollections/restorePoints/diskRestorePoints/endGetAccess/action", h.endGetAccess)

	// Disks restored from disk restore points.
	route("PUT "+rgPrefix+"/disks/{disk}", "disks/write", h.putDisk)
	route("GET "+rgPrefix+"/disks/{disk}", "disks/read", h.getDisk)
	route("DELETE "+rgPrefix+"/disks/{disk}", "disks/delete", h.deleteDisk)
	route("GET "+rgPrefix+"/disks", "disks/read", h.listDisks)

	// Asynchronous operations.
	route("GET "+subPrefix+"/locations/{loc}/operations/{op}", "locations/operations/read", h.getOperation)

	// Signed URLs of disk access grants: the signature is the credential.
	mux.HandleFunc("GET "+SASPrefix+"{file}", h.serveSAS)
	mux.HandleFunc("HEAD "+SASPrefix+"{file}", h.serveSAS)

	// Everything else under /subscriptions/: other spellings of the routes
	// above (ARM paths are case-insensitive), or an ARM 404/405.
	for _, prefix := range []string{"/subscriptions/", "/Subscriptions/", "/SUBSCRIPTIONS/"} {
		mux.Handle(prefix, d.fallback(mux))
	}
}

// canonical sends a request whose path is not in canonical form (keywords
// in another case, the page's "&api-version=" in the path) back through
// mux with the canonical path, and serves the others with next.
func (d *Dialect) canonical(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r2, ok := canonicalRequest(r); ok {
			mux.ServeHTTP(w, r2)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fallback answers requests under /subscriptions/ that no route matched:
// after canonicalising the path it tries the routes again; otherwise it
// answers 405 when the path has routes for other methods, else 404.
func (d *Dialect) fallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r2, ok := canonicalRequest(r); ok {
			mux.ServeHTTP(w, r2)
			return
		}
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pat := mux.Handler(probe); strings.HasPrefix(pat, m+" ") {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			WriteError(w, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				"The requested resource does not support http method '%s'.", r.Method))
			return
		}
		WriteError(w, Errorf(http.StatusNotFound, CodeInvalidResourceType,
			"The resource type of '%s' could not be found in the namespace '%s': no ARM route matches %s %s.", r.URL.Path, Provider, r.Method, r.URL.Path))
	})
}

// canonicalRequest returns r with its path in canonical form and the
// page's "&api-version=" moved into the query, and true, when that
// changes anything.
func canonicalRequest(r *http.Request) (*http.Request, bool) {
	p, extra := splitPathQuery(r.URL.Path)
	p = canonicalPath(p)
	if p == r.URL.Path {
		return nil, false
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = p, ""
	if extra != "" {
		q := r.URL.Query()
		if more, err := url.ParseQuery(extra); err == nil {
			for k, vs := range more {
				for _, v := range vs {
					q.Add(k, v)
				}
			}
		}
		r2.URL.RawQuery = q.Encode()
	}
	return r2, true
}

// splitPathQuery splits the page's spelling ".../{name}&api-version=..."
// into the path and a query string. ARM names cannot contain '&'.
func splitPathQuery(p string) (string, string) {
	i := strings.IndexByte(p, '&')
	if i < 0 {
		return p, ""
	}
	return p[:i], p[i+1:]
}

// keywords are the canonical spellings of an ARM path's fixed segments.
var keywords = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{kwSubscriptions, kwResourceGroups, kwProviders, TypeVirtualMachines,
		TypeRestorePointCollections, TypeRestorePoints, TypeDiskRestorePoints, TypeDisks, TypeLocations,
		TypeOperations, "beginGetAccess", "endGetAccess"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// canonicalPath writes the fixed segments of an ARM path (the keywords
// and type segments at even positions, and the provider namespace after
// "providers") in canonical case, and drops a trailing slash. Names are
// left alone.
func canonicalPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	if len(segs) > 3 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // a trailing slash, which ARM ignores
	}
	for i, s := range segs {
		switch {
		case i > 0 && segs[i-1] == kwProviders && strings.EqualFold(s, Provider):
			segs[i] = Provider
		case i%2 == 0:
			if k, ok := keywords[strings.ToLower(s)]; ok {
				segs[i] = k
			}
		}
	}
	return "/" + strings.Join(segs, "/")
}

// request is a parsed ARM request.
type request struct {
	r          *http.Request
	caller     service.Caller
	sub        string // the subscription segment: the caller's project
	rg         string // the resource group segment, "" on subscription routes
	query      url.Values
	apiVersion string
	action     string // e.g. "restorePointCollections/read", for messages
}

// value returns a path wildcard.
func (q *request) value(name string) string { return q.r.PathValue(name) }

// adapt wraps fn with what every ARM route checks first: the
// api-version, the subscription and the resource group.
func (h *handlers) adapt(action string, fn handler) httpapi.HandlerFunc {
	return func(ctx context.Context, r *http.Request) (any, error) {
		caller, _ := httpapi.CallerFrom(ctx)
		q := &request{r: r, caller: caller, sub: r.PathValue("sub"), rg: r.PathValue("rg"), query: r.URL.Query(), action: action}
		out, err := func() (any, error) {
			if err := q.checkAPIVersion(); err != nil {
				return nil, err
			}
			if err := q.checkScope(); err != nil {
				return nil, err
			}
			return fn(ctx, q)
		}()
		if err != nil {
			return nil, toHTTPError(err)
		}
		return out, nil
	}
}

// checkAPIVersion requires a well-formed api-version, as ARM does.
func (q *request) checkAPIVersion() error {
	vs, ok := q.query["api-version"]
	if !ok || len(vs) == 0 || vs[0] == "" {
		return Errorf(http.StatusBadRequest, CodeMissingAPIVersion,
			"The api-version query parameter (?api-version=) is required for all requests.")
	}
	if err := ValidateAPIVersion(vs[0]); err != nil {
		return Errorf(http.StatusBadRequest, CodeInvalidAPIVersion, "%v", err)
	}
	q.apiVersion = vs[0]
	return nil
}

// checkScope checks the subscription and resource group segments. A
// token reaches its own project's subscription only; any other
// subscription is 403 AuthorizationFailed, which is what ARM answers a
// principal that has no role on a subscription (whether or not it
// exists, so that project ids are not disclosed).
func (q *request) checkScope() error {
	if err := ValidateSubscription(q.sub); err != nil {
		return Errorf(http.StatusBadRequest, "InvalidSubscriptionId",
			"The provided subscription identifier '%s' is malformed or invalid.", q.sub)
	}
	if !strings.EqualFold(q.sub, q.caller.ProjectID) {
		scope := "/subscriptions/" + q.sub
		if q.rg != "" {
			scope += "/resourceGroups/" + q.rg
		}
		return Errorf(http.StatusForbidden, CodeAuthorizationFailed,
			"The client with token '%s' does not have authorization to perform action '%s/%s' over scope '%s' or the scope is invalid.",
			q.caller.TokenID, Provider, q.action, scope)
	}
	q.sub = q.caller.ProjectID // subscription ids compare ignoring case
	if strings.Contains(q.r.Pattern, "{rg}") {
		if err := ValidateResourceGroup(q.rg); err != nil {
			return Errorf(http.StatusBadRequest, "InvalidResourceGroupName", "%v", err)
		}
	}
	return nil
}

// toHTTPError turns a handler's error into one the server's adapter
// answers with its status: an *Error keeps its ARM code, service errors of
// a client-side kind get theirs from AsError, and the rest go to the
// server's classification (500 with a generic message).
func toHTTPError(err error) error {
	var ae *Error
	if !errors.As(err, &ae) {
		var he *httpapi.Error
		if errors.As(err, &he) {
			return err
		}
		switch cairn.KindOf(err) {
		case cairn.Invalid, cairn.NotExist, cairn.Exist, cairn.Conflict, cairn.Permission, cairn.Unsupported:
			ae = AsError(err)
		default:
			return err
		}
	}
	return &httpapi.Error{Status: ae.Status, Kind: kindOfStatus(ae.Status), Message: ae.Message, Err: ae}
}

func kindOfStatus(status int) cairn.Kind {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return cairn.Invalid
	case http.StatusUnauthorized, http.StatusForbidden:
		return cairn.Permission
	case http.StatusNotFound:
		return cairn.NotExist
	case http.StatusConflict:
		return cairn.Conflict
	}
	return cairn.Other
}

// writeHTTPError is the dialect's ErrorWriter: every error, the server's
// own (401, 413) included, in ARM's shape.
func writeHTTPError(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
	var ae *Error
	if errors.As(e.Err, &ae) {
		WriteError(w, ae)
		return
	}
	out := &Error{Status: e.Status, Message: e.Message}
	switch e.Status {
	case http.StatusUnauthorized:
		if httpapi.BearerToken(r) == "" {
			out.Code = CodeAuthenticationFailed
			out.Message = "Authentication failed. The 'Authorization' header is missing: send 'Authorization: Bearer <token>'."
		} else {
			out.Code = "InvalidAuthenticationToken"
			out.Message = "The access token is invalid: it is unknown, deleted or expired."
		}
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+out.Message+`"`)
	case http.StatusForbidden:
		out.Code = CodeAuthorizationFailed
	case http.StatusNotFound:
		out.Code = CodeNotFound
	case http.StatusConflict:
		out.Code = CodeConflict
		if e.Kind == cairn.Conflict {
			out.Code = CodeOperationNotAllowed
		}
	case http.StatusRequestEntityTooLarge:
		out.Code = CodeRequestTooLarge
	case http.StatusUnsupportedMediaType:
		out.Code = "UnsupportedMediaType"
	case http.StatusBadRequest:
		out.Code = CodeInvalidParameter
	case http.StatusServiceUnavailable:
		out.Code = "ServiceUnavailable"
	default:
		out.Code = CodeInternalError
		if e.Status < 500 {
			out.Code = http.StatusText(e.Status)
		}
	}
	WriteError(w, out)
}

// base returns the scheme and host for URLs handed to the client.
func (h *handlers) base(r *http.Request) string {
	if h.opts.BaseURL != "" {
		return h.opts.BaseURL
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}

// nextLink returns the URL of the next page of a list, or "" when there
// is none.
func (h *handlers) nextLink(q *request, token string) string {
	if token == "" {
		return ""
	}
	v := url.Values{}
	v.Set("api-version", q.apiVersion)
	for k, vs := range q.query {
		if k != "api-version" && k != "$skiptoken" {
			v[k] = vs
		}
	}
	v.Set("$skiptoken", token)
	return h.base(q.r) + q.r.URL.EscapedPath() + "?" + v.Encode()
}

// page returns the page a list request asks for.
func (h *handlers) page(q *request) catalog.Page {
	return catalog.Page{Token: q.query.Get("$skiptoken"), Size: h.opts.PageSize}
}

// expand returns the $expand value, checked against the allowed values
// (matched ignoring case), in its canonical spelling; "" when absent.
func (q *request) expand(allowed ...string) (string, error) {
	v := q.query.Get("$expand")
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a, nil
		}
	}
	e := invalidf("$expand", "The value '%s' of $expand is not valid: use %s.", v, strings.Join(allowed, " or "))
	return "", e
}

// decodeBody decodes the request's JSON body into v leniently (ARM
// ignores fields it does not know) and answers malformed JSON with ARM's
// InvalidRequestContent and an oversized body with 413.
func decodeBody(r *http.Request, v any) error {
	err := httpapi.DecodeJSONLenient(r, v)
	if err == nil {
		return nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return Errorf(http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
			"The request content is too large: the limit is %d bytes.", mbe.Limit)
	}
	var he *httpapi.Error
	if errors.As(err, &he) && he.Status == http.StatusUnsupportedMediaType {
		return &Error{Status: he.Status, Code: "UnsupportedMediaType", Message: he.Message, Err: err}
	}
	msg := err.Error()
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequestContent,
		Message: fmt.Sprintf("The request content was invalid and could not be deserialized: %s", msg), Err: err}
}
