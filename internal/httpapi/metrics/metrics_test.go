package metrics_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi/metrics"
)

// fakeOps lists a fixed set of operations, two per page.
type fakeOps struct {
	ops   []*catalog.Operation
	calls int
}

func (f *fakeOps) ListOperations(ctx context.Context, _ catalog.OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error) {
	f.calls++
	start := 0
	if page.Token != "" {
		start = int(page.Token[0] - '0')
	}
	end := min(start+2, len(f.ops))
	next := ""
	if end < len(f.ops) {
		next = string(rune('0' + end))
	}
	return f.ops[start:end], next, nil
}

func result(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func TestOperationMetrics(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ops := &fakeOps{ops: []*catalog.Operation{
		{Kind: "backup", State: catalog.OpSucceeded, Started: t0, Ended: t0.Add(3 * time.Second),
			Result: result(map[string]int64{"bytesRead": 1000, "newBytes": 400})},
		{Kind: "copy", State: catalog.OpSucceeded, Started: t0, Ended: t0.Add(10 * time.Second),
			Result: result(map[string]int64{"bytesRead": 400, "bytesWritten": 300})},
		{Kind: "copy", State: catalog.OpRunning, Started: t0},
		{Kind: "backup", State: catalog.OpQueued},
		{Kind: "backup", State: catalog.OpFailed, Started: t0, Ended: t0.Add(time.Second)},
	}}
	m := metrics.New()
	m.WatchOperations(ops)
	m.ObserveRequest("native", "GET /cairn/v1/vms", "GET", 200, time.Millisecond)
	m.ObserveRequest("", "", "PUT", 404, time.Millisecond)

	scrape := func() map[string]float64 {
		rec := httptest.NewRecorder()
		m.Handler(nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
		if err != nil {
			t.Fatalf("parse: %v\n%s", err, rec.Body.String())
		}
		out := map[string]float64{}
		for name, f := range fams {
			for _, mt := range f.GetMetric() {
				key := name
				for _, l := range mt.GetLabel() {
					key += " " + l.GetName() + "=" + l.GetValue()
				}
				switch {
				case mt.Counter != nil:
					out[key] = mt.GetCounter().GetValue()
				case mt.Gauge != nil:
					out[key] = mt.GetGauge().GetValue()
				case mt.Histogram != nil:
					out[key+" count"] = float64(mt.GetHistogram().GetSampleCount())
					out[key+" sum"] = mt.GetHistogram().GetSampleSum()
				}
			}
		}
		return out
	}
	got := scrape()
	want := map[string]float64{
		"cairn_operations kind=backup state=succeeded":                                         1,
		"cairn_operations kind=backup state=queued":                                            1,
		"cairn_operations kind=backup state=failed":                                            1,
		"cairn_operations kind=copy state=running":                                             1,
		"cairn_operations kind=copy state=succeeded":                                           1,
		"cairn_bytes_total direction=read":                                                     1400,
		"cairn_bytes_total direction=stored":                                                   700,
		"cairn_bytes_total direction=moved":                                                    300,
		"cairn_operation_duration_seconds kind=copy state=succeeded count":                     1,
		"cairn_operation_duration_seconds kind=copy state=succeeded sum":                       10,
		"cairn_operation_duration_seconds kind=backup state=failed count":                      1,
		"cairn_http_requests_total code=200 dialect=native method=GET route=GET /cairn/v1/vms": 1,
		"cairn_http_requests_total code=404 dialect= method= route=unmatched":                  1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["cairn_operation_duration_seconds kind=copy state=running count"]; ok {
		t.Error("a running operation has a duration")
	}
	// A second scrape right away reuses the scan.
	calls := ops.calls
	scrape()
	if ops.calls != calls {
		t.Errorf("the second scrape listed the operations again (%d calls, then %d)", calls, ops.calls)
	}
}
