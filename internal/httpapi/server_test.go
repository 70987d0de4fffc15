package httpapi_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/service"
)

// fakeAuth knows secrets by a map.
type fakeAuth map[string]service.Caller

func (a fakeAuth) Authenticate(ctx context.Context, secret string) (service.Caller, error) {
	if c, ok := a[secret]; ok {
		return c, nil
	}
	return service.Caller{}, cairn.E(cairn.Permission, errors.New("unknown token"))
}

// testDialect serves a few routes that exercise the adapter.
type testDialect struct {
	// slow, when set, is closed by the slow handler once it has started,
	// and release makes it return.
	started chan struct{}
	release chan struct{}
	// canceled is closed when the slow handler's context ends.
	canceled chan struct{}
}

func (d *testDialect) Name() string { return "test" }

type echoBody struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func (d *testDialect) Register(mux *http.ServeMux, deps httpapi.Deps) {
	api := deps.API(func(w http.ResponseWriter, r *http.Request, e *httpapi.Error) {
		httpapi.WriteJSON(w, e.Status, map[string]string{"testError": e.Message})
	})
	mux.Handle("POST /test/echo", api.Handler(func(ctx context.Context, r *http.Request) (any, error) {
		var b echoBody
		if err := httpapi.DecodeJSON(r, &b); err != nil {
			return nil, err
		}
		c, _ := httpapi.CallerFrom(ctx)
		return map[string]any{"name": b.Name, "count": b.Count, "project": c.ProjectID}, nil
	}))
	mux.Handle("GET /test/kind/{kind}", api.Handler(func(ctx context.Context, r *http.Request) (any, error) {
		for k := cairn.Other; k <= cairn.Canceled; k++ {
			if k.String() == r.PathValue("kind") {
				return nil, cairn.E(k, fmt.Errorf("secret detail of a %s error", k))
			}
		}
		return &httpapi.Response{Status: http.StatusAccepted, Header: http.Header{"X-Test": {"yes"}}, Body: map[string]int{"n": 1}}, nil
	}))
	mux.Handle("GET /test/slow", api.Handler(func(ctx context.Context, r *http.Request) (any, error) {
		close(d.started)
		select {
		case <-d.release:
			return map[string]string{"slow": "done"}, nil
		case <-ctx.Done():
			close(d.canceled)
			return nil, ctx.Err()
		}
	}))
	mux.Handle("GET /test/panic", api.Public(func(ctx context.Context, r *http.Request) (any, error) {
		panic("boom")
	}))
}

const (
	secretA = "cairn_secret_of_project_a"
	secretB = "cairn_secret_of_project_b"
)

// testServer is a Server serving on loopback with a self-signed
// certificate.
type testServer struct {
	url     string
	client  *http.Client
	srv     *httpapi.Server
	cancel  context.CancelFunc
	done    chan error
	dialect *testDialect
}

func startTestServer(t *testing.T, shutdownTimeout time.Duration) *testServer {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile, created, err := httpapi.EnsureSelfSigned(dir, time.Now())
	if err != nil || !created {
		t.Fatalf("EnsureSelfSigned: created %v, %v", created, err)
	}
	tlsCfg, err := httpapi.LoadTLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	d := &testDialect{started: make(chan struct{}), release: make(chan struct{}), canceled: make(chan struct{})}
	srv, err := httpapi.New(httpapi.Config{
		Auth: fakeAuth{
			secretA: {ProjectID: "project-a", TokenID: "ta"},
			secretB: {ProjectID: "project-b", TokenID: "tb"},
		},
		Dialects:        []httpapi.Dialect{d},
		TLS:             tlsCfg,
		ShutdownTimeout: shutdownTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	clientTLS, err := httpapi.ClientTLSConfig(certFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{
		url:     "https://" + ln.Addr().String(),
		client:  &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}, Timeout: 10 * time.Second},
		srv:     srv,
		cancel:  cancel,
		done:    done,
		dialect: d,
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
		ts.client.CloseIdleConnections()
	})
	return ts
}

// call sends a request and returns the status and body.
func (ts *testServer) call(t *testing.T, method, path, secret string, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(data)
}

func TestSelfSignedCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key, created, err := httpapi.EnsureSelfSigned(dir, time.Now())
	if err != nil || !created {
		t.Fatalf("first call: created %v, err %v", created, err)
	}
	if cert != filepath.Join(dir, "tls", "cert.pem") || key != filepath.Join(dir, "tls", "key.pem") {
		t.Errorf("paths %s %s", cert, key)
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(cert)
	if _, _, created, err := httpapi.EnsureSelfSigned(dir, time.Now()); err != nil || created {
		t.Fatalf("second call: created %v, err %v", created, err)
	}
	after, _ := os.ReadFile(cert)
	if !bytes.Equal(before, after) {
		t.Error("the second call replaced the certificate")
	}
	block, _ := pem.Decode(after)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := c.VerifyHostname(ip); err != nil {
			t.Error(err)
		}
	}
	if c.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v, want ECDSA", c.PublicKeyAlgorithm)
	}
}

