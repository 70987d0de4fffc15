// Package httpapitest starts a real cairn server for tests: a service on
// a data directory in a temporary directory (SQLite catalog, two local
// regions, cheap key derivation), served over TLS with a self-signed
// certificate on a loopback port.
package httpapitest

import (
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/metrics"
	"github.com/cairn-vm/cairn/internal/httpapi/native"
	"github.com/cairn-vm/cairn/internal/service"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Options tune Start. The zero value serves the native API.
type Options struct {
	// Dialects to serve besides the native API.
	Dialects []httpapi.Dialect
	// ShutdownTimeout of the server; 0 means 5 s.
	ShutdownTimeout time.Duration
	// Service tunes the service's configuration before it opens.
	Service func(*service.Config)
	// DataDir, when set, is the data directory to serve (to restart a
	// server on the directory of a stopped one); "" is a new temporary
	// directory.
	DataDir string
}

// Server is a running test server.
type Server struct {
	URL        string           // https://127.0.0.1:PORT
	DataDir    string           // the service's data directory
	CACert     string           // the server's certificate, PEM
	AdminToken string           // the admin token's secret
	ProjectID  string           // the default project, the admin token's
	Service    *service.Service // the service behind the server
	Server     *httpapi.Server  // the HTTP server
	Client     *http.Client     // trusts CACert

	cancel context.CancelFunc
	done   chan error
}

// Start starts a server, stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := opts.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := service.Config{
		DataDir: dir,
		KDF:     &vault.TestKDF,
		Jobs:    service.JobsConfig{Poll: 20 * time.Millisecond, ProgressEvery: 20 * time.Millisecond},
	}
	if opts.Service != nil {
		opts.Service(&cfg)
	}
	ctx := context.Background()
	svc, err := service.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open service: %v", err)
	}
	boot, err := svc.Bootstrap(ctx)
	if err != nil {
		svc.Close()
		t.Fatalf("bootstrap: %v", err)
	}
	adminSecret := boot.AdminSecret
	if adminSecret == "" {
		// A data directory served before: its admin token is on file.
		data, err := os.ReadFile(svc.Paths().AdminToken)
		if err != nil {
			svc.Close()
			t.Fatalf("admin token: %v", err)
		}
		adminSecret = strings.TrimSpace(string(data))
	}
	cert, key, _, err := httpapi.EnsureSelfSigned(dir, time.Now())
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	tlsCfg, err := httpapi.LoadTLSConfig(cert, key)
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	m := metrics.New()
	m.WatchOperations(svc.Catalog())
	srv, err := httpapi.New(httpapi.Config{
		Service:         svc,
		Dialects:        append([]httpapi.Dialect{native.Dialect{}}, opts.Dialects...),
		TLS:             tlsCfg,
		Metrics:         m,
		ShutdownTimeout: opts.ShutdownTimeout,
	})
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		svc.Close()
		t.Fatalf("start service: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &Server{
		URL:        "https://" + ln.Addr().String(),
		DataDir:    dir,
		CACert:     cert,
		AdminToken: adminSecret,
		ProjectID:  boot.Project.ID,
		Service:    svc,
		Server:     srv,
		cancel:     cancel,
		done:       make(chan error, 1),
	}
	go func() { s.done <- srv.Serve(sctx, ln) }()
	clientTLS, err := httpapi.ClientTLSConfig(cert)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS, MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop server: %v", err)
		}
	})
	return s
}

// Stop shuts the server down gracefully and closes the service. It may
// be called more than once.
func (s *Server) Stop() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	s.cancel = nil
	err := <-s.done
	s.Client.CloseIdleConnections()
	if cerr := s.Service.Close(); err == nil {
		err = cerr
	}
	return err
}

// NewProject makes a project and a token of it (not an admin's), and
// returns the project's id and the token's secret.
func (s *Server) NewProject(t testing.TB, name string) (projectID, secret string) {
	t.Helper()
	ctx := context.Background()
	admin := service.SystemCaller(s.ProjectID)
	p, err := s.Service.CreateProject(ctx, admin, service.ProjectSpec{Name: name})
	if err != nil {
		t.Fatalf("create project %s: %v", name, err)
	}
	_, secret, err = s.Service.CreateToken(ctx, admin, service.TokenSpec{ProjectID: p.ID, Name: name + "-token"})
	if err != nil {
		t.Fatalf("create token of %s: %v", name, err)
	}
	return p.ID, secret
}
