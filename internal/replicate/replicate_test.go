package replicate_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/vault"
)

// A two-disk restore point copied to another vault restores byte-exactly
// on both sides, and the copy keeps the point's metadata.
func TestCopyTwoDisks(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd, data := newDisk(3<<20, 1), newDisk(2<<20+12345, 2) // the data disk ends with a short chunk
	sp := backupPoint(t, a, map[string]string{"env": "prod", "cairn.vault": "src-catalog-vault"}, osd, data)
	prog := newProgress()
	res, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{Progress: prog, Tags: map[string]string{"cairn.vault": "dst-catalog-vault"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("copied %d chunks (%d B of data): read %d B, wrote %d B, verified %d B in %v",
		res.Chunks, res.DataBytes, res.BytesRead, res.BytesWritten, res.VerifiedBytes, res.Duration)

	// Both sides restore to the source disks.
	checkRestores(t, a, sp, osd, data)
	dp, err := b.LoadPoint(ctx, res.Point.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkRestores(t, b, dp, osd, data)
	verifyClean(t, b)

	// Metadata.
	if dp.ID != replicate.DestinationPointID(a.Config().ID, sp.ID) || dp.ID == sp.ID {
		t.Fatalf("destination id %s, want the derived id", dp.ID)
	}
	if !dp.Time.Equal(sp.Time) || dp.VM.Name != sp.VM.Name || dp.VM.ID != sp.VM.ID || dp.VM.Location != sp.VM.Location ||
		dp.ConsistencyMode != sp.ConsistencyMode || dp.Host != sp.Host {
		t.Fatalf("destination point %+v does not carry the source's metadata %+v", dp, sp)
	}
	wantTags := map[string]string{"env": "prod", "cairn.vault": "dst-catalog-vault"}
	if !maps.Equal(dp.Tags, wantTags) {
		t.Fatalf("tags %v, want %v", dp.Tags, wantTags)
	}
	if dp.CopiedFrom == nil || dp.CopiedFrom.Vault != a.Config().ID || dp.CopiedFrom.Point != sp.ID || dp.CopiedFrom.Copied.IsZero() {
		t.Fatalf("origin %+v", dp.CopiedFrom)
	}
	for i, d := range dp.Disks {
		if d.Name != sp.Disks[i].Name || d.Size != sp.Disks[i].Size || d.ZeroChunks != sp.Disks[i].ZeroChunks || d.Mode != "copy" {
			t.Fatalf("disk %d: %+v, source %+v", i, d, sp.Disks[i])
		}
	}

	// Counters: every distinct chunk read once and written once, and the
	// bytes are those of the chunk objects on either side.
	if res.Existed || !res.Verified || res.VerifyDuration <= 0 || res.ChunksRead != res.Chunks || res.ChunksCopied != res.Chunks || res.ChunksSkipped != 0 || res.MapHits != 0 {
		t.Fatalf("result %+v", res)
	}
	if got := sumSizes(chunkObjects(t, a)); res.BytesRead != got {
		t.Fatalf("read %d B, the source's chunks are %d B", res.BytesRead, got)
	}
	if got := sumSizes(chunkObjects(t, b)); res.BytesWritten != got {
		t.Fatalf("wrote %d B, the destination's chunks are %d B", res.BytesWritten, got)
	}
	if res.VerifiedBytes != res.DataBytes {
		t.Fatalf("verified %d B of %d", res.VerifiedBytes, res.DataBytes)
	}
	var newBytes int64
	for _, d := range dp.Disks {
		newBytes += d.NewBytes
	}
	if newBytes != res.BytesWritten {
		t.Fatalf("disks record %d new bytes, the copy wrote %d", newBytes, res.BytesWritten)
	}

	// Progress: each disk twice its size (copy, then read back).
	for _, d := range sp.Disks {
		if prog.total[d.Name] != 2*d.Size || prog.done[d.Name] != 2*d.Size || !prog.end[d.Name] {
			t.Fatalf("progress of %s: %d of %d (done %v), want %d", d.Name, prog.done[d.Name], prog.total[d.Name], prog.end[d.Name], 2*d.Size)
		}
	}
}

// A second point that differs from the first by ~1 % moves only the
// changed chunks: it reads them from the source, and writes them to the
// destination, and nothing else.
func TestCopyChangedPoint(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd, data := newDisk(8<<20, 3), newDisk(4<<20, 4) // 192 chunks
	sp1 := backupPoint(t, a, nil, osd, data)
	r1, err := replicate.Copy(ctx, a, b, sp1.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	change(osd, 2, 5) // 2 of 192 chunks: ~1 %
	sp2 := backupPoint(t, a, nil, osd, data)
	before := chunkObjects(t, b)
	r2, err := replicate.Copy(ctx, a, b, sp2.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := chunkObjects(t, b)
	var added int64
	for name, size := range after {
		if _, ok := before[name]; !ok {
			added += size
		}
	}
	var changedSealed int64
	for _, d := range sp2.Disks {
		changedSealed += d.NewBytes
	}
	t.Logf("first copy wrote %d B; the ~1 %% changed point read %d B and wrote %d B (%.2f %%)",
		r1.BytesWritten, r2.BytesRead, r2.BytesWritten, 100*float64(r2.BytesWritten)/float64(r1.BytesWritten))
	if r2.ChunksCopied != 2 || r2.BytesWritten != added {
		t.Fatalf("second copy stored %d chunks, %d B; the destination gained %d B in %d objects", r2.ChunksCopied, r2.BytesWritten, added, len(after)-len(before))
	}
	if r2.BytesWritten > r1.BytesWritten/20 {
		t.Fatalf("second copy wrote %d B, more than 5 %% of the first's %d B", r2.BytesWritten, r1.BytesWritten)
	}
	// Only the changed chunks are read from the source: the others' ids
	// come from the id map.
	if r2.ChunksRead != 2 || r2.BytesRead != changedSealed || r2.MapHits != r2.Chunks-2 {
		t.Fatalf("second copy read %d chunks, %d B (the changed chunks are %d B), %d map hits of %d chunks", r2.ChunksRead, r2.BytesRead, changedSealed, r2.MapHits, r2.Chunks)
	}
	dp, err := b.LoadPoint(ctx, r2.Point.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dp.Parent != r1.Point.ID {
		t.Fatalf("the copy's parent is %q, want the copy of the source's parent %s", dp.Parent, r1.Point.ID)
	}
	checkRestores(t, b, dp, osd, data)
	verifyClean(t, b)
}

// Copying the same data twice moves nothing the second time: the same
// point is found already copied, and another point of the same data is
// made of chunks the destination has, known from the id map.
func TestCopyTwiceMovesNothing(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd := newDisk(4<<20, 6)
	sp := backupPoint(t, a, nil, osd)
	r1, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Existed || !r2.Verified || r2.BytesRead != 0 || r2.BytesWritten != 0 || r2.Point.ID != r1.Point.ID {
		t.Fatalf("same point again: %+v", r2)
	}
	// Another backup of unchanged data: a new point, same chunks.
	sp2 := backupPoint(t, a, nil, osd)
	r3, err := replicate.Copy(ctx, a, b, sp2.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r3.Existed || r3.BytesRead != 0 || r3.BytesWritten != 0 || r3.ChunksSkipped != r3.Chunks || r3.MapHits != r3.Chunks || !r3.Verified {
		t.Fatalf("unchanged data again: %+v", r3)
	}
	ids, err := b.PointIDs(ctx)
	if err != nil || len(ids) != 2 {
		t.Fatalf("destination points %v, %v", ids, err)
	}
	checkRestores(t, b, r3.Point, osd)
}

// A destination that already holds the data (its own backup of the same
// disk) stores nothing: the first copy reads the chunks from the source
// once to learn their ids, writes none, and the next copy reads nothing.
func TestCopyToVaultThatHasTheData(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd := newDisk(3<<20, 7)
	sp := backupPoint(t, a, nil, osd)
	backupPoint(t, b, nil, osd)
	r1, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r1.BytesWritten != 0 || r1.ChunksRead != r1.Chunks || r1.ChunksSkipped != r1.Chunks {
		t.Fatalf("first copy: %+v", r1)
	}
	sp2 := backupPoint(t, a, nil, osd)
	r2, err := replicate.Copy(ctx, a, b, sp2.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.BytesWritten != 0 || r2.BytesRead != 0 || r2.MapHits != r2.Chunks {
		t.Fatalf("second copy: %+v", r2)
	}
	checkRestores(t, b, r2.Point, osd)
}

// The rate limit holds: the bytes written to the destination pass at the
// cap.
func TestCopyRateLimit(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	d := newDisk(6<<20, 8)
	change(d, len(d.b)/cs, 9) // every chunk random: sealed size = data size
	sp := backupPoint(t, a, nil, d)
	const rate = 4 << 20 // 6 MiB take 1.5 s
	start := time.Now()
	res, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{Limiter: ratelimit.New(rate), SkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	got := float64(res.BytesWritten) / el.Seconds()
	t.Logf("wrote %d B in %v: %.2f MiB/s at a cap of %d MiB/s", res.BytesWritten, el.Round(time.Millisecond), got/(1<<20), rate>>20)
	if got > rate*1.03 || got < rate*0.8 {
		t.Fatalf("measured %.0f B/s, cap %d: %.2f of it", got, rate, got/rate)
	}
	checkRestores(t, b, res.Point, d)
}

// A damaged source chunk fails the copy with an error that names the
// disk, the offset and the chunk, and nothing is committed.
func TestCopyCorruptSourceChunk(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd, data := newDisk(2<<20, 10), newDisk(2<<20, 11)
	sp := backupPoint(t, a, nil, osd, data)
	m, err := a.LoadManifest(ctx, &sp.Disks[1])
	if err != nil {
		t.Fatal(err)
	}
	j := len(m.IDs) - 1
	for m.IDs[j].IsZero() {
		j--
	}
	bad := m.IDs[j]
	path := filepath.Join(dirOf(a), filepath.FromSlash(chunkstore.ChunkName(bad)))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x10
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if err == nil {
		t.Fatal("copy of a damaged point succeeded")
	}
	t.Logf("error: %v", err)
	if !cairn.IsKind(err, cairn.Corrupt) {
		t.Fatalf("kind %v, want corrupt", cairn.KindOf(err))
	}
	for _, want := range []string{bad.Short(), "disk data", "offset"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	assertNothingCommitted(t, b)
}

func assertNothingCommitted(t *testing.T, b *vault.Vault) {
	t.Helper()
	ctx := context.Background()
	ids, err := b.PointIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Fatalf("the destination has restore points %v", ids)
	}
	locks, err := b.Locks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(locks) != 0 {
		t.Fatalf("the copy left locks %+v", locks)
	}
	if n := 0; true {
		_ = b.Backend().List(ctx, "manifests/", func(storage.ObjectInfo) error { n++; return nil })
		if n != 0 {
			t.Fatalf("the copy left %d manifests", n)
		}
	}
	verifyClean(t, b)
}

// Verification reads back what the destination holds: a destination
// chunk damaged before the copy, which the copy relies on without
// storing it, fails the copy, and nothing is committed.
func TestCopyVerifyCatchesDamagedDestination(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd := newDisk(2<<20, 12)
	sp := backupPoint(t, a, nil, osd)
	own := backupPoint(t, b, nil, osd) // the destination has every chunk
	m, err := b.LoadManifest(ctx, &own.Disks[0])
	if err != nil {
		t.Fatal(err)
	}
	j := 0
	for m.IDs[j].IsZero() {
		j++
	}
	path := filepath.Join(dirOf(b), filepath.FromSlash(chunkstore.ChunkName(m.IDs[j])))
	raw, _ := os.ReadFile(path)
	raw[len(raw)-1] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if !cairn.IsKind(err, cairn.Corrupt) || !strings.Contains(err.Error(), "verify") || !strings.Contains(err.Error(), m.IDs[j].Short()) {
		t.Fatalf("copy onto a damaged destination chunk: %v", err)
	}
	ids, _ := b.PointIDs(ctx)
	if len(ids) != 1 {
		t.Fatalf("destination points %v: the copy committed", ids)
	}
	// Without verification the copy commits (the damage is the
	// destination's own, which its verify reports).
	res, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{SkipVerify: true})
	if err != nil || res.Verified {
		t.Fatalf("unverified copy: %v %+v", err, res)
	}
	// Verifying the existing copy finds the damage.
	if _, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{}); !cairn.IsKind(err, cairn.Corrupt) {
		t.Fatalf("verify of the existing copy: %v", err)
	}
}

// What Copy refuses.
func TestCopyRefuses(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	sp := backupPoint(t, a, nil, newDisk(1<<20, 13))
	bp := backupPoint(t, b, nil, newDisk(1<<20, 14))
	big := newVaultAt(t, filepath.Join(t.TempDir(), "big"), 4*cs)
	cases := []struct {
		name string
		src  *vault.Vault
		dst  *vault.Vault
		ref  string
		opts replicate.Options
		kind cairn.Kind
		msg  string
	}{
		{"same vault", a, a, sp.ID, replicate.Options{}, cairn.Invalid, "same vault"},
		{"chunk sizes differ", a, big, sp.ID, replicate.Options{}, cairn.Unsupported, "chunk size"},
		{"no such point", a, b, "abcdef01", replicate.Options{}, cairn.NotExist, "does not exist"},
		{"bad destination id", a, b, sp.ID, replicate.Options{PointID: "xyz"}, cairn.Invalid, "hex digits"},
		{"destination id taken", a, b, sp.ID, replicate.Options{PointID: bp.ID}, cairn.Exist, "not a copy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := replicate.Copy(ctx, c.src, c.dst, c.ref, c.opts)
			if !cairn.IsKind(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v (kind %v), want kind %v and %q", err, cairn.KindOf(err), c.kind, c.msg)
			}
		})
	}
	if ids, _ := big.PointIDs(ctx); len(ids) != 0 {
		t.Fatal("a refused copy committed")
	}
}

// A canceled copy fails with kind Canceled and commits nothing; run again,
// it completes.
func TestCopyCanceled(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	osd := newDisk(4<<20, 15)
	sp := backupPoint(t, a, nil, osd)
	cctx, cancel := context.WithCancel(ctx)
	lim := &cancelAfter{n: 10, cancel: cancel}
	_, err := replicate.Copy(cctx, a, b, sp.ID, replicate.Options{Limiter: lim})
	if !cairn.IsKind(err, cairn.Canceled) {
		t.Fatalf("canceled copy: %v (kind %v)", err, cairn.KindOf(err))
	}
	ids, _ := b.PointIDs(ctx)
	if len(ids) != 0 {
		t.Fatal("a canceled copy committed")
	}
	res, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ChunksSkipped < 10 {
		t.Fatalf("the second attempt found %d chunks already there, want at least 10", res.ChunksSkipped)
	}
	checkRestores(t, b, res.Point, osd)
}

type cancelAfter struct {
	n      int
	cancel func()
}

func (c *cancelAfter) Wait(ctx context.Context, n int) error {
	// Called with the limiter's lock held: no race on c.n.
	if c.n--; c.n < 0 {
		c.cancel()
		return ctx.Err()
	}
	return nil
}

// A source restore point forgotten and collected during its copy fails the
// copy with kind NotExist, saying so, and nothing is committed.
func TestCopySourceDeletedDuringCopy(t *testing.T) {
	ctx := context.Background()
	a, b := newVault(t), newVault(t)
	sp := backupPoint(t, a, nil, newDisk(4<<20, 16))
	lim := &hook{n: 5, fn: func() error {
		if err := a.DeletePoint(ctx, sp); err != nil {
			return err
		}
		_, err := a.GC(ctx, vault.GCOptions{})
		return err
	}}
	_, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{Limiter: lim, Workers: 2})
	if !cairn.IsKind(err, cairn.NotExist) || !strings.Contains(err.Error(), "deleted during the copy") {
		t.Fatalf("copy of a point deleted meanwhile: %v (kind %v)", err, cairn.KindOf(err))
	}
	assertNothingCommitted(t, b)
}

// hook is a Limiter that runs fn at its n-th call.
type hook struct {
	n  int
	fn func() error
}

func (h *hook) Wait(ctx context.Context, n int) error {
	// Called with the limiter's lock held: no race on h.n.
	if h.n--; h.n == 0 {
		return h.fn()
	}
	return nil
}
