package arm_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/service"
)

// TestBadInput sends each kind of bad input the pages' fields allow and
// checks the status, the ARM error code and message, and that nothing
// was created or queued.
func TestBadInput(t *testing.T) {
	e := newEnv(t, envOptions{MaxBodyBytes: 64 << 10})
	rg := "rg1"
	vmID := e.setup(rg)
	// A restore point, for the copy and access cases.
	r := e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc-east/restorePoints/rp1?api-version="+api, map[string]any{})
	if r.status != http.StatusCreated {
		t.Fatalf("PUT restore point: %s", r)
	}
	if st := e.pollOperation(r.header.Get("Azure-AsyncOperation")); st.Status != "Succeeded" {
		t.Fatalf("restore point: %+v", st)
	}
	// A copy target in westus, and a second collection of the VM.
	if r := e.do("PUT", e.rgPath(rg)+"/restorePointCollections/rpc-west?api-version="+api, map[string]any{"location": "westus",
		"properties": map[string]any{"source": map[string]any{"id": e.rgPath(rg) + "/restorePointCollections/rpc-east"}}}); r.status != http.StatusCreated {
		t.Fatalf("PUT copy target: %s", r)
	}
	e.waitOps()

	rpc := e.rgPath(rg) + "/restorePointCollections"
	rp1 := rpc + "/rpc-east/restorePoints/rp1"
	drp := rp1 + "/diskRestorePoints/web-os"
	q := "?api-version=" + api
	otherSub := strings.Replace(vmID, e.sub, "00000000-0000-0000-0000-000000000000", 1)
	diskID := func(name string) string { return e.rgPath(rg) + "/disks/" + name }
	coll := func(loc, src string) map[string]any {
		return map[string]any{"location": loc, "properties": map[string]any{"source": map[string]any{"id": src}}}
	}
	manyTags := map[string]string{}
	for i := range 51 {
		manyTags[fmt.Sprint("t", i)] = "v"
	}
	osImg := e.writeImage("bad-os", 64<<10, 3)
	goodVM := func(mod func(p map[string]any)) map[string]any {
		b := vmBody("eastus", osImg, "os1", nil)
		mod(b["properties"].(map[string]any))
		return b
	}
	osDisk := func(p map[string]any) map[string]any {
		return p["storageProfile"].(map[string]any)["osDisk"].(map[string]any)
	}

	tests := []struct {
		name         string
		token        string // "" = the admin token; "-" = none
		method, path string
		body         any
		status       int
		code         string
		msg          string // in the message
	}{
		// Request shape.
		{name: "no api-version", method: "GET", path: rpc + "/rpc-east", status: 400, code: "MissingApiVersionParameter", msg: "api-version"},
		{name: "empty api-version", method: "PUT", path: rpc + "/new?api-version=", body: coll("eastus", vmID), status: 400, code: "MissingApiVersionParameter"},
		{name: "malformed api-version", method: "GET", path: rpc + "/rpc-east?api-version=latest", status: 400, code: "InvalidApiVersionParameter", msg: "latest"},
		{name: "no token", token: "-", method: "GET", path: rpc + "/rpc-east" + q, status: 401, code: "AuthenticationFailed"},
		{name: "bad token", token: "nope", method: "GET", path: rpc + "/rpc-east" + q, status: 401, code: "InvalidAuthenticationToken"},
		{name: "another subscription", method: "GET", path: strings.Replace(rpc, e.sub, "00000000-0000-0000-0000-000000000000", 1) + "/rpc-east" + q, status: 403, code: "AuthorizationFailed", msg: "00000000-0000-0000-0000-000000000000"},
		{name: "malformed subscription", method: "GET", path: "/subscriptions/a%20b/resourceGroups/rg1/providers/Microsoft.Compute/restorePointCollections" + q, status: 400, code: "InvalidSubscriptionId"},
		{name: "bad resource group", method: "PUT", path: "/subscriptions/" + e.sub + "/resourceGroups/rg1./providers/Microsoft.Compute/restorePointCollections/new" + q, body: coll("eastus", vmID), status: 400, code: "InvalidResourceGroupName"},
		{name: "unknown resource type", method: "GET", path: e.rgPath(rg) + "/snapshots/s1" + q, status: 404, code: "InvalidResourceType"},
		{name: "unknown provider", method: "GET", path: "/subscriptions/" + e.sub + "/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/x" + q, status: 404, code: "InvalidResourceType"},
		{name: "method not allowed", method: "POST", path: rpc + "/rpc-east" + q, body: "{}", status: 405, code: "MethodNotAllowed"},
		{name: "bad $expand", method: "GET", path: rp1 + q + "&$expand=everything", status: 400, code: "InvalidParameter", msg: "instanceView"},

		// Collections.
		{name: "collection name", method: "PUT", path: rpc + "/bad%20name" + q, body: coll("eastus", vmID), status: 400, code: "InvalidResourceName", msg: "bad name"},
		{name: "collection name too long", method: "PUT", path: rpc + "/" + strings.Repeat("a", 81) + q, body: coll("eastus", vmID), status: 400, code: "InvalidResourceName"},
		{name: "malformed JSON", method: "PUT", path: rpc + "/new" + q, body: `{"location": "eastus",`, status: 400, code: "InvalidRequestContent"},
		{name: "JSON of the wrong type", method: "PUT", path: rpc + "/new" + q, body: `{"location": 5}`, status: 400, code: "InvalidRequestContent", msg: "location"},
		{name: "two JSON values", method: "PUT", path: rpc + "/new" + q, body: `{} {}`, status: 400, code: "InvalidRequestContent"},
		{name: "empty body", method: "PUT", path: rpc + "/new" + q, body: "", status: 400, code: "InvalidRequestContent"},
		{name: "oversized body", method: "PUT", path: rpc + "/new" + q, body: `{"location": "eastus", "tags": {"x": "` + strings.Repeat("y", 70<<10) + `"}}`, status: 413, code: "RequestEntityTooLarge"},
		{name: "name differs", method: "PUT", path: rpc + "/new" + q, body: map[string]any{"name": "other", "location": "eastus", "properties": map[string]any{"source": map[string]any{"id": vmID}}}, status: 400, code: "InvalidParameter", msg: "other"},
		{name: "no location", method: "PUT", path: rpc + "/new" + q, body: map[string]any{"properties": map[string]any{"source": map[string]any{"id": vmID}}}, status: 400, code: "InvalidParameter", msg: "location"},
		{name: "malformed location", method: "PUT", path: rpc + "/new" + q, body: coll("east/us", vmID), status: 400, code: "InvalidParameter", msg: "east/us"},
		{name: "unknown location", method: "PUT", path: rpc + "/new" + q, body: coll("marsnorth", vmID), status: 400, code: "LocationNotAvailableForResourceType", msg: "eastus"},
		{name: "no source", method: "PUT", path: rpc + "/new" + q, body: map[string]any{"location": "eastus"}, status: 400, code: "InvalidParameter", msg: "properties.source.id"},
		{name: "source id does not parse", method: "PUT", path: rpc + "/new" + q, body: coll("eastus", "/subscriptions/"+e.sub+"/vm1"), status: 400, code: "LinkedInvalidPropertyId", msg: "properties.source.id"},
		{name: "source id of another provider", method: "PUT", path: rpc + "/new" + q, body: coll("eastus", "/subscriptions/"+e.sub+"/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/x"), status: 400, code: "LinkedInvalidPropertyId"},
		{name: "source is a disk", method: "PUT", path: rpc + "/new" + q, body: coll("eastus", diskID("web-os")), status: 400, code: "LinkedInvalidPropertyId"},
		{name: "source in another subscription", method: "PUT", path: rpc + "/new" + q, body: coll("eastus", otherSub), status: 403, code: "LinkedAuthorizationFailed"},
		{name: "unknown VM", method: "PUT", path: rpc + "/new" + q, body: coll("eastus", e.rgPath(rg)+"/virtualMachines/nosuchvm"), status: 404, code: "ResourceNotFound", msg: "nosuchvm"},
		{name: "VM in another region", method: "PUT", path: rpc + "/new" + q, body: coll("westus", vmID), status: 400, code: "InvalidParameter", msg: "eastus"},
		{name: "source collection in the same region", method: "PUT", path: rpc + "/new" + q, body: coll("eastus", rpc+"/rpc-east"), status: 400, code: "InvalidParameter", msg: "another region"},
		{name: "unknown source collection", method: "PUT", path: rpc + "/new" + q, body: coll("westus", rpc+"/nosuch"), status: 404, code: "ResourceNotFound"},
		{name: "too many tags", method: "PUT", path: rpc + "/new" + q, body: map[string]any{"location": "eastus", "tags": manyTags, "properties": map[string]any{"source": map[string]any{"id": vmID}}}, status: 400, code: "InvalidParameter", msg: "tags"},
		{name: "bad tag name", method: "PUT", path: rpc + "/new" + q, body: map[string]any{"location": "eastus", "tags": map[string]string{"a/b": "c"}, "properties": map[string]any{"source": map[string]any{"id": vmID}}}, status: 400, code: "InvalidParameter", msg: "a/b"},
		{name: "collection moves", method: "PUT", path: rpc + "/rpc-east" + q, body: coll("westus", vmID), status: 409, code: "InvalidResourceLocation"},
		{name: "collection source changes", method: "PUT", path: rpc + "/rpc-east" + q, body: coll("eastus", e.rgPath(rg)+"/virtualMachines/other"), status: 409, code: "PropertyChangeNotAllowed"},
		{name: "collection source changes (PATCH)", method: "PATCH", path: rpc + "/rpc-east" + q, body: coll("eastus", e.rgPath(rg)+"/virtualMachines/other"), status: 409, code: "PropertyChangeNotAllowed"},
		{name: "unknown collection", method: "GET", path: rpc + "/nosuch" + q, status: 404, code: "ResourceNotFound", msg: "nosuch"},
		{name: "bad page token", method: "GET", path: rpc + q + "&$skiptoken=garbage", status: 400, code: "InvalidParameter"},

		// Restore points.
		{name: "restore point in an unknown collection", method: "PUT", path: rpc + "/nosuch/restorePoints/rp" + q, body: map[string]any{}, status: 404, code: "ResourceNotFound"},
		{name: "restore point name", method: "PUT", path: rpc + "/rpc-east/restorePoints/-rp" + q, body: map[string]any{}, status: 400, code: "InvalidResourceName"},
		{name: "restore point exists", method: "PUT", path: rp1 + q, body: map[string]any{}, status: 409, code: "OperationNotAllowed", msg: "updating"},
		{name: "consistency mode", method: "PUT", path: rpc + "/rpc-east/restorePoints/rp2" + q, body: map[string]any{"properties": map[string]any{"consistencyMode": "Eventually"}}, status: 400, code: "InvalidParameter", msg: "CrashConsistent"},
		{name: "exclude id does not parse", method: "PUT", path: rpc + "/rpc-east/restorePoints/rp2" + q, body: map[string]any{"properties": map[string]any{"excludeDisks": []any{map[string]any{"id": "web-data"}}}}, status: 400, code: "LinkedInvalidPropertyId", msg: "excludeDisks[0]"},
		{name: "exclude a disk the VM lacks", method: "PUT", path: rpc + "/rpc-east/restorePoints/rp2" + q, body: map[string]any{"properties": map[string]any{"excludeDisks": []any{map[string]any{"id": diskID("nosuch")}}}}, status: 400, code: "InvalidParameter", msg: "web-data"},
		{name: "exclude a disk twice", method: "PUT", path: rpc + "/rpc-east/restorePoints/rp2" + q, body: map[string]any{"properties": map[string]any{"excludeDisks": []any{map[string]any{"id": diskID("web-data")}, map[string]any{"id": diskID("WEB-DATA")}}}}, status: 400, code: "InvalidParameter", msg: "twice"},
		{name: "exclude every disk", method: "PUT", path: rpc + "/rpc-east/restorePoints/rp2" + q, body: map[string]any{"properties": map[string]any{"excludeDisks": []any{map[string]any{"id": diskID("web-data")}, map[string]any{"id": diskID("web-os")}}}}, status: 400, code: "InvalidParameter", msg: "every disk"},
		{name: "exclude with a copy", method: "PUT", path: rpc + "/rpc-west/restorePoints/c1" + q, body: map[string]any{"properties": map[string]any{"sourceRestorePoint": map[string]any{"id": rp1}, "excludeDisks": []any{map[string]any{"id": diskID("web-data")}}}}, status: 400, code: "InvalidParameter", msg: "excludeDisks"},
		{name: "source point does not parse", method: "PUT", path: rpc + "/rpc-west/restorePoints/c1" + q, body: map[string]any{"properties": map[string]any{"sourceRestorePoint": map[string]any{"id": rpc + "/rpc-east"}}}, status: 400, code: "LinkedInvalidPropertyId", msg: "sourceRestorePoint"},
		{name: "unknown source point", method: "PUT", path: rpc + "/rpc-west/restorePoints/c1" + q, body: map[string]any{"properties": map[string]any{"sourceRestorePoint": map[string]any{"id": rpc + "/rpc-east/restorePoints/nosuch"}}}, status: 404, code: "NotFound", msg: "nosuch"},
		{name: "source point in the same region", method: "PUT", path: rpc + "/rpc-east/restorePoints/c1" + q, body: map[string]any{"properties": map[string]any{"sourceRestorePoint": map[string]any{"id": rp1}}}, status: 400, code: "InvalidParameter", msg: "another region"},
		{name: "a local point in a copy target", method: "PUT", path: rpc + "/rpc-west/restorePoints/c1" + q, body: map[string]any{}, status: 400, code: "InvalidParameter", msg: "copy target"},
		{name: "instant access duration", method: "PUT", path: rpc + "/rpc-east/restorePoints/rp2" + q, body: map[string]any{"properties": map[string]any{"instantAccessDurationMinutes": 5}}, status: 400, code: "InvalidParameter"},
		{name: "unknown restore point", method: "GET", path: rpc + "/rpc-east/restorePoints/nosuch" + q, status: 404, code: "NotFound"},

		// Disk restore points and access.
		{name: "unknown disk restore point", method: "GET", path: rp1 + "/diskRestorePoints/nosuch" + q, status: 404, code: "NotFound"},
		{name: "write access", method: "POST", path: drp + "/beginGetAccess" + q, body: map[string]any{"access": "Write", "durationInSeconds": 60}, status: 400, code: "InvalidParameter", msg: "Read"},
		{name: "unknown access", method: "POST", path: drp + "/beginGetAccess" + q, body: map[string]any{"access": "Everything", "durationInSeconds": 60}, status: 400, code: "InvalidParameter"},
		{name: "no duration", method: "POST", path: drp + "/beginGetAccess" + q, body: map[string]any{"access": "Read"}, status: 400, code: "InvalidParameter", msg: "durationInSeconds"},
		{name: "zero duration", method: "POST", path: drp + "/beginGetAccess" + q, body: map[string]any{"access": "Read", "durationInSeconds": 0}, status: 400, code: "InvalidParameter"},
		{name: "duration too long", method: "POST", path: drp + "/beginGetAccess" + q, body: map[string]any{"access": "Read", "durationInSeconds": 30 * 24 * 3600}, status: 400, code: "InvalidParameter"},
		{name: "VHD file format", method: "POST", path: drp + "/beginGetAccess" + q, body: map[string]any{"access": "Read", "durationInSeconds": 60, "fileFormat": "VHD"}, status: 400, code: "InvalidParameter", msg: "raw"},
		{name: "unknown operation", method: "GET", path: "/subscriptions/" + e.sub + "/providers/Microsoft.Compute/locations/eastus/operations/nosuch" + q, status: 404, code: "NotFound"},
		{name: "forged finished operation", method: "GET", path: "/subscriptions/" + e.sub + "/providers/Microsoft.Compute/locations/eastus/operations/x-Zm9v" + q, status: 404, code: "NotFound"},

		// Disks.
		{name: "disk without creationData", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "eastus", "properties": map[string]any{}}, status: 400, code: "InvalidParameter", msg: "creationData"},
		{name: "disk create option", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "eastus", "properties": map[string]any{"creationData": map[string]any{"createOption": "Empty"}}}, status: 400, code: "InvalidParameter", msg: "Restore"},
		{name: "disk source does not parse", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "eastus", "properties": map[string]any{"creationData": map[string]any{"createOption": "Restore", "sourceResourceId": rp1}}}, status: 400, code: "LinkedInvalidPropertyId"},
		{name: "unknown disk source", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "eastus", "properties": map[string]any{"creationData": map[string]any{"createOption": "Restore", "sourceResourceId": rp1 + "/diskRestorePoints/nosuch"}}}, status: 404, code: "NotFound"},
		{name: "disk in an unknown location", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "nowhere", "properties": map[string]any{"creationData": map[string]any{"createOption": "Restore", "sourceResourceId": drp}}}, status: 400, code: "LocationNotAvailableForResourceType"},
		{name: "disk too small", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "eastus", "properties": map[string]any{"diskSizeGB": 0, "creationData": map[string]any{"createOption": "Restore", "sourceResourceId": drp}}}, status: 400, code: "InvalidParameter", msg: "smaller"},
		{name: "disk sku", method: "PUT", path: e.rgPath(rg) + "/disks/d1" + q, body: map[string]any{"location": "eastus", "sku": map[string]any{"name": "Gold"}, "properties": map[string]any{"creationData": map[string]any{"createOption": "Restore", "sourceResourceId": drp}}}, status: 400, code: "InvalidParameter", msg: "Gold"},
		{name: "unknown disk", method: "GET", path: e.rgPath(rg) + "/disks/nosuch" + q, status: 404, code: "ResourceNotFound"},

		// VMs.
		{name: "VM name", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/web_1" + q, body: goodVM(func(map[string]any) {}), status: 400, code: "InvalidResourceName"},
		{name: "VM without properties", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: map[string]any{"location": "eastus"}, status: 400, code: "InvalidParameter", msg: "properties"},
		{name: "VM without size", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { delete(p, "hardwareProfile") }), status: 400, code: "InvalidParameter", msg: "vmSize"},
		{name: "VM without OS disk", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { delete(p, "storageProfile") }), status: 400, code: "InvalidParameter", msg: "osDisk"},
		{name: "VM disk without image", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { delete(osDisk(p), "vhd") }), status: 400, code: "InvalidParameter", msg: "vhd.uri"},
		{name: "VM disk of a blob", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) {
			osDisk(p)["vhd"] = map[string]any{"uri": "https://acct.blob.core.windows.net/vhds/os.vhd"}
		}), status: 400, code: "InvalidParameter", msg: "https"},
		{name: "VM disk image missing", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { osDisk(p)["vhd"] = map[string]any{"uri": "file:///nonexistent/os.raw"} }), status: 400, code: "InvalidParameter", msg: "nonexistent"},
		{name: "VM disk image relative", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { osDisk(p)["vhd"] = map[string]any{"uri": "os.raw"} }), status: 400, code: "InvalidParameter"},
		{name: "VM OS type", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { osDisk(p)["osType"] = "Plan9" }), status: 400, code: "InvalidParameter", msg: "Plan9"},
		{name: "VM caching", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) { osDisk(p)["caching"] = "Sometimes" }), status: 400, code: "InvalidParameter", msg: "Sometimes"},
		{name: "VM data disk without lun", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) {
			p["storageProfile"].(map[string]any)["dataDisks"] = []any{map[string]any{"name": "d", "vhd": map[string]any{"uri": osImg.uri()}}}
		}), status: 400, code: "InvalidParameter", msg: "lun"},
		{name: "VM duplicate lun", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) {
			p["storageProfile"].(map[string]any)["dataDisks"] = []any{
				map[string]any{"lun": 1, "name": "d1", "vhd": map[string]any{"uri": osImg.uri()}},
				map[string]any{"lun": "1", "name": "d2", "vhd": map[string]any{"uri": osImg.uri()}}}
		}), status: 400, code: "InvalidParameter", msg: "lun 1"},
		{name: "VM duplicate disk name", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) {
			p["storageProfile"].(map[string]any)["dataDisks"] = []any{map[string]any{"lun": 0, "name": "os1", "vhd": map[string]any{"uri": osImg.uri()}}}
		}), status: 400, code: "InvalidParameter", msg: "twice"},
		{name: "VM lun out of range", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) {
			p["storageProfile"].(map[string]any)["dataDisks"] = []any{map[string]any{"lun": 64, "name": "d", "vhd": map[string]any{"uri": osImg.uri()}}}
		}), status: 400, code: "InvalidParameter", msg: "64"},
		{name: "VM bool as text", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: goodVM(func(p map[string]any) {
			p["osProfile"].(map[string]any)["linuxConfiguration"] = map[string]any{"provisionVMAgent": "true|false"}
		}), status: 400, code: "InvalidRequestContent"},
		{name: "VM in an unknown location", method: "PUT", path: e.rgPath(rg) + "/virtualMachines/vm2" + q, body: func() any {
			b := goodVM(func(map[string]any) {})
			b["location"] = "atlantis"
			return b
		}(), status: 400, code: "LocationNotAvailableForResourceType"},
		{name: "unknown VM", method: "GET", path: e.rgPath(rg) + "/virtualMachines/nosuch" + q, status: 404, code: "ResourceNotFound"},
	}
	before := e.count()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := tt.token
			switch token {
			case "":
				token = e.token
			case "-":
				token = ""
			}
			r := e.doToken(token, tt.method, tt.path, tt.body)
			got := r.armError()
			if r.status != tt.status || got.Code != tt.code {
				t.Errorf("%s %s: %s\nwant %d %s", tt.method, tt.path, r, tt.status, tt.code)
			}
			if got.Message == "" || !strings.Contains(got.Message, tt.msg) {
				t.Errorf("message %q does not mention %q", got.Message, tt.msg)
			}
			if after := e.count(); after != before {
				t.Errorf("records changed: %+v, were %+v", after, before)
			}
		})
	}
}

