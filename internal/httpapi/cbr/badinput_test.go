package cbr_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
	"github.com/cairn-vm/cairn/internal/service"
)

// counts is how many of each record a tenant has: what a refused request
// must not change.
type counts struct{ checkpoints, points, ops, vaults int }

func (e *env) count(tn *tenant) counts {
	e.t.Helper()
	ctx := context.Background()
	pg := catalog.Page{Size: catalog.MaxPageSize}
	cps, _, err := e.svc.ListCheckpoints(ctx, tn.caller, "", pg)
	if err != nil {
		e.t.Fatal(err)
	}
	ps, _, err := e.svc.ListRestorePoints(ctx, tn.caller, "", pg)
	if err != nil {
		e.t.Fatal(err)
	}
	ops, _, err := e.svc.ListOperations(ctx, tn.caller, service.OperationFilter{}, pg)
	if err != nil {
		e.t.Fatal(err)
	}
	vs, _, err := e.svc.ListVaults(ctx, tn.caller, service.VaultFilter{}, pg)
	if err != nil {
		e.t.Fatal(err)
	}
	return counts{len(cps), len(ps), len(ops), len(vs)}
}

// badCase is a request the dialect must refuse.
type badCase struct {
	name   string
	body   any // a string is sent as is
	status int
	code   string
}

// runBad sends each case with the tenant's token and checks the status,
// the code and that nothing was created.
func (e *env) runBad(t *testing.T, tn *tenant, path string, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count(tn)
			r := e.do(tn.token, "POST", path, tc.body)
			if got := r.cbrError(); r.status != tc.status || got.ErrorCode != tc.code || got.ErrorMsg == "" {
				t.Errorf("answer %s, want %d %s", r, tc.status, tc.code)
			}
			if after := e.count(tn); after != before {
				t.Errorf("a refused request changed the counts from %+v to %+v", before, after)
			}
		})
	}
}

// badEnv has a vault with a bound VM and an available backup, a
// replication vault in the other region, and the consent to replicate
// there.
type badEnv struct {
	*env
	vmID, vaultID, destVaultID, eastVault2 string
}

