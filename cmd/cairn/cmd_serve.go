package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
	"github.com/cairn-vm/cairn/internal/httpapi/arm"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
	"github.com/cairn-vm/cairn/internal/httpapi/metrics"
	"github.com/cairn-vm/cairn/internal/httpapi/native"
	"github.com/cairn-vm/cairn/internal/service"
)

// defaultDataDir is the data directory of serve and the commands that
// work on one, when --data is not given.
const defaultDataDir = "./cairn-data"

// serveOptions are the flags of "serve".
type serveOptions struct {
	Data            string
	Listen          string
	TLSCert         string
	TLSKey          string
	InsecureHTTP    bool
	Regions         []string
	LogFormat       string
	LogLevel        string
	ShutdownTimeout time.Duration
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTPS server",
		Long: `Run cairn's HTTPS server on a data directory, which holds everything: the
catalog (SQLite), a vault per region, the TLS certificate and the admin
token. With no flags it serves https://127.0.0.1:8443 from ./cairn-data,
with two regions (eastus and westus), so that cross-region copy works out
of the box.

On the first start it creates the data directory, a self-signed TLS
certificate (tls/cert.pem, for localhost, 127.0.0.1, ::1 and this host's
name) and an admin token, whose secret it prints once and writes to
admin-token (mode 0600). Clients trust the certificate with --ca-cert (the
CLI's default when --data points at the directory) or curl --cacert.

APIs: the native JSON API under /cairn/v1/ (described at
/cairn/v1/openapi.yaml), Azure's restore point API (ARM, under
/subscriptions/), Prometheus metrics at /metrics, and /healthz.
Every API call needs "Authorization: Bearer <token>"; a token reaches only
its own project's records.

Logs are structured (log/slog): text on a terminal, JSON lines otherwise.
SIGINT or SIGTERM stops it gracefully: no new connections, requests in
flight finish (up to --shutdown-timeout), and running operations are left
to resume at the next start. It then exits 0.`,
		Example: `  cairn serve
  cairn serve --data /srv/cairn --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem
  cairn serve --listen 127.0.0.1:8080 --insecure-http`,
		Args: cobra.NoArgs,
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runServe(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", defaultDataDir, "the data `DIR` (made on first start)")
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:8443", "listen on `HOST:PORT` (port 0 picks a free one)")
	f.StringVar(&opts.TLSCert, "tls-cert", "", "serve this certificate (PEM `FILE`) instead of the self-signed one; needs --tls-key")
	f.StringVar(&opts.TLSKey, "tls-key", "", "the private key (PEM `FILE`) of --tls-cert")
	f.BoolVar(&opts.InsecureHTTP, "insecure-http", false, "serve plain HTTP, without TLS: tokens cross the network in clear")
	f.StringSliceVar(&opts.Regions, "regions", nil, "the regions, comma-separated (default eastus,westus)")
	f.StringVar(&opts.LogFormat, "log-format", "auto", "log format: text, json, or auto (text on a terminal)")
	f.StringVar(&opts.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", httpapi.DefaultShutdownTimeout, "how long to let requests in flight finish at shutdown")
	return cmd
}

func runServe(ctx context.Context, opts serveOptions, g *globalOptions) error {
	log, err := newLogger(g.stderr, opts.LogFormat, opts.LogLevel)
	if err != nil {
		return err
	}
	if opts.InsecureHTTP && (opts.TLSCert != "" || opts.TLSKey != "") {
		return cairn.E(cairn.Invalid, errors.New("--insecure-http serves no TLS: drop --tls-cert and --tls-key, or --insecure-http"))
	}
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return cairn.E(cairn.Invalid, errors.New("--tls-cert and --tls-key go together: give both, or neither for the self-signed certificate"))
	}
	var tlsCfg *tls.Config
	if opts.TLSCert != "" {
		// Checked before anything is made in the data directory.
		if tlsCfg, err = httpapi.LoadTLSConfig(opts.TLSCert, opts.TLSKey); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return cairn.E(cairn.Invalid, fmt.Errorf("listen on %s: %w (is another server using the port? pick another with --listen)", opts.Listen, err))
	}
	defer ln.Close()

	svc, err := service.Open(ctx, service.Config{DataDir: opts.Data, Regions: opts.Regions, Logger: log})
	if err != nil {
		return fmt.Errorf("open data directory %s: %w", opts.Data, err)
	}
	closed := false
	defer func() {
		if !closed {
			svc.Close()
		}
	}()
	paths := svc.Paths()
	boot, err := svc.Bootstrap(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap %s: %w", paths.DataDir, err)
	}
	scheme := "https"
	certFile := opts.TLSCert
	switch {
	case opts.InsecureHTTP:
		scheme = "http"
		log.Warn("serving plain HTTP without TLS (--insecure-http): tokens cross the network in clear")
	case tlsCfg == nil:
		cert, key, created, err := httpapi.EnsureSelfSigned(paths.DataDir, time.Now())
		if err != nil {
			return err
		}
		if created {
			log.Info("made a self-signed TLS certificate", "cert", cert)
		}
		if tlsCfg, err = httpapi.LoadTLSConfig(cert, key); err != nil {
			return err
		}
		certFile = cert
	}

	m := metrics.New()
	m.WatchOperations(svc.Catalog())
	srv, err := httpapi.New(httpapi.Config{
		Service:         svc,
		Dialects:        serveDialects(),
		TLS:             tlsCfg,
		Log:             log,
		Metrics:         m,
		ShutdownTimeout: opts.ShutdownTimeout,
	})
	if err != nil {
		return err
	}
	// The runner stops at Close, after the requests have drained, not
	// when the signal comes.
	if err := svc.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the operation runner: %w", err)
	}

	url := scheme + "://" + urlHost(ln.Addr())
	printServeBanner(g, url, paths, boot, certFile)
	log.Info("serving", "url", url, "data", paths.DataDir)
	serveErr := srv.Serve(ctx, ln)
	// Requests have drained: stop the runner, leaving running operations
	// to resume at the next start, and close the catalog and vaults.
	closed = true
	closeErr := svc.Close()
	if serveErr != nil {
		return serveErr
	}
	if closeErr != nil {
		return fmt.Errorf("close the data directory: %w", closeErr)
	}
	log.Info("stopped")
	return nil
}

