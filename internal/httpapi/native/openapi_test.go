package native_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	cairnapi "github.com/cairn-vm/cairn/api"
	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/httpapitest"
	"github.com/cairn-vm/cairn/internal/httpapi/native"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// loadSpec loads and validates api/openapi.yaml.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(cairnapi.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	return doc
}

// TestOpenAPIRoutes checks that every native route is described, and
// every described operation is served.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadSpec(t)
	served := map[string]bool{}
	for _, r := range native.Routes() {
		path := strings.TrimPrefix(r.Path, nativeapi.Prefix)
		key := r.Method + " " + path
		served[key] = true
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(r.Method) == nil {
			t.Errorf("route %s %s is not in openapi.yaml", r.Method, r.Path)
		}
	}
	var described []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			key := method + " " + path
			described = append(described, key)
			if !served[key] {
				t.Errorf("openapi.yaml describes %s, which the server does not serve", key)
			}
		}
	}
	sort.Strings(described)
	if len(described) != len(served) {
		t.Errorf("%d operations described, %d routes served", len(described), len(served))
	}
}

// recorded is one response the server gave.
type recorded struct {
	method, path string
	status       int
	contentType  string
	body         []byte
}

// recorder is a RoundTripper that keeps every response.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []recorded
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.got = append(r.got, recorded{req.Method, req.URL.EscapedPath(), resp.StatusCode, resp.Header.Get("Content-Type"), body})
	r.mu.Unlock()
	return resp, nil
}

