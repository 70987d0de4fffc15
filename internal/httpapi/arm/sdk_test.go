package arm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azarm "github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"

	"github.com/cairn-vm/cairn/internal/httpapi/arm"
)

// tokenCredential hands the SDK a cairn token, as azidentity hands it an
// Entra ID token.
type tokenCredential struct{ secret string }

func (c tokenCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: c.secret, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// sdk is armcompute's client factory pointed at the test server.
func (e *env) sdk() *armcompute.ClientFactory {
	e.t.Helper()
	opts := &azarm.ClientOptions{ClientOptions: azcore.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: "https://login.invalid/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: e.url, Audience: "https://management.core.windows.net/"},
			},
		},
		Transport: &http.Client{Transport: &http.Transport{TLSClientConfig: e.tls}},
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
	f, err := armcompute.NewClientFactory(e.sub, tokenCredential{e.token}, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// fast polls every 20 ms: the server's Retry-After hint (50 ms) wins.
var fast = &runtime.PollUntilDoneOptions{Frequency: 20 * time.Millisecond}

// TestAzureSDK drives cairn with the official Azure SDK for Go, as a
// script written for Azure's VM restore points would: register a VM, make
// a local restore point, copy it to another region while watching the
// replication progress, read the copy's bytes through a SAS URL, restore
// a disk from it, page through collections, and delete.
func TestAzureSDK(t *testing.T) {
	const (
		rg     = "prod-rg"
		osSize = 3<<20 + 7*512
		dSize  = 1 << 20
	)
	// Copies move 1 MiB/s and backups read 4 MiB/s, so that progress is
	// seen below 100% and a second restore point meets a running one.
	e := newEnv(t, envOptions{PageSize: 3, CopyRate: 1 << 20, BackupRate: 4 << 20})
	ctx := t.Context()
	f := e.sdk()
	vms := f.NewVirtualMachinesClient()
	rpcs := f.NewRestorePointCollectionsClient()
	rps := f.NewRestorePointsClient()
	drps := f.NewDiskRestorePointClient()
	disks := f.NewDisksClient()

	osImg := e.writeImage("web-os", osSize, 1)
	dataImg := e.writeImage("web-data", dSize, 2)

	// Inventory: the VM, registered through ARM itself.
	vmPoller, err := vms.BeginCreateOrUpdate(ctx, rg, "web", armcompute.VirtualMachine{
		Location: to.Ptr("eastus"),
		Tags:     map[string]*string{"role": to.Ptr("web")},
		Properties: &armcompute.VirtualMachineProperties{
			HardwareProfile: &armcompute.HardwareProfile{VMSize: to.Ptr(armcompute.VirtualMachineSizeTypesStandardA1)},
			OSProfile: &armcompute.OSProfile{
				ComputerName:  to.Ptr("web01"),
				AdminUsername: to.Ptr("azureuser"),
				AdminPassword: to.Ptr("secret-never-returned"),
				LinuxConfiguration: &armcompute.LinuxConfiguration{
					DisablePasswordAuthentication: to.Ptr(true),
				},
			},
			StorageProfile: &armcompute.StorageProfile{
				OSDisk: &armcompute.OSDisk{
					Name:         to.Ptr("web-os"),
					OSType:       to.Ptr(armcompute.OperatingSystemTypesLinux),
					Vhd:          &armcompute.VirtualHardDisk{URI: to.Ptr(osImg.uri())},
					CreateOption: to.Ptr(armcompute.DiskCreateOptionTypesAttach),
					Caching:      to.Ptr(armcompute.CachingTypesReadWrite),
				},
				DataDisks: []*armcompute.DataDisk{{
					Lun:          to.Ptr[int32](0),
					Name:         to.Ptr("web-data"),
					Vhd:          &armcompute.VirtualHardDisk{URI: to.Ptr(dataImg.uri())},
					CreateOption: to.Ptr(armcompute.DiskCreateOptionTypesAttach),
				}},
			},
			DiagnosticsProfile: &armcompute.DiagnosticsProfile{BootDiagnostics: &armcompute.BootDiagnostics{Enabled: to.Ptr(true)}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := vmPoller.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	vmID := "/subscriptions/" + e.sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute/virtualMachines/web"
	if *vm.ID != vmID || *vm.Properties.ProvisioningState != "Succeeded" || vm.Properties.VMID == nil {
		t.Fatalf("VM %s, state %s", *vm.ID, *vm.Properties.ProvisioningState)
	}
	if vm.Properties.OSProfile.AdminPassword != nil {
		t.Error("the VM's adminPassword is returned")
	}
	if got := *vm.Properties.StorageProfile.OSDisk.DiskSizeGB; got != 1 {
		t.Errorf("OS disk diskSizeGB = %d, want 1", got)
	}

	// A local collection of the VM.
	var raw *http.Response
	east, err := rpcs.CreateOrUpdate(runtime.WithCaptureResponse(ctx, &raw), rg, "rpc-east", armcompute.RestorePointCollection{
		Location:   to.Ptr("eastus"),
		Tags:       map[string]*string{"department": to.Ptr("finance")},
		Properties: &armcompute.RestorePointCollectionProperties{Source: &armcompute.RestorePointCollectionSourceProperties{ID: to.Ptr(vmID)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if raw.StatusCode != http.StatusCreated {
		t.Errorf("create collection: status %d, want 201", raw.StatusCode)
	}
	if *east.Type != "Microsoft.Compute/restorePointCollections" || *east.Properties.Source.ID != vmID ||
		*east.Properties.Source.Location != "eastus" || *east.Tags["department"] != "finance" || east.Properties.RestorePointCollectionID == nil {
		t.Errorf("collection %+v", east)
	}
	// Updating it: 200, tags change.
	east, err = rpcs.CreateOrUpdate(runtime.WithCaptureResponse(ctx, &raw), rg, "rpc-east", armcompute.RestorePointCollection{
		Location:   to.Ptr("eastus"),
		Tags:       map[string]*string{"department": to.Ptr("it")},
		Properties: &armcompute.RestorePointCollectionProperties{Source: &armcompute.RestorePointCollectionSourceProperties{ID: to.Ptr(vmID)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if raw.StatusCode != http.StatusOK || *east.Tags["department"] != "it" {
		t.Errorf("update collection: status %d, tags %v", raw.StatusCode, east.Tags)
	}

	// A restore point: long-running, with the poller; a second one while
	// the first is being made is refused with 409.
	rp1Poller, err := rps.BeginCreate(ctx, rg, "rpc-east", "rp1", armcompute.RestorePoint{
		Properties: &armcompute.RestorePointProperties{ConsistencyMode: to.Ptr(armcompute.ConsistencyModeTypesCrashConsistent)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rps.BeginCreate(ctx, rg, "rpc-east", "rp2", armcompute.RestorePoint{}, nil)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
		t.Fatalf("second restore point while one is made: %v, want a 409", err)
	}
	t.Logf("second restore point: %d %s", re.StatusCode, re.ErrorCode)
	rp1, err := rp1Poller.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	rp1ID := *east.ID + "/restorePoints/rp1"
	if *rp1.ID != rp1ID || *rp1.Type != "Microsoft.Compute/restorePointCollections/restorePoints" ||
		*rp1.Properties.ProvisioningState != "Succeeded" || *rp1.Properties.ConsistencyMode != armcompute.ConsistencyModeTypesCrashConsistent ||
		rp1.Properties.TimeCreated == nil {
		t.Fatalf("restore point %s: %s", *rp1.ID, *rp1.Properties.ProvisioningState)
	}
	sm := rp1.Properties.SourceMetadata
	if *sm.VMID != *vm.Properties.VMID || *sm.Location != "eastus" || *sm.HardwareProfile.VMSize != "Standard_A1" ||
		*sm.OSProfile.ComputerName != "web01" || sm.OSProfile.AdminPassword != nil ||
		!*sm.OSProfile.LinuxConfiguration.DisablePasswordAuthentication || !*sm.DiagnosticsProfile.BootDiagnostics.Enabled {
		t.Errorf("sourceMetadata %+v", sm)
	}
	osd := sm.StorageProfile.OSDisk
	if *osd.Name != "web-os" || *osd.OSType != armcompute.OperatingSystemTypeLinux || *osd.DiskSizeGB != 1 ||
		*osd.DiskRestorePoint.ID != rp1ID+"/diskRestorePoints/web-os" ||
		*osd.ManagedDisk.ID != "/subscriptions/"+e.sub+"/resourceGroups/"+rg+"/providers/Microsoft.Compute/disks/web-os" {
		t.Errorf("osDisk %+v", osd)
	}
	if len(sm.StorageProfile.DataDisks) != 1 || *sm.StorageProfile.DataDisks[0].Lun != 0 || *sm.StorageProfile.DataDisks[0].Name != "web-data" {
		t.Errorf("dataDisks %+v", sm.StorageProfile.DataDisks)
	}
	got, err := rps.Get(ctx, rg, "rpc-east", "rp1", &armcompute.RestorePointsClientGetOptions{Expand: to.Ptr(armcompute.RestorePointExpandOptionsInstanceView)})
	if err != nil {
		t.Fatal(err)
	}
	iv := got.Properties.InstanceView
	if iv == nil || len(iv.Statuses) == 0 || *iv.Statuses[0].Code != "ProvisioningState/succeeded" || *iv.Statuses[0].Level != armcompute.StatusLevelTypesInfo {
		t.Fatalf("instance view %+v", iv)
	}
	if len(iv.DiskRestorePoints) != 2 {
		t.Fatalf("instance view has %d disks", len(iv.DiskRestorePoints))
	}
	for _, d := range iv.DiskRestorePoints {
		if *d.ReplicationStatus.CompletionPercent != 100 || *d.ReplicationStatus.Status.Code != "ReplicationState/succeeded" {
			t.Errorf("local disk %s: %d%% %s", *d.ID, *d.ReplicationStatus.CompletionPercent, *d.ReplicationStatus.Status.Code)
		}
	}
	// rp2 was never made.
	if _, err := rps.Get(ctx, rg, "rpc-east", "rp2", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("rp2: %v, want 404", err)
	}

	// The copy target in the other region, and the copy.
	west, err := rpcs.CreateOrUpdate(ctx, rg, "rpc-west", armcompute.RestorePointCollection{
		Location:   to.Ptr("westus"),
		Properties: &armcompute.RestorePointCollectionProperties{Source: &armcompute.RestorePointCollectionSourceProperties{ID: east.ID}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *west.Properties.Source.ID != *east.ID || *west.Properties.Source.Location != "eastus" || *west.Location != "westus" {
		t.Errorf("copy target %+v", west.Properties.Source)
	}
	copyPoller, err := rps.BeginCreate(ctx, rg, "rpc-west", "rp1-copy", armcompute.RestorePoint{
		Properties: &armcompute.RestorePointProperties{SourceRestorePoint: &armcompute.APIEntityReference{ID: to.Ptr(rp1ID)}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := copyPoller.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	// Succeeded as soon as the copy has started.
	if *cp.Properties.ProvisioningState != "Succeeded" || *cp.Properties.SourceRestorePoint.ID != rp1ID {
		t.Fatalf("copy: %s, source %v", *cp.Properties.ProvisioningState, cp.Properties.SourceRestorePoint)
	}
	if *cp.Properties.SourceMetadata.VMID != *vm.Properties.VMID || *cp.Properties.SourceMetadata.Location != "eastus" {
		t.Errorf("copy's sourceMetadata %+v", cp.Properties.SourceMetadata)
	}
	copyID := *west.ID + "/restorePoints/rp1-copy"
	osCopy := copyID + "/diskRestorePoints/web-os"

	// Watch the replication: completionPercent moves to 100 on every disk.
	var seen []int32
	usableEarly := false
	deadline := time.Now().Add(40 * time.Second)
	for {
		got, err := rps.Get(ctx, rg, "rpc-west", "rp1-copy", &armcompute.RestorePointsClientGetOptions{Expand: to.Ptr(armcompute.RestorePointExpandOptionsInstanceView)})
		if err != nil {
			t.Fatal(err)
		}
		all := true
		for _, d := range got.Properties.InstanceView.DiskRestorePoints {
			pct := *d.ReplicationStatus.CompletionPercent
			if pct < 0 || pct > 100 {
				t.Fatalf("completionPercent %d", pct)
			}
			if *d.ID == osCopy && (len(seen) == 0 || seen[len(seen)-1] != pct) {
				seen = append(seen, pct)
			}
			if pct != 100 {
				all = false
			}
		}
		if len(got.Properties.InstanceView.DiskRestorePoints) != 2 {
			t.Fatalf("copy has %d disks", len(got.Properties.InstanceView.DiskRestorePoints))
		}
		if all {
			st := got.Properties.InstanceView.Statuses
			if len(st) < 2 || *st[1].Code != "ReplicationState/succeeded" {
				var codes []string
				for _, s := range st {
					codes = append(codes, *s.Code)
				}
				t.Errorf("statuses of the replicated copy: %v", codes)
			}
			break
		}
		if !usableEarly {
			// Not usable for restore until every disk has replicated.
			_, err := drps.BeginGrantAccess(ctx, rg, "rpc-west", "rp1-copy", "web-os", armcompute.GrantAccessData{Access: to.Ptr(armcompute.AccessLevelRead), DurationInSeconds: to.Ptr[int32](60)}, nil)
			if errors.As(err, &re) && re.StatusCode == http.StatusConflict {
				usableEarly = true // checked
			} else if err == nil {
				t.Log("the copy became usable between two requests")
			} else {
				t.Errorf("grant access to a copy in progress: %v, want 409", err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replication not complete after 40 s; seen %v", seen)
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Logf("completionPercent of %s: %v", osCopy, seen)
	if !slices.ContainsFunc(seen, func(p int32) bool { return p < 100 }) {
		t.Errorf("completionPercent was never seen below 100: %v", seen)
	}
	if !slices.IsSorted(seen) {
		t.Errorf("completionPercent went back: %v", seen)
	}

	// Bytes out: a SAS URL of the copy's OS disk, with HTTP Range.
	gp, err := drps.BeginGrantAccess(ctx, rg, "rpc-west", "rp1-copy", "web-os", armcompute.GrantAccessData{Access: to.Ptr(armcompute.AccessLevelRead), DurationInSeconds: to.Ptr[int32](3600)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	access, err := gp.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	sas := *access.AccessSAS
	if !strings.HasPrefix(sas, e.url+arm.SASPrefix) {
		t.Fatalf("accessSAS %s", sas)
	}
	blob := &http.Client{Transport: &http.Transport{TLSClientConfig: e.tls}}
	get := func(rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", sas, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := blob.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	resp, part := get("bytes=70000-200000")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, osImg.data[70000:200001]) {
		t.Errorf("range: %d, %d bytes, equal %v", resp.StatusCode, len(part), bytes.Equal(part, osImg.data[70000:200001]))
	}
	resp, part = get(fmt.Sprintf("bytes=-%d", 1000))
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, osImg.data[osSize-1000:]) {
		t.Errorf("suffix range: %d, %d bytes", resp.StatusCode, len(part))
	}
	resp, whole := get("")
	if sum := sha256.Sum256(whole); resp.StatusCode != http.StatusOK || hex.EncodeToString(sum[:]) != osImg.sha() {
		t.Errorf("whole disk: %d, %d bytes, sha256 differs", resp.StatusCode, len(whole))
	}
	rv, err := drps.BeginRevokeAccess(ctx, rg, "rpc-west", "rp1-copy", "web-os", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rv.PollUntilDone(ctx, fast); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get("bytes=0-9"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("SAS after endGetAccess: %d, want 403", resp.StatusCode)
	}

	// A new disk from the copy's disk restore point, in the target region.
	dp, err := disks.BeginCreateOrUpdate(ctx, rg, "web-os-restored", armcompute.Disk{
		Location: to.Ptr("westus"),
		Properties: &armcompute.DiskProperties{CreationData: &armcompute.CreationData{
			CreateOption:     to.Ptr(armcompute.DiskCreateOptionRestore),
			SourceResourceID: to.Ptr(osCopy),
		}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := dp.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if *disk.Properties.ProvisioningState != "Succeeded" || *disk.Properties.DiskSizeBytes != osSize || *disk.Location != "westus" ||
		*disk.Properties.CreationData.SourceResourceID != osCopy {
		t.Errorf("disk %s: %s, %d bytes", *disk.ID, *disk.Properties.ProvisioningState, *disk.Properties.DiskSizeBytes)
	}
	vol, err := e.svc.GetVolume(ctx, e.caller, *disk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(vol.Path, filepath.Join(e.svc.Paths().Regions, "westus")) {
		t.Errorf("restored image %s is not in westus", vol.Path)
	}
	if sum := fileSHA(t, vol.Path); sum != osImg.sha() {
		t.Errorf("restored image sha256 %s, want %s", sum, osImg.sha())
	}

	// Lists page with nextLink: every collection exactly once.
	want := map[string]bool{"rpc-east": true, "rpc-west": true}
	for i := range 5 {
		name := fmt.Sprintf("rpc-extra-%d", i)
		if _, err := rpcs.CreateOrUpdate(ctx, rg, name, armcompute.RestorePointCollection{Location: to.Ptr("eastus"),
			Properties: &armcompute.RestorePointCollectionProperties{Source: &armcompute.RestorePointCollectionSourceProperties{ID: to.Ptr(vmID)}}}, nil); err != nil {
			t.Fatal(err)
		}
		want[name] = true
	}
	wantAll := map[string]bool{}
	for n := range want {
		wantAll[n] = true
	}
	for i := range 2 {
		name := fmt.Sprintf("rpc-other-%d", i)
		if _, err := rpcs.CreateOrUpdate(ctx, "other-rg", name, armcompute.RestorePointCollection{Location: to.Ptr("eastus"),
			Properties: &armcompute.RestorePointCollectionProperties{Source: &armcompute.RestorePointCollectionSourceProperties{ID: to.Ptr(vmID)}}}, nil); err != nil {
			t.Fatal(err)
		}
		wantAll[name] = true
	}
	pages := 0
	byRG := map[string]int{}
	for p := rpcs.NewListPager(rg, nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page.Value {
			byRG[*c.Name]++
		}
	}
	checkOnce(t, "list by resource group", byRG, want)
	if pages < 3 {
		t.Errorf("list by resource group: %d pages of 3 for %d collections", pages, len(want))
	}
	bySub := map[string]int{}
	for p := rpcs.NewListAllPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Value {
			bySub[*c.Name]++
		}
	}
	checkOnce(t, "list by subscription", bySub, wantAll)

	// The collection with its restore points.
	withPoints, err := rpcs.Get(ctx, rg, "rpc-east", &armcompute.RestorePointCollectionsClientGetOptions{Expand: to.Ptr(armcompute.RestorePointCollectionExpandOptionsRestorePoints)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(withPoints.Properties.RestorePoints); n != 1 || *withPoints.Properties.RestorePoints[0].Name != "rp1" {
		t.Errorf("rpc-east has %d restore points", n)
	}

	// Deleting a collection deletes its restore points.
	del, err := rpcs.BeginDelete(ctx, rg, "rpc-west", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, fast); err != nil {
		t.Fatal(err)
	}
	if _, err := rpcs.Get(ctx, rg, "rpc-west", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("deleted collection: %v, want 404", err)
	}
	if _, err := rps.Get(ctx, rg, "rpc-west", "rp1-copy", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("restore point of a deleted collection: %v, want 404", err)
	}
	if _, err := drps.Get(ctx, rg, "rpc-west", "rp1-copy", "web-os", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("disk restore point of a deleted collection: %v, want 404", err)
	}
	if left, _, err := e.svc.ListRestorePoints(ctx, e.caller, "", catalogPage()); err != nil || len(left) != 1 {
		t.Errorf("restore points left: %d, %v; want rp1 only", len(left), err)
	}
	// Deleting a restore point, then its collection.
	dr, err := rps.BeginDelete(ctx, rg, "rpc-east", "rp1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dr.PollUntilDone(ctx, fast); err != nil {
		t.Fatal(err)
	}
	if _, err := rps.Get(ctx, rg, "rpc-east", "rp1", nil); !errors.As(err, &re) || re.StatusCode != http.StatusNotFound {
		t.Errorf("deleted restore point: %v, want 404", err)
	}
	del, err = rpcs.BeginDelete(ctx, rg, "rpc-east", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, fast); err != nil {
		t.Fatal(err)
	}
	// A DELETE of what is not there is 204, which the SDK takes as done.
	del, err = rpcs.BeginDelete(ctx, rg, "rpc-east", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := del.PollUntilDone(ctx, fast); err != nil {
		t.Fatal(err)
	}
}

func checkOnce(t *testing.T, what string, got map[string]int, want map[string]bool) {
	t.Helper()
	for n, k := range got {
		if k != 1 || !want[n] {
			t.Errorf("%s: %s listed %d times (wanted: %v)", what, n, k, want[n])
		}
	}
	for n := range want {
		if got[n] == 0 {
			t.Errorf("%s: %s not listed", what, n)
		}
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
