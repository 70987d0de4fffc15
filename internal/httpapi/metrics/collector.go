package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-vm/cairn/internal/catalog"
)

// OperationLister lists operations; catalog.Catalog implements it.
type OperationLister interface {
	ListOperations(ctx context.Context, f catalog.OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error)
}

// Bounds of one scan of the operations.
const (
	scanTimeout = 5 * time.Second
	// scanReuse is how long one scan's numbers answer scrapes: several
	// scrapers, or one scraping often, cost one scan.
	scanReuse = 2 * time.Second
)

// durationBuckets are the operation duration histogram's bounds: 0.1 s
// to about 55 minutes.
var durationBuckets = prometheus.ExponentialBuckets(0.1, 2, 16)

// WatchOperations adds the operation metrics, computed from ops at each
// scrape (at most one scan per two seconds):
//
//	cairn_operations{kind,state}                     gauge: operations in each state
//	cairn_operation_duration_seconds{kind,state}     histogram: start to end of finished operations
//	cairn_bytes_total{direction}                     counter: bytes read (from disks and vaults),
//	                                                 stored (in vaults, after deduplication and
//	                                                 compression) and moved (between regions) by
//	                                                 succeeded operations, from their results
//
// Call it once.
func (m *Metrics) WatchOperations(ops OperationLister) {
	m.reg.MustRegister(&opCollector{
		ops: ops,
		byState: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "operations"),
			"Operations in each state now, by kind, from the catalog.", []string{"kind", "state"}, nil),
		duration: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "operation", "duration_seconds"),
			"Time from an operation's first start to its final state, by kind and final state.", []string{"kind", "state"}, nil),
		bytes: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", "bytes_total"),
			"Bytes read from disks and vaults (read), written to vaults after deduplication and compression (stored), and copied between regions (moved), by succeeded operations.",
			[]string{"direction"}, nil),
	})
}

// opCollector is the prometheus.Collector of WatchOperations.
type opCollector struct {
	ops                      OperationLister
	byState, duration, bytes *prometheus.Desc

	mu   sync.Mutex
	last *opScan
	at   time.Time
}

var _ prometheus.Collector = (*opCollector)(nil)

// opKey labels a count or a histogram.
type opKey struct{ kind, state string }

// histogram is a cumulative histogram being filled.
type histogram struct {
	count   uint64
	sum     float64
	buckets map[float64]uint64
}

// opScan is what one scan of the operations found.
type opScan struct {
	counts    map[opKey]int
	durations map[opKey]*histogram
	bytes     map[string]float64
}

// Describe implements prometheus.Collector.
func (c *opCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byState
	ch <- c.duration
	ch <- c.bytes
}

// Collect implements prometheus.Collector.
func (c *opCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.scan()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.byState, err)
		return
	}
	keys := make([]opKey, 0, len(s.counts))
	for k := range s.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].state < keys[j].state
	})
	for _, k := range keys {
		ch <- prometheus.MustNewConstMetric(c.byState, prometheus.GaugeValue, float64(s.counts[k]), k.kind, k.state)
		if h := s.durations[k]; h != nil {
			ch <- prometheus.MustNewConstHistogram(c.duration, h.count, h.sum, h.buckets, k.kind, k.state)
		}
	}
	for _, dir := range []string{"read", "stored", "moved"} {
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, s.bytes[dir], dir)
	}
}

// scan lists every operation, or returns the last scan's numbers when it
// is recent.
func (c *opCollector) scan() (*opScan, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && time.Since(c.at) < scanReuse {
		return c.last, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), scanTimeout)
	defer cancel()
	s := &opScan{counts: map[opKey]int{}, durations: map[opKey]*histogram{}, bytes: map[string]float64{}}
	page := catalog.Page{Size: catalog.MaxPageSize}
	for {
		ops, next, err := c.ops.ListOperations(ctx, catalog.OperationFilter{}, page)
		if err != nil {
			return nil, fmt.Errorf("list operations: %w", err)
		}
		for _, op := range ops {
			s.add(op)
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	c.last, c.at = s, time.Now()
	return s, nil
}

// add counts one operation.
func (s *opScan) add(op *catalog.Operation) {
	k := opKey{op.Kind, string(op.State)}
	s.counts[k]++
	if !op.State.Final() {
		return
	}
	if !op.Started.IsZero() && !op.Ended.IsZero() {
		h := s.durations[k]
		if h == nil {
			h = &histogram{buckets: make(map[float64]uint64, len(durationBuckets))}
			for _, b := range durationBuckets {
				h.buckets[b] = 0
			}
			s.durations[k] = h
		}
		d := op.Ended.Sub(op.Started).Seconds()
		h.count++
		h.sum += d
		for _, b := range durationBuckets {
			if d <= b {
				h.buckets[b]++
			}
		}
	}
	if op.State != catalog.OpSucceeded || len(op.Result) == 0 {
		return
	}
	// The byte counts of the service's results (BackupResult,
	// CopyResult, RestoreDiskResult), by their JSON names.
	var r struct {
		BytesRead    int64 `json:"bytesRead"`
		NewBytes     int64 `json:"newBytes"`
		BytesWritten int64 `json:"bytesWritten"`
		Written      int64 `json:"written"`
	}
	if json.Unmarshal(op.Result, &r) != nil {
		return
	}
	switch op.Kind {
	case "backup":
		s.bytes["read"] += float64(r.BytesRead)
		s.bytes["stored"] += float64(r.NewBytes)
	case "copy":
		s.bytes["read"] += float64(r.BytesRead)
		s.bytes["stored"] += float64(r.BytesWritten)
		s.bytes["moved"] += float64(r.BytesWritten)
	case "restore-disk":
		s.bytes["read"] += float64(r.Written)
	}
}
