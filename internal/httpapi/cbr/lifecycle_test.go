package cbr_test

import (
	"net/http"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"

	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
)

// TestSDKLifecycle: the rest of a vault's and a policy's life through the
// SDK: update, bind and unbind, policies listed, shown, changed and
// dissociated, a backup deleted (204) and the vault deleted.
func TestSDKLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{})
	tn := e.tenant
	c := e.tenantSDK(tn, east)
	vm1, _, _ := e.vm(tn, "l-1", east, 51)
	vm2, _, _ := e.vm(tn, "l-2", east, 52)
	id1, id2 := cbr.ResourceID(vm1.ID), cbr.ResourceID(vm2.ID)

	cv, err := c.CreateVault(&model.CreateVaultRequest{Body: serverVault("life", model.ResourceCreate{Id: id1, Type: cbr.TypeServer,
		ExtraInfo: &model.ResourceExtraInfo{ExcludeVolumes: &[]string{cbr.VolumeID(vm1.ID, "data")}}})})
	if err != nil {
		t.Fatalf("CreateVault: %v", err)
	}
	vid := cv.Vault.Id
	if ev := cv.Vault.Resources[0].ExtraInfo; ev == nil || ev.ExcludeVolumes == nil || (*ev.ExcludeVolumes)[0] != cbr.VolumeID(vm1.ID, "data") {
		t.Errorf("the binding's excluded volumes: %+v", cv.Vault.Resources[0])
	}
	newName, size := "life-2", int32(200)
	uv, err := c.UpdateVault(&model.UpdateVaultRequest{VaultId: vid, Body: &model.VaultUpdateReq{Vault: &model.VaultUpdate{
		Name: &newName, Billing: &model.BillingUpdate{Size: &size}}}})
	if err != nil {
		t.Fatalf("UpdateVault: %v", err)
	}
	if uv.Vault.Name != newName || uv.Vault.Billing.Size != 200 {
		t.Errorf("UpdateVault = %+v", uv.Vault)
	}
	ar, err := c.AddVaultResource(&model.AddVaultResourceRequest{VaultId: vid, Body: &model.VaultAddResourceReq{
		Resources: []model.ResourceCreate{{Id: id2, Type: cbr.TypeServer}}}})
	if err != nil || ar.AddResourceIds == nil || (*ar.AddResourceIds)[0] != id2 {
		t.Fatalf("AddVaultResource = %+v, %v", ar, err)
	}
	sv, err := c.ShowVault(&model.ShowVaultRequest{VaultId: vid})
	if err != nil || len(sv.Vault.Resources) != 2 {
		t.Fatalf("ShowVault = %+v, %v", sv, err)
	}

	// A checkpoint of both, the excluded disk left out.
	resp, err := c.CreateCheckpoint(&model.CreateCheckpointRequest{Body: &model.VaultBackupReq{Checkpoint: &model.VaultBackup{VaultId: vid}}})
	if err != nil {
		t.Fatalf("CreateCheckpoint: %v", err)
	}
	if cp := pollCheckpoint(t, c, resp.Checkpoint.Id); cp.Status.Value() != "available" || len(*cp.Vault.Resources) != 2 {
		t.Fatalf("checkpoint = %+v", cp)
	}
	lb, err := c.ListBackups(&model.ListBackupsRequest{VaultId: &vid, ResourceId: &id1})
	if err != nil || len(*lb.Backups) != 1 || len(*(*lb.Backups)[0].Children) != 1 {
		t.Fatalf("the backup of l-1, its data disk excluded: %+v, %v", lb, err)
	}

	rr, err := c.RemoveVaultResource(&model.RemoveVaultResourceRequest{VaultId: vid, Body: &model.VaultRemoveResourceReq{ResourceIds: []string{id2}}})
	if err != nil || (*rr.RemoveResourceIds)[0] != id2 {
		t.Fatalf("RemoveVaultResource = %+v, %v", rr, err)
	}

	// Policies.
	days := int32(30)
	pr, err := c.CreatePolicy(&model.CreatePolicyRequest{Body: &model.PolicyCreateReq{Policy: &model.PolicyCreate{
		Name: "weekly", OperationType: model.GetPolicyCreateOperationTypeEnum().BACKUP,
		OperationDefinition: &model.PolicyoOdCreate{RetentionDurationDays: &days},
		Trigger:             &model.PolicyTriggerReq{Properties: &model.PolicyTriggerPropertiesReq{Pattern: []string{"FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=3;BYMINUTE=30"}}},
	}}})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	pid := pr.Policy.Id
	if _, err := c.AssociateVaultPolicy(&model.AssociateVaultPolicyRequest{VaultId: vid, Body: &model.VaultAssociate{PolicyId: &pid}}); err != nil {
		t.Fatalf("AssociateVaultPolicy: %v", err)
	}
	lp, err := c.ListPolicies(&model.ListPoliciesRequest{VaultId: &vid})
	if err != nil || *lp.Count != 1 || (*lp.Policies)[0].Id != pid || len(*(*lp.Policies)[0].AssociatedVaults) != 1 {
		t.Fatalf("ListPolicies = %+v, %v", lp, err)
	}
	nextSecond()
	if cp, err := c.CreateCheckpoint(&model.CreateCheckpointRequest{Body: &model.VaultBackupReq{Checkpoint: &model.VaultBackup{VaultId: vid}}}); err != nil || *cp.Checkpoint.ExtraInfo.RetentionDuration != 30 {
		t.Errorf("a checkpoint of a vault with a 30-day policy: %+v, %v", cp, err)
	}
	off := false
	up, err := c.UpdatePolicy(&model.UpdatePolicyRequest{PolicyId: pid, Body: &model.PolicyUpdateReq{Policy: &model.PolicyUpdate{Enabled: &off}}})
	if err != nil || up.Policy.Enabled {
		t.Fatalf("UpdatePolicy = %+v, %v", up, err)
	}
	if _, err := c.DisassociateVaultPolicy(&model.DisassociateVaultPolicyRequest{VaultId: vid, Body: &model.VaultDissociate{PolicyId: pid}}); err != nil {
		t.Fatalf("DisassociateVaultPolicy: %v", err)
	}
	nextSecond()
	_, err = c.DisassociateVaultPolicy(&model.DisassociateVaultPolicyRequest{VaultId: vid, Body: &model.VaultDissociate{PolicyId: pid}})
	if se := sdkError(t, err); se.StatusCode != http.StatusNotFound || se.ErrorCode != cbr.CodePolicyNotBound {
		t.Errorf("dissociate twice = %d %s", se.StatusCode, se.ErrorCode)
	}
	if _, err := c.DeletePolicy(&model.DeletePolicyRequest{PolicyId: pid}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
	_, err = c.ShowPolicy(&model.ShowPolicyRequest{PolicyId: pid})
	if se := sdkError(t, err); se.StatusCode != http.StatusNotFound || se.ErrorCode != cbr.CodePolicyNotFound {
		t.Errorf("ShowPolicy of a deleted policy = %d %s", se.StatusCode, se.ErrorCode)
	}

	// Delete a backup, then the vault.
	e.waitOps(tn)
	db, err := c.DeleteBackup(&model.DeleteBackupRequest{BackupId: (*lb.Backups)[0].Id})
	if err != nil || db.HttpStatusCode != http.StatusNoContent {
		t.Fatalf("DeleteBackup = %+v, %v", db, err)
	}
	e.waitOps(tn)
	_, err = c.ShowBackup(&model.ShowBackupRequest{BackupId: (*lb.Backups)[0].Id})
	if se := sdkError(t, err); se.StatusCode != http.StatusNotFound || se.ErrorCode != cbr.CodeBackupNotFound {
		t.Errorf("ShowBackup of a deleted backup = %d %s", se.StatusCode, se.ErrorCode)
	}
	if _, err := c.DeleteVault(&model.DeleteVaultRequest{VaultId: vid}); err != nil {
		t.Fatalf("DeleteVault: %v", err)
	}
	e.waitOps(tn)
	_, err = c.ShowVault(&model.ShowVaultRequest{VaultId: vid})
	if se := sdkError(t, err); se.StatusCode != http.StatusNotFound || se.ErrorCode != cbr.CodeVaultNotFound {
		t.Errorf("ShowVault of a deleted vault = %d %s", se.StatusCode, se.ErrorCode)
	}
	// The VMs may go to another vault now.
	if _, err := c.CreateVault(&model.CreateVaultRequest{Body: serverVault("again", model.ResourceCreate{Id: id1, Type: cbr.TypeServer})}); err != nil {
		t.Errorf("a VM of a deleted vault, bound again: %v", err)
	}
}
