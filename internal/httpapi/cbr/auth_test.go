package cbr_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"

	"github.com/cairn-vm/cairn/internal/httpapi/apig"
)

// signRequest has the SDK's signer sign a request at date, and returns
// it with its body.
func (e *env) signRequest(method, path string, body any, ak, sk, projectID string, date time.Time) (*http.Request, []byte) {
	e.t.Helper()
	b := request.NewHttpRequestBuilder().WithEndpoint(e.url).WithMethod(method).WithPath(path).
		WithSigningAlgorithm(algorithm.GetDefaultSigningAlgorithm())
	b.AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0")
	b.AddHeaderParam("Content-Type", "application/json")
	b.AddHeaderParam(apig.HeaderDate, date.UTC().Format(apig.DateFormat))
	if body != nil {
		b.WithBody("", body)
	}
	req := b.Build()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	if req, err = cred.ProcessAuthRequest(nil, req); err != nil {
		e.t.Fatal(err)
	}
	hr, err := req.ConvertRequest()
	if err != nil {
		e.t.Fatal(err)
	}
	var data []byte
	if hr.Body != nil {
		data, _ = io.ReadAll(hr.Body)
	}
	return hr, data
}

// send sends a signed request with the given body.
func (e *env) send(hr *http.Request, body []byte) *response {
	e.t.Helper()
	r := hr.Clone(hr.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	resp, err := e.client.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: out}
}

// signed returns a function that sends a request the SDK's signer signed
// at date; it may be called again (a replay).
func (e *env) signed(method, path string, body any, ak, sk, projectID string, date time.Time) func() *response {
	e.t.Helper()
	hr, data := e.signRequest(method, path, body, ak, sk, projectID, date)
	return func() *response { return e.send(hr, data) }
}

func apigError(r *response) apig.ErrorBody {
	var b apig.ErrorBody
	json.Unmarshal(r.body, &b)
	return b
}

