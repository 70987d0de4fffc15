package replicate_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/replicate"
	"github.com/cairn-vm/cairn/internal/vault"
)

// A copy that starts after a garbage collection of the destination
// published its pending deletions does not rely on them: the collection
// deletes the chunks, and the copy stores the ones it needs after the
// collection has ended.
func TestCopyStoresDoomedChunksAfterGC(t *testing.T) {
	ctx := context.Background()
	defer setPendingPoll(10 * time.Millisecond)()
	a, b := newVault(t), newVault(t)
	osd := newDisk(2<<20, 20)
	sp := backupPoint(t, a, nil, osd)
	r1, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The copy is forgotten at the destination: its chunks are garbage.
	if err := b.DeletePoint(ctx, r1.Point); err != nil {
		t.Fatal(err)
	}
	type result struct {
		r   *replicate.Result
		err error
	}
	during := make(chan result, 1)
	st, err := b.GC(ctx, vault.GCOptions{Wait: time.Minute, Poll: 10 * time.Millisecond, AfterPending: func() {
		go func() {
			r, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{})
			during <- result{r, err}
		}()
		waitForDeclaredLock(t, b)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.WaitedFor) != 0 || st.DeletedChunks != int(r1.ChunksCopied) {
		t.Fatalf("GC %+v: want no wait and all %d chunks deleted", st, r1.ChunksCopied)
	}
	res := <-during
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.r.Deferred != r1.ChunksCopied || res.r.ChunksCopied != r1.ChunksCopied || res.r.MapHits != res.r.Chunks {
		t.Fatalf("copy during GC: %+v; want all %d chunks deferred and stored again", res.r, r1.ChunksCopied)
	}
	checkRestores(t, b, res.r.Point, osd)
	verifyClean(t, b)
}

func waitForDeclaredLock(t *testing.T, v *vault.Vault) {
	for {
		locks, err := v.Locks(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		for _, li := range locks {
			if li.Kind == vault.LockBackup && len(li.SawPending) > 0 {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func setPendingPoll(d time.Duration) (restore func()) {
	old := vault.PendingPoll
	vault.PendingPoll = d
	return func() { vault.PendingPoll = old }
}

// Copies and garbage collections of the destination run at the same time
// for a while. Each round forgets every copy but the newest at the
// destination and collects, while the next copy, of a point made of
// nearly the same chunks, runs. Every copy must succeed, every point left
// must restore byte-exactly and the destination must verify clean.
func TestCopyConcurrentWithDestinationGC(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	ctx := context.Background()
	defer setPendingPoll(10 * time.Millisecond)()
	a, b := newVault(t), newVault(t)
	// Three source points alternating between two disk states: each copy
	// relies on chunks that the previous round's collection may be
	// deleting.
	d1 := newDisk(2<<20, 21)
	d2 := d1.clone()
	change(d2, 8, 22)
	disks := []*memDisk{d1, d2}
	var pts []*vault.RestorePoint
	for i := range 4 {
		pts = append(pts, backupPoint(t, a, map[string]string{"n": string(rune('0' + i))}, disks[i%2]))
	}
	stop := make(chan struct{})
	var copies, gcs, deleted, deferred atomic.Int64
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sp := pts[i%len(pts)]
			// A fresh destination id each time, so every round copies.
			res, err := replicate.Copy(ctx, a, b, sp.ID, replicate.Options{PointID: vault.NewPointID(), Workers: 4})
			if err != nil {
				t.Error(err)
				return
			}
			copies.Add(1)
			deferred.Add(res.Deferred)
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ps, err := b.Points(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i+1 < len(ps); i++ {
				if err := b.DeletePoint(ctx, ps[i]); err != nil {
					t.Error(err)
					return
				}
			}
			st, err := b.GC(ctx, vault.GCOptions{Wait: time.Minute, Poll: 5 * time.Millisecond})
			if err != nil {
				t.Error(err)
				return
			}
			gcs.Add(1)
			deleted.Add(int64(st.DeletedChunks))
			rep, err := b.Verify(ctx, vault.VerifyOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			if !rep.OK() {
				t.Errorf("after GC %d: damaged points %v: %v", gcs.Load(), rep.DamagedPoints(), rep.Points)
				return
			}
		}
	}()
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d copies, %d garbage collections, %d chunks deleted, %d chunks stored after a collection ended", copies.Load(), gcs.Load(), deleted.Load(), deferred.Load())
	if copies.Load() < 4 || gcs.Load() < 3 || deleted.Load() == 0 {
		t.Fatalf("too little happened to prove anything: %d copies, %d GCs, %d chunks deleted", copies.Load(), gcs.Load(), deleted.Load())
	}
	ps, err := b.Points(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 {
		t.Fatal("no restore point left")
	}
	for _, rp := range ps {
		d := d1
		if rp.Tags["n"] == "1" || rp.Tags["n"] == "3" {
			d = d2
		}
		checkRestores(t, b, rp, d)
	}
	verifyClean(t, b)
}
