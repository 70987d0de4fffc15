package cbr_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/httpapi/cbr"
	"github.com/cairn-vm/cairn/internal/service"
	"github.com/cairn-vm/cairn/internal/storage"
)

// slowBackend adds a round trip's latency to every request to a
// backend: the destination region's object store seen across a WAN,
// where each transfer waits for its answer and only parallel streams
// shorten a copy. On one machine both regions are local directories; this
// is what makes them apart.
type slowBackend struct {
	storage.Backend
	rtt time.Duration
}

func (b slowBackend) wait(ctx context.Context) error {
	t := time.NewTimer(b.rtt)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (b slowBackend) Put(ctx context.Context, name string, data []byte) error {
	if err := b.wait(ctx); err != nil {
		return err
	}
	return b.Backend.Put(ctx, name, data)
}

func (b slowBackend) Get(ctx context.Context, name string) ([]byte, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	return b.Backend.Get(ctx, name)
}

func (b slowBackend) Stat(ctx context.Context, name string) (storage.ObjectInfo, error) {
	if err := b.wait(ctx); err != nil {
		return storage.ObjectInfo{}, err
	}
	return b.Backend.Stat(ctx, name)
}

// benchConfig is read from the environment, with defaults small enough
// for the test suite:
//
//	CAIRN_CBR_BENCH_CHECKPOINTS  checkpoints in the vault (3)
//	CAIRN_CBR_BENCH_SIZE         bytes of the VM's disk (2MiB; K/M/GiB suffixes)
//	CAIRN_CBR_BENCH_CHANGE       share of the disk rewritten between checkpoints (0.1)
//	CAIRN_CBR_BENCH_RTT          latency of each request to the destination region (20ms)
//	CAIRN_CBR_BENCH_WORKERS      parallel streams of a copy (2)
//	CAIRN_CBR_BENCH_ACCELERATED  parallel streams of an accelerated copy (4 × workers)
type benchConfig struct {
	Checkpoints int
	Size        int
	Change      float64
	RTT         time.Duration
	Workers     int
	Accelerated int
}

func benchEnv(t *testing.T) benchConfig {
	c := benchConfig{Checkpoints: 3, Size: 2 << 20, Change: 0.1, RTT: 20 * time.Millisecond, Workers: 2}
	get := func(name string) string { return strings.TrimSpace(os.Getenv("CAIRN_CBR_BENCH_" + name)) }
	if v := get("CHECKPOINTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_CBR_BENCH_CHECKPOINTS=%q", v)
		}
		c.Checkpoints = n
	}
	if v := get("SIZE"); v != "" {
		mult := 1
		for _, s := range []struct {
			suffix string
			m      int
		}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
			if strings.HasSuffix(v, s.suffix) {
				v, mult = strings.TrimSuffix(v, s.suffix), s.m
			}
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_CBR_BENCH_SIZE: %v", err)
		}
		c.Size = n * mult
	}
	if v := get("CHANGE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			t.Fatalf("CAIRN_CBR_BENCH_CHANGE=%q", v)
		}
		c.Change = f
	}
	if v := get("RTT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CAIRN_CBR_BENCH_RTT: %v", err)
		}
		c.RTT = d
	}
	if v := get("WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_CBR_BENCH_WORKERS=%q", v)
		}
		c.Workers = n
	}
	c.Accelerated = 4 * c.Workers
	if v := get("ACCELERATED"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CAIRN_CBR_BENCH_ACCELERATED=%q", v)
		}
		c.Accelerated = n
	}
	return c
}

// benchResult is one replication's measure, printed after "bench: ".
type benchResult struct {
	Bench        string  `json:"bench"` // "cbr-replicate"
	Accelerated  bool    `json:"accelerated"`
	Streams      int     `json:"streams"` // parallel streams per copy
	Checkpoints  int     `json:"checkpoints"`
	DiskBytes    int64   `json:"diskBytes"`
	BytesRead    int64   `json:"bytesRead"`    // sealed bytes read from the source region
	BytesWritten int64   `json:"bytesWritten"` // sealed bytes moved into the destination region
	Seconds      float64 `json:"seconds"`      // from the replicate call until every record succeeded
	MBps         float64 `json:"mbps"`         // bytes written per second
	RTTMillis    float64 `json:"rttMillis"`
}

