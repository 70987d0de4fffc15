package arm_test

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"

	"github.com/cairn-vm/cairn/internal/httpapi/arm"
)

// TestExcludeDisks makes a restore point without the data disk: the
// point names the excluded disk and holds only the OS disk.
func TestExcludeDisks(t *testing.T) {
	e := newEnv(t, envOptions{})
	rg := "rg1"
	e.setup(rg)
	excl := e.rgPath(rg) + "/disks/web-data"
	r := e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc-east/restorePoints/rp1?api-version="+api, map[string]any{
		"properties": map[string]any{"consistencyMode": "crashconsistent", "excludeDisks": []any{map[string]any{"id": strings.ToUpper(excl)}}}})
	if r.status != http.StatusCreated {
		t.Fatalf("PUT restore point: %s", r)
	}
	if st := e.pollOperation(r.header.Get("Azure-AsyncOperation")); st.Status != arm.StatusSucceeded {
		t.Fatalf("restore point: %+v", st)
	}
	r = e.do("GET", e.rgPath(rg)+"/restorePointCollections/rpc-east/restorePoints/rp1?$expand=instanceView&api-version="+api, nil)
	var rp arm.RestorePoint
	mustDecode(t, r, &rp)
	p := rp.Properties
	if p.ConsistencyMode != "CrashConsistent" || len(p.ExcludeDisks) != 1 || p.ExcludeDisks[0].ID != excl {
		t.Errorf("restore point %s", r.body)
	}
	if sp := p.SourceMetadata.StorageProfile; sp.OSDisk == nil || len(sp.DataDisks) != 0 {
		t.Errorf("storage profile of the point: %+v", sp)
	}
	if len(p.InstanceView.DiskRestorePoints) != 1 {
		t.Errorf("instance view: %d disks", len(p.InstanceView.DiskRestorePoints))
	}
	r = e.do("GET", e.rgPath(rg)+"/restorePointCollections/rpc-east/restorePoints/rp1/diskRestorePoints?api-version=2024-03-02", nil)
	var list arm.DiskRestorePointList
	mustDecode(t, r, &list)
	if len(list.Value) != 1 || list.Value[0].Name != "web-os" || list.Value[0].Properties.SourceResourceID != e.rgPath(rg)+"/disks/web-os" {
		t.Errorf("disk restore points: %s", r)
	}

	// The VM goes; its collection and points stay.
	if r := e.do("DELETE", e.rgPath(rg)+"/virtualMachines/web?api-version="+api, nil); r.status/100 != 2 {
		t.Fatalf("DELETE VM: %s", r)
	}
	if r := e.do("GET", e.rgPath(rg)+"/virtualMachines/web?api-version="+api, nil); r.status != http.StatusNotFound {
		t.Errorf("GET deleted VM: %s", r)
	}
	if r := e.do("DELETE", e.rgPath(rg)+"/virtualMachines/web?api-version="+api, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE deleted VM: %s", r)
	}
	if r := e.do("GET", e.rgPath(rg)+"/restorePointCollections/rpc-east/restorePoints/rp1?api-version="+api, nil); r.status != http.StatusOK {
		t.Errorf("restore point of a deleted VM: %s", r)
	}
	// A new point of the collection needs the VM.
	if r := e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc-east/restorePoints/rp2?api-version="+api, map[string]any{}); r.status != http.StatusNotFound {
		t.Errorf("restore point of a deleted VM: %s", r)
	}
}

// TestFailedRestorePoint makes a restore point of a VM whose image has
// gone: the point fails, the operation reports Failed with the error,
// and the SDK's poller returns it.
func TestFailedRestorePoint(t *testing.T) {
	e := newEnv(t, envOptions{})
	rg := "rg1"
	e.setup(rg)
	if err := os.Remove(e.dir + "/data-" + rg + ".raw"); err != nil {
		t.Fatal(err)
	}
	rps := e.sdk().NewRestorePointsClient()
	p, err := rps.BeginCreate(t.Context(), rg, "rpc-east", "rp1", armcompute.RestorePoint{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.PollUntilDone(t.Context(), fast)
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.ErrorCode == "" {
		t.Fatalf("poll a failing restore point: %v", err)
	}
	t.Logf("failed: %s: %v", re.ErrorCode, err)
	got, err := rps.Get(t.Context(), rg, "rpc-east", "rp1", &armcompute.RestorePointsClientGetOptions{Expand: to.Ptr(armcompute.RestorePointExpandOptionsInstanceView)})
	if err != nil {
		t.Fatal(err)
	}
	st := got.Properties.InstanceView.Statuses[0]
	if *got.Properties.ProvisioningState != "Failed" || *st.Code != "ProvisioningState/failed" || *st.Level != armcompute.StatusLevelTypesError || st.Message == nil || *st.Message == "" {
		t.Errorf("failed point: %s, status %s %s", *got.Properties.ProvisioningState, *st.Code, *st.Level)
	}
	// Its disks cannot be read.
	_, err = e.sdk().NewDiskRestorePointClient().BeginGrantAccess(t.Context(), rg, "rpc-east", "rp1", "web-os",
		armcompute.GrantAccessData{Access: to.Ptr(armcompute.AccessLevelRead), DurationInSeconds: to.Ptr[int32](60)}, nil)
	if !errors.As(err, &re) || re.StatusCode/100 != 4 {
		t.Errorf("grant access to a failed point: %v", err)
	}
}
