// Package client is a Go client of cairn's native JSON API: the command
// line's client mode (cairn --server URL --token T ...). It implements
// nativeapi.API, and its errors carry the cairn kind of the server's
// error code, so that exit codes are the same as on a local data
// directory.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// Options configure New.
type Options struct {
	// Token is the bearer secret sent with every request.
	Token string
	// CACert is a PEM file of certificates to trust besides the system's
	// roots (the server's self-signed certificate); "" trusts the system
	// roots only.
	CACert string
	// HTTPClient, when set, is used as is and CACert is ignored.
	HTTPClient *http.Client
	// Timeout bounds each request; 0 means one minute.
	Timeout time.Duration
}

// Client calls one cairn server. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

var _ nativeapi.API = (*Client)(nil)

// New returns a client of the server at serverURL (https://host:port, or
// http:// for a server started with --insecure-http).
func New(serverURL string, opts Options) (*Client, error) {
	u, err := url.Parse(serverURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("server URL %q: give https://HOST:PORT", serverURL))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	hc := opts.HTTPClient
	if hc == nil {
		tlsCfg, err := httpapi.ClientTLSConfig(opts.CACert)
		if err != nil {
			return nil, err
		}
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = time.Minute
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsCfg
		hc = &http.Client{Transport: tr, Timeout: timeout}
	}
	return &Client{base: u, token: opts.Token, hc: hc}, nil
}

// Error is an error response of the server.
type Error struct {
	Status  int    // the HTTP status
	Code    string // the error code of the body, e.g. "NotFound"
	Message string // the server's message
}

// Error returns the server's message.
func (e *Error) Error() string {
	return fmt.Sprintf("server: %s (HTTP %d %s)", e.Message, e.Status, e.Code)
}

// do sends a request with body v (nil: none) to path (under the native
// prefix) and decodes a JSON answer into out (nil: none). It returns the
// response's status.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, v, out any) (int, error) {
	// path is escaped already: ids are url.PathEscape'd.
	target := c.base.String() + nativeapi.Prefix + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var body io.Reader
	if v != nil {
		data, err := json.Marshal(v)
		if err != nil {
			return 0, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return 0, cairn.E(cairn.Invalid, fmt.Errorf("request %s %s: %w", method, path, err))
	}
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, cairn.E(cairn.Canceled, fmt.Errorf("%s %s: %w", method, c.base.Redacted()+nativeapi.Prefix+path, err))
		}
		return 0, cairn.E(cairn.IO, fmt.Errorf("%s %s: %w (is the server running, and is --ca-cert its certificate?)", method, c.base.Redacted()+nativeapi.Prefix+path, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, cairn.E(cairn.IO, fmt.Errorf("%s %s: read the answer: %w", method, path, err))
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, responseError(resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, cairn.E(cairn.IO, fmt.Errorf("%s %s: the server's answer is not what this cairn expects: %w", method, path, err))
		}
	}
	return resp.StatusCode, nil
}

// responseError makes the error of an error response, with the kind of
// its code.
func responseError(status int, data []byte) error {
	var body nativeapi.ErrorBody
	e := &Error{Status: status}
	if json.Unmarshal(data, &body) == nil && body.Error.Message != "" {
		e.Code, e.Message = body.Error.Code, body.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(data))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "..."
		}
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
	}
	return cairn.E(nativeapi.Kind(status, e.Code), e)
}

// pageQuery adds a page's parameters to q.
func pageQuery(q url.Values, p nativeapi.Page) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.Token != "" {
		q.Set("pageToken", p.Token)
	}
	if p.Size > 0 {
		q.Set("pageSize", strconv.Itoa(p.Size))
	}
	return q
}

