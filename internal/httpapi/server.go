package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi/metrics"
	"github.com/cairn-vm/cairn/internal/service"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultShutdownTimeout = 30 * time.Second
)

// Config configures a Server.
type Config struct {
	// Service is what the dialects call. Required.
	Service *service.Service
	// Auth authenticates token secrets; nil means Service.
	Auth Authenticator
	// Dialects are the APIs served, each under its own routes.
	Dialects []Dialect
	// TLS, when set, makes the server speak HTTPS only; nil serves plain
	// HTTP, which the caller must have been asked for explicitly.
	TLS *tls.Config
	// Log receives the request log and errors; nil discards them.
	Log *slog.Logger
	// Metrics are served at /metrics; nil makes new ones.
	Metrics *metrics.Metrics
	// MaxBodyBytes caps a request body (413 beyond it); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ShutdownTimeout is how long Serve waits for in-flight requests
	// after its context ends, before it cancels them; 0 means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server serves cairn's APIs over HTTPS (or plain HTTP), with
// authentication, request logs and metrics common to every dialect, and
// /healthz and /metrics beside them.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics.Metrics
	mux     *http.ServeMux
	handler http.Handler

	mu   sync.Mutex
	hs   *http.Server
	addr net.Addr
}

// New returns a server of cfg's dialects. It panics, as ServeMux does, if
// two dialects register the same route.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil && cfg.Auth == nil {
		return nil, cairn.E(cairn.Invalid, errors.New("httpapi: a Service is required"))
	}
	if cfg.Auth == nil {
		cfg.Auth = cfg.Service
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	s := &Server{cfg: cfg, log: cfg.Log, metrics: cfg.Metrics, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", cfg.Metrics.Handler(cfg.Log))
	s.mux.HandleFunc("/", s.notFound)
	for _, d := range cfg.Dialects {
		d.Register(s.mux, Deps{Service: cfg.Service, Log: cfg.Log.With("dialect", d.Name()), Metrics: cfg.Metrics, dialect: d.Name(), auth: cfg.Auth})
	}
	s.handler = s.wrap(s.mux)
	return s, nil
}

// Handler returns the server's root handler, with its middleware, for
// tests that serve it some other way.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *metrics.Metrics { return s.metrics }

// Addr returns the address Serve listens on, or nil before it starts.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Serve serves requests on ln until ctx ends, then shuts down gracefully:
// it stops accepting connections, waits up to the shutdown timeout for
// in-flight requests to finish, cancels the contexts of those still
// running and closes their connections. It returns nil after a shutdown
// that ctx asked for, and the error otherwise. Serve closes ln. The
// caller closes the Service after Serve returns, so that no request runs
// against a closed service.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests do not inherit ctx's end: they drain first.
	base, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	hs := &http.Server{
		Handler:           s.handler,
		TLSConfig:         s.cfg.TLS,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	s.mu.Lock()
	if s.hs != nil {
		s.mu.Unlock()
		return errors.New("httpapi: Serve called twice")
	}
	s.hs, s.addr = hs, ln.Addr()
	s.mu.Unlock()

	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLS != nil {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: no new connections; waiting for requests in flight", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		s.log.Warn("requests still running at the shutdown timeout: canceling them", "err", err)
		cancelRequests()
		hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serr)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// notFound answers a request that no route matched, as JSON.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
		"code":    "NotFound",
		"message": fmt.Sprintf("no API route matches %s %s", r.Method, r.URL.Path),
	}})
}

// requestInfo is what the inner handlers tell the outer middleware about
// a request, for its log line and metrics.
type requestInfo struct {
	dialect string
	project string
}

type requestInfoKey struct{}

// requestInfoFrom returns the request's info record; outside the
// server's middleware, a throwaway one.
func requestInfoFrom(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

// wrap adds the middleware every request goes through: the body limit,
// panic recovery, the request log and metrics.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		done := s.metrics.RequestStarted()
		defer done()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if !rec.wrote {
					WriteJSON(rec, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "InternalError", "message": msgInternal}})
				}
			}
			d := time.Since(start)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.ObserveRequest(info.dialect, r.Pattern, r.Method, status, d)
			level := slog.LevelInfo
			if r.Pattern == "GET /healthz" || r.Pattern == "GET /metrics" {
				level = slog.LevelDebug
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", d),
				slog.String("remote", r.RemoteAddr),
			}
			if info.dialect != "" {
				attrs = append(attrs, slog.String("dialect", info.dialect))
			}
			if info.project != "" {
				attrs = append(attrs, slog.String("project", info.project))
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the first status and passes it on.
func (w *statusRecorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes p on.
func (w *statusRecorder) Write(p []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher when the underlying writer does.
func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if !w.wrote {
			w.status, w.wrote = http.StatusOK, true
		}
		f.Flush()
	}
}
