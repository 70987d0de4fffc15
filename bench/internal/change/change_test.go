package change

import (
	"testing"

	"github.com/cairn-vm/cairn/bench/internal/diskfile"
	"github.com/cairn-vm/cairn/bench/internal/imagegen"
)

func TestPlan(t *testing.T) {
	const n = 4096 // chunks: a 256 MiB image
	cls := make([]Class, n)
	for c := range cls {
		switch {
		case c < 1000:
			cls[c] = OS
		case c < 1500:
			cls[c] = DB
		case c < 1700:
			cls[c] = Logs
		case c < 2500:
			cls[c] = Blobs
		default:
			cls[c] = Free
		}
	}
	img := &imagegen.Image{Generated: true, Allocated: 2500 * ChunkSize, Regions: map[string][]diskfile.Extent{"db": nil}}
	exts, classes := plan(cls, img, 1, 1)
	again, _ := plan(cls, img, 1, 1)
	if len(exts) == 0 || len(exts) != len(again) {
		t.Fatalf("plan: %d extents, then %d", len(exts), len(again))
	}
	var total int64
	for i, e := range exts {
		if e != again[i] {
			t.Fatal("plan is not deterministic")
		}
		if e.Offset%ChunkSize != 0 || e.Length%ChunkSize != 0 || e.Length == 0 {
			t.Fatalf("extent %+v is not 64 KiB-aligned", e)
		}
		if i > 0 && exts[i-1].End() >= e.Offset {
			t.Fatalf("extents %+v and %+v overlap or touch", exts[i-1], e)
		}
		for c := e.Offset / ChunkSize; c < e.End()/ChunkSize; c++ {
			if cls[c] != classes[i] {
				t.Fatalf("extent %+v of class %s crosses into %s", e, classes[i], cls[c])
			}
		}
		total += e.Length
	}
	want := img.Allocated / 100
	if total < want || total > want+5*ChunkSize {
		t.Errorf("changed %d bytes, want about %d", total, want)
	}
}
