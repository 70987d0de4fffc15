package cbr_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	cbrsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1/model"

	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
)

// serverVault is the body of a backup vault of servers.
func serverVault(name string, resources ...model.ResourceCreate) *model.VaultCreateReq {
	if resources == nil {
		resources = []model.ResourceCreate{}
	}
	return &model.VaultCreateReq{Vault: &model.VaultCreate{
		Name: name,
		Billing: &model.BillingCreate{
			ConsistentLevel: model.GetBillingCreateConsistentLevelEnum().CRASH_CONSISTENT,
			ObjectType:      model.GetBillingCreateObjectTypeEnum().SERVER,
			ProtectType:     model.GetBillingCreateProtectTypeEnum().BACKUP,
			Size:            100,
		},
		Resources: resources,
	}}
}

// replicationVault is the body of a vault that receives replicas.
func replicationVault(name string) *model.VaultCreateReq {
	v := serverVault(name)
	v.Vault.Billing.ProtectType = model.GetBillingCreateProtectTypeEnum().REPLICATION
	return v
}

// pollCheckpoint polls ShowCheckpoint until the checkpoint is no longer
// protecting.
func pollCheckpoint(t *testing.T, c *cbrsdk.CbrClient, id string) *model.CheckpointCreate {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		nextSecond()
		resp, err := c.ShowCheckpoint(&model.ShowCheckpointRequest{CheckpointId: id})
		if err != nil {
			t.Fatalf("ShowCheckpoint: %v", err)
		}
		if resp.Checkpoint.Status.Value() != "protecting" || time.Now().After(deadline) {
			return resp.Checkpoint
		}
	}
}

// pollOpLog polls ShowOpLog until the task is done.
func pollOpLog(t *testing.T, c *cbrsdk.CbrClient, id string) *model.OperationLog {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		nextSecond()
		resp, err := c.ShowOpLog(&model.ShowOpLogRequest{OperationLogId: id})
		if err != nil {
			t.Fatalf("ShowOpLog %s: %v", id, err)
		}
		s := resp.OperationLog.Status.Value()
		if (s != "waiting" && s != "running") || time.Now().After(deadline) {
			return resp.OperationLog
		}
	}
}

