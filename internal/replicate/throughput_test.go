package replicate_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Throughput settings, from the environment (sizes as ratelimit.ParseRate
// reads them, e.g. "512MiB"):
//
//	CAIRN_REPLICATE_BENCH_SIZE     generated image size (default 8MiB)
//	CAIRN_REPLICATE_BENCH_CHUNK    vaults' chunk size (default 64KiB)
//	CAIRN_REPLICATE_BENCH_IMAGE    a raw image to copy instead of a generated one
//	CAIRN_REPLICATE_BENCH_CHANGED  the same image ~1 % changed (default: 1 % of
//	                               the generated image's chunks rewritten)
//	CAIRN_REPLICATE_BENCH_WORKERS  copy workers (default replicate.DefaultWorkers)
func benchEnv(t testing.TB, name, def string) int64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		s = def
	}
	n, err := ratelimit.ParseRate(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// benchLine is what TestCopyThroughput prints per copy, after "bench: ".
type benchLine struct {
	Phase         string  `json:"phase"` // "first" or "changed"
	DiskBytes     int64   `json:"diskBytes"`
	DataBytes     int64   `json:"dataBytes"` // distinct non-zero chunk bytes
	BytesRead     int64   `json:"bytesRead"`
	BytesWritten  int64   `json:"bytesWritten"`
	ChunksCopied  int64   `json:"chunksCopied"`
	ChunksSkipped int64   `json:"chunksSkipped"`
	Seconds       float64 `json:"seconds"`       // the whole copy, verification included
	VerifySeconds float64 `json:"verifySeconds"` // of which verifying
	DataMBps      float64 `json:"dataMBps"`      // data bytes of the point per second (whole copy)
	WrittenMBps   float64 `json:"writtenMBps"`   // bytes written per second (whole copy)
	CopyDataMBps  float64 `json:"copyDataMBps"`  // data bytes per second, verification excluded
}

// TestCopyThroughput measures a first copy and the copy of a ~1 %
// different second point, and prints, for each, a line "bench: {json}"
// (benchLine) with the bytes moved and the throughput. Both copies verify,
// as the default is. The default size is small, for the test suite; set
// the variables above to measure for real:
//
//	CAIRN_REPLICATE_BENCH_SIZE=1GiB go test -run CopyThroughput -v ./internal/replicate
func TestCopyThroughput(t *testing.T) {
	ctx := context.Background()
	chunk := int(benchEnv(t, "CAIRN_REPLICATE_BENCH_CHUNK", "64KiB"))
	workers := int(benchEnv(t, "CAIRN_REPLICATE_BENCH_WORKERS", "0"))
	dir := t.TempDir()
	a := newVaultAt(t, filepath.Join(dir, "a"), chunk)
	b := newVaultAt(t, filepath.Join(dir, "b"), chunk)

	var first, second backup.Source
	if img := os.Getenv("CAIRN_REPLICATE_BENCH_IMAGE"); img != "" {
		first = openFile(t, img)
		changed := os.Getenv("CAIRN_REPLICATE_BENCH_CHANGED")
		if changed == "" {
			t.Fatal("CAIRN_REPLICATE_BENCH_IMAGE needs CAIRN_REPLICATE_BENCH_CHANGED")
		}
		second = openFile(t, changed)
	} else {
		size := benchEnv(t, "CAIRN_REPLICATE_BENCH_SIZE", "8MiB")
		d := newDiskChunks(int(size), chunk, 40)
		first = d
		d2 := d.clone()
		n := len(d2.b) / chunk / 100
		changeChunks(d2, max(n, 1), chunk, 41)
		second = d2
	}
	var prev *replicate.Result
	for _, ph := range []struct {
		name string
		src  backup.Source
	}{{"first", first}, {"changed", second}} {
		res, err := backup.Run(ctx, a, []backup.Disk{{Name: "os", Source: ph.src}}, backup.Options{VM: vault.VM{Name: "bench"}, Parent: "none"})
		if err != nil {
			t.Fatal(err)
		}
		r, err := replicate.Copy(ctx, a, b, res.Point.ID, replicate.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		l := benchLine{
			Phase: ph.name, DiskBytes: ph.src.Size(), DataBytes: r.DataBytes,
			BytesRead: r.BytesRead, BytesWritten: r.BytesWritten, ChunksCopied: r.ChunksCopied, ChunksSkipped: r.ChunksSkipped,
			Seconds: r.Duration.Seconds(), VerifySeconds: r.VerifyDuration.Seconds(),
			DataMBps: r.MBps(r.DataBytes), WrittenMBps: r.MBps(r.BytesWritten),
			CopyDataMBps: float64(r.DataBytes) / 1e6 / (r.Duration - r.VerifyDuration).Seconds(),
		}
		js, _ := json.Marshal(l)
		t.Logf("%s copy: %.1f MiB of data in %.2f s (%.1f MB/s; %.2f s of it verifying, %.1f MB/s without), read %d B, wrote %d B",
			ph.name, float64(r.DataBytes)/(1<<20), l.Seconds, l.DataMBps, l.VerifySeconds, l.CopyDataMBps, r.BytesRead, r.BytesWritten)
		t.Logf("bench: %s", js)
		if ph.name == "changed" && r.BytesWritten > prev.BytesWritten/10 {
			t.Errorf("the changed point wrote %d B, more than a tenth of the first copy's %d B", r.BytesWritten, prev.BytesWritten)
		}
		prev = r
	}
}

// BenchmarkCopy measures first copies of a generated 32 MiB disk into a
// fresh destination (b.SetBytes: the disk's data).
func BenchmarkCopy(b *testing.B) {
	ctx := context.Background()
	const chunk = 1 << 20
	a := newVaultAt(b, filepath.Join(b.TempDir(), "a"), chunk)
	d := newDiskChunks(32<<20, chunk, 42)
	sp := backupPoint(b, a, nil, d)
	var written int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dst := newVaultAt(b, filepath.Join(b.TempDir(), "b"), chunk)
		b.StartTimer()
		r, err := replicate.Copy(ctx, a, dst, sp.ID, replicate.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(r.DataBytes)
		written = r.BytesWritten
	}
	b.ReportMetric(float64(written), "written-B/op")
}

type fileSource struct {
	*os.File
	size int64
}

func (f fileSource) Size() int64 { return f.size }

func openFile(t testing.TB, path string) fileSource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fileSource{f, st.Size()}
}
