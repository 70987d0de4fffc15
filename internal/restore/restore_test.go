package restore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/storage/faulty"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

const cs = 64 << 10

type memDisk struct{ b []byte }

func (m *memDisk) ReadAt(p []byte, off int64) (int, error) { return copy(p, m.b[off:]), nil }
func (m *memDisk) Size() int64                             { return int64(len(m.b)) }

func setup(t *testing.T) (*vault.Vault, *faulty.Backend) {
	t.Helper()
	inner, err := local.Open(filepath.Join(t.TempDir(), "v"))
	if err != nil {
		t.Fatal(err)
	}
	fb := faulty.New(inner)
	v, err := vault.Init(context.Background(), fb, []byte("x"), vault.Options{ChunkSize: cs, KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	return v, fb
}

func randomDisk(size int, seed uint64) *memDisk {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, size)
	for i := 0; i < size; i += cs {
		if r.IntN(4) == 0 {
			continue // a zero chunk
		}
		for j := i; j < i+cs && j < size; j++ {
			b[j] = byte(r.Uint32())
		}
	}
	return &memDisk{b}
}

// Restoring the 30th incremental reads exactly what restoring the first
// does: one manifest and each non-zero chunk, never the chain.
func TestRestoreDoesNotWalkChain(t *testing.T) {
	ctx := context.Background()
	v, fb := setup(t)
	d := randomDisk(4<<20, 1)
	r := rand.New(rand.NewPCG(2, 2))
	var pts []*vault.RestorePoint
	for i := range 30 {
		var changes []cairn.Extent
		if i > 0 {
			off := r.IntN(len(d.b) - 1000)
			for j := off; j < off+1000; j++ {
				d.b[j] = byte(r.Uint32())
			}
			changes = []cairn.Extent{{Offset: int64(off), Length: 1000}}
		}
		res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: d, Changes: changes}}, backup.Options{VM: vault.VM{Name: "vm"}})
		if err != nil {
			t.Fatal(err)
		}
		pts = append(pts, res.Point)
	}
	want := sha256.Sum256(d.b)
	for _, rp := range []*vault.RestorePoint{pts[0], pts[29]} {
		m, err := v.LoadManifest(ctx, &rp.Disks[0])
		if err != nil {
			t.Fatal(err)
		}
		nonzero := 0
		for _, id := range m.IDs {
			if !id.IsZero() {
				nonzero++
			}
		}
		before := fb.Calls(faulty.Get)
		out := t.TempDir()
		res, err := restore.ToDir(ctx, v, rp, out, restore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if gets := fb.Calls(faulty.Get) - before; gets != int64(1+nonzero) {
			t.Fatalf("restore of point %d made %d gets, want 1 manifest + %d chunks", len(pts), gets, nonzero)
		}
		if rp == pts[29] {
			got, _ := os.ReadFile(res[0].Path)
			if sha256.Sum256(got) != want {
				t.Fatal("restored image differs from the disk")
			}
		}
	}
}

// The restored image is sparse: zero chunks are holes.
func TestRestoreSparse(t *testing.T) {
	ctx := context.Background()
	v, _ := setup(t)
	d := &memDisk{make([]byte, 8<<20)}
	copy(d.b[3<<20:], bytes.Repeat([]byte("data"), cs/4))
	res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: d}}, backup.Options{VM: vault.VM{Name: "vm"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := restore.ToDir(ctx, v, res.Point, t.TempDir(), restore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Written != cs {
		t.Fatalf("wrote %d bytes, want one chunk", out[0].Written)
	}
	if alloc := allocated(t, out[0].Path); alloc > 1<<20 {
		t.Fatalf("restored 8 MiB image with 64 KiB of data allocates %d bytes: not sparse", alloc)
	}
	got, _ := os.ReadFile(out[0].Path)
	if !bytes.Equal(got, d.b) {
		t.Fatal("restored bytes differ")
	}
}

// The rate limit holds: the restore takes as long as the cap says, and
// no 100 ms window (after the first) passes more than its share.
func TestRestoreRateLimit(t *testing.T) {
	ctx := context.Background()
	v, _ := setup(t)
	d := randomDisk(6<<20, 4)
	for i := range d.b { // no zero chunks: all bytes are written
		if d.b[i] == 0 {
			d.b[i] = 1
		}
	}
	res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: d}}, backup.Options{VM: vault.VM{Name: "vm"}})
	if err != nil {
		t.Fatal(err)
	}
	const rate = 4 << 20 // bytes/s: 6 MiB take 1.5 s
	rec := &recorder{l: ratelimit.New(rate)}
	start := time.Now()
	out, err := restore.ToDir(ctx, v, res.Point, t.TempDir(), restore.Options{Limiter: rec})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	got := float64(out[0].Written) / el.Seconds()
	t.Logf("restored %d bytes in %v: %.2f MiB/s at a cap of %d MiB/s", out[0].Written, el, got/(1<<20), rate>>20)
	if got > rate*1.03 || got < rate*0.8 {
		t.Fatalf("measured %.0f B/s, cap %d", got, rate)
	}
	// Bytes passed in each 100 ms window.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	win := map[int]int{}
	for _, e := range rec.events {
		win[int(e.t.Sub(start)/(100*time.Millisecond))] += e.n
	}
	for w, n := range win {
		if w == 0 {
			continue
		}
		if limit := rate/10 + int(rec.l.Capacity()) + cs; n > limit {
			t.Fatalf("window %d passed %d bytes, more than %d", w, n, limit)
		}
	}
}

type event struct {
	t time.Time
	n int
}

type recorder struct {
	l      *ratelimit.Limiter
	mu     sync.Mutex
	events []event
}

func (r *recorder) Wait(ctx context.Context, n int) error {
	if err := r.l.Wait(ctx, n); err != nil {
		return err
	}
	r.mu.Lock()
	r.events = append(r.events, event{time.Now(), n})
	r.mu.Unlock()
	return nil
}

func TestRestoreRefusesExisting(t *testing.T) {
	ctx := context.Background()
	v, _ := setup(t)
	res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: randomDisk(1<<20, 5)}}, backup.Options{VM: vault.VM{Name: "vm"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "os.raw"), []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := restore.ToDir(ctx, v, res.Point, dir, restore.Options{}); !cairn.IsKind(err, cairn.Exist) || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("restore over an existing image: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "os.raw")); string(b) != "keep me" {
		t.Fatal("existing image was changed")
	}
	if _, err := restore.ToDir(ctx, v, res.Point, dir, restore.Options{Disks: []string{"nope"}}); !cairn.IsKind(err, cairn.NotExist) {
		t.Fatalf("unknown disk: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	out := t.TempDir()
	if _, err := restore.ToDir(cctx, v, res.Point, out, restore.Options{}); err == nil {
		t.Fatal("canceled restore succeeded")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("a canceled restore left %v", entries)
	}
}
