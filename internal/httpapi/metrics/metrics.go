// Package metrics holds the Prometheus metrics of a cairn server: its HTTP
// requests, and its operations as the catalog records them.
//
// The operation metrics (how many are in each state, how long finished
// ones ran, the bytes they read, stored and moved) are computed from the
// catalog at each scrape (see [Metrics.WatchOperations]), not counted in
// memory: they are the same on every server node sharing a catalog and
// survive restarts. Packages that have more to report register their own
// collectors in [Metrics.Registry].
//
// A *Metrics is registered in its own prometheus.Registry, not the global
// one, so that tests can run several servers in one process.
package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "cairn"

// Metrics is the set of a server's metrics, in their own registry. Its
// methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	inFlight        prometheus.Gauge
}

// New returns a new set of metrics with the Go runtime and process
// collectors, registered in a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests served, by API dialect, route pattern, method and status code.",
		}, []string{"dialect", "route", "method", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve an HTTP request, by API dialect and route pattern.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"dialect", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	m.reg.MustRegister(m.requests, m.requestDuration, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics are in, where other packages
// may register their collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler returns the handler of /metrics: the registry in the Prometheus
// text format (or OpenMetrics when the scraper asks for it). Collection
// errors are logged to log and the rest of the metrics served.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slogPrinter{log},
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
		Timeout:           10 * time.Second,
	})
}

// ObserveRequest counts one served HTTP request of dialect ("" for the
// server's own routes) matched by the route pattern route ("" when none
// matched), answered with code after d.
func (m *Metrics) ObserveRequest(dialect, route, method string, code int, d time.Duration) {
	if route == "" || route == "/" {
		route = "unmatched"
		method = "" // unmatched requests may carry any method: keep the label values few
	}
	m.requests.WithLabelValues(dialect, route, method, strconv.Itoa(code)).Inc()
	m.requestDuration.WithLabelValues(dialect, route).Observe(d.Seconds())
}

// RequestStarted counts a request in flight; call the returned function
// when it ends.
func (m *Metrics) RequestStarted() (done func()) {
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// slogPrinter adapts a slog.Logger to promhttp's error logger.
type slogPrinter struct{ log *slog.Logger }

// Println logs v as one error.
func (p slogPrinter) Println(v ...any) {
	if p.log != nil {
		p.log.Error("metrics", "err", fmt.Sprint(v...))
	}
}
