package replicate_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// The resume test runs copies in a child process (this test binary,
// re-executed) and kills it with SIGKILL.
func TestMain(m *testing.M) {
	if spec := os.Getenv("CAIRN_REPLICATE_CHILD"); spec != "" {
		os.Exit(copyChild(spec))
	}
	os.Exit(m.Run())
}

// Child settings: a small id map flush interval, so that the map is
// written often, and a rate limit, so that kills land mid-copy.
const (
	childFlush   = 4
	childWorkers = 2
	childRate    = 4 << 20
)

// copyChild copies a point: spec is "srcdir|dstdir|point". It prints a
// line "progress DONE TOTAL" as the copy moves (TOTAL counts the copy and
// the verification), for the parent to choose when to kill it.
func copyChild(spec string) int {
	parts := strings.Split(spec, "|")
	ctx := context.Background()
	open := func(dir string) (*vault.Vault, error) {
		be, err := local.Open(dir)
		if err != nil {
			return nil, err
		}
		return vault.Open(ctx, be, []byte(pass), vault.Options{})
	}
	src, err := open(parts[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dst, err := open(parts[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	replicate.MapFlushChunks = childFlush
	_, err = replicate.Copy(ctx, src, dst, parts[2], replicate.Options{Workers: childWorkers, Limiter: ratelimit.New(childRate), Progress: &printProgress{total: map[string]int64{}, done: map[string]int64{}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("committed")
	return 0
}

type printProgress struct {
	mu          sync.Mutex
	total, done map[string]int64
}

func (p *printProgress) Start(item string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total[item] = total
}

func (p *printProgress) Add(item string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[item] += n
	var done, total int64
	for k, t := range p.total {
		done, total = done+p.done[k], total+t
	}
	fmt.Printf("progress %d %d\n", done, total)
}

func (p *printProgress) Done(string) {}

// A copy killed at any moment and started again completes without
// storing again what had arrived (the bytes stored before the kill and by
// the second attempt add up to one copy), fetches from the source again
// only what the id map had not recorded yet, and leaves a destination
// that verifies clean and restores byte-exactly.
func TestCopyResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	ctx := context.Background()
	a := newVault(t)
	osd, data := newDisk(3<<20, 30), newDisk(2<<20, 31)
	sp := backupPoint(t, a, nil, osd, data)

	// runChild runs a copy into dst in a child process and kills it once
	// it has copied the fraction kill of the point (0: let it finish).
	runChild := func(dst *vault.Vault, kill float64) (killed bool) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CAIRN_REPLICATE_CHILD="+dirOf(a)+"|"+dirOf(dst)+"|"+sp.ID)
		stderr := &strings.Builder{}
		cmd.Stderr = stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var done, total int64
			if _, err := fmt.Sscanf(sc.Text(), "progress %d %d", &done, &total); err != nil {
				continue
			}
			// The first half of the total is the copy, the second the
			// verification.
			if kill > 0 && float64(done) >= kill*float64(total/2) {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				killed = true
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		err = cmd.Wait()
		if !killed && err != nil {
			t.Fatalf("child failed: %v\n%s", err, stderr)
		}
		return killed
	}

	// An uninterrupted copy: how many bytes.
	ref := newVault(t)
	if _, err := replicate.Copy(ctx, a, ref, sp.ID, replicate.Options{}); err != nil {
		t.Fatal(err)
	}
	fullBytes := sumSizes(chunkObjects(t, ref))

	kills := 0
	for _, at := range [][]float64{{0.1}, {0.5}, {0.85}, {1.5}, {0.3, 0.6}} {
		b := newVault(t)
		for _, f := range at {
			if runChild(b, f) {
				kills++
			}
		}
		// The killed copies left a vault that verifies clean, with no
		// restore point (or the point, if the last one finished).
		verifyClean(t, b)
		arrived := chunkObjects(t, b)
		res, err := replicate.Copy(ctx, a, openVault(t, dirOf(b)), sp.ID, replicate.Options{Workers: childWorkers})
		if err != nil {
			t.Fatal(err)
		}
		final := chunkObjects(t, b)
		t.Logf("killed at %v of the copy: %d B had arrived; the second attempt fetched %d chunks (%d B), stored %d chunks (%d B), skipped %d, %d from the id map",
			at, sumSizes(arrived), res.ChunksRead, res.BytesRead, res.ChunksCopied, res.BytesWritten, res.ChunksSkipped, res.MapHits)
		if res.Existed {
			// The last child finished before its kill.
			checkRestores(t, b, res.Point, osd, data)
			continue
		}
		// Nothing that had arrived was stored again.
		if sumSizes(arrived)+res.BytesWritten != sumSizes(final) || sumSizes(final) != fullBytes {
			t.Fatalf("%d B arrived before, %d B stored after: %d B, but the destination has %d B and a copy is %d B",
				sumSizes(arrived), res.BytesWritten, sumSizes(arrived)+res.BytesWritten, sumSizes(final), fullBytes)
		}
		// Of the chunks that had arrived, only those whose id map pairs
		// were not written yet are fetched again.
		if again := res.ChunksRead - res.ChunksCopied; again > childFlush+2*childWorkers {
			t.Fatalf("the second attempt fetched %d chunks that had arrived; the id map should have known all but %d", again, childFlush+2*childWorkers)
		}
		verifyClean(t, b)
		checkRestores(t, b, res.Point, osd, data)
	}
	if kills != 6 {
		t.Fatalf("only %d of 6 copies were killed", kills)
	}
}
