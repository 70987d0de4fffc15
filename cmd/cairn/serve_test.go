package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/client"
	"github.com/cairn-vm/cairn/internal/httpapi/httpapitest"
	"github.com/cairn-vm/cairn/internal/httpapi/nativeapi"
)

// buildCairn builds the binary into a temporary directory.
func buildCairn(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cairn")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// served is a running 'cairn serve' process.
type served struct {
	cmd    *exec.Cmd
	url    string
	token  string // "" when the banner printed none
	banner []string
	stderr *bytes.Buffer
	done   chan error
}

// startServe starts the binary's serve on a free loopback port and reads
// its banner.
func startServe(t *testing.T, bin, data string) *served {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve ended before its banner was complete:\n%s\nstderr:\n%s", strings.Join(s.banner, "\n"), s.stderr)
			}
			s.banner = append(s.banner, l)
			if u, ok := strings.CutPrefix(l, "cairn is serving "); ok {
				s.url = u
			}
			if f := strings.TrimSpace(l); strings.HasPrefix(f, "cairn_") {
				s.token = f
			}
			if strings.Contains(l, "API description:") {
				go func() {
					for range lines {
					}
				}()
				return s
			}
		case <-timeout:
			t.Fatalf("no banner after 30 s:\n%s\nstderr:\n%s", strings.Join(s.banner, "\n"), s.stderr)
		}
	}
}

// stop sends sig and returns the exit code.
func (s *served) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop after %v\nstderr:\n%s", sig, s.stderr)
	}
	return -1
}

// TestServeEndToEnd builds cairn, starts 'cairn serve' on a new data
// directory, reads the admin token it prints, calls it over TLS with the
// certificate it made, and stops it with SIGTERM: exit 0. A second start
// prints no token.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCairn(t)
	data := filepath.Join(t.TempDir(), "data")
	s := startServe(t, bin, data)
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") || s.token == "" {
		t.Fatalf("banner without URL or token:\n%s", strings.Join(s.banner, "\n"))
	}
	saved, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil || strings.TrimSpace(string(saved)) != s.token {
		t.Errorf("admin-token file %q (%v), printed %q", saved, err, s.token)
	}
	cert := filepath.Join(data, "tls", "cert.pem")
	tlsCfg, err := httpapi.ClientTLSConfig(cert)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}
	resp, err := hc.Get(s.url + "/healthz")
	if err != nil {
		t.Fatalf("healthz over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	c, err := client.New(s.url, client.Options{Token: s.token, CACert: cert})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.WhoAmI(context.Background())
	if err != nil || !who.Admin {
		t.Fatalf("whoami with the printed token: %+v %v", who, err)
	}
	hc.CloseIdleConnections()
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0\nstderr:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no 'stopped' log line:\n%s", s.stderr)
	}

	again := startServe(t, bin, data)
	if again.token != "" {
		t.Errorf("the second start printed a token:\n%s", strings.Join(again.banner, "\n"))
	}
	if code := again.stop(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit code %d after SIGINT, want 0\nstderr:\n%s", code, again.stderr)
	}
}

