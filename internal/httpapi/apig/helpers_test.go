package apig_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi/apig"
)

// Two tenants. Tenant A has a project in each of two regions and one AK/SK
// for both; tenant B has one project.
const (
	akA       = "HPUAEXAMPLEA0000AKID"
	skA       = "tenant-a-secret-key-0123456789abcdefghij"
	domainA   = "d-tenant-a"
	projectA1 = "0b6e7f3c5d8a4c1e9f2a3b4c5d6e7f80" // region cairn-east-1
	projectA2 = "7a1f0c9e2b3d4e5f8a6b7c8d9e0f1a2b" // region cairn-west-1

	akB       = "HPUAEXAMPLEB0000AKID"
	skB       = "tenant-b-secret-key-zyxwvutsrqponmlkjihg"
	domainB   = "d-tenant-b"
	projectB1 = "c0ffee00c0ffee00c0ffee00c0ffee00"

	endpoint = "https://cbr.cairn.test:8443"
)

// t0 is the time tests sign at and, unless they say otherwise, verify at.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// lookup knows the two tenants' keys.
func lookup(_ context.Context, ak string) (apig.Secret, error) {
	switch ak {
	case akA:
		return apig.Secret{SecretKey: skA, DomainID: domainA}, nil
	case akB:
		return apig.Secret{SecretKey: skB, DomainID: domainB}, nil
	}
	return apig.Secret{}, fmt.Errorf("lookup %q: %w", ak, apig.ErrUnknownAccessKey)
}

// domainOf knows the tenants' projects.
func domainOf(_ context.Context, projectID string) (string, error) {
	switch projectID {
	case projectA1, projectA2:
		return domainA, nil
	case projectB1:
		return domainB, nil
	}
	return "", cairn.E(cairn.NotExist, fmt.Errorf("project %q: no such project", projectID))
}

// sdkRequest describes a request for the SDK to sign, as an HcHttpClient
// would build it from a CBR request definition.
type sdkRequest struct {
	method, path string
	pathParams   map[string]string // besides project_id, which the credentials fill
	query        map[string]any    // passed to the SDK as reflect.Values, as HcHttpClient does
	headers      map[string]string
	contentType  string // "" means application/json
	body         any    // nil: none; a string is sent as is, anything else as JSON
	ak, sk       string
	projectID    string
	date         time.Time // zero means t0
	derived      bool      // sign with V11-HMAC-SHA256 for region "cairn-east-1", service "cbr"
	token        string    // a security token (temporary credentials), sent and signed as X-Security-Token
}

// signed has the SDK sign req, converts it to the *http.Request the SDK
// sends, and returns it as a server receives it (written to the wire and
// read back), with its body read.
func signed(t testing.TB, sr sdkRequest) (*http.Request, []byte) {
	t.Helper()
	r, body, err := sdkSign(sr)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

// sdkSign is signed, failing with an error.
func sdkSign(sr sdkRequest) (*http.Request, []byte, error) {
	date := sr.date
	if date.IsZero() {
		date = t0
	}
	ak, sk, project := sr.ak, sr.sk, sr.projectID
	if ak == "" {
		ak, sk = akA, skA
	}
	if project == "" {
		project = projectA1
	}
	ct := sr.contentType
	if ct == "" {
		ct = "application/json"
	}

	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithMethod(sr.method).WithPath(sr.path).
		WithSigningAlgorithm(algorithm.GetDefaultSigningAlgorithm())
	// The headers HcHttpClient adds for every call.
	b.AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0")
	b.AddHeaderParam("Content-Type", ct)
	// A preset X-Sdk-Date is what the signer signs with, instead of now.
	b.AddHeaderParam(apig.HeaderDate, date.UTC().Format(apig.DateFormat))
	for k, v := range sr.headers {
		b.AddHeaderParam(k, v)
	}
	for k, v := range sr.pathParams {
		b.AddPathParam(k, v)
	}
	for k, v := range sr.query {
		b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if sr.body != nil {
		b.WithBody("", sr.body)
	}
	req := b.Build()

	cb := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).WithSecurityToken(sr.token)
	if sr.derived {
		cb = cb.WithDerivedPredicate(func(*request.DefaultHttpRequest) bool { return true })
	}
	cred, err := cb.SafeBuild()
	if err != nil {
		return nil, nil, fmt.Errorf("credentials: %w", err)
	}
	if sr.derived {
		cred.ProcessDerivedAuthParams("cbr", "cairn-east-1")
	}
	req, err = cred.ProcessAuthRequest(nil, req)
	if err != nil {
		return nil, nil, fmt.Errorf("SDK signing: %w", err)
	}
	out, err := req.ConvertRequest()
	if err != nil {
		return nil, nil, fmt.Errorf("SDK request conversion: %w", err)
	}
	return wire(out)
}

// wire writes out as a client would and reads it back as a server does.
func wire(out *http.Request) (*http.Request, []byte, error) {
	var buf bytes.Buffer
	if err := out.Write(&buf); err != nil {
		return nil, nil, fmt.Errorf("write request: %w", err)
	}
	in, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		return nil, nil, fmt.Errorf("read request: %w\n%s", err, buf.String())
	}
	body, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read body: %w", err)
	}
	in.Body = io.NopCloser(bytes.NewReader(body))
	return in, body, nil
}

// clone returns a copy of r, with body, that a test may change.
func clone(r *http.Request, body []byte) (*http.Request, []byte) {
	c := r.Clone(context.Background())
	b := bytes.Clone(body)
	c.Body = io.NopCloser(bytes.NewReader(b))
	return c, b
}

// derivedOK accepts the scope signed() uses for the derived algorithm.
func derivedOK(region, service string) bool { return region == "cairn-east-1" && service == "cbr" }

// newVerifier returns a verifier of the test tenants with its own replay
// cache.
func newVerifier(opts apig.Options) *apig.Verifier {
	if opts.Derived == nil {
		opts.Derived = derivedOK
	}
	return apig.NewVerifier(lookup, opts)
}

var _ auth.ICredential = (*basic.Credentials)(nil)