// TestOpenAPIResponses drives the walkthrough, error cases included,
// through the client and validates every response against the schema of
// its route and status.
func TestOpenAPIResponses(t *testing.T) {
	doc := loadSpec(t)
	s := httpapitest.Start(t, httpapitest.Options{})
	rec := &recorder{next: s.Client.Transport}
	hc := &http.Client{Transport: rec, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.New(s.URL, client.Options{Token: s.AdminToken, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	anon, _ := client.New(s.URL, client.Options{Token: "cairn_bad", HTTPClient: hc})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.WhoAmI(ctx)
	must(err)
	_, err = anon.WhoAmI(ctx)
	if err == nil {
		t.Fatal("a bad token was accepted")
	}
	_, err = c.ListRegions(ctx)
	must(err)
	p, err := c.CreateProject(ctx, nativeapi.ProjectSpec{Name: "team-b"})
	must(err)
	_, err = c.ListProjects(ctx, nativeapi.Page{})
	must(err)
	tok, err := c.CreateToken(ctx, nativeapi.TokenSpec{ProjectID: p.ID, Name: "b", TTLSeconds: 3600})
	must(err)
	_, err = c.ListTokens(ctx, p.ID, nativeapi.Page{})
	must(err)
	must(c.DeleteToken(ctx, tok.Token.ID))
	ak, err := c.CreateAccessKey(ctx, nativeapi.AccessKeySpec{ProjectID: p.ID, Name: "sdk"})
	must(err)
	if len(ak.SecretKey) != 40 || len(ak.AccessKey.ID) != 20 || len(ak.RegionalProjects) != 2 {
		t.Errorf("CreateAccessKey = %+v", ak)
	}
	_, err = c.CreateAccessKey(ctx, nativeapi.AccessKeySpec{ProjectID: p.ID, Name: "sdk"}) // taken: 409
	if err == nil {
		t.Error("a taken access key name was accepted")
	}
	_, err = c.ListAccessKeys(ctx, p.ID)
	must(err)
	_, err = c.ListRegionalProjects(ctx, p.ID)
	must(err)
	must(c.DeleteAccessKey(ctx, ak.AccessKey.ID))
	img := makeImage(t, 2<<20)
	vm, _, err := c.RegisterVM(ctx, nativeapi.VMSpec{ResourceGroup: "rg", Name: "web", Region: "eastus",
		Disks: []nativeapi.DiskSpec{{Name: "os", Path: img, OS: true}}, Tags: map[string]string{"env": "test"}})
	must(err)
	_, _, err = c.RegisterVM(ctx, nativeapi.VMSpec{ResourceGroup: "rg", Name: "web", Region: "eastus",
		Disks: []nativeapi.DiskSpec{{Name: "os", Path: img, OS: true}}})
	must(err)
	_, err = c.ListVMs(ctx, nativeapi.VMFilter{}, nativeapi.Page{Size: 10})
	must(err)
	_, err = c.GetVM(ctx, vm.ID)
	must(err)
	_, err = c.GetVM(ctx, "nope")
	if err == nil {
		t.Fatal("a missing VM was found")
	}
	v1, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: "rg", Name: "east", SourceResourceID: vm.ID})
	must(err)
	_, err = c.GetVault(ctx, v1.ID)
	must(err)
	rp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: v1.ID, Name: "rp1"})
	must(err)
	_, err = client.WaitOperation(ctx, c, rp.Operation.ID, 20*time.Millisecond)
	must(err)
	v2, _, err := c.CreateVault(ctx, nativeapi.VaultSpec{ResourceGroup: "rg", Name: "west", Region: "westus", SourceVaultID: v1.ID})
	must(err)
	cp, err := c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: v2.ID, Name: "rp1-copy", SourcePointID: rp.RestorePoint.ID})
	must(err)
	_, err = client.WaitOperation(ctx, c, cp.Operation.ID, 20*time.Millisecond)
	must(err)
	_, err = c.GetRestorePoint(ctx, cp.RestorePoint.ID)
	must(err)
	_, err = c.ListRestorePoints(ctx, "", nativeapi.Page{})
	must(err)
	_, err = c.ListVaults(ctx, nativeapi.Page{})
	must(err)
	_, err = c.ListOperations(ctx, nativeapi.OperationFilter{Kind: "copy"}, nativeapi.Page{})
	must(err)
	_, err = c.CancelOperation(ctx, cp.Operation.ID) // finished: 409
	if err == nil {
		t.Error("canceling a finished operation succeeded")
	}
	_, err = c.CreateRestorePoint(ctx, nativeapi.RestorePointSpec{VaultID: v1.ID, Name: "rp1"}) // taken: 409
	if err == nil {
		t.Error("a taken name was accepted")
	}
	op, err := c.DeleteRestorePoint(ctx, cp.RestorePoint.ID)
	must(err)
	_, err = client.WaitOperation(ctx, c, op.ID, 20*time.Millisecond)
	must(err)
	op, err = c.DeleteVault(ctx, v2.ID)
	must(err)
	_, err = client.WaitOperation(ctx, c, op.ID, 20*time.Millisecond)
	must(err)
	// Bad bodies, straight through the recording client.
	for _, body := range []string{`{"name":`, `{"name":"x","extra":1}`, `{"pad":"` + strings.Repeat("x", 2<<20) + `"}`} {
		req, _ := http.NewRequest("POST", s.URL+"/cairn/v1/vms", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		must(err)
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", s.URL+"/cairn/v1/openapi.yaml", nil)
	resp, err := hc.Do(req)
	must(err)
	resp.Body.Close()
	must(c.DeleteVM(ctx, vm.ID))

	// Resolve each response's route with a mux of the native patterns.
	mux := http.NewServeMux()
	for _, r := range native.Routes() {
		mux.HandleFunc(r.Method+" "+r.Path, func(http.ResponseWriter, *http.Request) {})
	}
	statuses := map[int]bool{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, g := range rec.got {
		req, _ := http.NewRequest(g.method, "https://x"+g.path, nil)
		_, pattern := mux.Handler(req)
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Errorf("%s %s: no route", g.method, g.path)
			continue
		}
		path = strings.TrimPrefix(path, nativeapi.Prefix)
		op := doc.Paths.Value(path).GetOperation(method)
		ref := op.Responses.Status(g.status)
		if ref == nil || ref.Value == nil {
			t.Errorf("%s %s answered %d, which openapi.yaml does not list", g.method, path, g.status)
			continue
		}
		statuses[g.status] = true
		if len(ref.Value.Content) == 0 {
			if len(g.body) != 0 {
				t.Errorf("%s %s %d: a body where none is described: %s", g.method, path, g.status, g.body)
			}
			continue
		}
		mt := strings.TrimSpace(strings.Split(g.contentType, ";")[0])
		media := ref.Value.Content.Get(mt)
		if media == nil {
			t.Errorf("%s %s %d: Content-Type %q is not described", g.method, path, g.status, g.contentType)
			continue
		}
		if mt != "application/json" {
			continue
		}
		var v any
		if err := json.Unmarshal(g.body, &v); err != nil {
			t.Errorf("%s %s %d: not JSON: %v", g.method, path, g.status, err)
			continue
		}
		if err := media.Schema.Value.VisitJSON(v); err != nil {
			t.Errorf("%s %s %d: the response does not match its schema: %v\n%s", g.method, path, g.status, err, g.body)
		}
	}
	for _, want := range []int{200, 201, 202, 204, 401, 404, 409, 400, 413} {
		if !statuses[want] {
			t.Errorf("no response with status %d was checked", want)
		}
	}
	t.Logf("%d responses checked, statuses %v", len(rec.got), keys(statuses))
}

func keys(m map[int]bool) string {
	var out []string
	for k := range m {
		out = append(out, strconv.Itoa(k))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
