package arm

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		in, kind, want string
	}{
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web", KindVM,
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"},
		// The pages write the provider and keywords in lower case.
		{"/subscriptions/s1/resourcegroups/rg/providers/microsoft.compute/restorePointCollections/rpc1", KindCollection,
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1"},
		{"/SUBSCRIPTIONS/s1/RESOURCEGROUPS/rg/PROVIDERS/MICROSOFT.COMPUTE/RESTOREPOINTCOLLECTIONS/rpc1/RESTOREPOINTS/rp1", KindRestorePoint,
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1/restorePoints/rp1"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1/restorePoints/rp1/diskRestorePoints/os", KindDiskRestorePoint,
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1/restorePoints/rp1/diskRestorePoints/os"},
		// The page's diskRestorePoint ids leave out the provider.
		{"/subscriptions/s1/resourceGroups/rg/restorePointCollections/rpc1/restorePoints/rp1/diskRestorePoints/os", KindDiskRestorePoint,
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1/restorePoints/rp1/diskRestorePoints/os"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/disks/data-1/", KindDisk,
			"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/disks/data-1"},
	}
	for _, tt := range tests {
		id, err := ParseIDOf(tt.kind, tt.in)
		if err != nil {
			t.Errorf("ParseIDOf(%q): %v", tt.in, err)
			continue
		}
		if got := id.String(); got != tt.want {
			t.Errorf("ParseIDOf(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseIDRejects(t *testing.T) {
	tests := []struct {
		in, kind, why string
	}{
		{"", KindVM, "empty"},
		{"subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web", KindVM, "must start"},
		{"/subscriptions/s1/providers/Microsoft.Compute/virtualMachines/web", KindVM, "must have the form"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x", KindVM, "not served"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines", KindVM, "type and a name"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/snapshots/s", KindVM, "not served"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web/restorePoints/x", KindRestorePoint, "cannot be nested"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web", KindCollection, "want a"},
		{"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/bad_name", KindVM, "invalid"},
		{"/subscriptions/s1/resourceGroups/rg./providers/Microsoft.Compute/virtualMachines/web", KindVM, "cannot end"},
		{"/subscriptions/s 1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web", KindVM, "not allowed"},
		{"/subscriptions/s1/resourceGroups/rg/restorePointCollections/rpc1/restorePoints", KindRestorePoint, "type and a name"},
	}
	for _, tt := range tests {
		_, err := ParseIDOf(tt.kind, tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("ParseIDOf(%q) = %v, want an error containing %q", tt.in, err, tt.why)
		}
	}
}

func TestValidateName(t *testing.T) {
	good := map[string][]string{
		TypeRestorePointCollections: {"a", "rpc-1", "rpc_1", "rpc.1", "R_", strings.Repeat("a", 80)},
		TypeVirtualMachines:         {"web", "web-1", "web.1", strings.Repeat("v", 64)},
	}
	bad := map[string][]string{
		TypeRestorePointCollections: {"", "-a", "a-", "a.", "a b", "a/b", "a&b", strings.Repeat("a", 81), "ü"},
		TypeVirtualMachines:         {"", "web_1", "web-", "web.", strings.Repeat("v", 65)},
	}
	for typ, names := range good {
		for _, n := range names {
			if err := ValidateName(typ, n); err != nil {
				t.Errorf("ValidateName(%s, %q): %v", typ, n, err)
			}
		}
	}
	for typ, names := range bad {
		for _, n := range names {
			if err := ValidateName(typ, n); err == nil {
				t.Errorf("ValidateName(%s, %q) = nil, want an error", typ, n)
			}
		}
	}
}

func TestNormalizeLocation(t *testing.T) {
	for in, want := range map[string]string{"westus": "westus", "West US": "westus", " EastUS2 ": "eastus2", "eu-west-1": "eu-west-1"} {
		if got, err := NormalizeLocation(in); err != nil || got != want {
			t.Errorf("NormalizeLocation(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "   ", "west/us", "-west", "wëst"} {
		if _, err := NormalizeLocation(in); err == nil {
			t.Errorf("NormalizeLocation(%q) = nil error", in)
		}
	}
}

func TestValidateTags(t *testing.T) {
	if err := ValidateTags(map[string]string{"department": "finance"}); err != nil {
		t.Error(err)
	}
	many := map[string]string{}
	for i := range 51 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	for _, tags := range []map[string]string{
		many,
		{"": "v"},
		{"a/b": "v"},
		{"a%b": "v"},
		{strings.Repeat("k", 513): "v"},
		{"k": strings.Repeat("v", 257)},
	} {
		if err := ValidateTags(tags); err == nil {
			t.Errorf("ValidateTags(%d tags) = nil", len(tags))
		}
	}
}

func TestValidateAPIVersion(t *testing.T) {
	for _, v := range []string{"2024-11-01", "2024-03-02", "2021-04-01-preview"} {
		if err := ValidateAPIVersion(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"", "latest", "2024-11", "2024-11-01-", "1.0"} {
		if err := ValidateAPIVersion(v); err == nil {
			t.Errorf("ValidateAPIVersion(%q) = nil", v)
		}
	}
}

func TestCanonicalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/subscriptions/S/resourcegroups/RG/providers/microsoft.compute/restorepointcollections/Rpc/restorepoints/RP",
			"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/restorePointCollections/Rpc/restorePoints/RP"},
		// Names that look like keywords stay as they are.
		{"/subscriptions/s/resourceGroups/Disks/providers/Microsoft.Compute/virtualMachines/Disks",
			"/subscriptions/s/resourceGroups/Disks/providers/Microsoft.Compute/virtualMachines/Disks"},
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/",
			"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections"},
		{"/subscriptions/", "/subscriptions/"},
		{"/subscriptions/s/providers/MICROSOFT.COMPUTE/LOCATIONS/westus/OPERATIONS/abc",
			"/subscriptions/s/providers/Microsoft.Compute/locations/westus/operations/abc"},
		{"/Subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c/restorePoints/p/diskrestorepoints/d/BEGINGETACCESS",
			"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c/restorePoints/p/diskRestorePoints/d/beginGetAccess"},
	}
	for _, tt := range tests {
		if got := canonicalPath(tt.in); got != tt.want {
			t.Errorf("canonicalPath(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalRequestMovesAPIVersion(t *testing.T) {
	// The pages write PUT .../restorePointCollections/{name}&api-version={v}.
	r := httptest.NewRequest("PUT", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1&api-version=2024-11-01", nil)
	r2, ok := canonicalRequest(r)
	if !ok {
		t.Fatal("not rewritten")
	}
	if r2.URL.Path != "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1" {
		t.Errorf("path %q", r2.URL.Path)
	}
	if v := r2.URL.Query().Get("api-version"); v != "2024-11-01" {
		t.Errorf("api-version %q", v)
	}
	r = httptest.NewRequest("GET", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/rpc1?api-version=2024-11-01", nil)
	if _, ok := canonicalRequest(r); ok {
		t.Error("canonical request rewritten")
	}
}

func TestFlexTypes(t *testing.T) {
	var d VMDisk
	if err := jsonUnmarshal(`{"lun":"3","diskSizeGB":10}`, &d); err != nil {
		t.Fatal(err)
	}
	if *d.Lun != 3 || *d.DiskSizeGB != 10 {
		t.Errorf("lun %d size %d", *d.Lun, *d.DiskSizeGB)
	}
	var lc LinuxConfiguration
	if err := jsonUnmarshal(`{"disablePasswordAuthentication":"TRUE","provisionVMAgent":false}`, &lc); err != nil {
		t.Fatal(err)
	}
	if !*lc.DisablePasswordAuthentication || *lc.ProvisionVMAgent {
		t.Errorf("%+v", lc)
	}
	if err := jsonUnmarshal(`{"lun":"x"}`, &d); err == nil {
		t.Error("lun x accepted")
	}
	if err := jsonUnmarshal(`{"provisionVMAgent":"true|false"}`, &lc); err == nil {
		t.Error("true|false accepted")
	}
	b := mustJSON(RPDisk{Lun: d.Lun, DiskSizeGB: d.DiskSizeGB})
	if string(b) != `{"lun":3,"diskSizeGB":10}` {
		t.Errorf("encoded %s", b)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
