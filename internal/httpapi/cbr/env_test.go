package cbr_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	cbrsdk "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cbr/v1"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/arm"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
	"github.com/cairn-vm/cairn/internal/service"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/vault"
)

// The regions of the test server.
const (
	east = "eastus"
	west = "westus"
)

// envOptions tune a test environment.
type envOptions struct {
	Clock       clock.Clock // the service's clock (and the scheduler's); nil is real
	SchedPoll   time.Duration
	CopyWorkers int
	Accelerated int
	WrapStorage func(region string, b storage.Backend) storage.Backend
	ChunkSize   int
	BackupRate  int64 // bytes per second of backups; 0 = no limit
}

// env is a running cairn with the CBR and ARM dialects over TLS on
// 127.0.0.1, and one tenant with an AK/SK and a token.
type env struct {
	t         *testing.T
	svc       *service.Service
	url       string
	transport *http.Transport // trusts the server's certificate
	client    *http.Client
	dir       string // scratch space for images
	tenant    *tenant
}

// tenant is a project with its credentials and regional project ids.
type tenant struct {
	project  string
	caller   service.Caller
	ak, sk   string
	token    string
	regional map[string]string // region -> regional project id
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if o.ChunkSize == 0 {
		o.ChunkSize = 64 << 10
	}
	svc, err := service.Open(ctx, service.Config{
		DataDir:     data,
		Regions:     []string{east, west},
		KDF:         &vault.TestKDF,
		ChunkSize:   o.ChunkSize,
		Clock:       o.Clock,
		Copy:        service.CopyConfig{Workers: o.CopyWorkers, AcceleratedWorkers: o.Accelerated},
		Schedule:    service.ScheduleConfig{Poll: o.SchedPoll},
		WrapStorage: o.WrapStorage,
		BackupRate:  o.BackupRate,
		Jobs:        service.JobsConfig{Workers: 4, Lease: 5 * time.Second, Poll: 20 * time.Millisecond, ProgressEvery: 20 * time.Millisecond},
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
		Service:  svc,
		Dialects: []httpapi.Dialect{arm.New(arm.Options{}), cbr.New(cbr.Options{})},
		TLS:      serverTLS,
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
	tr := &http.Transport{TLSClientConfig: clientTLS}
	e := &env{t: t, svc: svc, url: "https://" + ln.Addr().String(), transport: tr,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, dir: dir}
	e.tenant = e.newTenant(boot.Project.ID)
	return e
}

// newTenant makes credentials for a project: an AK/SK, a token, and its
// regional project ids.
func (e *env) newTenant(projectID string) *tenant {
	e.t.Helper()
	ctx := context.Background()
	admin := service.SystemCaller(projectID)
	k, sk, err := e.svc.CreateAccessKey(ctx, admin, service.AccessKeySpec{Name: "sdk"})
	if err != nil {
		e.t.Fatal(err)
	}
	_, token, err := e.svc.CreateToken(ctx, admin, service.TokenSpec{Name: "cbr"})
	if err != nil {
		e.t.Fatal(err)
	}
	rps, err := e.svc.RegionalProjects(ctx, admin, "")
	if err != nil {
		e.t.Fatal(err)
	}
	tn := &tenant{project: projectID, caller: service.Caller{ProjectID: projectID, TokenID: "test"}, ak: k.ID, sk: sk, token: token, regional: map[string]string{}}
	for _, rp := range rps {
		tn.regional[rp.Region] = rp.ID
	}
	return tn
}

// otherTenant makes a second project with its credentials.
func (e *env) otherTenant(name string) *tenant {
	e.t.Helper()
	p, err := e.svc.CreateProject(context.Background(), service.SystemCaller(e.tenant.project), service.ProjectSpec{Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.newTenant(p.ID)
}

// sdk returns the official SDK's CbrClient for a tenant's project in a
// region, signing with ak/sk, with cairn's endpoint and the server's
// certificate trusted through the SDK's HttpConfig.
func (e *env) sdk(ak, sk, projectID string) *cbrsdk.CbrClient {
	e.t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	hc, err := cbrsdk.CbrClientBuilder().
		WithRegion(region.NewRegion("cairn", e.url)).
		WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig().WithHttpTransport(e.transport)).
		SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	return cbrsdk.NewCbrClient(hc)
}

// tenantSDK is the tenant's client in a region.
func (e *env) tenantSDK(tn *tenant, region string) *cbrsdk.CbrClient {
	return e.sdk(tn.ak, tn.sk, tn.regional[region])
}

// sdkError returns err as the SDK's error for a non-2xx answer.
func sdkError(t *testing.T, err error) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v, want *sdkerr.ServiceResponseError", err, err)
	}
	return se
}

// nextSecond sleeps until the wall clock's second changes: the SDK signs
// with one-second resolution, and the server refuses a signature it has
// seen (a replay), so the same request is sent again only in a later
// second, as a polling script does.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 5*time.Millisecond).Sub(now))
}

// response is a plain HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) cbrError() cbr.ErrorBody {
	var e cbr.ErrorBody
	json.Unmarshal(r.body, &e)
	return e
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request with X-Auth-Token.
func (e *env) do(token, method, path string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// image is a disk image file.
type image struct {
	path string
	size int
}

func (im image) sha() string {
	data, err := os.ReadFile(im.path)
	if err != nil {
		panic(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// writeImage writes an image of random data with a zero hole in the
// middle.
func (e *env) writeImage(name string, size int, seed uint64) image {
	e.t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	clear(data[size/4 : size/2])
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return image{path: p, size: size}
}

// vm registers a VM of the tenant with an OS disk and a data disk.
func (e *env) vm(tn *tenant, name, region string, seed uint64) (*catalog.Resource, image, image) {
	e.t.Helper()
	osd := e.writeImage(name+"-os.raw", 512<<10, seed)
	data := e.writeImage(name+"-data.raw", 256<<10, seed+1)
	vm, _, err := e.svc.RegisterVM(context.Background(), tn.caller, service.VMSpec{
		ResourceGroup: "rg", Name: name, Region: region,
		Disks: []service.DiskSpec{{Name: "os", Path: osd.path, OS: true}, {Name: "data", Path: data.path, Lun: 0}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return vm, osd, data
}

// waitOps waits until the tenant has no active operation.
func (e *env) waitOps(tn *tenant) {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ops, _, err := e.svc.ListOperations(ctx, tn.caller, service.OperationFilter{States: []catalog.OpState{catalog.OpQueued, catalog.OpRunning}}, catalog.Page{Size: 1})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ops) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatal("operations still running after 30 s")
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// jsonField returns a string field of a JSON body, by its path.
func jsonField(t *testing.T, body []byte, path ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("body %s has no %v", body, path)
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
