package ratelimit

import (
	"os"
	"testing"
	"time"
)

// TestMeasure prints the rate reached for a matrix of rates, goroutines and
// wait sizes. It takes about 7 s, so it runs only when
// CAIRN_MEASURE_RATELIMIT is set:
//
//	CAIRN_MEASURE_RATELIMIT=1 go test -run Measure -v ./internal/ratelimit
func TestMeasure(t *testing.T) {
	if os.Getenv("CAIRN_MEASURE_RATELIMIT") == "" {
		t.Skip("set CAIRN_MEASURE_RATELIMIT=1 to measure")
	}
	for _, rate := range []int64{20 << 20, 100 << 20, 1 << 30, 4 << 30} {
		for _, g := range []int{1, 8} {
			for _, piece := range []int{64 << 10, 1 << 20} {
				start := time.Now()
				l := New(rate)
				passes := run(t, l, g, piece, start, 400*time.Millisecond)
				el := passes[len(passes)-1].Sub(start)
				t.Logf("%5d MiB/s (capacity %7d B), %d goroutines, %4d KiB waits: %.3f of the rate",
					rate>>20, l.Capacity(), g, piece>>10, float64(len(passes)*piece)/el.Seconds()/float64(rate))
			}
		}
	}
}