func TestAuth(t *testing.T) {
	ts := startTestServer(t, time.Second)
	body := `{"name":"x","count":1}`
	cases := []struct {
		name, secret, header string
		want                 int
	}{
		{"no token", "", "", http.StatusUnauthorized},
		{"bad token", "cairn_nope", "", http.StatusUnauthorized},
		{"not bearer", "", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"good token", secretA, "", http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.url+"/test/echo", strings.NewReader(body))
			if tc.secret != "" {
				req.Header.Set("Authorization", "Bearer "+tc.secret)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := ts.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, data)
			}
			if tc.want == http.StatusUnauthorized && !strings.Contains(string(data), `"testError"`) {
				t.Errorf("401 not in the dialect's shape: %s", data)
			}
			if tc.want == http.StatusOK && !strings.Contains(string(data), `"project":"project-a"`) {
				t.Errorf("the handler did not see the caller: %s", data)
			}
		})
	}
}

func TestBadBodies(t *testing.T) {
	ts := startTestServer(t, time.Second)
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"2 MiB", big, http.StatusRequestEntityTooLarge, "too large"},
		{"syntax", `{"name": "x",}`, http.StatusBadRequest, "malformed JSON at byte"},
		{"truncated", `{"name": "x"`, http.StatusBadRequest, "ends in the middle"},
		{"empty", ``, http.StatusBadRequest, "empty"},
		{"unknown field", `{"name":"x","colour":"red"}`, http.StatusBadRequest, `unknown field \"colour\"`},
		{"wrong type", `{"name":"x","count":"three"}`, http.StatusBadRequest, "count must be a number"},
		{"two values", `{"name":"x"} {"name":"y"}`, http.StatusBadRequest, "more than one JSON value"},
		{"not an object", `[1,2]`, http.StatusBadRequest, "must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := ts.call(t, "POST", "/test/echo", secretA, strings.NewReader(tc.body))
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s, want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
	// A body that is not JSON by its Content-Type.
	req, _ := http.NewRequest("POST", ts.url+"/test/echo", strings.NewReader(`name=x`))
	req.Header.Set("Authorization", "Bearer "+secretA)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: status %d, want 415", resp.StatusCode)
	}
}

func TestErrorKinds(t *testing.T) {
	ts := startTestServer(t, time.Second)
	cases := []struct {
		kind   string
		status int
	}{
		{"invalid", 400}, {"unsupported", 400}, {"permission", 403}, {"not exist", 404},
		{"exist", 409}, {"conflict", 409}, {"corrupt", 500}, {"io", 500}, {"other", 500}, {"canceled", 503},
		{"none", 202},
	}
	for _, tc := range cases {
		status, hdr, body := ts.call(t, "GET", "/test/kind/"+strings.ReplaceAll(tc.kind, " ", "%20"), secretA, nil)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.kind, status, tc.status, body)
		}
		if status >= 500 && strings.Contains(body, "secret detail") {
			t.Errorf("%s: a server error's cause reached the client: %s", tc.kind, body)
		}
		if status >= 400 && status < 500 && !strings.Contains(body, "secret detail") {
			t.Errorf("%s: a client error lost its message: %s", tc.kind, body)
		}
		if tc.kind == "none" && hdr.Get("X-Test") != "yes" {
			t.Errorf("Response headers lost: %v", hdr)
		}
	}
}

func TestHealthzNotFoundAndPanic(t *testing.T) {
	ts := startTestServer(t, time.Second)
	if status, _, body := ts.call(t, "GET", "/healthz", "", nil); status != 200 || body != "ok\n" {
		t.Errorf("healthz: %d %q", status, body)
	}
	if status, _, body := ts.call(t, "GET", "/no/such/route", "", nil); status != 404 || !strings.Contains(body, "no API route") {
		t.Errorf("unknown route: %d %q", status, body)
	}
	if status, _, body := ts.call(t, "GET", "/test/panic", "", nil); status != 500 || strings.Contains(body, "boom") {
		t.Errorf("panic: %d %q", status, body)
	}
}