// setIf sets q[k] when v is not empty.
func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// get is do for a GET that answers a T.
func get[T any](ctx context.Context, c *Client, path string, q url.Values) (*T, error) {
	var out T
	if _, err := c.do(ctx, http.MethodGet, path, q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WhoAmI describes the caller.
func (c *Client) WhoAmI(ctx context.Context) (*nativeapi.WhoAmI, error) {
	return get[nativeapi.WhoAmI](ctx, c, "/whoami", nil)
}

// CreateProject creates a project (admin only).
func (c *Client) CreateProject(ctx context.Context, spec nativeapi.ProjectSpec) (*nativeapi.Project, error) {
	var out nativeapi.Project
	if _, err := c.do(ctx, http.MethodPost, "/projects", nil, spec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListProjects lists the projects the caller reaches.
func (c *Client) ListProjects(ctx context.Context, p nativeapi.Page) (*nativeapi.List[nativeapi.Project], error) {
	return get[nativeapi.List[nativeapi.Project]](ctx, c, "/projects", pageQuery(nil, p))
}

// CreateToken creates a token and returns its secret, this once.
func (c *Client) CreateToken(ctx context.Context, spec nativeapi.TokenSpec) (*nativeapi.TokenCreated, error) {
	var out nativeapi.TokenCreated
	if _, err := c.do(ctx, http.MethodPost, "/tokens", nil, spec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTokens lists a project's tokens ("" = the caller's).
func (c *Client) ListTokens(ctx context.Context, projectID string, p nativeapi.Page) (*nativeapi.List[nativeapi.Token], error) {
	q := url.Values{}
	setIf(q, "projectId", projectID)
	return get[nativeapi.List[nativeapi.Token]](ctx, c, "/tokens", pageQuery(q, p))
}

// DeleteToken deletes a token.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/tokens/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// CreateAccessKey creates an AK/SK credential and returns its secret key,
// this once.
func (c *Client) CreateAccessKey(ctx context.Context, spec nativeapi.AccessKeySpec) (*nativeapi.AccessKeyCreated, error) {
	var out nativeapi.AccessKeyCreated
	if _, err := c.do(ctx, http.MethodPost, "/accessKeys", nil, spec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAccessKeys lists a project's credentials ("" = the caller's).
func (c *Client) ListAccessKeys(ctx context.Context, projectID string) (*nativeapi.List[nativeapi.AccessKey], error) {
	q := url.Values{}
	setIf(q, "projectId", projectID)
	return get[nativeapi.List[nativeapi.AccessKey]](ctx, c, "/accessKeys", q)
}

// DeleteAccessKey deletes a credential.
func (c *Client) DeleteAccessKey(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/accessKeys/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// ListRegionalProjects lists a project's regional projects ("" = the
// caller's).
func (c *Client) ListRegionalProjects(ctx context.Context, projectID string) (*nativeapi.List[nativeapi.RegionalProject], error) {
	q := url.Values{}
	setIf(q, "projectId", projectID)
	return get[nativeapi.List[nativeapi.RegionalProject]](ctx, c, "/regionalProjects", q)
}

// ListRegions lists the regions.
func (c *Client) ListRegions(ctx context.Context) (*nativeapi.List[nativeapi.Region], error) {
	return get[nativeapi.List[nativeapi.Region]](ctx, c, "/regions", nil)
}

// RegisterVM registers a VM and reports whether it is new.
func (c *Client) RegisterVM(ctx context.Context, spec nativeapi.VMSpec) (*nativeapi.VM, bool, error) {
	var out nativeapi.VM
	status, err := c.do(ctx, http.MethodPost, "/vms", nil, spec, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// ListVMs lists the caller's VMs.
func (c *Client) ListVMs(ctx context.Context, f nativeapi.VMFilter, p nativeapi.Page) (*nativeapi.List[nativeapi.VM], error) {
	q := url.Values{}
	setIf(q, "resourceGroup", f.ResourceGroup)
	setIf(q, "region", f.Region)
	setIf(q, "name", f.Name)
	return get[nativeapi.List[nativeapi.VM]](ctx, c, "/vms", pageQuery(q, p))
}

// GetVM returns a VM.
func (c *Client) GetVM(ctx context.Context, id string) (*nativeapi.VM, error) {
	return get[nativeapi.VM](ctx, c, "/vms/"+url.PathEscape(id), nil)
}

// DeleteVM unregisters a VM.
func (c *Client) DeleteVM(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/vms/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// CreateVault creates a vault and reports whether it is new.
func (c *Client) CreateVault(ctx context.Context, spec nativeapi.VaultSpec) (*nativeapi.Vault, bool, error) {
	var out nativeapi.Vault
	status, err := c.do(ctx, http.MethodPost, "/vaults", nil, spec, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// ListVaults lists the caller's vaults.
func (c *Client) ListVaults(ctx context.Context, p nativeapi.Page) (*nativeapi.List[nativeapi.Vault], error) {
	return get[nativeapi.List[nativeapi.Vault]](ctx, c, "/vaults", pageQuery(nil, p))
}

// GetVault returns a vault.
func (c *Client) GetVault(ctx context.Context, id string) (*nativeapi.Vault, error) {
	return get[nativeapi.Vault](ctx, c, "/vaults/"+url.PathEscape(id), nil)
}

// DeleteVault queues the deletion of a vault.
func (c *Client) DeleteVault(ctx context.Context, id string) (*nativeapi.Operation, error) {
	var out nativeapi.Operation
	if _, err := c.do(ctx, http.MethodDelete, "/vaults/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateRestorePoint makes a restore point of a VM, or copies one.
func (c *Client) CreateRestorePoint(ctx context.Context, spec nativeapi.RestorePointSpec) (*nativeapi.RestorePointCreated, error) {
	var out nativeapi.RestorePointCreated
	if _, err := c.do(ctx, http.MethodPost, "/restorePoints", nil, spec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListRestorePoints lists a vault's restore points ("" = all).
func (c *Client) ListRestorePoints(ctx context.Context, vaultID string, p nativeapi.Page) (*nativeapi.List[nativeapi.RestorePoint], error) {
	q := url.Values{}
	setIf(q, "vaultId", vaultID)
	return get[nativeapi.List[nativeapi.RestorePoint]](ctx, c, "/restorePoints", pageQuery(q, p))
}

// GetRestorePoint returns a restore point.
func (c *Client) GetRestorePoint(ctx context.Context, id string) (*nativeapi.RestorePoint, error) {
	return get[nativeapi.RestorePoint](ctx, c, "/restorePoints/"+url.PathEscape(id), nil)
}

// DeleteRestorePoint queues the deletion of a restore point.
func (c *Client) DeleteRestorePoint(ctx context.Context, id string) (*nativeapi.Operation, error) {
	var out nativeapi.Operation
	if _, err := c.do(ctx, http.MethodDelete, "/restorePoints/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOperations lists the caller's operations.
func (c *Client) ListOperations(ctx context.Context, f nativeapi.OperationFilter, p nativeapi.Page) (*nativeapi.List[nativeapi.Operation], error) {
	q := url.Values{}
	setIf(q, "kind", f.Kind)
	setIf(q, "targetId", f.TargetID)
	setIf(q, "resourceId", f.ResourceID)
	for _, s := range f.States {
		q.Add("state", s)
	}
	return get[nativeapi.List[nativeapi.Operation]](ctx, c, "/operations", pageQuery(q, p))
}

// GetOperation returns an operation.
func (c *Client) GetOperation(ctx context.Context, id string) (*nativeapi.Operation, error) {
	return get[nativeapi.Operation](ctx, c, "/operations/"+url.PathEscape(id), nil)
}

// CancelOperation cancels an operation.
func (c *Client) CancelOperation(ctx context.Context, id string) (*nativeapi.Operation, error) {
	var out nativeapi.Operation
	if _, err := c.do(ctx, http.MethodPost, "/operations/"+url.PathEscape(id)+"/cancel", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitOperation polls an operation every interval until it is final or
// ctx ends, and returns it as it is then.
func WaitOperation(ctx context.Context, api nativeapi.API, id string, interval time.Duration) (*nativeapi.Operation, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		op, err := api.GetOperation(ctx, id)
		if err != nil {
			return nil, err
		}
		if op.Final() {
			return op, nil
		}
		select {
		case <-ctx.Done():
			return op, cairn.E(cairn.Canceled, fmt.Errorf("wait for operation %s: %w", id, ctx.Err()))
		case <-t.C:
		}
	}
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return cairn.IsKind(err, cairn.NotExist) }
