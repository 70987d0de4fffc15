package cbr_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
)

func vaultBody(name, protect string, resources ...string) map[string]any {
	rs := []any{}
	for _, r := range resources {
		rs = append(rs, map[string]any{"id": r, "type": cbr.TypeServer})
	}
	return map[string]any{"vault": map[string]any{"name": name, "resources": rs,
		"billing": map[string]any{"consistent_level": "crash_consistent", "object_type": "server", "protect_type": protect, "size": 40}}}
}

// TestConflicts: a resource being backed up (.2002, also as a skipped
// resource), a VM bound to another vault (.6103), a resource bound twice
// (.6104), and unbinding one that is not bound.
func TestConflicts(t *testing.T) {
	e := newEnv(t, envOptions{BackupRate: 512 << 10}) // a backup takes some 1.5 s
	tn := e.tenant
	p := "/v3/" + tn.regional[east]
	vm1, _, _ := e.vm(tn, "app-1", east, 21)
	vm2, _, _ := e.vm(tn, "app-2", east, 22)
	id1, id2 := cbr.ResourceID(vm1.ID), cbr.ResourceID(vm2.ID)

	r := e.do(tn.token, "POST", p+"/vaults", vaultBody("v1", "backup", id1, id2))
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	vault := jsonField(t, r.body, "vault", "id")

	// Binding: another vault may not take a bound VM.
	before := e.count(tn)
	r = e.do(tn.token, "POST", p+"/vaults", vaultBody("v2", "backup", id1))
	if c := r.cbrError(); r.status != http.StatusBadRequest || c.ErrorCode != cbr.CodeResourceInOther {
		t.Errorf("vault with a VM bound elsewhere = %s", r)
	}
	if after := e.count(tn); after != before {
		t.Errorf("the refused vault was made: %+v -> %+v", before, after)
	}
	r = e.do(tn.token, "POST", p+"/vaults", vaultBody("v3", "backup"))
	if r.status != http.StatusOK {
		t.Fatalf("create vault: %s", r)
	}
	v3 := jsonField(t, r.body, "vault", "id")
	add := func(vault string, ids ...string) *response {
		rs := []any{}
		for _, id := range ids {
			rs = append(rs, map[string]any{"id": id, "type": cbr.TypeServer})
		}
		return e.do(tn.token, "POST", p+"/vaults/"+vault+"/addresources", map[string]any{"resources": rs})
	}
	if r := add(v3, id2); r.status != http.StatusBadRequest || r.cbrError().ErrorCode != cbr.CodeResourceInOther {
		t.Errorf("addresources of a VM bound elsewhere = %s", r)
	}
	if r := add(vault, id1); r.status != http.StatusBadRequest || r.cbrError().ErrorCode != cbr.CodeDuplicateResource {
		t.Errorf("addresources of a VM bound to the vault = %s", r)
	}
	if r := add(v3, id1, id1); r.status != http.StatusBadRequest || r.cbrError().ErrorCode != cbr.CodeDuplicateResource {
		t.Errorf("addresources of one VM twice = %s", r)
	}
	if r := e.do(tn.token, "POST", p+"/vaults/"+v3+"/removeresources", map[string]any{"resource_ids": []any{id1}}); r.status != http.StatusBadRequest || r.cbrError().ErrorCode != cbr.CodeNotBound {
		t.Errorf("removeresources of a VM not bound = %s", r)
	}

	// A backup of app-1 runs; a checkpoint of it alone is refused, one of
	// both skips it.
	cp := func(ids ...string) *response {
		return e.do(tn.token, "POST", p+"/checkpoints", map[string]any{"checkpoint": map[string]any{"vault_id": vault,
			"parameters": map[string]any{"resources": ids}}})
	}
	if r := cp(id1); r.status != http.StatusOK {
		t.Fatalf("first checkpoint: %s", r)
	}
	before = e.count(tn)
	r = cp(id1)
	if c := r.cbrError(); r.status != http.StatusBadRequest || c.ErrorCode != cbr.CodeResourceBusy {
		t.Errorf("checkpoint of a VM being backed up = %s", r)
	}
	if after := e.count(tn); after != before {
		t.Errorf("the refused checkpoint made something: %+v -> %+v", before, after)
	}
	r = cp(id1, id2)
	if r.status != http.StatusOK {
		t.Fatalf("checkpoint of both: %s", r)
	}
	var out cbr.CheckpointResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	sk := out.Checkpoint.Vault.SkippedResources
	if len(out.Checkpoint.Vault.Resources) != 1 || out.Checkpoint.Vault.Resources[0].ID != id2 ||
		len(sk) != 1 || sk[0].ID != id1 || sk[0].Code != cbr.CodeResourceBusy || sk[0].Reason == "" {
		t.Errorf("checkpoint of both = %s", r)
	}
	// A resource not bound to the vault is skipped too.
	vm3, _, _ := e.vm(tn, "app-3", east, 23)
	e.waitOps(tn)
	r = cp(id2, cbr.ResourceID(vm3.ID))
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != http.StatusOK {
		t.Fatalf("checkpoint with an unbound VM: %s", r)
	}
	if sk := out.Checkpoint.Vault.SkippedResources; len(sk) != 1 || sk[0].ID != cbr.ResourceID(vm3.ID) || sk[0].Code != cbr.CodeNotBound {
		t.Errorf("skipped = %+v", sk)
	}

	// A restore in place waits for the VM's backup.
	r = e.do(tn.token, "GET", p+"/backups?resource_id="+id2+"&status=available", nil)
	var bl cbr.BackupList
	if err := json.Unmarshal(r.body, &bl); err != nil || len(bl.Backups) == 0 {
		t.Fatalf("backups: %s", r)
	}
	r = e.do(tn.token, "POST", p+"/backups/"+bl.Backups[0].ID+"/restore", map[string]any{"restore": map[string]any{"server_id": id2}})
	if c := r.cbrError(); r.status != http.StatusBadRequest || c.ErrorCode != cbr.CodeResourceBusy {
		t.Errorf("restore of a VM being backed up = %s", r)
	}
	// To another server: refused.
	r = e.do(tn.token, "POST", p+"/backups/"+bl.Backups[0].ID+"/restore", map[string]any{"restore": map[string]any{"server_id": id1}})
	if c := r.cbrError(); r.status != http.StatusBadRequest || c.ErrorCode != cbr.CodeRestoreOtherServer {
		t.Errorf("restore to another server = %s", r)
	}
	e.waitOps(tn)
}
