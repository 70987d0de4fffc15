package apig_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cbr "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"

	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/httpapi/apig"
)

// fakeCBR answers three CBR calls with canned bodies, behind the verifier
// and the project check, as a CBR dialect would.
func fakeCBR(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	authorized := func(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			p, ok := apig.PrincipalFrom(r.Context())
			if !ok {
				apig.WriteError(w, errors.New("no principal: token requests are not served here"))
				return
			}
			if err := p.Authorize(r.Context(), r.PathValue("project_id"), domainOf); err != nil {
				apig.WriteError(w, err)
				return
			}
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			h(w, r)
		}
	}
	mux.HandleFunc("GET /v3/{project_id}/vaults", authorized(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name := q.Get("name")
		limit, _ := strconv.Atoi(q.Get("limit"))
		_ = json.NewEncoder(w).Encode(map[string]any{
			"count": 1, "limit": limit,
			"vaults": []map[string]any{{
				"id": "3b5816b5-f29c-4172-9d9a-76c719a659ce", "name": name,
				"project_id": r.PathValue("project_id"), "provider_id": "0daac4c5-6707-4851-97ba-169e36266b66",
				"resources": []any{}, "description": strings.Join(q["id"], ","),
				"billing": map[string]any{"allocated": 0, "charging_mode": "post_paid", "cloud_type": "public",
					"consistent_level": "crash_consistent", "object_type": "server", "protect_type": "backup",
					"size": 100, "spec_code": "vault.backup.server.normal", "status": "available", "used": 0},
			}},
		})
	}))
	checkpoint := func(projectID, id, name, status string) map[string]any {
		return map[string]any{"checkpoint": map[string]any{
			"id": id, "project_id": projectID, "status": status, "created_at": "2026-03-14T15:09:26.209782",
			"vault": map[string]any{"id": "3b5816b5-f29c-4172-9d9a-76c719a659ce", "name": "vault-be94",
				"resources": []any{}, "skipped_resources": []any{}},
			"extra_info": map[string]any{"name": name, "description": "", "retention_duration": -1},
		}}
	}
	mux.HandleFunc("GET /v3/{project_id}/checkpoints/{checkpoint_id}", authorized(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(checkpoint(r.PathValue("project_id"), r.PathValue("checkpoint_id"), "backup_name", "available"))
	}))
	mux.HandleFunc("POST /v3/{project_id}/checkpoints", authorized(func(w http.ResponseWriter, r *http.Request) {
		var req model.VaultBackupReq
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("CreateCheckpoint body: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(checkpoint(r.PathValue("project_id"), "8b0851a8-adf3-4f4c-a914-dead08bf9664",
			*req.Checkpoint.Parameters.Name, "protecting"))
	}))
	v := apig.NewVerifier(lookup, apig.Options{})
	return v.Middleware(clock.Real, 1<<20, mux)
}

// newCbrClient builds the official SDK's CbrClient as its samples do,
// with cairn's endpoint as the region's and the test server's certificate
// trusted.
func newCbrClient(t *testing.T, srv *httptest.Server, ak, sk, projectID string) *cbr.CbrClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).SafeBuild()
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	hc, err := cbr.CbrClientBuilder().
		WithRegion(region.NewRegion("cairn-east-1", srv.URL)).
		WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpTransport(srv.Client().Transport.(*http.Transport))).
		SafeBuild()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return cbr.NewCbrClient(hc)
}

// serviceError returns err as the SDK's error for a non-2xx answer.
func serviceError(t *testing.T, err error) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v, want *sdkerr.ServiceResponseError", err, err)
	}
	return se
}

func TestCbrClientEndToEnd(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := "HTTP/1.1"
		if h2 {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(fakeCBR(t))
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			testCbrClient(t, srv)
		})
	}
}