// TestClientMode registers and lists a VM through a server with --server,
// --token and --ca-cert, and with the environment variables.
func TestClientMode(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{})
	img := filepath.Join(t.TempDir(), "web-os.raw")
	makeImage(t, img, 2<<20, 7)
	flags := []string{"--server", s.URL, "--token", s.AdminToken, "--ca-cert", s.CACert}

	r := cairnRun(t, append(flags, "vm", "register", "--name", "web", "--resource-group", "rg", "--region", "eastus", "--disk", "os="+img, "--vm-size", "Standard_D2s_v3")...).ok(t)
	if !strings.Contains(r.stdout, "registered VM web in eastus") {
		t.Errorf("register output: %s", r.stdout)
	}
	r = cairnRun(t, append(flags, "--json", "vm", "list")...).ok(t)
	var l nativeapi.List[nativeapi.VM]
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || len(l.Items) != 1 || l.Items[0].Name != "web" || l.Items[0].Disks[0].Path != img {
		t.Fatalf("vm list --json: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(string(l.Items[0].Profile), "Standard_D2s_v3") {
		t.Errorf("--vm-size not kept: %s", l.Items[0].Profile)
	}
	env := env{vars: map[string]string{serverEnv: s.URL, tokenEnv: s.AdminToken, caCertEnv: s.CACert}}
	r = cairnEnv(t, env, "vm", "list").ok(t)
	if !strings.Contains(r.stdout, "web") || !strings.Contains(r.stdout, "os") {
		t.Errorf("vm list: %s", r.stdout)
	}

	// Errors keep their kinds: exit codes are those of local use.
	cairnRun(t, "--server", s.URL, "--ca-cert", s.CACert, "vm", "list").fails(t, exitInvalid, "--token")
	cairnRun(t, "--server", s.URL, "--token", "cairn_wrong", "--ca-cert", s.CACert, "vm", "list").fails(t, exitPassphrase, "token")
	cairnRun(t, append(flags, "vm", "show", "/subscriptions/x/nope")...).fails(t, exitNotFound, "not")
	cairnRun(t, append(flags, "vm", "register", "--name", "bad", "--disk", "os="+img+".missing")...).fails(t, exitNotFound)
	cairnRun(t, "--server", s.URL, "--token", s.AdminToken, "--data", t.TempDir(), "vm", "list").fails(t, exitOther, "certificate")

	// A token made through the server, of another project, sees nothing.
	cairnRun(t, append(flags, "project", "create", "team-b")...).ok(t)
	r = cairnRun(t, append(flags, "-q", "token", "create", "--project", "team-b", "--name", "b")...).ok(t)
	secretB := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(secretB, "cairn_") {
		t.Fatalf("token create -q printed %q", r.stdout)
	}
	r = cairnRun(t, "--server", s.URL, "--token", secretB, "--ca-cert", s.CACert, "--json", "vm", "list").ok(t)
	if strings.Contains(r.stdout, "web") {
		t.Errorf("project B sees A's VM: %s", r.stdout)
	}
}

// TestLocalCommands makes a token and registers a VM on a data directory
// directly, and checks the server accepts the token.
func TestLocalCommands(t *testing.T) {
	s := httpapitest.Start(t, httpapitest.Options{})
	r := cairnRun(t, "token", "create", "--data", s.DataDir, "--name", "ci").ok(t)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	secret := lines[len(lines)-1]
	c, err := client.New(s.URL, client.Options{Token: secret, CACert: s.CACert})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.WhoAmI(context.Background())
	if err != nil || who.ProjectID != s.ProjectID || who.Admin {
		t.Fatalf("whoami with the local token: %+v %v", who, err)
	}
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 1<<20, 3)
	cairnRun(t, "vm", "register", "--data", s.DataDir, "--name", "local", "--disk", "os="+img).ok(t)
	l, err := c.ListVMs(context.Background(), nativeapi.VMFilter{}, nativeapi.Page{})
	if err != nil || len(l.Items) != 1 || l.Items[0].Name != "local" {
		t.Fatalf("the server does not see the VM registered locally: %+v %v", l, err)
	}
	r = cairnRun(t, "token", "list", "--data", s.DataDir).ok(t)
	if !strings.Contains(r.stdout, "ci") || strings.Contains(r.stdout, secret) {
		t.Errorf("token list: %s", r.stdout)
	}
	cairnRun(t, "token", "create", "--data", s.DataDir, "--project", "nope", "--name", "x").fails(t, exitNotFound, "project")
	cairnRun(t, "token", "create", "--data", s.DataDir).fails(t, exitInvalid, "--name")
	cairnRun(t, "vm", "list", "--data", filepath.Join(t.TempDir(), "none")).fails(t, exitNotFound, "cairn serve")
	cairnRun(t, "catalog", "rebuild", "--data", s.DataDir, "--dry-run").ok(t)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveInProcess runs 'cairn serve' with args in this process until the
