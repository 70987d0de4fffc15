package cbr_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cairn-vm/cairn/internal/httpapi/arm"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
)

// armDo sends a request to an ARM route with a bearer token.
func (e *env) armDo(token, method, path string, body any) *response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		data, _ := json.Marshal(body)
		req, _ = http.NewRequest(method, e.url+path, bytesReader(data))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := &response{status: resp.StatusCode, header: resp.Header}
	out.body, _ = readAll(resp.Body)
	return out
}

// TestSameObjectsInARM: a CBR vault is a restorePointCollection (in
// resource group "cbr") to an ARM client of the same project, with its
// checkpoint's restore point; an ARM collection is a CBR vault.
func TestSameObjectsInARM(t *testing.T) {
	e := newEnv(t, envOptions{})
	tn := e.tenant
	vm, _, _ := e.vm(tn, "shared-1", east, 41)
	r := e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/vaults", vaultBody("shared-vault", "backup", cbr.ResourceID(vm.ID)))
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	vault := jsonField(t, r.body, "vault", "id")
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/checkpoints", map[string]any{"checkpoint": map[string]any{"vault_id": vault}})
	if r.status != http.StatusOK {
		t.Fatalf("create checkpoint: %s", r)
	}
	cp := jsonField(t, r.body, "checkpoint", "id")
	e.waitOps(tn)

	base := "/subscriptions/" + tn.project + "/resourceGroups/" + cbr.ResourceGroup + "/providers/Microsoft.Compute/restorePointCollections/shared-vault"
	r = e.armDo(tn.token, "GET", base+"?api-version=2024-11-01&$expand=restorePoints", nil)
	if r.status != http.StatusOK {
		t.Fatalf("ARM GET of the CBR vault: %s", r)
	}
	var rpc arm.RestorePointCollection
	if err := json.Unmarshal(r.body, &rpc); err != nil {
		t.Fatal(err)
	}
	if rpc.Location != east || rpc.Properties == nil || rpc.Properties.RestorePointCollectionID != vault ||
		rpc.Properties.Source == nil || rpc.Properties.Source.ID != vm.ID || len(rpc.Properties.RestorePoints) != 1 {
		t.Fatalf("the CBR vault as ARM sees it: %s", r)
	}
	if name := rpc.Properties.RestorePoints[0].Name; name != "cp-"+cp+"-1" {
		t.Errorf("restore point %q, want the checkpoint's", name)
	}
	// The other tenant's token does not reach it.
	other := e.otherTenant("other")
	if r := e.armDo(other.token, "GET", base+"?api-version=2024-11-01", nil); r.status != http.StatusForbidden {
		t.Errorf("another tenant's ARM GET = %s", r)
	}

	// An ARM collection of a VM is a CBR vault, under its public id.
	vm2, _, _ := e.vm(tn, "arm-1", west, 42)
	coll := "/subscriptions/" + tn.project + "/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/from-arm?api-version=2024-11-01"
	r = e.armDo(tn.token, "PUT", coll, map[string]any{"location": west, "properties": map[string]any{"source": map[string]any{"id": vm2.ID}}})
	if r.status != http.StatusCreated {
		t.Fatalf("ARM PUT collection: %s", r)
	}
	var made arm.RestorePointCollection
	json.Unmarshal(r.body, &made)
	r = e.do(tn.token, "GET", "/v3/"+tn.regional[west]+"/vaults", nil)
	var vl cbr.VaultList
	if err := json.Unmarshal(r.body, &vl); err != nil || vl.Count != 1 {
		t.Fatalf("CBR vaults in the west: %s", r)
	}
	if v := vl.Vaults[0]; v.ID != cbr.ResourceID(made.Properties.RestorePointCollectionID) || v.Name != "from-arm" || v.Billing.ProtectType != "backup" ||
		len(v.Resources) != 1 || v.Resources[0].ID != cbr.ResourceID(vm2.ID) {
		t.Errorf("the ARM collection as a CBR vault: %+v", v)
	}
	if r := e.do(tn.token, "GET", "/v3/"+tn.regional[west]+"/vaults/"+vl.Vaults[0].ID, nil); r.status != http.StatusOK {
		t.Errorf("ShowVault of the ARM collection: %s", r)
	}
}