// lastOpLog polls ListOpLogs for the newest task of a type until it is
// done, and returns it.
func lastOpLog(t *testing.T, c *cbrsdk.CbrClient, typ string) model.OperationLog {
	t.Helper()
	ot := model.ListOpLogsRequestOperationType{}
	if err := ot.UnmarshalJSON([]byte(`"` + typ + `"`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		nextSecond()
		resp, err := c.ListOpLogs(&model.ListOpLogsRequest{OperationType: &ot})
		if err != nil {
			t.Fatalf("ListOpLogs: %v", err)
		}
		if resp.OperationLogs == nil || len(*resp.OperationLogs) == 0 {
			t.Fatalf("ListOpLogs(%s): none", typ)
		}
		l := (*resp.OperationLogs)[0]
		if s := l.Status.Value(); (s != "waiting" && s != "running") || time.Now().After(deadline) {
			return l
		}
	}
}

// TestSDKEndToEnd drives cairn with the official Huawei Cloud Go SDK, as a
// CBR script would: a vault with a bound VM, a checkpoint, its backups,
// restores to new images and to the VM's own disks, then replication to a
// vault in the other region under the tenant's project there (after that
// project's consent), polled through the operation logs, and a
// byte-exact restore of the replica.
func TestSDKEndToEnd(t *testing.T) {
	e := newEnv(t, envOptions{})
	tn := e.tenant
	vm, osImg, dataImg := e.vm(tn, "web-1", east, 1)
	osSHA, dataSHA := osImg.sha(), dataImg.sha()
	eastC := e.tenantSDK(tn, east)
	westC := e.tenantSDK(tn, west)

	// The region's VMs, as CBR's protectables.
	prot, err := eastC.ListProtectable(&model.ListProtectableRequest{ProtectableType: model.GetListProtectableRequestProtectableTypeEnum().SERVER})
	if err != nil {
		t.Fatalf("ListProtectable: %v", err)
	}
	if prot.Instances == nil || len(*prot.Instances) != 1 || (*prot.Instances)[0].Id != cbr.ResourceID(vm.ID) {
		t.Fatalf("ListProtectable = %+v, want the one VM as %s", prot.Instances, cbr.ResourceID(vm.ID))
	}
	vmID := (*prot.Instances)[0].Id
	osVol, dataVol := cbr.VolumeID(vm.ID, "os"), cbr.VolumeID(vm.ID, "data")

	// A vault with the VM bound.
	cv, err := eastC.CreateVault(&model.CreateVaultRequest{Body: serverVault("vault-e2e", model.ResourceCreate{Id: vmID, Type: cbr.TypeServer})})
	if err != nil {
		t.Fatalf("CreateVault: %v", err)
	}
	vault := cv.Vault
	if vault.ProjectId != tn.regional[east] || len(vault.Resources) != 1 || vault.Resources[0].Id != vmID ||
		vault.Billing.ProtectType.Value() != "backup" || vault.ProviderId != cbr.ProviderServer {
		t.Fatalf("CreateVault = %+v", vault)
	}

	// A checkpoint, exactly as the page's sample makes it.
	name, desc := "backup_name", "backup_description"
	resp, err := eastC.CreateCheckpoint(&model.CreateCheckpointRequest{Body: &model.VaultBackupReq{
		Checkpoint: &model.VaultBackup{VaultId: vault.Id, Parameters: &model.CheckpointParam{
			AutoTrigger: ptr(false), Description: &desc, Incremental: ptr(true), Name: &name, Resources: &[]string{vmID},
		}},
	}})
	if err != nil {
		t.Fatalf("CreateCheckpoint: %v", err)
	}
	cp := resp.Checkpoint
	if cp.Status.Value() != "protecting" || cp.ProjectId != tn.regional[east] || cp.Vault.Id != vault.Id ||
		cp.Vault.Resources == nil || len(*cp.Vault.Resources) != 1 || cp.ExtraInfo == nil || *cp.ExtraInfo.Name != name ||
		*cp.ExtraInfo.Description != desc || *cp.ExtraInfo.RetentionDuration != -1 || cp.Vault.SkippedResources == nil ||
		len(*cp.Vault.SkippedResources) != 0 || cp.CreatedAt == "" {
		t.Fatalf("CreateCheckpoint = %+v", cp)
	}
	if r := (*cp.Vault.Resources)[0]; r.Id != vmID || r.Name != "web-1" || r.Type != cbr.TypeServer || *r.ResourceSize != "1" ||
		r.ProtectStatus.Value() != "protecting" {
		t.Errorf("checkpoint resource = %+v", r)
	}
	cp = pollCheckpoint(t, eastC, cp.Id)
	if cp.Status.Value() != "available" {
		t.Fatalf("checkpoint is %s, want available", cp.Status.Value())
	}
	if r := (*cp.Vault.Resources)[0]; r.ProtectStatus.Value() != "available" || *r.BackupCount != "1" {
		t.Errorf("available checkpoint's resource = %+v", r)
	}

	// Its backup: one per resource, the VM's disks as children.
	lb, err := eastC.ListBackups(&model.ListBackupsRequest{CheckpointId: &cp.Id})
	if err != nil {
		t.Fatalf("ListBackups: %v", err)
	}
	if lb.Backups == nil || len(*lb.Backups) != 1 || *lb.Count != 1 {
		t.Fatalf("ListBackups = %+v", lb)
	}
	bk := (*lb.Backups)[0]
	if bk.CheckpointId != cp.Id || bk.Status.Value() != "available" || bk.ResourceId != vmID || bk.ResourceName != "web-1" ||
		bk.VaultId != vault.Id || bk.ImageType != "backup" || bk.Name != name || bk.Description != desc || bk.ResourceType != cbr.TypeServer ||
		bk.Children == nil || len(*bk.Children) != 2 || bk.ExtendInfo == nil || *bk.ExtendInfo.AutoTrigger || !*bk.ExtendInfo.Bootable {
		t.Fatalf("backup = %+v", bk)
	}
	children := map[string]model.BackupResp{}
	for _, c := range *bk.Children {
		children[c.ResourceId] = c
	}
	if children[osVol].ResourceName != "os" || children[dataVol].ResourceName != "data" || children[osVol].ResourceType != cbr.TypeVolume {
		t.Fatalf("children = %+v", *bk.Children)
	}
	sb, err := eastC.ShowBackup(&model.ShowBackupRequest{BackupId: bk.Id})
	if err != nil {
		t.Fatalf("ShowBackup: %v", err)
	}
	if sb.Backup.Id != bk.Id || sb.Backup.Status.Value() != "available" || len(*sb.Backup.Children) != 2 {
		t.Fatalf("ShowBackup = %+v", sb.Backup)
	}

	// Restore to new images, then over the VM's own disks.
	dir := filepath.Join(e.dir, "restored")
	if _, err := eastC.RestoreBackup(&model.RestoreBackupRequest{BackupId: bk.Id, Body: &model.BackupRestoreReq{
		Restore: &model.BackupRestore{Details: &model.RestoreDetails{DestinationPath: dir}},
	}}); err != nil {
		t.Fatalf("RestoreBackup to new images: %v", err)
	}
	if l := lastOpLog(t, eastC, "restore"); l.Status.Value() != "success" || l.ExtraInfo.Common.Progress != 100 ||
		l.ExtraInfo.Restore == nil || *l.ExtraInfo.Restore.BackupId != bk.Id {
		t.Fatalf("restore task = %+v", l)
	}
	if got := fileSHA(t, filepath.Join(dir, "os.raw")); got != osSHA {
		t.Errorf("restored os.raw differs from the VM's disk")
	}
	if got := fileSHA(t, filepath.Join(dir, "data.raw")); got != dataSHA {
		t.Errorf("restored data.raw differs from the VM's disk")
	}
	for _, im := range []image{osImg, dataImg} {
		if err := os.WriteFile(im.path, make([]byte, im.size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rr, err := eastC.RestoreBackup(&model.RestoreBackupRequest{BackupId: bk.Id, Body: &model.BackupRestoreReq{
		Restore: &model.BackupRestore{ServerId: &vmID, PowerOn: ptr(true), Mappings: &[]model.BackupRestoreServerMapping{
			{BackupId: children[osVol].Id, VolumeId: osVol}, {BackupId: children[dataVol].Id, VolumeId: dataVol},
		}},
	}})
	if err != nil {
		t.Fatalf("RestoreBackup in place: %v", err)
	}
	if rr.HttpStatusCode != http.StatusAccepted {
		t.Errorf("RestoreBackup answered %d, want 202", rr.HttpStatusCode)
	}
	if l := lastOpLog(t, eastC, "restore"); l.Status.Value() != "success" || *l.ExtraInfo.Restore.TargetResourceId != vmID {
		t.Fatalf("in-place restore task = %+v", l)
	}
	if osImg.sha() != osSHA || dataImg.sha() != dataSHA {
		t.Fatalf("the VM's disks differ from the backup after an in-place restore")
	}

	// Replication to the tenant's project in the other region: refused
	// until that project agrees, then done and polled to the end.
	dv, err := westC.CreateVault(&model.CreateVaultRequest{Body: replicationVault("vault-dr")})
	if err != nil {
		t.Fatalf("CreateVault (west): %v", err)
	}
	replicate := func(accel bool) (*model.CopyCheckpointResponse, error) {
		return eastC.CopyCheckpoint(&model.CopyCheckpointRequest{Body: &model.CheckpointReplicateReq{Replicate: &model.CheckpointReplicateParam{
			VaultId: vault.Id, DestinationProjectId: tn.regional[west], DestinationRegion: west,
			DestinationVaultId: dv.Vault.Id, AutoTrigger: ptr(false), EnableAcceleration: ptr(accel),
		}}})
	}
	_, err = replicate(false)
	if se := sdkError(t, err); se.StatusCode != http.StatusForbidden || se.ErrorCode != cbr.CodeNoConsent {
		t.Fatalf("replicate without consent = %d %s %s", se.StatusCode, se.ErrorCode, se.ErrorMessage)
	}
	agree := e.do(tn.token, "POST", "/v3/"+tn.regional[west]+"/replication-agreements",
		map[string]any{"agreement": map[string]any{"source_project_id": tn.regional[east]}})
	if agree.status != http.StatusOK {
		t.Fatalf("agreement: %s", agree)
	}
	nextSecond()
	rep, err := replicate(true)
	if err != nil {
		t.Fatalf("CopyCheckpoint: %v", err)
	}
	r := rep.Replication
	if len(r.Backups) != 1 || r.Backups[0].BackupId != bk.Id || r.ProjectId != tn.regional[east] || r.SourceRegion != east ||
		r.DestinationRegion != west || r.DestinationProjectId != tn.regional[west] || r.DestinationVaultId != dv.Vault.Id ||
		r.VaultId != vault.Id || r.ProviderId != cbr.ProviderServer {
		t.Fatalf("CopyCheckpoint = %+v", r)
	}
	l := pollOpLog(t, eastC, r.Backups[0].ReplicationRecordId)
	if l.Status.Value() != "success" || l.OperationType.Value() != "replication" || l.ExtraInfo.Common.Progress != 100 ||
		l.ExtraInfo.Replication == nil || l.ExtraInfo.Replication.SourceBackupId != bk.Id ||
		l.ExtraInfo.Replication.DestinationProjectId != tn.regional[west] || l.ExtraInfo.Replication.DestinationRegion != west {
		t.Fatalf("replication task = %+v", l)
	}
	nextSecond()
	sb, err = eastC.ShowBackup(&model.ShowBackupRequest{BackupId: bk.Id})
	if err != nil {
		t.Fatalf("ShowBackup: %v", err)
	}
	if recs := sb.Backup.ReplicationRecords; recs == nil || len(*recs) != 1 || (*recs)[0].Status.Value() != "success" ||
		(*recs)[0].Id != r.Backups[0].ReplicationRecordId || *(*recs)[0].DestinationVaultId != dv.Vault.Id {
		t.Fatalf("replication records = %+v", sb.Backup.ReplicationRecords)
	}

	// Again: already replicated.
	_, err = replicate(false)
	if se := sdkError(t, err); se.StatusCode != http.StatusBadRequest || se.ErrorCode != cbr.CodeAlreadyReplicated {
		t.Fatalf("replicate again = %d %s %s", se.StatusCode, se.ErrorCode, se.ErrorMessage)
	}

	// The replica, in the west project, restores byte-exactly.
	wb, err := westC.ListBackups(&model.ListBackupsRequest{VaultId: &dv.Vault.Id})
	if err != nil {
		t.Fatalf("ListBackups (west): %v", err)
	}
	if wb.Backups == nil || len(*wb.Backups) != 1 {
		t.Fatalf("west backups = %+v", wb)
	}
	replica := (*wb.Backups)[0]
	if replica.ImageType != "replication" || replica.Status.Value() != "available" || replica.ProjectId != tn.regional[west] {
		t.Fatalf("replica = %+v", replica)
	}
	rdir := filepath.Join(e.dir, "replica")
	if _, err := westC.RestoreBackup(&model.RestoreBackupRequest{BackupId: replica.Id, Body: &model.BackupRestoreReq{
		Restore: &model.BackupRestore{Details: &model.RestoreDetails{DestinationPath: rdir}},
	}}); err != nil {
		t.Fatalf("RestoreBackup (replica): %v", err)
	}
	if l := lastOpLog(t, westC, "restore"); l.Status.Value() != "success" {
		t.Fatalf("replica restore task = %+v", l)
	}
	if fileSHA(t, filepath.Join(rdir, "os.raw")) != osSHA || fileSHA(t, filepath.Join(rdir, "data.raw")) != dataSHA {
		t.Fatalf("the replica's images differ from the VM's disks")
	}

	// The west project's checkpoint of the replica is visible there.
	if cid := replica.CheckpointId; cid == "" || cid == cp.Id {
		t.Errorf("replica's checkpoint = %q", cid)
	} else if wc := pollCheckpoint(t, westC, cid); wc.Status.Value() != "available" {
		t.Errorf("replica checkpoint = %+v", wc)
	}

}