func newBadEnv(t *testing.T) *badEnv {
	e := newEnv(t, envOptions{})
	tn := e.tenant
	ctx := context.Background()
	vm, _, _ := e.vm(tn, "db-1", east, 7)
	b := &badEnv{env: e, vmID: cbr.ResourceID(vm.ID)}
	r := e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/vaults", map[string]any{"vault": map[string]any{
		"name": "v1", "resources": []any{map[string]any{"id": b.vmID, "type": cbr.TypeServer}},
		"billing": map[string]any{"consistent_level": "crash_consistent", "object_type": "server", "protect_type": "backup", "size": 40},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	b.vaultID = jsonField(t, r.body, "vault", "id")
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[west]+"/vaults", map[string]any{"vault": map[string]any{
		"name": "dr", "resources": []any{},
		"billing": map[string]any{"consistent_level": "crash_consistent", "object_type": "server", "protect_type": "replication", "size": 40},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	b.destVaultID = jsonField(t, r.body, "vault", "id")
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/vaults", map[string]any{"vault": map[string]any{
		"name": "v2", "resources": []any{},
		"billing": map[string]any{"consistent_level": "crash_consistent", "object_type": "server", "protect_type": "backup", "size": 40},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	b.eastVault2 = jsonField(t, r.body, "vault", "id")
	if _, err := e.svc.AllowReplication(ctx, tn.caller, tn.regional[west], tn.regional[east]); err != nil {
		t.Fatal(err)
	}
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/checkpoints", map[string]any{"checkpoint": map[string]any{"vault_id": b.vaultID}})
	if r.status != http.StatusOK {
		t.Fatalf("create checkpoint: %s", r)
	}
	e.waitOps(tn)
	return b
}

func TestCreateCheckpointBadInput(t *testing.T) {
	b := newBadEnv(t)
	tn := b.tenant
	vault, vm := b.vaultID, b.vmID
	cp := func(params any) map[string]any {
		return map[string]any{"checkpoint": map[string]any{"vault_id": vault, "parameters": params}}
	}
	detail := func(extra map[string]any) map[string]any {
		d := map[string]any{"id": vm, "type": cbr.TypeServer}
		for k, v := range extra {
			d[k] = v
		}
		return cp(map[string]any{"resource_details": []any{d}})
	}
	many := make([]any, 257)
	for i := range many {
		many[i] = map[string]any{"id": vm, "type": cbr.TypeServer}
	}
	const bad, body, inval = http.StatusBadRequest, cbr.CodeBadRequestBody, cbr.CodeInvalidParameter
	cases := []badCase{
		{"not JSON", "checkpoint=1", bad, body},
		{"empty body", "", bad, body},
		{"truncated JSON", `{"checkpoint":{"vault_id":`, bad, body},
		{"an array", `[]`, bad, body},
		{"no checkpoint", map[string]any{}, bad, inval},
		{"checkpoint a string", map[string]any{"checkpoint": "x"}, bad, inval},
		{"no vault_id", map[string]any{"checkpoint": map[string]any{}}, bad, inval},
		{"vault_id a number", map[string]any{"checkpoint": map[string]any{"vault_id": 12}}, bad, inval},
		{"vault_id not a UUID", map[string]any{"checkpoint": map[string]any{"vault_id": "vault-1"}}, bad, inval},
		{"unknown vault", map[string]any{"checkpoint": map[string]any{"vault_id": "3b5816b5-f29c-4172-9d9a-76c719a659ce"}}, http.StatusNotFound, cbr.CodeVaultNotFound},
		{"a vault of another region", map[string]any{"checkpoint": map[string]any{"vault_id": b.destVaultID}}, http.StatusNotFound, cbr.CodeVaultNotFound},
		{"parameters a list", cp([]any{}), bad, inval},
		{"auto_trigger a string", cp(map[string]any{"auto_trigger": "true"}), bad, inval},
		{"incremental a number", cp(map[string]any{"incremental": 1}), bad, inval},
		{"description a number", cp(map[string]any{"description": 5}), bad, inval},
		{"description of 256 characters", cp(map[string]any{"description": strings.Repeat("d", 256)}), bad, inval},
		{"name empty", cp(map[string]any{"name": ""}), bad, inval},
		{"name of 65 characters", cp(map[string]any{"name": strings.Repeat("n", 65)}), bad, inval},
		{"name with a space", cp(map[string]any{"name": "my backup"}), bad, inval},
		{"name with a dot", cp(map[string]any{"name": "backup.1"}), bad, inval},
		{"name with an emoji", cp(map[string]any{"name": "backup🙂"}), bad, inval},
		{"name a number", cp(map[string]any{"name": 7}), bad, inval},
		{"resources a string", cp(map[string]any{"resources": vm}), bad, inval},
		{"resources with a number", cp(map[string]any{"resources": []any{1}}), bad, inval},
		{"resources with a non-UUID", cp(map[string]any{"resources": []any{"vm-1"}}), bad, inval},
		{"resources with a duplicate", cp(map[string]any{"resources": []any{vm, vm}}), bad, cbr.CodeDuplicateResource},
		{"resources and details naming one VM", cp(map[string]any{"resources": []any{vm}, "resource_details": []any{map[string]any{"id": vm, "type": cbr.TypeServer}}}), bad, cbr.CodeDuplicateResource},
		{"only a resource not bound to the vault", cp(map[string]any{"resources": []any{"94eba8b2-acc9-4d82-badc-127144cc5526"}}), bad, cbr.CodeNoResource},
		{"resource_details an object", cp(map[string]any{"resource_details": map[string]any{}}), bad, inval},
		{"resource_details of 257", cp(map[string]any{"resource_details": many}), bad, inval},
		{"resource_details without id", cp(map[string]any{"resource_details": []any{map[string]any{"type": cbr.TypeServer}}}), bad, inval},
		{"resource_details id not a UUID", detail(map[string]any{"id": "x"}), bad, inval},
		{"resource_details without type", cp(map[string]any{"resource_details": []any{map[string]any{"id": vm}}}), bad, inval},
		{"resource_details of an unknown type", detail(map[string]any{"type": "OS::Nova::Flavor"}), bad, inval},
		{"resource_details of a volume", detail(map[string]any{"type": cbr.TypeVolume}), bad, cbr.CodeResourceType},
		{"resource_details name of 256", detail(map[string]any{"name": strings.Repeat("x", 256)}), bad, inval},
		{"exclude_volumes a string", detail(map[string]any{"extra_info": map[string]any{"exclude_volumes": "x"}}), bad, inval},
		{"exclude_volumes of a volume the VM lacks", detail(map[string]any{"extra_info": map[string]any{"exclude_volumes": []any{"94eba8b2-acc9-4d82-badc-127144cc5526"}}}), bad, inval},
		{"exclude_volumes of every volume", detail(map[string]any{"extra_info": map[string]any{"exclude_volumes": []any{"os", "data"}}}), bad, inval},
		{"policy_id not a UUID", cp(map[string]any{"policy_id": "daily"}), bad, inval},
	}
	b.runBad(t, tn, "/v3/"+tn.regional[east]+"/checkpoints", cases)

	// The page's rules admit these: Chinese characters in the name, a
	// description of 255 characters, resources by details.
	before := b.count(tn)
	r := b.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/checkpoints", cp(map[string]any{
		"name": "每日备份_1-a", "description": strings.Repeat("d", 255), "incremental": false,
		"resource_details": []any{map[string]any{"id": vm, "type": cbr.TypeServer, "name": "db-1",
			"extra_info": map[string]any{"exclude_volumes": []any{cbr.VolumeID(vmNative(t, b.env), "data")}}}},
	}))
	if r.status != http.StatusOK || jsonField(t, r.body, "checkpoint", "status") != "protecting" {
		t.Fatalf("valid checkpoint = %s", r)
	}
	if after := b.count(tn); after.checkpoints != before.checkpoints+1 || after.points != before.points+1 {
		t.Errorf("a valid checkpoint made %+v from %+v", after, before)
	}
	b.waitOps(tn)
}

