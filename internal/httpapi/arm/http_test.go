package arm_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/httpapi/arm"
)

// setup registers VM "web" (OS disk web-os, data disk web-data) in
// resource group rg, region eastus, and its collection rpc-east; it
// returns the VM's id.
func (e *env) setup(rg string) string {
	e.t.Helper()
	osImg := e.writeImage("os-"+rg, 512<<10, 11)
	dataImg := e.writeImage("data-"+rg, 256<<10, 12)
	if r := e.do("PUT", e.rgPath(rg)+"/virtualMachines/web?api-version="+api, vmBody("eastus", osImg, "web-os", map[string]image{"web-data": dataImg})); r.status != http.StatusCreated {
		e.t.Fatalf("PUT VM: %s", r)
	}
	vmID := e.rgPath(rg) + "/virtualMachines/web"
	if r := e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc-east?api-version="+api,
		map[string]any{"location": "eastus", "properties": map[string]any{"source": map[string]any{"id": vmID}}}); r.status != http.StatusCreated {
		e.t.Fatalf("PUT collection: %s", r)
	}
	return vmID
}

// TestPageRequests sends the requests of the Azure pages as they are
// written: the "&api-version=" spelling, lower-case provider in ids,
// numbers and booleans as strings, and polls Location and
// Azure-AsyncOperation by hand as a script would.
func TestPageRequests(t *testing.T) {
	e := newEnv(t, envOptions{BackupRate: 2 << 20})
	rg := "rg1"
	osImg := e.writeImage("page-os", 1<<20, 21)
	// The VM, with the page's string-typed fields.
	vm := `{
"location": "East US",
"properties": {
"hardwareProfile": {"vmSize": "Standard_A1"},
"osProfile": {"computername": "web01", "adminUsername": "azureuser",
 "linuxConfiguration": {"disablePasswordAuthentication": "true", "ssh": {"publicKeys": [{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-rsa AAAA"}]}},
 "secrets": []},
"storageProfile": {"osDisk": {"osType": "Linux", "name": "web-os", "diskSizeGB": "1", "caching": "ReadWrite", "vhd": {"uri": "` + osImg.uri() + `"}}},
"diagnosticsProfile": {"bootDiagnostics": {"enabled": true, "storageUri": " http://storageaccount.blob.core.windows.net/"}}
}}`
	r := e.do("PUT", e.rgPath(rg)+"/virtualMachines/web&api-version="+api, vm)
	if r.status != http.StatusCreated {
		t.Fatalf("PUT VM: %s", r)
	}
	var v arm.VirtualMachine
	mustDecode(t, r, &v)
	if v.Location != "eastus" || v.Properties.OSProfile.ComputerName != "web01" || !bool(*v.Properties.OSProfile.LinuxConfiguration.DisablePasswordAuthentication) {
		t.Errorf("VM %s", r.body)
	}
	// Again: 200.
	if r := e.do("PUT", e.rgPath(rg)+"/virtualMachines/web&api-version="+api, vm); r.status != http.StatusOK {
		t.Errorf("PUT VM again: %s", r)
	}

	// The collection, exactly as the page writes it: URL and body.
	vmID := "/subscriptions/" + e.sub + "/resourceGroups/" + rg + "/providers/microsoft.compute/virtualMachines/web"
	body := `{"name": "rpc1", "location": "eastus", "tags": {"department": "finance"}, "properties": {"source": {"id": "` + vmID + `"}}}`
	r = e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc1&api-version="+api, body)
	if r.status != http.StatusCreated {
		t.Fatalf("PUT collection: %s", r)
	}
	var c arm.RestorePointCollection
	mustDecode(t, r, &c)
	if c.Name != "rpc1" || c.Type != "Microsoft.Compute/restorePointCollections" || c.Location != "eastus" || c.Tags["department"] != "finance" ||
		c.Properties.Source.ID != e.rgPath(rg)+"/virtualMachines/web" || c.Properties.Source.Location != "eastus" {
		t.Errorf("collection %s", r.body)
	}

	// A restore point: 201 with Location and Azure-AsyncOperation.
	r = e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc1/restorePoints/rp1&api-version="+api, `{"name": "rp1", "properties": {}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("PUT restore point: %s", r)
	}
	async, loc := r.header.Get("Azure-AsyncOperation"), r.header.Get("Location")
	if !strings.Contains(async, "/providers/Microsoft.Compute/locations/eastus/operations/") || !strings.Contains(loc, "monitor=true") || r.header.Get("Retry-After") == "" {
		t.Fatalf("headers %v", r.header)
	}
	var rp arm.RestorePoint
	mustDecode(t, r, &rp)
	if rp.Properties.ProvisioningState != "Creating" {
		t.Errorf("new restore point is %s", rp.Properties.ProvisioningState)
	}
	// The Location URL: 202 while running, then 200 with the resource.
	sawAccepted := false
	for deadline := time.Now().Add(30 * time.Second); ; {
		r = e.do("GET", loc, nil)
		if r.status == http.StatusAccepted {
			sawAccepted = true
			if r.header.Get("Location") == "" || len(r.body) != 0 {
				t.Errorf("202 of a Location URL: %v %q", r.header, r.body)
			}
		} else {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still 202 after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.status != http.StatusOK || !sawAccepted {
		t.Fatalf("Location URL: %s (saw 202: %v)", r, sawAccepted)
	}
	mustDecode(t, r, &rp)
	if rp.Properties.ProvisioningState != "Succeeded" {
		t.Errorf("Location's result: %s", r.body)
	}
	st := e.pollOperation(async)
	if st.Status != arm.StatusSucceeded || st.StartTime == nil || st.EndTime == nil || st.Error != nil {
		t.Errorf("async status %+v", st)
	}

	// GET with the page's "?$expand=instanceView&api-version=", any case.
	r = e.do("GET", e.rgPath(rg)+"/restorePointCollections/rpc1/restorePoints/rp1?$expand=INSTANCEVIEW&api-version="+api, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET instanceView: %s", r)
	}
	var raw map[string]any
	mustDecode(t, r, &raw)
	props := raw["properties"].(map[string]any)
	sm := props["sourceMetadata"].(map[string]any)
	osd := sm["storageProfile"].(map[string]any)["osDisk"].(map[string]any)
	if osd["diskSizeGB"] != 1.0 || osd["osType"] != "Linux" || sm["osProfile"].(map[string]any)["computerName"] != "web01" {
		t.Errorf("sourceMetadata %v", sm)
	}
	ivd := props["instanceView"].(map[string]any)["diskRestorePoints"].([]any)[0].(map[string]any)
	if ivd["replicationStatus"].(map[string]any)["completionPercent"] != 100.0 {
		t.Errorf("instance view %v", ivd)
	}
	// Keywords in any case, as ARM matches them.
	lower := "/SUBSCRIPTIONS/" + strings.ToUpper(e.sub) + "/resourcegroups/" + rg + "/providers/MICROSOFT.COMPUTE/RESTOREPOINTCOLLECTIONS/rpc1?api-version=" + api + "&$expand=restorepoints"
	r = e.do("GET", lower, nil)
	mustDecode(t, r, &c)
	if r.status != http.StatusOK || len(c.Properties.RestorePoints) != 1 {
		t.Errorf("GET in other case: %s", r)
	}
	// The page's diskRestorePoint id (no provider segment) restores too.
	drp := "/subscriptions/" + e.sub + "/resourceGroups/" + rg + "/restorePointCollections/rpc1/restorePoints/rp1/diskRestorePoints/web-os"
	r = e.do("PUT", e.rgPath(rg)+"/disks/d1?api-version=2024-03-02", map[string]any{"location": "westus",
		"properties": map[string]any{"creationData": map[string]any{"createOption": "Restore", "sourceResourceId": drp}}})
	if r.status != http.StatusAccepted {
		t.Fatalf("PUT disk: %s", r)
	}
	if st := e.pollOperation(r.header.Get("Azure-AsyncOperation")); st.Status != arm.StatusSucceeded {
		t.Fatalf("restore disk: %+v", st)
	}
	r = e.do("GET", e.rgPath(rg)+"/disks/d1?api-version=2024-03-02", nil)
	var d arm.Disk
	mustDecode(t, r, &d)
	if d.Properties.ProvisioningState != "Succeeded" || *d.Properties.DiskSizeBytes != int64(len(osImg.data)) {
		t.Errorf("disk %s", r)
	}
	vol, err := e.svc.GetVolume(t.Context(), e.caller, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := fileSHA(t, vol.Path); sum != osImg.sha() {
		t.Error("restored image differs")
	}
	// The same PUT again: the disk as it is.
	r = e.do("PUT", e.rgPath(rg)+"/disks/d1?api-version=2024-03-02", map[string]any{"location": "westus",
		"properties": map[string]any{"creationData": map[string]any{"createOption": "Restore", "sourceResourceId": drp}}})
	if r.status != http.StatusOK {
		t.Errorf("PUT disk again: %s", r)
	}

	// beginGetAccess by hand: 202, then the Location URL gives accessSAS.
	r = e.do("POST", e.rgPath(rg)+"/restorePointCollections/rpc1/restorePoints/rp1/diskRestorePoints/web-os/beginGetAccess?api-version=2024-03-02",
		`{"access": "Read", "durationInSeconds": "60"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("beginGetAccess: %s", r)
	}
	grantAsync := r.header.Get("Azure-AsyncOperation")
	st = e.pollOperation(grantAsync)
	if st.Status != arm.StatusSucceeded || st.Properties == nil {
		t.Fatalf("beginGetAccess status %+v", st)
	}
	r = e.do("GET", r.header.Get("Location"), nil)
	var acc arm.AccessURI
	mustDecode(t, r, &acc)
	if r.status != http.StatusOK || acc.AccessSAS == "" {
		t.Fatalf("beginGetAccess result: %s", r)
	}
	// The grant's signature is in the query of the operation's URL, never
	// in its path (which the server logs).
	su, err := url.Parse(acc.AccessSAS)
	if err != nil {
		t.Fatal(err)
	}
	au, err := url.Parse(grantAsync)
	if err != nil {
		t.Fatal(err)
	}
	if sig := su.Query().Get("sig"); sig == "" || strings.Contains(au.Path, sig) || au.Query().Get("sig") != sig {
		t.Errorf("the signature is not (only) in the operation URL's query: %s", grantAsync)
	}
	sas := e.do("GET", acc.AccessSAS, nil)
	if sas.status != http.StatusOK || string(sas.body) != string(osImg.data) {
		t.Errorf("SAS GET: %d, %d bytes", sas.status, len(sas.body))
	}
	if bad := e.do("GET", strings.Replace(acc.AccessSAS, "sig=", "sig=x", 1), nil); bad.status != http.StatusForbidden ||
		!strings.Contains(string(bad.body), "<Code>AuthenticationFailed</Code>") {
		t.Errorf("forged SAS: %s", bad)
	}

	// A DELETE of the restore point, polled through Location: 204 when done.
	r = e.do("DELETE", e.rgPath(rg)+"/restorePointCollections/rpc1/restorePoints/rp1?api-version="+api, nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("DELETE restore point: %s", r)
	}
	loc = r.header.Get("Location")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if r = e.do("GET", loc, nil); r.status != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
	}
	if r.status != http.StatusNoContent {
		t.Errorf("Location of a finished delete: %s", r)
	}
	if r = e.do("DELETE", e.rgPath(rg)+"/restorePointCollections/rpc1/restorePoints/rp1?api-version="+api, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE of a deleted restore point: %s", r)
	}
	// The VM list.
	r = e.do("GET", "/subscriptions/"+e.sub+"/providers/Microsoft.Compute/virtualMachines?api-version="+api, nil)
	var vms arm.VMList
	mustDecode(t, r, &vms)
	if len(vms.Value) != 1 || vms.Value[0].Properties.OSProfile.AdminPassword != "" {
		t.Errorf("VM list: %s", r)
	}
}

func mustDecode(t *testing.T, r *response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}