func TestMetrics(t *testing.T) {
	ts := startTestServer(t, time.Second)
	for range 3 {
		ts.call(t, "POST", "/test/echo", secretA, strings.NewReader(`{"name":"m"}`))
	}
	ts.call(t, "POST", "/test/echo", "", strings.NewReader(`{}`))
	status, hdr, body := ts.call(t, "GET", "/metrics", "", nil)
	if status != 200 {
		t.Fatalf("metrics: %d %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("metrics do not parse as Prometheus text: %v", err)
	}
	reqs := families["cairn_http_requests_total"]
	if reqs == nil {
		t.Fatalf("no cairn_http_requests_total in %s", body)
	}
	counts := map[string]float64{}
	for _, m := range reqs.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		counts[labels["dialect"]+" "+labels["route"]+" "+labels["code"]] = m.GetCounter().GetValue()
	}
	if got := counts["test POST /test/echo 200"]; got != 3 {
		t.Errorf("200s counted %v, want 3 (%v)", got, counts)
	}
	if got := counts["test POST /test/echo 401"]; got != 1 {
		t.Errorf("401s counted %v, want 1 (%v)", got, counts)
	}
	if families["cairn_http_request_duration_seconds"] == nil {
		t.Error("no latency histogram")
	}
}

func TestGracefulShutdown(t *testing.T) {
	ts := startTestServer(t, 5*time.Second)
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", ts.url+"/test/slow", nil)
		req.Header.Set("Authorization", "Bearer "+secretA)
		resp, err := ts.client.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{resp.StatusCode, string(data), err}
	}()
	<-ts.dialect.started
	ts.cancel()
	// New connections are refused soon, while the slow request runs.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(ts.url, "https://"), time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-ts.done:
		t.Fatalf("Serve returned before the request in flight finished: %v", err)
	default:
	}
	close(ts.dialect.release)
	r := <-res
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, "done") {
		t.Fatalf("the request in flight did not complete: %+v", r)
	}
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		ts.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestShutdownTimeoutCancelsRequests(t *testing.T) {
	ts := startTestServer(t, 100*time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		req, _ := http.NewRequest("GET", ts.url+"/test/slow", nil)
		req.Header.Set("Authorization", "Bearer "+secretA)
		if resp, err := ts.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-ts.dialect.started
	ts.cancel()
	select {
	case <-ts.dialect.canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context was not canceled at the shutdown timeout")
	}
	if err := <-ts.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	ts.done <- nil
	wg.Wait()
}

func TestClassify(t *testing.T) {
	e := httpapi.Classify(cairn.E(cairn.Permission, errors.New("no")), false)
	if e.Status != 401 {
		t.Errorf("unauthenticated permission: %d", e.Status)
	}
	e = httpapi.Classify(fmt.Errorf("wrapped: %w", &http.MaxBytesError{Limit: 10}), true)
	if e.Status != 413 {
		t.Errorf("max bytes: %d", e.Status)
	}
	e = httpapi.Classify(fmt.Errorf("x: %w", context.Canceled), true)
	if e.Status != 503 {
		t.Errorf("canceled: %d", e.Status)
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(e)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRequestLog(t *testing.T) {
	var logs syncBuffer
	d := &testDialect{started: make(chan struct{}), release: make(chan struct{}), canceled: make(chan struct{})}
	srv, err := httpapi.New(httpapi.Config{
		Auth:     fakeAuth{secretA: {ProjectID: "project-a", TokenID: "ta"}},
		Dialects: []httpapi.Dialect{d},
		Log:      slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/test/echo", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+secretA)
	srv.Handler().ServeHTTP(httptest.NewRecorder(), req)
	srv.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/test/kind/io", nil))
	req = httptest.NewRequest("GET", "/test/kind/io", nil)
	req.Header.Set("Authorization", "Bearer "+secretA)
	srv.Handler().ServeHTTP(httptest.NewRecorder(), req)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	find := func(msg string, status float64) map[string]any {
		for _, m := range lines {
			if m["msg"] == msg && (status == 0 || m["status"] == status) {
				return m
			}
		}
		t.Fatalf("no %q log line with status %v in:\n%s", msg, status, logs.String())
		return nil
	}
	ok := find("request", 200)
	if ok["method"] != "POST" || ok["path"] != "/test/echo" || ok["project"] != "project-a" || ok["dialect"] != "test" || ok["duration"] == nil {
		t.Errorf("request log line: %v", ok)
	}
	if m := find("request", 401); m["project"] != nil {
		t.Errorf("a 401 logged a project: %v", m)
	}
	failed := find("request failed", 0)
	if !strings.Contains(fmt.Sprint(failed["err"]), "secret detail") {
		t.Errorf("a 500's cause is not logged: %v", failed)
	}
}