// TestOtherProjectsToken checks that a token reaches its own subscription
// only: another project's resources are 403, and its own list is empty.
func TestOtherProjectsToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.setup("rg1")
	ctx := context.Background()
	p, err := e.svc.CreateProject(ctx, e.caller, service.ProjectSpec{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := e.svc.CreateToken(ctx, e.caller, service.TokenSpec{ProjectID: p.ID, Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	r := e.doToken(secret, "GET", e.rgPath("rg1")+"/restorePointCollections/rpc-east?api-version="+api, nil)
	if r.status != http.StatusForbidden || r.armError().Code != "AuthorizationFailed" {
		t.Errorf("another project's collection: %s", r)
	}
	r = e.doToken(secret, "GET", "/subscriptions/"+p.ID+"/providers/Microsoft.Compute/restorePointCollections?api-version="+api, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"value":[]`) {
		t.Errorf("own empty list: %s", r)
	}
	// Its own subscription path, naming a collection of the same name:
	// not there.
	r = e.doToken(secret, "GET", "/subscriptions/"+p.ID+"/resourceGroups/rg1/providers/Microsoft.Compute/restorePointCollections/rpc-east?api-version="+api, nil)
	if r.status != http.StatusNotFound {
		t.Errorf("own subscription: %s", r)
	}
}
