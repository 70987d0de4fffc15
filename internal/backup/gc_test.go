package backup_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/vault"
)

func chunkCount(t *testing.T, v *vault.Vault) int {
	t.Helper()
	n := 0
	if err := v.Backend().List(context.Background(), chunkstore.ChunkPrefix, func(storage.ObjectInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func verifyClean(t *testing.T, v *vault.Vault) *vault.VerifyReport {
	t.Helper()
	rep, err := v.Verify(context.Background(), vault.VerifyOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify found damage: %+v", rep.Points)
	}
	return rep
}

func TestGCRemovesUnreferenced(t *testing.T) {
	ctx := context.Background()
	v := newVault(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.raw"), filepath.Join(dir, "b.raw")
	makeImage(t, a, 3<<20, 1)
	makeImage(t, b, 3<<20, 2)
	ra, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, a)}}, backup.Options{VM: vault.VM{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, b)}}, backup.Options{VM: vault.VM{Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	before := chunkCount(t, v)
	if err := v.DeletePoint(ctx, ra.Point); err != nil {
		t.Fatal(err)
	}
	st, err := v.GC(ctx, vault.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.DeletedChunks != ra.Point.Disks[0].NewChunks || st.DeletedChunks == 0 {
		t.Fatalf("GC deleted %d chunks, want the %d only point a had", st.DeletedChunks, ra.Point.Disks[0].NewChunks)
	}
	if after := chunkCount(t, v); after != before-st.DeletedChunks {
		t.Fatalf("chunks: %d before, %d after, %d deleted", before, after, st.DeletedChunks)
	}
	if st.DeletedOther != 0 {
		t.Fatalf("GC deleted %d other objects; forget already removed the manifests", st.DeletedOther)
	}
	rep := verifyClean(t, v)
	if rep.Unreferenced != 0 {
		t.Fatalf("%d unreferenced chunks remain", rep.Unreferenced)
	}
}

// A backup that started before GC published its candidates and refers to
// candidate chunks (deduplication hits) makes GC wait, and keeps them.
func TestGCWaitsForRunningBackup(t *testing.T) {
	ctx := context.Background()
	v := newVault(t)
	img := filepath.Join(t.TempDir(), "a.raw")
	makeImage(t, img, 2<<20, 3)
	ra, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := v.LoadManifest(ctx, &ra.Point.Disks[0])
	if err != nil {
		t.Fatal(err)
	}
	// The backup starts: it sees point a's chunks as stored.
	sess, err := v.BeginBackup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range m.IDs {
		if !id.IsZero() && !sess.Usable(id) {
			t.Fatal("a stored chunk is not usable")
		}
	}
	// Point a is forgotten, so every chunk is a candidate.
	if err := v.DeletePoint(ctx, ra.Point); err != nil {
		t.Fatal(err)
	}
	done := make(chan vault.GCStats)
	go func() {
		st, err := v.GC(ctx, vault.GCOptions{Wait: time.Minute, Poll: 10 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("GC finished while a backup was running")
	default:
	}
	rp := &vault.RestorePoint{ID: sess.PointID, Time: time.Now(), VM: vault.VM{Name: "a"}, ConsistencyMode: vault.CrashConsistent, Disks: []vault.Disk{{Name: "os"}}}
	if err := sess.Commit(ctx, rp, []*vault.Manifest{m}); err != nil {
		t.Fatal(err)
	}
	st := <-done
	if len(st.WaitedFor) != 1 || st.DeletedChunks != 0 || st.Candidates == 0 {
		t.Fatalf("GC stats %+v: want it to wait for one backup and delete nothing", st)
	}
	restoreAndCompare(t, v, rp, "os", img)
	verifyClean(t, v)
}

// A backup that starts after GC published its candidates does not rely on
// them and GC does not wait for it: GC deletes them, and the backup stores
// again the ones it needs after GC has ended.
func TestBackupAfterPendingStoresAfterGC(t *testing.T) {
	ctx := context.Background()
	vault.PendingPoll = 10 * time.Millisecond
	v := newVault(t)
	img := filepath.Join(t.TempDir(), "a.raw")
	makeImage(t, img, 2<<20, 4)
	ra, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.DeletePoint(ctx, ra.Point); err != nil {
		t.Fatal(err)
	}
	type result struct {
		r   *backup.Result
		err error
	}
	during := make(chan result, 1)
	st, err := v.GC(ctx, vault.GCOptions{Wait: time.Minute, Poll: 10 * time.Millisecond, AfterPending: func() {
		// Parent "none": a full read that finds every chunk doomed.
		go func() {
			r, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "a"}, Parent: "none"})
			during <- result{r, err}
		}()
		// Let the backup take its lock and declare the pending list.
		for {
			locks, err := v.Locks(ctx)
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
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.WaitedFor) != 0 || st.DeletedChunks != ra.Point.Disks[0].NewChunks {
		t.Fatalf("GC %+v: want no wait and all %d chunks deleted", st, ra.Point.Disks[0].NewChunks)
	}
	res := <-during
	if res.err != nil {
		t.Fatal(res.err)
	}
	if n := res.r.Point.Disks[0].NewChunks; n != ra.Point.Disks[0].NewChunks {
		t.Fatalf("backup during GC stored %d chunks, want all %d again", n, ra.Point.Disks[0].NewChunks)
	}
	restoreAndCompare(t, v, res.r.Point, "os", img)
	verifyClean(t, v)
}

// Backups and garbage collections run at the same time for a while. The
// backups cycle through three unchanging images, so nearly every chunk they
// refer to is one that a garbage collection has just found unreferenced:
// by deduplication (a full read) or by inheritance from the parent (an
// empty change map). Every restore point left must restore byte-exactly and
// the vault must verify clean.
func TestGCConcurrentWithBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	vault.PendingPoll = 10 * time.Millisecond
	ctx := context.Background()
	v := newVault(t)
	dir := t.TempDir()
	var imgs []string
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("vm%d.raw", i))
		makeImage(t, p, 2<<20, uint64(50+i))
		imgs = append(imgs, p)
	}
	// A VM backed up once and then forgotten: its chunks must go.
	gone := filepath.Join(dir, "gone.raw")
	makeImage(t, gone, 1<<20, 49)
	if _, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, gone)}}, backup.Options{VM: vault.VM{Name: "gone"}}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var backups, gcs, deleted atomic.Int64
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
			n := i % 3
			d := backup.Disk{Name: "os", Source: openSource(t, imgs[n])}
			opts := backup.Options{VM: vault.VM{Name: fmt.Sprintf("vm%d", n)}}
			if (i/3)%2 == 1 {
				d.Changes = []cairn.Extent{} // nothing changed: inherit all
			} else {
				opts.Parent = "none"
			}
			if _, err := backup.Run(ctx, v, []backup.Disk{d}, opts); err != nil {
				t.Error(err)
				return
			}
			backups.Add(1)
		}
	}()
	go func() { // forget all but the newest point, then collect garbage
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			pts, err := v.Points(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i+1 < len(pts); i++ {
				if err := v.DeletePoint(ctx, pts[i]); err != nil {
					t.Error(err)
					return
				}
			}
			st, err := v.GC(ctx, vault.GCOptions{Wait: time.Minute, Poll: 5 * time.Millisecond})
			if err != nil {
				t.Error(err)
				return
			}
			gcs.Add(1)
			deleted.Add(int64(st.DeletedChunks))
			// Every committed point must still have all its chunks.
			rep, err := v.Verify(ctx, vault.VerifyOptions{})
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
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d backups, %d garbage collections, %d chunks deleted", backups.Load(), gcs.Load(), deleted.Load())
	if backups.Load() < 6 || gcs.Load() < 3 || deleted.Load() == 0 {
		t.Fatalf("too little happened to prove anything: %d backups, %d GCs, %d chunks deleted", backups.Load(), gcs.Load(), deleted.Load())
	}
	pts, err := v.Points(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) == 0 {
		t.Fatal("no restore point left")
	}
	for _, rp := range pts {
		var n int
		fmt.Sscanf(rp.VM.Name, "vm%d", &n)
		restoreAndCompare(t, v, rp, "os", imgs[n])
	}
	verifyClean(t, v)
}
