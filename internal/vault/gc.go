package vault

// Garbage collection removes the chunks and manifests that no committed
// restore point references, and never one that a running backup may still
// reference. A backup refers to stored chunks without writing them (a
// deduplication hit, or a chunk inherited from its parent), so a chunk's
// age alone says nothing. The protocol:
//
//	backup                              garbage collection
//	1. write its lock                   1. list points and manifests: referenced
//	2. read gc/ (pending deletions);       set R; list chunks: candidates C
//	   if any, declare their ids in     2. write gc/<id> listing C
//	   its lock                         3. list backup locks; wait until each
//	3. list chunks: known set              has been released or gone stale, or
//	   = listed - pending                  has declared gc/<id>
//	4. store new chunks, except those   4. list points again: R'; delete each c
//	   pending ("doomed")                  in C not in R' and not written since
//	5. wait until the collections it       gc/<id> was
//	   saw have ended, then store the   5. delete gc/<id>
//	   doomed chunks it needs
//	6. commit, release its lock
//
// A backup that GC waits for in step 3 has committed or died before GC
// deletes anything, so its chunks are in R'. A backup GC does not wait for
// either declared gc/<id>, so it stores the chunks of C it needs only after
// GC has ended, or wrote its lock after GC listed the locks, hence after
// gc/<id> existed, so it read gc/<id> in its step 2 and declared it. Either
// way no chunk a backup relies on is deleted under it. Backups that stall
// past LockStale without refreshing their lock fail at commit (Lock.Check),
// so a lock taken for stale never protects a commit.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/storage"
)

// GCOptions tune garbage collection.
type GCOptions struct {
	// Wait bounds how long GC waits for running backups to finish. When
	// they do not finish in time, GC deletes nothing and says so in
	// GCStats.Deferred; run it again later.
	Wait time.Duration
	// DryRun computes what would be deleted and deletes nothing.
	DryRun bool
	// Poll is how often GC looks at the locks while waiting (default 1 s).
	Poll time.Duration
	// AfterPending, when set, is called after the pending deletion list
	// is written and before GC looks at the locks (tests use it to start
	// a backup at the worst moment).
	AfterPending func()
}

// GCStats reports what garbage collection did.
type GCStats struct {
	Points          int      `json:"points"`
	ReferencedChunk int      `json:"referencedChunks"`
	Chunks          int      `json:"chunks"`
	Candidates      int      `json:"candidates"`
	DeletedChunks   int      `json:"deletedChunks"`
	DeletedBytes    int64    `json:"deletedBytes"`
	KeptChunks      int      `json:"keptChunks"` // candidates kept because a backup referenced or stored them meanwhile
	DeletedOther    int      `json:"deletedOther"`
	WaitedFor       []string `json:"waitedFor,omitempty"`
	RemovedStale    []string `json:"removedStaleLocks,omitempty"`
	Deferred        bool     `json:"deferred"`
}

