package native_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/httpapitest"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// makeImage writes a disk image of size bytes with some data in it.
func makeImage(t *testing.T, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte("cairn test data "), 4096), 0); err != nil {
		t.Fatal(err)
	}
	return path
}

// do sends a request to the server and returns the status and body.
func do(t *testing.T, s *httpapitest.Server, method, path, secret, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func vmBody(name, path string) string {
	b, _ := json.Marshal(nativeapi.VMSpec{ResourceGroup: "rg", Name: name, Region: "eastus",
		Disks: []nativeapi.DiskSpec{{Name: "os", Path: path, OS: true}}})
	return string(b)
}

func listVMs(t *testing.T, s *httpapitest.Server, secret string) []nativeapi.VM {
	t.Helper()
	status, _, body := do(t, s, "GET", "/cairn/v1/vms", secret, "")
	if status != 200 {
		t.Fatalf("list VMs: %d %s", status, body)
	}
	var l nativeapi.List[nativeapi.VM]
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func TestRegisterAndIsolation(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{})
	img := makeImage(t, 4<<20)

	status, hdr, body := do(t, s, "POST", "/cairn/v1/vms", s.AdminToken, vmBody("web", img))
	if status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, body)
	}
	var vm nativeapi.VM
	if err := json.Unmarshal(body, &vm); err != nil {
		t.Fatal(err)
	}
	if vm.Name != "web" || len(vm.Disks) != 1 || vm.Disks[0].Size != 4<<20 || !strings.HasPrefix(vm.ID, "/subscriptions/"+s.ProjectID+"/") {
		t.Fatalf("registered VM: %+v", vm)
	}
	if loc := hdr.Get("Location"); loc != "/cairn/v1/vms/"+url.PathEscape(vm.ID) {
		t.Errorf("Location %q", loc)
	}
	vmPath := "/cairn/v1/vms/" + url.PathEscape(vm.ID)
	if status, _, body := do(t, s, "GET", vmPath, s.AdminToken, ""); status != 200 || !strings.Contains(string(body), `"name":"web"`) {
		t.Fatalf("get VM: %d %s", status, body)
	}
	if got := listVMs(t, s, s.AdminToken); len(got) != 1 || got[0].ID != vm.ID {
		t.Fatalf("list: %+v", got)
	}
	// Registering again replaces: 200.
	if status, _, body := do(t, s, "POST", "/cairn/v1/vms", s.AdminToken, vmBody("web", img)); status != 200 {
		t.Fatalf("register again: %d %s", status, body)
	}

	// Project B's token reaches nothing of project A's: 404, as if absent.
	_, secretB := s.NewProject(t, "team-b")
	status, _, bodyB := do(t, s, "GET", vmPath, secretB, "")
	if status != http.StatusNotFound {
		t.Fatalf("B gets A's VM: %d %s", status, bodyB)
	}
	status, _, bodyMissing := do(t, s, "GET", "/cairn/v1/vms/"+url.PathEscape(strings.Replace(vm.ID, "/web", "/nope", 1)), s.AdminToken, "")
	if status != http.StatusNotFound {
		t.Fatalf("missing VM: %d %s", status, bodyMissing)
	}
	var eB, eMissing nativeapi.ErrorBody
	json.Unmarshal(bodyB, &eB)
	json.Unmarshal(bodyMissing, &eMissing)
	if eB.Error.Code != nativeapi.CodeNotFound || eMissing.Error.Code != nativeapi.CodeNotFound {
		t.Errorf("codes %q %q", eB.Error.Code, eMissing.Error.Code)
	}
	if got := listVMs(t, s, secretB); len(got) != 0 {
		t.Errorf("B lists A's VMs: %+v", got)
	}
	if status, _, body := do(t, s, "DELETE", vmPath, secretB, ""); status != http.StatusNotFound {
		t.Errorf("B deletes A's VM: %d %s", status, body)
	}
	if status, _, body := do(t, s, "POST", "/cairn/v1/tokens", secretB, `{"name":"sneaky","admin":true}`); status != http.StatusForbidden {
		t.Errorf("B makes an admin token: %d %s", status, body)
	}
	if got := listVMs(t, s, s.AdminToken); len(got) != 1 {
		t.Fatalf("A's VM is gone: %+v", got)
	}
	// A's own delete works.
	if status, _, body := do(t, s, "DELETE", vmPath, s.AdminToken, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, _, _ := do(t, s, "GET", vmPath, s.AdminToken, ""); status != http.StatusNotFound {
		t.Errorf("deleted VM: %d", status)
	}
}

func TestUnauthenticated(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{})
	for _, secret := range []string{"", "cairn_not_a_real_token"} {
		status, hdr, body := do(t, s, "GET", "/cairn/v1/vms", secret, "")
		var e nativeapi.ErrorBody
		if status != http.StatusUnauthorized || json.Unmarshal(body, &e) != nil || e.Error.Code != nativeapi.CodeUnauthorized {
			t.Errorf("token %q: %d %s", secret, status, body)
		}
		if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
		}
	}
	if status, _, body := do(t, s, "GET", "/cairn/v1/openapi.yaml", "", ""); status != 200 || !bytes.HasPrefix(body, []byte("openapi: 3.")) {
		t.Errorf("openapi.yaml: %d", status)
	}
}