// replicateOnce builds a vault of cfg.Checkpoints checkpoints of one VM
// on a fresh server and measures replicating it to the other region, with
// or without enable_acceleration.
func replicateOnce(t *testing.T, cfg benchConfig, accelerate bool) benchResult {
	rtt := cfg.RTT
	e := newEnv(t, envOptions{
		CopyWorkers: cfg.Workers, Accelerated: cfg.Accelerated,
		WrapStorage: func(region string, b storage.Backend) storage.Backend {
			if region == west {
				return slowBackend{Backend: b, rtt: rtt}
			}
			return b
		},
	})
	tn := e.tenant
	ctx := context.Background()
	img := e.writeImage("bench.raw", cfg.Size, 99)
	vm, _, err := e.svc.RegisterVM(ctx, tn.caller, service.VMSpec{ResourceGroup: "rg", Name: "bench", Region: east,
		Disks: []service.DiskSpec{{Name: "os", Path: img.path, OS: true}}})
	if err != nil {
		t.Fatal(err)
	}
	p := "/v3/" + tn.regional[east]
	r := e.do(tn.token, "POST", p+"/vaults", vaultBody("bench", "backup", cbr.ResourceID(vm.ID)))
	if r.status != http.StatusOK {
		t.Fatalf("vault: %s", r)
	}
	vault := jsonField(t, r.body, "vault", "id")
	rnd := rand.New(rand.NewPCG(7, 8))
	for i := range cfg.Checkpoints {
		if i > 0 {
			// Rewrite a share of the disk, in 64 KiB pieces.
			f, err := os.OpenFile(img.path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64<<10)
			for range int(float64(cfg.Size/len(buf))*cfg.Change) + 1 {
				for j := range buf {
					buf[j] = byte(rnd.Uint32())
				}
				off := int64(rnd.IntN(cfg.Size/len(buf))) * int64(len(buf))
				if _, err := f.WriteAt(buf, off); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
		}
		r := e.do(tn.token, "POST", p+"/checkpoints", map[string]any{"checkpoint": map[string]any{"vault_id": vault,
			"parameters": map[string]any{"name": fmt.Sprintf("bench_%d", i)}}})
		if r.status != http.StatusOK {
			t.Fatalf("checkpoint: %s", r)
		}
		e.waitOps(tn)
	}
	r = e.do(tn.token, "POST", "/v3/"+tn.regional[west]+"/vaults", vaultBody("bench-dr", "replication"))
	if r.status != http.StatusOK {
		t.Fatalf("vault: %s", r)
	}
	dest := jsonField(t, r.body, "vault", "id")
	if _, err := e.svc.AllowReplication(ctx, tn.caller, tn.regional[west], tn.regional[east]); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r = e.do(tn.token, "POST", p+"/checkpoints/replicate", map[string]any{"replicate": map[string]any{
		"vault_id": vault, "destination_project_id": tn.regional[west], "destination_region": west,
		"destination_vault_id": dest, "enable_acceleration": accelerate,
	}})
	if r.status != http.StatusOK {
		t.Fatalf("replicate: %s", r)
	}
	var rep cbr.ReplicationResponse
	if err := json.Unmarshal(r.body, &rep); err != nil || len(rep.Replication.Backups) != cfg.Checkpoints {
		t.Fatalf("replicate: %s", r)
	}
	res := benchResult{Bench: "cbr-replicate", Accelerated: accelerate, Streams: cfg.Workers, Checkpoints: cfg.Checkpoints,
		DiskBytes: int64(cfg.Size), RTTMillis: float64(cfg.RTT) / float64(time.Millisecond)}
	if accelerate {
		res.Streams = cfg.Accelerated
	}
	for _, b := range rep.Replication.Backups {
		op, err := e.svc.WaitOperation(ctx, tn.caller, b.ReplicationRecordID)
		if err != nil || op.State != catalog.OpSucceeded {
			t.Fatalf("replication record %s: %+v %v", b.ReplicationRecordID, op, err)
		}
		var cr service.CopyResult
		if err := json.Unmarshal(op.Result, &cr); err != nil {
			t.Fatal(err)
		}
		res.BytesRead += cr.BytesRead
		res.BytesWritten += cr.BytesWritten
	}
	res.Seconds = time.Since(start).Seconds()
	res.MBps = float64(res.BytesWritten) / 1e6 / res.Seconds
	return res
}

// TestReplicationAcceleration replicates a vault of several checkpoints
// to the other region with and without enable_acceleration, each on a
// fresh server with the same data, and prints per run a line
// "bench: {json}" (benchResult) and then the ratio:
//
//	bench: {"bench":"cbr-replicate-ratio","speedup":3.4,...}
//
// The destination region's storage answers each request after a round
// trip (CAIRN_CBR_BENCH_RTT), as a remote object store does; acceleration
// copies with more parallel streams (CopyConfig.AcceleratedWorkers), which
// is what shortens a copy over such a link. The defaults are small, for
// the test suite; to measure for real:
//
//	CAIRN_CBR_BENCH_SIZE=256MiB CAIRN_CBR_BENCH_CHECKPOINTS=4 CAIRN_CBR_BENCH_RTT=30ms \
//	  go test -run ReplicationAcceleration -v ./internal/httpapi/cbr
func TestReplicationAcceleration(t *testing.T) {
	cfg := benchEnv(t)
	plain := replicateOnce(t, cfg, false)
	fast := replicateOnce(t, cfg, true)
	for _, r := range []benchResult{plain, fast} {
		js, _ := json.Marshal(r)
		t.Logf("bench: %s", js)
	}
	ratio := map[string]any{
		"bench": "cbr-replicate-ratio", "speedup": plain.Seconds / fast.Seconds,
		"plainSeconds": plain.Seconds, "acceleratedSeconds": fast.Seconds,
		"plainBytesWritten": plain.BytesWritten, "acceleratedBytesWritten": fast.BytesWritten,
		"streams": cfg.Workers, "acceleratedStreams": cfg.Accelerated,
	}
	js, _ := json.Marshal(ratio)
	t.Logf("bench: %s", js)
	if plain.BytesWritten == 0 || fast.BytesWritten == 0 {
		t.Errorf("a replication moved no bytes: %d and %d", plain.BytesWritten, fast.BytesWritten)
	}
	if cfg.RTT > 0 && cfg.Accelerated > cfg.Workers && fast.Seconds >= plain.Seconds {
		t.Errorf("acceleration did not shorten the replication: %.2f s with %d streams, %.2f s with %d",
			fast.Seconds, cfg.Accelerated, plain.Seconds, cfg.Workers)
	}
}