// serveDialects are the APIs cairn serve speaks.
func serveDialects() []httpapi.Dialect {
	return []httpapi.Dialect{native.Dialect{}, arm.New(arm.Options{}), cbr.New(cbr.Options{})}
}

// serveBanner is the JSON banner of serve --json: one document on
// stdout, once the server listens.
type serveBanner struct {
	URL            string `json:"url"`
	DataDir        string `json:"dataDir"`
	AdminToken     string `json:"adminToken,omitempty"` // on the first start only
	AdminTokenFile string `json:"adminTokenFile"`
	CACert         string `json:"caCert,omitempty"` // "" with --insecure-http
}

// printServeBanner tells on stdout where the server is, and on the first
// start the admin token, once: as text, or one JSON document with --json.
func printServeBanner(g *globalOptions, url string, paths service.Paths, boot *service.BootstrapResult, certFile string) {
	if g.JSON {
		b := serveBanner{URL: url, DataDir: paths.DataDir, AdminTokenFile: paths.AdminToken, CACert: certFile}
		if boot != nil {
			b.AdminToken = boot.AdminSecret
		}
		g.printJSON(b)
		return
	}
	out := g.stdout
	fmt.Fprintf(out, "cairn is serving %s\n", url)
	fmt.Fprintf(out, "  data directory: %s\n", paths.DataDir)
	if boot != nil && boot.AdminSecret != "" {
		fmt.Fprintf(out, "  admin token (shown this once; also in %s, mode 0600):\n", paths.AdminToken)
		fmt.Fprintf(out, "    %s\n", boot.AdminSecret)
	} else {
		fmt.Fprintf(out, "  admin token: in %s (made on the first start)\n", paths.AdminToken)
	}
	cacert := ""
	if certFile != "" {
		fmt.Fprintf(out, "  TLS certificate: %s\n", certFile)
		cacert = " --cacert " + shellQuote(certFile)
	}
	fmt.Fprintf(out, "  try:  curl%s -H \"Authorization: Bearer $(cat %s)\" %s/cairn/v1/whoami\n", cacert, shellQuote(paths.AdminToken), url)
	fmt.Fprintf(out, "   or:  cairn --server %s --token \"$(cat %s)\"%s vm list\n", url, shellQuote(paths.AdminToken), caCertFlag(certFile))
	fmt.Fprintf(out, "  API description: %s/cairn/v1/openapi.yaml; metrics: %s/metrics\n", url, url)
}

func caCertFlag(certFile string) string {
	if certFile == "" {
		return ""
	}
	return " --ca-cert " + shellQuote(certFile)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// urlHost returns the host:port of a URL for a listener's address: a
// wildcard address is shown as 127.0.0.1, which the certificate names.
func urlHost(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// newLogger returns the server's logger on w: format is text, json or
// auto (text on a terminal), level a slog level name.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("--log-level %q: use debug, info, warn or error", level))
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	case "auto", "":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, hopts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return nil, cairn.E(cairn.Invalid, fmt.Errorf("--log-format %q: use text, json or auto", format))
}

// dataCert returns the self-signed certificate of the data directory
// dir, or "" when it has none.
func dataCert(dir string) string {
	cert, _ := httpapi.CertPaths(dir)
	if _, err := os.Stat(cert); err != nil {
		return ""
	}
	abs, err := filepath.Abs(cert)
	if err != nil {
		return cert
	}
	return abs
}
