package arm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/arm"
	"github.com/cairn-vm/cairn/internal/service"
	"github.com/cairn-vm/cairn/internal/vault"
)

// api is the api-version the tests send, that of armcompute's restore
// point operations.
const api = "2024-11-01"

// envOptions tune a test environment.
type envOptions struct {
	PageSize     int
	CopyRate     int64 // bytes per second of cross-region copies; 0 = no limit
	BackupRate   int64 // bytes per second of backups; 0 = no limit
	MaxBodyBytes int64
}

// env is a running cairn: the service on a temporary data directory and
// the HTTPS server with the ARM dialect, on 127.0.0.1.
type env struct {
	t      *testing.T
	svc    *service.Service
	caller service.Caller
	url    string // https://127.0.0.1:port
	sub    string // the default project: the subscription
	token  string // its admin token's secret
	client *http.Client
	tls    *tls.Config // trusts the server's self-signed certificate
	dir    string      // scratch space for images
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	svc, err := service.Open(ctx, service.Config{
		DataDir:    data,
		KDF:        &vault.TestKDF,
		ChunkSize:  64 << 10,
		BackupRate: o.BackupRate,
		Copy:       service.CopyConfig{Rate: o.CopyRate},
		Jobs:       service.JobsConfig{Workers: 4, Lease: 5 * time.Second, Poll: 20 * time.Millisecond, ProgressEvery: 20 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	boot, err := svc.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	caller, err := svc.Authenticate(ctx, boot.AdminSecret)
	if err != nil {
		t.Fatal(err)
	}

	certFile, keyFile, _, err := httpapi.EnsureSelfSigned(data, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, err := httpapi.LoadTLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	clientTLS, err := httpapi.ClientTLSConfig(certFile)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(httpapi.Config{
		Service:      svc,
		Dialects:     []httpapi.Dialect{arm.New(arm.Options{PageSize: o.PageSize, RetryAfter: 50 * time.Millisecond})},
		TLS:          serverTLS,
		MaxBodyBytes: o.MaxBodyBytes,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &env{
		t:      t,
		svc:    svc,
		caller: caller,
		url:    "https://" + ln.Addr().String(),
		sub:    boot.Project.ID,
		token:  boot.AdminSecret,
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}, Timeout: 30 * time.Second},
		tls:    clientTLS,
		dir:    dir,
	}
}

// rgPath returns the path of a resource group's Microsoft.Compute
// resources.
func (e *env) rgPath(rg string) string {
	return "/subscriptions/" + e.sub + "/resourceGroups/" + rg + "/providers/Microsoft.Compute"
}

// response is an HTTP response, read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// armError decodes an ARM error body.
func (r *response) armError() arm.ErrorDetail {
	var e arm.ErrorResponse
	_ = json.Unmarshal(r.body, &e)
	return e.Error
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

// do sends a request with the admin token. body is JSON-encoded unless it
// is a string or []byte.
func (e *env) do(method, path string, body any) *response {
	return e.doToken(e.token, method, path, body)
}

func (e *env) doToken(token, method, path string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = e.url + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// image is a disk image file written for a test.
type image struct {
	path string
	data []byte
}

func (im image) uri() string { return "file://" + im.path }

func (im image) sha() string {
	s := sha256.Sum256(im.data)
	return hex.EncodeToString(s[:])
}

// writeImage writes a raw disk image of size bytes: random data, text and
// runs of zeros (which restore as holes), the same for the same seed.
func (e *env) writeImage(name string, size int, seed uint64) image {
	e.t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	data := make([]byte, size)
	const block = 32 << 10
	for off, i := 0, 0; off < size; off, i = off+block, i+1 {
		end := min(off+block, size)
		switch i % 4 {
		case 0, 1: // random
			for j := off; j < end; j++ {
				data[j] = byte(r.Uint32())
			}
		case 2: // text
			var b bytes.Buffer
			for b.Len() < end-off {
				fmt.Fprintf(&b, "%s line %d: the quick brown fox jumps over the lazy dog %d\n", name, i, r.IntN(1000000))
			}
			copy(data[off:end], b.Bytes())
		case 3: // zeros
		}
	}
	path := filepath.Join(e.dir, name+".raw")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return image{path: path, data: data}
}

// vmBody is the body of a VM PUT with an OS disk and data disks, as the
// Azure pages write one.
func vmBody(location string, osDisk image, osName string, data map[string]image) map[string]any {
	var dataDisks []any
	lun := 0
	for name, im := range data {
		dataDisks = append(dataDisks, map[string]any{"lun": lun, "name": name, "vhd": map[string]any{"uri": im.uri()}, "createOption": "Attach", "caching": "ReadOnly"})
		lun++
	}
	return map[string]any{
		"location": location,
		"tags":     map[string]string{"role": "web"},
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "Standard_A1"},
			"osProfile": map[string]any{
				"computerName":  "web01",
				"adminUsername": "azureuser",
				"adminPassword": "not-returned",
				"linuxConfiguration": map[string]any{
					"disablePasswordAuthentication": true,
					"ssh":                           map[string]any{"publicKeys": []any{map[string]any{"path": "/home/azureuser/.ssh/authorized_keys", "keyData": "ssh-ed25519 AAAA test"}}},
				},
			},
			"storageProfile": map[string]any{
				"osDisk":    map[string]any{"osType": "Linux", "name": osName, "vhd": map[string]any{"uri": osDisk.uri()}, "caching": "ReadWrite", "createOption": "Attach"},
				"dataDisks": dataDisks,
			},
			"diagnosticsProfile": map[string]any{"bootDiagnostics": map[string]any{"enabled": true, "storageUri": "http://storageaccount.blob.core.windows.net/"}},
		},
	}
}

// counts are how many records of each kind the caller's project holds.
type counts struct {
	vms, vaults, points, volumes, ops int
}

// count counts the project's records through the service.
func (e *env) count() counts {
	e.t.Helper()
	ctx := context.Background()
	var c counts
	all := func(list func(catalog.Page) (int, string, error)) int {
		n, page := 0, catalog.Page{Size: catalog.MaxPageSize}
		for {
			k, next, err := list(page)
			if err != nil {
				e.t.Fatal(err)
			}
			n += k
			if next == "" {
				return n
			}
			page.Token = next
		}
	}
	c.vms = all(func(p catalog.Page) (int, string, error) {
		l, n, err := e.svc.ListVMs(ctx, e.caller, service.VMFilter{}, p)
		return len(l), n, err
	})
	c.vaults = all(func(p catalog.Page) (int, string, error) {
		l, n, err := e.svc.ListVaults(ctx, e.caller, service.VaultFilter{}, p)
		return len(l), n, err
	})
	c.points = all(func(p catalog.Page) (int, string, error) {
		l, n, err := e.svc.ListRestorePoints(ctx, e.caller, "", p)
		return len(l), n, err
	})
	c.volumes = all(func(p catalog.Page) (int, string, error) {
		l, n, err := e.svc.ListVolumes(ctx, e.caller, service.VMFilter{}, p)
		return len(l), n, err
	})
	c.ops = all(func(p catalog.Page) (int, string, error) {
		l, n, err := e.svc.ListOperations(ctx, e.caller, service.OperationFilter{}, p)
		return len(l), n, err
	})
	return c
}

// waitOps waits until none of the project's operations is active.
func (e *env) waitOps() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ops, _, err := e.svc.ListOperations(context.Background(), e.caller,
			service.OperationFilter{States: []catalog.OpState{catalog.OpQueued, catalog.OpRunning}}, catalog.Page{Size: 1})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ops) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatal("operations still active after 30 s")
}

// pollOperation follows an Azure-AsyncOperation URL until the operation
// is final, and returns its last status.
func (e *env) pollOperation(asyncURL string) arm.OperationStatus {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := e.do("GET", asyncURL, nil)
		if r.status != http.StatusOK {
			e.t.Fatalf("GET %s: %s", asyncURL, r)
		}
		var st arm.OperationStatus
		if err := json.Unmarshal(r.body, &st); err != nil {
			e.t.Fatal(err)
		}
		if st.Status != arm.StatusInProgress {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("operation %s still in progress after 30 s", asyncURL)
	return arm.OperationStatus{}
}

// catalogPage is a page big enough for a test's records.
func catalogPage() catalog.Page { return catalog.Page{Size: catalog.MaxPageSize} }
