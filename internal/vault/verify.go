package vault

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/storage"
)

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// ReadData reads every referenced chunk back, decrypts and
	// decompresses it and checks its hash.
	ReadData bool
	// Workers is how many chunks are read at once (default 8).
	Workers int
	// Progress, when set, is called with the number of chunks read so far
	// and the total, from any goroutine.
	Progress func(done, total int64)
}

// PointReport is the verdict on one restore point.
type PointReport struct {
	ID       string   `json:"id"`
	VM       string   `json:"vm,omitempty"`
	Time     string   `json:"time,omitempty"`
	Damaged  bool     `json:"damaged"`
	Problems []string `json:"problems,omitempty"`
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Points        []PointReport `json:"points"`
	Chunks        int           `json:"chunks"`           // chunk objects in the vault
	Referenced    int           `json:"referencedChunks"` // distinct chunks referenced
	ChunksRead    int           `json:"chunksRead"`
	BytesRead     int64         `json:"bytesRead"`
	Missing       int           `json:"missingChunks"`
	Damaged       int           `json:"damagedChunks"`
	Unreferenced  int           `json:"unreferencedChunks"` // left by interrupted backups or forget; removed by prune
	StaleLocks    []LockInfo    `json:"staleLocks,omitempty"`
	VaultProblems []string      `json:"vaultProblems,omitempty"`
}

// OK reports whether nothing is damaged.
func (r *VerifyReport) OK() bool {
	if len(r.VaultProblems) > 0 {
		return false
	}
	for _, p := range r.Points {
		if p.Damaged {
			return false
		}
	}
	return true
}

// DamagedPoints returns the ids of damaged restore points.
func (r *VerifyReport) DamagedPoints() []string {
	var out []string
	for _, p := range r.Points {
		if p.Damaged {
			out = append(out, p.ID)
		}
	}
	return out
}

// Verify checks the vault's structure (every restore point and manifest
// opens and agrees with itself, every referenced chunk exists) and, with
// ReadData, every referenced chunk's content. Damage is reported in the
// report, naming the restore points it affects; an error is returned only
// when the check itself cannot proceed.
func (v *Vault) Verify(ctx context.Context, opts VerifyOptions) (*VerifyReport, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	rep := &VerifyReport{}
	sizes := map[cairn.ChunkID]int64{}
	err := v.be.List(ctx, chunkstore.ChunkPrefix, func(oi storage.ObjectInfo) error {
		if id, ok := chunkstore.ParseChunkName(oi.Name); ok {
			sizes[id] = oi.Size
		} else {
			rep.VaultProblems = append(rep.VaultProblems, fmt.Sprintf("unexpected object %s", oi.Name))
		}
		return nil
	})
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("list chunks: %w", err))
	}
	rep.Chunks = len(sizes)

	pts, bad, err := v.loadPointsTolerant(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]*PointReport{}
	for id, e := range bad {
		rep.Points = append(rep.Points, PointReport{ID: id, Damaged: true, Problems: []string{e.Error()}})
	}
	users := map[cairn.ChunkID][]string{} // chunk -> points that reference it
	var mu sync.Mutex
	reports := make([]PointReport, len(pts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, rp := range pts {
		reports[i] = PointReport{ID: rp.ID, VM: rp.VM.Name, Time: rp.Time.UTC().Format("2006-01-02T15:04:05Z")}
		pr := &reports[i]
		for di := range rp.Disks {
			d := &rp.Disks[di]
			g.Go(func() error {
				m, err := v.LoadManifest(gctx, d)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					pr.Damaged = true
					pr.Problems = append(pr.Problems, fmt.Sprintf("disk %s: %v", d.Name, err))
					return nil
				}
				seen := map[cairn.ChunkID]bool{}
				for _, id := range m.IDs {
					if id.IsZero() || seen[id] {
						continue
					}
					seen[id] = true
					users[id] = append(users[id], rp.ID)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := range reports {
		byID[reports[i].ID] = &reports[i]
	}
	rep.Referenced = len(users)
	for id := range sizes {
		if _, ok := users[id]; !ok {
			rep.Unreferenced++
		}
	}
	damage := func(id cairn.ChunkID, what string) {
		seen := map[string]bool{} // a point may use a chunk in several disks
		for _, p := range users[id] {
			if seen[p] {
				continue
			}
			seen[p] = true
			pr := byID[p]
			pr.Damaged = true
			if len(pr.Problems) < 20 {
				pr.Problems = append(pr.Problems, fmt.Sprintf("chunk %s %s", id.Short(), what))
			}
		}
	}
	var toRead []cairn.ChunkID
	for id := range users {
		size, ok := sizes[id]
		switch {
		case !ok:
			rep.Missing++
			damage(id, "is missing")
		case size < chunkstore.Overhead:
			rep.Damaged++
			damage(id, fmt.Sprintf("is truncated (%d bytes)", size))
		default:
			toRead = append(toRead, id)
		}
	}
	if opts.ReadData {
		if err := v.readBack(ctx, opts, toRead, rep, &mu, damage); err != nil {
			return nil, err
		}
	}
	rep.Points = append(rep.Points, reports...)
	sort.Slice(rep.Points, func(i, j int) bool { return rep.Points[i].Time < rep.Points[j].Time })

	locks, err := v.Locks(ctx)
	if err != nil {
		return nil, err
	}
	now := v.clock.Now()
	for _, li := range locks {
		if li.Stale(now) {
			rep.StaleLocks = append(rep.StaleLocks, li)
		}
	}
	return rep, nil
}

func (v *Vault) readBack(ctx context.Context, opts VerifyOptions, ids []cairn.ChunkID, rep *VerifyReport, mu *sync.Mutex, damage func(cairn.ChunkID, string)) error {
	var done atomic.Int64
	total := int64(len(ids))
	work := make(chan cairn.ChunkID)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(work)
		for _, id := range ids {
			select {
			case work <- id:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range opts.Workers {
		g.Go(func() error {
			h := v.keys.NewHasher()
			buf := make([]byte, 0, v.cfg.ChunkSize)
			for id := range work {
				out, err := v.store.Get(gctx, h, id, buf)
				if gctx.Err() != nil {
					return gctx.Err()
				}
				mu.Lock()
				if err != nil {
					rep.Damaged++
					damage(id, "is damaged: "+err.Error())
				} else {
					rep.ChunksRead++
					rep.BytesRead += int64(len(out))
				}
				mu.Unlock()
				if opts.Progress != nil {
					opts.Progress(done.Add(1), total)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
