package cbr_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
	"github.com/cairn-vm/cairn/internal/service"
)

// backups lists a vault's backups with the token.
func (e *env) backups(tn *tenant, region, vault string) []cbr.Backup {
	e.t.Helper()
	r := e.do(tn.token, "GET", "/v3/"+tn.regional[region]+"/backups?vault_id="+vault, nil)
	var out cbr.BackupList
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil {
		e.t.Fatalf("backups: %s", r)
	}
	return out.Backups
}

// settle advances the fake clock to at and waits until the service is
// quiet: no operation active over several looks spread over 300 ms (the
// scheduler reacts within its poll, retention within 50 ms of the backup
// it waits for).
func (e *env) settle(clk *clock.Fake, tn *tenant, at time.Time) {
	e.t.Helper()
	clk.Set(at)
	time.Sleep(100 * time.Millisecond)
	for quiet := 0; quiet < 3; {
		e.waitOps(tn)
		time.Sleep(100 * time.Millisecond)
		ops, _, err := e.svc.ListOperations(context.Background(), tn.caller, service.OperationFilter{
			States: []catalog.OpState{catalog.OpQueued, catalog.OpRunning}}, catalog.Page{Size: 1})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ops) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// TestPolicies: a backup policy's trigger fires under the fake clock the
// service's scheduler reads, makes checkpoints marked auto_trigger, and
// its retention (max_backups 2) deletes the oldest automatic backups but
// never a manual one; a replication policy replicates the vault on its
// own trigger.
func TestPolicies(t *testing.T) {
	day := time.Date(2026, 3, 14, 13, 58, 0, 0, time.UTC)
	clk := clock.NewFake(day)
	e := newEnv(t, envOptions{Clock: clk, SchedPoll: 20 * time.Millisecond})
	tn := e.tenant
	vm, _, _ := e.vm(tn, "pol-1", east, 31)
	c := e.tenantSDK(tn, east)
	cv, err := c.CreateVault(&model.CreateVaultRequest{Body: serverVault("v-pol", model.ResourceCreate{Id: cbr.ResourceID(vm.ID), Type: cbr.TypeServer})})
	if err != nil {
		t.Fatalf("CreateVault: %v", err)
	}
	vault := cv.Vault.Id
	maxBackups := int32(2)
	pr, err := c.CreatePolicy(&model.CreatePolicyRequest{Body: &model.PolicyCreateReq{Policy: &model.PolicyCreate{
		Name: "daily-14", OperationType: model.GetPolicyCreateOperationTypeEnum().BACKUP, Enabled: ptr(true),
		OperationDefinition: &model.PolicyoOdCreate{MaxBackups: &maxBackups},
		Trigger:             &model.PolicyTriggerReq{Properties: &model.PolicyTriggerPropertiesReq{Pattern: []string{"FREQ=DAILY;BYHOUR=14;BYMINUTE=00"}}},
	}}})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	pol := pr.Policy
	if pol.OperationType.Value() != "backup" || *pol.OperationDefinition.MaxBackups != 2 || pol.Trigger.Properties.Pattern[0] != "FREQ=DAILY;BYHOUR=14;BYMINUTE=00" {
		t.Fatalf("CreatePolicy = %+v", pol)
	}
	if _, err := c.AssociateVaultPolicy(&model.AssociateVaultPolicyRequest{VaultId: vault, Body: &model.VaultAssociate{PolicyId: &pol.Id}}); err != nil {
		t.Fatalf("AssociateVaultPolicy: %v", err)
	}

	// Not yet 14:00: nothing.
	e.settle(clk, tn, day.Add(time.Minute))
	if bs := e.backups(tn, east, vault); len(bs) != 0 {
		t.Fatalf("%d backups before the trigger's time", len(bs))
	}
	// A manual backup, which retention never deletes.
	r := e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/checkpoints", map[string]any{"checkpoint": map[string]any{"vault_id": vault,
		"parameters": map[string]any{"name": "manual"}}})
	if r.status != http.StatusOK {
		t.Fatalf("manual checkpoint: %s", r)
	}
	e.waitOps(tn)

	var autos []string // the automatic backups, oldest first
	for i := range 4 {
		at := day.Add(time.Duration(i)*24*time.Hour + 2*time.Minute + time.Second) // 14:00:01 on day i
		e.settle(clk, tn, at)
		bs := e.backups(tn, east, vault)
		var now []string
		manual := 0
		for _, b := range bs {
			if b.Status != "available" {
				t.Errorf("day %d: backup %s is %s", i, b.ID, b.Status)
			}
			if b.ExtendInfo.AutoTrigger {
				now = append(now, b.ID)
				if len(b.Name) < 7 || b.Name[:7] != "autobk_" {
					t.Errorf("automatic backup named %q", b.Name)
				}
			} else {
				manual++
			}
		}
		if manual != 1 {
			t.Errorf("day %d: %d manual backups, want 1", i, manual)
		}
		for _, id := range now {
			if !slices.Contains(autos, id) {
				autos = append(autos, id)
			}
		}
		want := autos[max(0, len(autos)-2):]
		if len(autos) != i+1 || !slices.Equal(now, want) {
			t.Errorf("day %d: automatic backups %v, want the newest two of %v", i, now, autos)
		}
	}

	// The tasks say the policy made them.
	r = e.do(tn.token, "GET", "/v3/"+tn.regional[east]+"/operation-logs?operation_type=backup", nil)
	var logs cbr.OperationLogList
	if err := json.Unmarshal(r.body, &logs); err != nil {
		t.Fatal(err)
	}
	withPolicy := 0
	for _, l := range logs.OperationLogs {
		if l.PolicyID == pol.Id {
			withPolicy++
		}
	}
	if withPolicy != 4 {
		t.Errorf("%d backup tasks name the policy, want 4: %s", withPolicy, r)
	}
	r = e.do(tn.token, "GET", "/v3/"+tn.regional[east]+"/operation-logs?operation_type=delete&status=success", nil)
	if err := json.Unmarshal(r.body, &logs); err != nil || logs.Count != 2 {
		t.Errorf("delete tasks = %s, want 2", r)
	}

	// A replication policy at 15:00 replicates the vault to the west.
	w := e.tenantSDK(tn, west)
	dv, err := w.CreateVault(&model.CreateVaultRequest{Body: replicationVault("v-dr")})
	if err != nil {
		t.Fatalf("CreateVault (west): %v", err)
	}
	if r := e.do(tn.token, "POST", "/v3/"+tn.regional[west]+"/replication-agreements",
		map[string]any{"agreement": map[string]any{"source_project_id": tn.regional[east]}}); r.status != http.StatusOK {
		t.Fatalf("agreement: %s", r)
	}
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/policies", map[string]any{"policy": map[string]any{
		"name": "dr-15", "operation_type": "replication",
		"operation_definition": map[string]any{"destination_region": west, "destination_project_id": tn.regional[west], "enable_acceleration": true, "max_backups": 10},
		"trigger":              map[string]any{"properties": map[string]any{"pattern": []string{"FREQ=DAILY;BYHOUR=15;BYMINUTE=00"}}},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("replication policy: %s", r)
	}
	rpol := jsonField(t, r.body, "policy", "id")
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[east]+"/vaults/"+vault+"/associatepolicy", map[string]any{"policy_id": rpol, "destination_vault_id": dv.Vault.Id})
	if r.status != http.StatusOK {
		t.Fatalf("associate: %s", r)
	}
	e.settle(clk, tn, day.Add(3*24*time.Hour+62*time.Minute)) // 15:00 on the last day
	reps := e.backups(tn, west, dv.Vault.Id)
	if len(reps) != 3 { // the manual backup and the two automatic ones
		t.Fatalf("%d replicas, want 3", len(reps))
	}
	for _, b := range reps {
		if b.ImageType != "replication" || b.Status != "available" {
			t.Errorf("replica %+v", b)
		}
	}
	r = e.do(tn.token, "GET", "/v3/"+tn.regional[east]+"/operation-logs?operation_type=replication", nil)
	if err := json.Unmarshal(r.body, &logs); err != nil || logs.Count != 3 || logs.OperationLogs[0].PolicyID != rpol || logs.OperationLogs[0].Status != "success" {
		t.Errorf("replication tasks = %s", r)
	}
}