func testCbrClient(t *testing.T, srv *httptest.Server) {
	client := newCbrClient(t, srv, akA, skA, projectA1)

	t.Run("ListVaults", func(t *testing.T) {
		limit, vname := int32(10), "vault a+b/c ~é&x=y"
		public := model.GetListVaultRequestCloudTypeEnum().PUBLIC
		ids := []string{"v2", "v1", "a b"}
		resp, err := client.ListVault(&model.ListVaultRequest{Limit: &limit, Name: &vname, CloudType: &public, Id: &ids})
		if err != nil {
			t.Fatalf("ListVault: %v", err)
		}
		if resp.HttpStatusCode != http.StatusOK || resp.Vaults == nil || len(*resp.Vaults) != 1 {
			t.Fatalf("ListVault = %v", resp)
		}
		got := (*resp.Vaults)[0]
		if got.Name != vname || got.ProjectId != projectA1 || got.Description == nil || *got.Description != "v2,v1,a b" {
			t.Errorf("vault = %v; the server saw name %q, project %q", got, got.Name, got.ProjectId)
		}
	})
	t.Run("ShowCheckpoint with special characters", func(t *testing.T) {
		resp, err := client.ShowCheckpoint(&model.ShowCheckpointRequest{CheckpointId: specialID})
		if err != nil {
			t.Fatalf("ShowCheckpoint: %v", err)
		}
		if resp.Checkpoint == nil || resp.Checkpoint.Id != specialID || resp.Checkpoint.ProjectId != projectA1 {
			t.Errorf("checkpoint = %v", resp.Checkpoint)
		}
	})
	t.Run("CreateCheckpoint", func(t *testing.T) {
		name, desc, incr := "backup_name <nightly> & ü", "from the SDK", true
		resources := []string{"94eba8b2-acc9-4d82-badc-127144cc5526"}
		resp, err := client.CreateCheckpoint(&model.CreateCheckpointRequest{Body: &model.VaultBackupReq{
			Checkpoint: &model.VaultBackup{VaultId: "3b5816b5-f29c-4172-9d9a-76c719a659ce",
				Parameters: &model.CheckpointParam{Name: &name, Description: &desc, Incremental: &incr, Resources: &resources}},
		}})
		if err != nil {
			t.Fatalf("CreateCheckpoint: %v", err)
		}
		if resp.Checkpoint == nil || resp.Checkpoint.ExtraInfo == nil || resp.Checkpoint.ExtraInfo.Name == nil ||
			*resp.Checkpoint.ExtraInfo.Name != name {
			t.Errorf("checkpoint = %v", resp.Checkpoint)
		}
	})
	t.Run("same AK, the tenant's project in another region", func(t *testing.T) {
		other := newCbrClient(t, srv, akA, skA, projectA2)
		resp, err := other.ShowCheckpoint(&model.ShowCheckpointRequest{CheckpointId: "cp-west"})
		if err != nil {
			t.Fatalf("ShowCheckpoint: %v", err)
		}
		if resp.Checkpoint.ProjectId != projectA2 {
			t.Errorf("project = %q", resp.Checkpoint.ProjectId)
		}
	})

	refusals := []struct {
		name            string
		ak, sk, project string
		status          int
		code, msg       string
	}{
		{"wrong SK", akA, skB, projectA1, http.StatusUnauthorized, apig.CodeIAMAuth,
			"Incorrect IAM authentication information: verify aksk signature fail"},
		{"unknown AK", "HPUAUNKNOWN0000AKID", skA, projectA1, http.StatusUnauthorized, apig.CodeIAMAuth,
			"Incorrect IAM authentication information: Get secretKey failed,ak:HPUAUNKNOWN0000AKID,err:ak not exist"},
		{"another tenant's project", akA, skA, projectB1, http.StatusForbidden, apig.CodeIAMForbidden,
			"The IAM user is not authorized to access the API: project " + projectB1 + " is not accessible with these credentials"},
		{"a project nobody has", akB, skB, "ffffffffffffffffffffffffffffffff", http.StatusForbidden, apig.CodeIAMForbidden,
			"The IAM user is not authorized to access the API"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c := newCbrClient(t, srv, tc.ak, tc.sk, tc.project)
			_, err := c.ShowCheckpoint(&model.ShowCheckpointRequest{CheckpointId: "cp-" + tc.name})
			se := serviceError(t, err)
			if se.StatusCode != tc.status || se.ErrorCode != tc.code || !strings.HasPrefix(se.ErrorMessage, tc.msg) {
				t.Errorf("error = %d %s %q, want %d %s %q", se.StatusCode, se.ErrorCode, se.ErrorMessage, tc.status, tc.code, tc.msg)
			}
			if len(se.RequestId) != 32 {
				t.Errorf("RequestId = %q, want 32 hex digits", se.RequestId)
			}
			_, err = c.ListVault(&model.ListVaultRequest{})
			if se := serviceError(t, err); se.StatusCode != tc.status || se.ErrorCode != tc.code {
				t.Errorf("ListVault error = %d %s, want %d %s", se.StatusCode, se.ErrorCode, tc.status, tc.code)
			}
		})
	}
}