// TestBadInputChangesNothing sends oversized and malformed bodies: each
// gets a clear 4xx, and the catalog is unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{})
	img := makeImage(t, 1<<20)
	if status, _, body := do(t, s, "POST", "/cairn/v1/vms", s.AdminToken, vmBody("keep", img)); status != 201 {
		t.Fatalf("register: %d %s", status, body)
	}
	huge := `{"resourceGroup":"rg","name":"big","region":"eastus","disks":[{"name":"os","path":"` + img + `"}],"tags":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`
	cases := []struct {
		name, body string
		status     int
		code, want string
	}{
		{"2 MiB", huge, 413, nativeapi.CodeTooLarge, "too large"},
		{"syntax", `{"resourceGroup":"rg","name":"bad",}`, 400, nativeapi.CodeInvalid, "malformed JSON at byte"},
		{"truncated", `{"resourceGroup":"rg","name":"bad"`, 400, nativeapi.CodeInvalid, "ends in the middle"},
		{"unknown field", `{"resourceGroup":"rg","name":"bad","region":"eastus","disk":[]}`, 400, nativeapi.CodeInvalid, `unknown field \"disk\"`},
		{"wrong type", `{"resourceGroup":"rg","name":"bad","region":"eastus","disks":"os"}`, 400, nativeapi.CodeInvalid, "disks must be an array"},
		{"bad name", vmBody("bad name!", img), 400, nativeapi.CodeInvalid, "name"},
		{"no disk", `{"resourceGroup":"rg","name":"bad","region":"eastus","disks":[]}`, 400, nativeapi.CodeInvalid, "disk"},
		{"missing image", vmBody("bad", filepath.Join(t.TempDir(), "nope.raw")), 0, "", "nope.raw"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(t, s, "POST", "/cairn/v1/vms", s.AdminToken, tc.body)
			var e nativeapi.ErrorBody
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("%d, body not an error: %s", status, body)
			}
			if status < 400 || status >= 500 || (tc.status != 0 && status != tc.status) || (tc.code != "" && e.Error.Code != tc.code) || !strings.Contains(string(body), tc.want) {
				t.Fatalf("got %d %s, want %d %s with %q", status, body, tc.status, tc.code, tc.want)
			}
		})
	}
	got := listVMs(t, s, s.AdminToken)
	if len(got) != 1 || got[0].Name != "keep" {
		t.Fatalf("the catalog changed: %+v", got)
	}
	// A huge body on a route that reads none is refused too, or ignored:
	// never a 5xx.
	if status, _, body := do(t, s, "POST", "/cairn/v1/operations/x/cancel", s.AdminToken, huge); status >= 500 {
		t.Errorf("cancel with a huge body: %d %s", status, body)
	}
}

// TestClient drives the API through the Go client: the walkthrough from
// a VM to a copied restore point.
func TestClient(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.New(s.URL, client.Options{Token: s.AdminToken, CACert: s.CACert})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.WhoAmI(ctx)
	if err != nil || who.ProjectID != s.ProjectID || !who.Admin {
		t.Fatalf("whoami: %+v %v", who, err)
	}
	regions, err := c.ListRegions(ctx)
	if err != nil || len(regions.Items) != 2 {
		t.Fatalf("regions: %+v %v", regions, err)
	}
	img := makeImage(t, 2<<20)
	vm, created, err := c.RegisterVM(ctx, nativeapi.VMSpec{ResourceGroup: "rg", Name: "web", Region: "eastus",
		Disks: []nativeapi.DiskSpec{{Name: "os", Path: img, OS: true}}})
	if err != nil || !created {
		t.Fatalf("register: %v", err)
	}
	if _, err := c.GetVM(ctx, vm.ID+"x"); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("missing VM: %v", err)
	}
	v1, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: "rg", Name: "web-east", SourceResourceID: vm.ID})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: v1.ID, Name: "rp1"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := client.WaitOperation(ctx, c, rp.Operation.ID, 20*time.Millisecond)
	if err != nil || op.State != "succeeded" {
		t.Fatalf("backup: %+v %v", op, err)
	}
	v2, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: "rg", Name: "web-west", Region: "westus", SourceVaultID: v1.ID})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: v2.ID, Name: "rp1-copy", SourcePointID: rp.RestorePoint.ID})
	if err != nil {
		t.Fatal(err)
	}
	if op, err := client.WaitOperation(ctx, c, cp.Operation.ID, 20*time.Millisecond); err != nil || op.State != "succeeded" {
		t.Fatalf("copy: %+v %v", op, err)
	}
	got, err := c.GetRestorePoint(ctx, cp.RestorePoint.ID)
	if err != nil || !got.Restorable || got.Region != "westus" || got.Disks[0].Percent != 100 {
		t.Fatalf("copied point: %+v %v", got, err)
	}
	list, err := c.ListOperations(ctx, nativeapi.OperationFilter{States: []string{"succeeded"}}, nativeapi.Page{})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("operations: %+v %v", list, err)
	}
	if _, err := c.ListOperations(ctx, nativeapi.OperationFilter{States: []string{"done"}}, nativeapi.Page{}); !cairn.IsKind(err, cairn.Invalid) {
		t.Errorf("bad state filter: %v", err)
	}
	bad, _ := client.New(s.URL, client.Options{Token: "cairn_wrong", CACert: s.CACert})
	if _, err := bad.WhoAmI(ctx); !cairn.IsKind(err, cairn.Permission) {
		t.Errorf("wrong token: %v", err)
	}
	untrusting, _ := client.New(s.URL, client.Options{Token: s.AdminToken})
	if _, err := untrusting.WhoAmI(ctx); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA trusted the server: %v", err)
	}
}