// TestAuth: AK/SK signatures as the SDK makes them, and X-Auth-Token;
// bad signatures, stale dates, replays and other tenants' projects are
// refused with API Gateway's codes.
func TestAuth(t *testing.T) {
	e := newEnv(t, envOptions{})
	tn := e.tenant
	other := e.otherTenant("other")
	path := "/v3/" + tn.regional[east] + "/vaults"

	t.Run("SDK with the tenant's AK/SK in both its projects", func(t *testing.T) {
		for _, reg := range []string{east, west} {
			resp, err := e.tenantSDK(tn, reg).ListVault(&model.ListVaultRequest{})
			if err != nil {
				t.Fatalf("ListVault in %s: %v", reg, err)
			}
			if resp.HttpStatusCode != http.StatusOK || *resp.Count != 0 {
				t.Errorf("ListVault in %s = %+v", reg, resp)
			}
		}
	})
	t.Run("SDK ListProjects lists the tenant's regional projects", func(t *testing.T) {
		resp, err := e.tenantSDK(tn, east).ListProjects(&model.ListProjectsRequest{})
		if err != nil {
			t.Fatalf("ListProjects: %v", err)
		}
		got := map[string]string{}
		for _, p := range *resp.Projects {
			got[*p.Name] = *p.Id
		}
		if !reflect.DeepEqual(got, tn.regional) {
			t.Errorf("projects = %v, want %v", got, tn.regional)
		}
	})
	t.Run("X-Auth-Token", func(t *testing.T) {
		if r := e.do(tn.token, "GET", path, nil); r.status != http.StatusOK {
			t.Errorf("GET with the tenant's token = %s", r)
		}
	})

	refusals := []struct {
		name   string
		send   func() *response
		status int
		code   string
	}{
		{"wrong SK", e.signed("GET", path, nil, tn.ak, other.sk, tn.regional[east], time.Now()), http.StatusUnauthorized, apig.CodeIAMAuth},
		{"unknown AK", e.signed("GET", path, nil, "AKNOTKNOWN0000000000", tn.sk, tn.regional[east], time.Now()), http.StatusUnauthorized, apig.CodeIAMAuth},
		{"stale date", e.signed("GET", path, nil, tn.ak, tn.sk, tn.regional[east], time.Now().Add(-20*time.Minute)), http.StatusUnauthorized, apig.CodeIAMAuth},
		{"date ahead", e.signed("GET", path, nil, tn.ak, tn.sk, tn.regional[east], time.Now().Add(20*time.Minute)), http.StatusUnauthorized, apig.CodeIAMAuth},
		{"another tenant's project", e.signed("GET", "/v3/"+other.regional[east]+"/vaults", nil, tn.ak, tn.sk, other.regional[east], time.Now()), http.StatusForbidden, apig.CodeIAMForbidden},
		{"a project nobody has", e.signed("GET", "/v3/ffffffffffffffffffffffffffffffff/vaults", nil, tn.ak, tn.sk, "ffffffffffffffffffffffffffffffff", time.Now()), http.StatusForbidden, apig.CodeIAMForbidden},
		{"signed X-Project-Id of another project", e.signed("GET", path, nil, tn.ak, tn.sk, tn.regional[west], time.Now()), http.StatusForbidden, apig.CodeIAMForbidden},
		{"no credentials", func() *response { return e.do("", "GET", path, nil) }, http.StatusUnauthorized, apig.CodeIAMAuth},
		{"unknown token", func() *response { return e.do("cairn_nope", "GET", path, nil) }, http.StatusUnauthorized, apig.CodeIAMAuth},
		{"token of another tenant", func() *response { return e.do(other.token, "GET", path, nil) }, http.StatusForbidden, apig.CodeIAMForbidden},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.send()
			if b := apigError(r); r.status != tc.status || b.ErrorCode != tc.code || b.RequestID == "" {
				t.Errorf("answer %s, want %d %s with a request id", r, tc.status, tc.code)
			}
		})
	}

	t.Run("replay", func(t *testing.T) {
		send := e.signed("GET", path, nil, tn.ak, tn.sk, tn.regional[east], time.Now())
		if r := send(); r.status != http.StatusOK {
			t.Fatalf("first send = %s", r)
		}
		r := send()
		if b := apigError(r); r.status != http.StatusUnauthorized || b.ErrorCode != apig.CodeIAMAuth {
			t.Errorf("replay = %s, want 401 %s", r, apig.CodeIAMAuth)
		}
	})
	t.Run("a tampered body", func(t *testing.T) {
		body := map[string]any{"checkpoint": map[string]any{"vault_id": "3b5816b5-f29c-4172-9d9a-76c719a659ce"}}
		hr, _ := e.signRequest("POST", "/v3/"+tn.regional[east]+"/checkpoints", body, tn.ak, tn.sk, tn.regional[east], time.Now())
		r := e.send(hr, []byte(`{"checkpoint":{"vault_id":"00000000-0000-0000-0000-000000000000"}}`))
		if b := apigError(r); r.status != http.StatusUnauthorized || b.ErrorCode != apig.CodeIAMAuth {
			t.Errorf("tampered body = %s, want 401 %s", r, apig.CodeIAMAuth)
		}
	})
	t.Run("the other tenant's SDK reaches its own projects only", func(t *testing.T) {
		_, err := e.sdk(other.ak, other.sk, tn.regional[east]).ListVault(&model.ListVaultRequest{})
		if se := sdkError(t, err); se.StatusCode != http.StatusForbidden || se.ErrorCode != apig.CodeIAMForbidden {
			t.Errorf("ListVault in another tenant's project = %d %s", se.StatusCode, se.ErrorCode)
		}
		nextSecond()
		if _, err := e.tenantSDK(other, east).ListVault(&model.ListVaultRequest{}); err != nil {
			t.Errorf("ListVault in its own project: %v", err)
		}
	})
	t.Run("unknown API", func(t *testing.T) {
		r := e.do(tn.token, "GET", "/v3/"+tn.regional[east]+"/nothing-here", nil)
		if b := apigError(r); r.status != http.StatusNotFound || b.ErrorCode != "APIG.0101" {
			t.Errorf("unknown route = %s", r)
		}
	})
}