// referenced loads every restore point and returns the set of chunk ids
// their manifests name and the set of manifest objects they own.
func (v *Vault) referenced(ctx context.Context) (map[cairn.ChunkID]struct{}, map[string]bool, int, error) {
	pts, bad, err := v.loadPointsTolerant(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	for id, e := range bad {
		return nil, nil, 0, fmt.Errorf("restore point %s cannot be read, so its chunks are unknown; nothing deleted (run 'cairn verify'): %w", id, e)
	}
	refs := map[cairn.ChunkID]struct{}{}
	mans := map[string]bool{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, rp := range pts {
		for i := range rp.Disks {
			d := &rp.Disks[i]
			mans[d.Manifest] = true
			g.Go(func() error {
				m, err := v.LoadManifest(gctx, d)
				if err != nil {
					return fmt.Errorf("restore point %s disk %s: manifest cannot be read; nothing deleted (run 'cairn verify'): %w", rp.ID, d.Name, err)
				}
				mu.Lock()
				for _, id := range m.IDs {
					if !id.IsZero() {
						refs[id] = struct{}{}
					}
				}
				mu.Unlock()
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, nil, 0, err
	}
	return refs, mans, len(pts), nil
}

// GC runs garbage collection. Only one runs at a time per vault.
func (v *Vault) GC(ctx context.Context, opts GCOptions) (GCStats, error) {
	var st GCStats
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	locks, err := v.Locks(ctx)
	if err != nil {
		return st, err
	}
	now := v.clock.Now()
	for _, li := range locks {
		if li.Kind == LockGC && !li.Stale(now) {
			return st, cairn.E(cairn.Conflict, fmt.Errorf("another garbage collection is running (lock %s, host %s, pid %d)", li.ID, li.Host, li.PID))
		}
	}
	lk, err := v.lock(ctx, LockGC, "")
	if err != nil {
		return st, err
	}
	defer func() { _ = lk.Release(context.WithoutCancel(ctx)) }()

	// Pending lists of garbage collections that died are void.
	if !opts.DryRun {
		lists, err := v.pendingLists(ctx)
		if err != nil {
			return st, err
		}
		for _, p := range lists {
			if err := v.be.Delete(ctx, gcPrefix+p.ID); err != nil {
				return st, cairn.E(cairn.IO, fmt.Errorf("remove old pending list: %w", err))
			}
		}
	}

	// Step 1.
	refs, _, npoints, err := v.referenced(ctx)
	if err != nil {
		return st, err
	}
	st.Points, st.ReferencedChunk = npoints, len(refs)
	var cand []cairn.ChunkID
	err = v.be.List(ctx, chunkstore.ChunkPrefix, func(oi storage.ObjectInfo) error {
		id, ok := chunkstore.ParseChunkName(oi.Name)
		if !ok {
			return nil
		}
		st.Chunks++
		if _, r := refs[id]; !r {
			cand = append(cand, id)
		}
		return nil
	})
	if err != nil {
		return st, cairn.E(cairn.IO, fmt.Errorf("list chunks: %w", err))
	}
	st.Candidates = len(cand)
	if opts.DryRun {
		return st, nil
	}

	// Step 2.
	pl := pendingList{LockID: lk.Info().ID, Created: v.clock.Now().UTC().Format(time.RFC3339Nano)}
	pl.Chunks = make([]byte, 0, 32*len(cand))
	for _, id := range cand {
		pl.Chunks = append(pl.Chunks, id[:]...)
	}
	pname := gcPrefix + newID()
	if err := v.putObject(ctx, pname, pl); err != nil {
		return st, err
	}
	defer func() { _ = v.be.Delete(context.WithoutCancel(ctx), pname) }()
	pinfo, err := v.be.Stat(ctx, pname)
	if err != nil {
		return st, cairn.E(cairn.IO, fmt.Errorf("stat %s: %w", pname, err))
	}
	tp := pinfo.ModTime
	if opts.AfterPending != nil {
		opts.AfterPending()
	}

	// Step 3.
	deferred, err := v.waitForBackups(ctx, opts, strings.TrimPrefix(pname, gcPrefix), &st)
	if err != nil {
		return st, err
	}
	if deferred {
		st.Deferred = true
		return st, nil
	}

	// Step 4.
	refs2, mans2, _, err := v.referenced(ctx)
	if err != nil {
		return st, err
	}
	var deleted, kept atomic.Int64
	var bytes atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, id := range cand {
		if _, r := refs2[id]; r {
			kept.Add(1)
			continue
		}
		g.Go(func() error {
			name := chunkstore.ChunkName(id)
			oi, err := v.be.Stat(gctx, name)
			if errors.Is(err, storage.ErrNotExist) {
				return nil
			}
			if err != nil {
				return cairn.E(cairn.IO, fmt.Errorf("stat %s: %w", name, err))
			}
			// Written since (or in the same clock tick as) the
			// pending list was published: a backup stored it again
			// because it needs it. Object times and Tp come from the
			// same store's clock, at the same resolution.
			if !oi.ModTime.Before(tp) {
				kept.Add(1)
				return nil
			}
			if err := v.be.Delete(gctx, name); err != nil {
				return cairn.E(cairn.IO, fmt.Errorf("delete %s: %w", name, err))
			}
			deleted.Add(1)
			bytes.Add(oi.Size)
			return nil
		})
	}
	err = g.Wait()
	st.DeletedChunks, st.KeptChunks, st.DeletedBytes = int(deleted.Load()), int(kept.Load()), bytes.Load()
	if err != nil {
		return st, err
	}
	n, err := v.removeOrphanManifests(ctx, mans2)
	st.DeletedOther = n
	return st, err
}

// waitForBackups waits until every backup lock seen now is released,
// stale (stale ones are removed) or declares the pending list pendingID. It reports true when Wait ran out first.
func (v *Vault) waitForBackups(ctx context.Context, opts GCOptions, pendingID string, st *GCStats) (bool, error) {
	locks, err := v.Locks(ctx)
	if err != nil {
		return false, err
	}
	waiting := map[string]bool{}
	now := v.clock.Now()
	for _, li := range locks {
		if li.Kind == LockGC || slices.Contains(li.SawPending, pendingID) {
			continue
		}
		if li.Stale(now) {
			if err := v.removeLock(ctx, li.ID); err != nil {
				return false, cairn.E(cairn.IO, fmt.Errorf("remove stale lock %s: %w", li.ID, err))
			}
			st.RemovedStale = append(st.RemovedStale, li.ID)
			continue
		}
		waiting[li.ID] = true
		st.WaitedFor = append(st.WaitedFor, li.ID)
	}
	deadline := time.Now().Add(opts.Wait)
	for len(waiting) > 0 {
		if time.Now().After(deadline) {
			return true, nil
		}
		t := time.NewTimer(opts.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
		locks, err := v.Locks(ctx)
		if err != nil {
			return false, err
		}
		still := map[string]bool{}
		now := v.clock.Now()
		for _, li := range locks {
			if waiting[li.ID] && !li.Stale(now) && !slices.Contains(li.SawPending, pendingID) {
				still[li.ID] = true
			}
		}
		waiting = still
	}
	return false, nil
}

// removeOrphanManifests deletes manifests that belong to no committed
// restore point and to no running backup.
func (v *Vault) removeOrphanManifests(ctx context.Context, owned map[string]bool) (int, error) {
	// Manifests first, locks second: a backup writes its lock before its
	// manifests, so the owner of any manifest listed here is either among
	// the locks listed next, committed, or dead.
	var found []string
	err := v.be.List(ctx, "manifests/", func(oi storage.ObjectInfo) error {
		if !owned[oi.Name] {
			found = append(found, oi.Name)
		}
		return nil
	})
	if err != nil {
		return 0, cairn.E(cairn.IO, fmt.Errorf("list manifests: %w", err))
	}
	locks, err := v.Locks(ctx)
	if err != nil {
		return 0, err
	}
	live := map[string]bool{}
	now := v.clock.Now()
	for _, li := range locks {
		if li.Point != "" && !li.Stale(now) {
			live[li.Point] = true
		}
	}
	n := 0
	for _, name := range found {
		point, _, _ := strings.Cut(strings.TrimPrefix(name, "manifests/"), "/")
		if live[point] {
			continue
		}
		// A point committed after the listing owns its manifests.
		if _, err := v.be.Stat(ctx, pointName(point)); err == nil {
			continue
		}
		if err := v.be.Delete(ctx, name); err != nil {
			return n, cairn.E(cairn.IO, fmt.Errorf("delete %s: %w", name, err))
		}
		n++
	}
	return n, nil
}
