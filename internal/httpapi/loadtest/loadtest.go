// Package loadtest measures how fast a cairn server answers status polls
// under load: many clients GET one URL (a restore point's instanceView,
// say) in a loop for a while, and Run reports the latency percentiles and
// the errors. make bench uses it for "status polling while a copy runs".
//
// It only sends to loopback addresses unless told otherwise: it is a load
// generator, and this project's machines must not aim one elsewhere.
package loadtest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/httpapi"
)

// Limits of one run.
const (
	MaxClients  = 1000
	MaxDuration = 10 * time.Minute
)

// Options tune RunWith. The zero value is what Run uses.
type Options struct {
	// CACert is a PEM file of the server's certificate; "" trusts the
	// system's roots.
	CACert string
	// TLS, when set, is the client TLS configuration (CACert is then
	// ignored).
	TLS *tls.Config
	// Header is added to every request (Accept, say).
	Header http.Header
	// AllowNonLoopback lets the target be an address other than
	// loopback. Without it, a URL whose host is not a loopback address
	// (or localhost) is refused.
	AllowNonLoopback bool
	// RequestTimeout bounds each request; 0 means 10 s. A request that
	// times out counts as an error.
	RequestTimeout time.Duration
}

// Result is what a run measured.
type Result struct {
	Clients  int           // concurrent clients
	Duration time.Duration // how long the clients polled
	Requests int           // requests completed, with or without error
	Errors   int           // transport errors and responses other than 200
	// FirstError describes the first error, for a report; "" when none.
	FirstError string
	// Latency percentiles of the successful requests (0 when none).
	P50, P90, P99, Max time.Duration
	// Throughput is successful requests per second.
	Throughput float64
}

// String summarises the result on one line.
func (r Result) String() string {
	return fmt.Sprintf("%d clients for %v: %d requests (%.0f/s), %d errors, p50 %v, p90 %v, p99 %v, max %v",
		r.Clients, r.Duration.Round(time.Millisecond), r.Requests, r.Throughput, r.Errors,
		r.P50.Round(time.Microsecond), r.P90.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
}

// Run polls target (a full URL) with GET from clients concurrent clients,
// each with "Authorization: Bearer token" and one keep-alive connection,
// for duration or until ctx ends, and returns the latency percentiles and
// the error count. Each response body is read to the end. It is RunWith
// with the zero Options: the system's roots are trusted.
func Run(ctx context.Context, target, token string, clients int, duration time.Duration) (Result, error) {
	return RunWith(ctx, target, token, clients, duration, Options{})
}

// RunWith is Run with options.
func RunWith(ctx context.Context, target, token string, clients int, duration time.Duration, opts Options) (Result, error) {
	if clients < 1 || clients > MaxClients {
		return Result{}, cairn.E(cairn.Invalid, fmt.Errorf("loadtest: %d clients: want 1 to %d", clients, MaxClients))
	}
	if duration <= 0 || duration > MaxDuration {
		return Result{}, cairn.E(cairn.Invalid, fmt.Errorf("loadtest: duration %v: want more than 0 and at most %v", duration, MaxDuration))
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, cairn.E(cairn.Invalid, fmt.Errorf("loadtest: target %q is not an http(s) URL", target))
	}
	if !opts.AllowNonLoopback && !isLoopback(u.Hostname()) {
		return Result{}, cairn.E(cairn.Invalid, fmt.Errorf("loadtest: %s is not a loopback address: load is only sent to this machine", u.Hostname()))
	}
	tlsCfg := opts.TLS
	if tlsCfg == nil {
		if tlsCfg, err = httpapi.ClientTLSConfig(opts.CACert); err != nil {
			return Result{}, err
		}
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg,
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     time.Minute,
		ForceAttemptHTTP2:   false, // one connection per client, as independent pollers have
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: opts.RequestTimeout}

	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	type clientResult struct {
		lat      []time.Duration
		requests int
		errors   int
		first    error
	}
	results := make([]clientResult, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func(cr *clientResult) {
			defer wg.Done()
			for ctx.Err() == nil {
				t0 := time.Now()
				err := poll(ctx, hc, target, token, opts.Header)
				d := time.Since(t0)
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run: not counted
				}
				cr.requests++
				if err != nil {
					cr.errors++
					if cr.first == nil {
						cr.first = err
					}
					continue
				}
				cr.lat = append(cr.lat, d)
			}
		}(&results[i])
	}
	wg.Wait()
	res := Result{Clients: clients, Duration: time.Since(start)}
	var all []time.Duration
	for _, cr := range results {
		res.Requests += cr.requests
		res.Errors += cr.errors
		if cr.first != nil && res.FirstError == "" {
			res.FirstError = cr.first.Error()
		}
		all = append(all, cr.lat...)
	}
	if len(all) > 0 {
		slices.Sort(all)
		res.P50, res.P90, res.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
		res.Max = all[len(all)-1]
		res.Throughput = float64(len(all)) / res.Duration.Seconds()
	}
	return res, nil
}

// poll sends one GET and reads the answer.
func poll(ctx context.Context, hc *http.Client, target, token string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// percentile returns the p-th percentile (nearest rank) of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