// returned stop function is called; stop returns the exit code.
func serveInProcess(t *testing.T, args ...string) (url string, stdout *lockedBuffer, stop func() int) {
	t.Helper()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	g := newGlobalOptions(strings.NewReader(""), stdout, stderr, func(string) string { return "" })
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, g, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...))
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "API description:") {
		select {
		case c := <-code:
			cancel()
			t.Fatalf("serve exited %d:\n%s\n%s", c, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no banner:\n%s\n%s", stdout, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if u, ok := strings.CutPrefix(l, "cairn is serving "); ok {
			url = u
		}
	}
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(30 * time.Second):
			t.Fatalf("serve did not stop:\n%s", stderr)
		}
		return -1
	}
	t.Cleanup(func() { stop() })
	return url, stdout, stop
}

func TestServeTLSFlags(t *testing.T) {
	t.Run("insecure-http", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		url, out, stop := serveInProcess(t, "--data", data, "--insecure-http")
		if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(out.String(), "TLS certificate") {
			t.Fatalf("banner:\n%s", out)
		}
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("healthz: %d", resp.StatusCode)
		}
		if _, err := os.Stat(filepath.Join(data, "tls")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("plain HTTP made a certificate: %v", err)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit code %d", code)
		}
	})
	t.Run("tls-cert", func(t *testing.T) {
		dir := t.TempDir()
		certPEM, keyPEM, err := httpapi.SelfSigned(time.Now(), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cert, key := filepath.Join(dir, "my.crt"), filepath.Join(dir, "my.key")
		os.WriteFile(cert, certPEM, 0o644)
		os.WriteFile(key, keyPEM, 0o600)
		data := filepath.Join(dir, "data")
		url, out, stop := serveInProcess(t, "--data", data, "--tls-cert", cert, "--tls-key", key)
		if !strings.Contains(out.String(), "TLS certificate: "+cert) {
			t.Errorf("banner:\n%s", out)
		}
		tlsCfg, _ := httpapi.ClientTLSConfig(cert)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
		resp, err := hc.Get(url + "/healthz")
		if err != nil {
			t.Fatalf("healthz with the given certificate: %v", err)
		}
		resp.Body.Close()
		hc.CloseIdleConnections()
		if _, err := os.Stat(filepath.Join(data, "tls")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a self-signed certificate was made besides --tls-cert: %v", err)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit code %d", code)
		}
	})
}

// TestServeBadFlags: each bad flag is a usage error, and nothing is made.
func TestServeBadFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	missing := filepath.Join(t.TempDir(), "none.pem")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tls-cert", missing}, exitInvalid, "go together"},
		{[]string{"--tls-cert", missing, "--tls-key", missing}, exitNotFound, "TLS certificate"},
		{[]string{"--insecure-http", "--tls-cert", missing, "--tls-key", missing}, exitInvalid, "--insecure-http"},
		{[]string{"--listen", busy.Addr().String()}, exitInvalid, "listen"},
		{[]string{"--log-format", "xml"}, exitInvalid, "--log-format"},
		{[]string{"--log-level", "loud"}, exitInvalid, "--log-level"},
		{[]string{"--regions", "East US"}, exitInvalid, "region"},
		{[]string{"extra"}, exitInvalid, "unknown command"},
	}
	for _, tc := range cases {
		data := filepath.Join(t.TempDir(), "data")
		args := append([]string{"serve", "--data", data}, tc.args...)
		if tc.args[0] != "--listen" {
			args = append(args, "--listen", "127.0.0.1:0")
		}
		cairnRun(t, args...).fails(t, tc.code, tc.want)
		if tc.want != "region" {
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%v: the data directory was made", tc.args)
			}
		}
	}
}

func TestServeJSONBanner(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	g := newGlobalOptions(strings.NewReader(""), stdout, stderr, func(string) string { return "" })
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, g, []string{"serve", "--json", "--data", data, "--listen", "127.0.0.1:0", "--log-format", "json"})
	}()
	var b serveBanner
	deadline := time.Now().Add(30 * time.Second)
	for json.Unmarshal([]byte(stdout.String()), &b) != nil {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no JSON banner: %q\n%s", stdout, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("exit code %d", c)
	}
	if !strings.HasPrefix(b.URL, "https://127.0.0.1:") || !strings.HasPrefix(b.AdminToken, "cairn_") || b.CACert == "" {
		t.Errorf("banner %+v", b)
	}
}