// vmNative returns the cairn id of the tenant's only VM.
func vmNative(t *testing.T, e *env) string {
	vms, _, err := e.svc.ListVMs(context.Background(), e.tenant.caller, service.VMFilter{}, catalog.Page{})
	if err != nil || len(vms) != 1 {
		t.Fatalf("VMs: %v %v", vms, err)
	}
	return vms[0].ID
}

func TestReplicateBadInput(t *testing.T) {
	b := newBadEnv(t)
	tn := b.tenant
	other := b.otherTenant("other")
	r := b.do(other.token, "POST", "/v3/"+other.regional[west]+"/vaults", map[string]any{"vault": map[string]any{
		"name": "theirs", "resources": []any{},
		"billing": map[string]any{"consistent_level": "crash_consistent", "object_type": "server", "protect_type": "replication", "size": 40},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	theirs := jsonField(t, r.body, "vault", "id")
	rep := func(change map[string]any) map[string]any {
		p := map[string]any{"vault_id": b.vaultID, "destination_project_id": tn.regional[west], "destination_region": west,
			"destination_vault_id": b.destVaultID, "auto_trigger": false, "enable_acceleration": false}
		for k, v := range change {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return map[string]any{"replicate": p}
	}
	const bad, body, inval = http.StatusBadRequest, cbr.CodeBadRequestBody, cbr.CodeInvalidParameter
	cases := []badCase{
		{"not JSON", "replicate", bad, body},
		{"no replicate", map[string]any{}, bad, inval},
		{"replicate a number", map[string]any{"replicate": 1}, bad, inval},
		{"no vault_id", rep(map[string]any{"vault_id": nil}), bad, inval},
		{"vault_id a number", rep(map[string]any{"vault_id": 1}), bad, inval},
		{"vault_id not a UUID", rep(map[string]any{"vault_id": "v1"}), bad, inval},
		{"unknown vault", rep(map[string]any{"vault_id": "3b5816b5-f29c-4172-9d9a-76c719a659ce"}), http.StatusNotFound, cbr.CodeVaultNotFound},
		{"no destination_project_id", rep(map[string]any{"destination_project_id": nil}), bad, inval},
		{"destination_project_id not a project id", rep(map[string]any{"destination_project_id": "west"}), bad, inval},
		{"destination_project_id a number", rep(map[string]any{"destination_project_id": 42}), bad, inval},
		{"unknown destination project", rep(map[string]any{"destination_project_id": "ffffffffffffffffffffffffffffffff"}), bad, cbr.CodeProjectNoReplicate},
		{"destination project of another region", rep(map[string]any{"destination_project_id": tn.regional[east]}), bad, cbr.CodeProjectNoReplicate},
		{"no destination_region", rep(map[string]any{"destination_region": nil}), bad, inval},
		{"destination_region of 256 characters", rep(map[string]any{"destination_region": strings.Repeat("r", 256)}), bad, inval},
		{"unknown destination_region", rep(map[string]any{"destination_region": "mars"}), bad, cbr.CodeRegionNoReplication},
		{"the source's region", rep(map[string]any{"destination_region": east, "destination_project_id": tn.regional[east]}), bad, cbr.CodeRegionNoReplication},
		{"no destination_vault_id", rep(map[string]any{"destination_vault_id": nil}), bad, inval},
		{"destination_vault_id not a UUID", rep(map[string]any{"destination_vault_id": "dr"}), bad, inval},
		{"unknown destination vault", rep(map[string]any{"destination_vault_id": "3b5816b5-f29c-4172-9d9a-76c719a659ce"}), http.StatusNotFound, cbr.CodeVaultNotFound},
		{"destination vault of the source region", rep(map[string]any{"destination_vault_id": b.eastVault2}), http.StatusNotFound, cbr.CodeVaultNotFound},
		{"auto_trigger a string", rep(map[string]any{"auto_trigger": "false"}), bad, inval},
		{"enable_acceleration a number", rep(map[string]any{"enable_acceleration": 1}), bad, inval},
		{"another tenant's project without its consent", rep(map[string]any{"destination_project_id": other.regional[west], "destination_vault_id": theirs}), http.StatusForbidden, cbr.CodeNoConsent},
		{"a vault with nothing to replicate", rep(map[string]any{"vault_id": b.eastVault2}), bad, cbr.CodeNothingToReplicate},
	}
	b.runBad(t, tn, "/v3/"+tn.regional[east]+"/checkpoints/replicate", cases)

	// With the other tenant's consent, its vault receives the replica.
	r = b.do(other.token, "POST", "/v3/"+other.regional[west]+"/replication-agreements",
		map[string]any{"agreement": map[string]any{"source_project_id": tn.regional[east]}})
	if r.status != http.StatusOK {
		t.Fatalf("agreement: %s", r)
	}
	r = b.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/checkpoints/replicate", rep(map[string]any{"destination_project_id": other.regional[west], "destination_vault_id": theirs}))
	if r.status != http.StatusOK {
		t.Fatalf("replicate to the other tenant: %s", r)
	}
	b.waitOps(tn)
	r = b.do(other.token, "GET", "/v3/"+other.regional[west]+"/backups", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"image_type":"replication"`) || !strings.Contains(string(r.body), `"status":"available"`) {
		t.Errorf("the other tenant's backups = %s", r)
	}

}
