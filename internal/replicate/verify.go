package replicate

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/vault"
)

// verify checks that the destination manifests dmans hold the source
// point's content: they have the source manifests' shape, zero chunks at
// the same places, one destination chunk for each source chunk, and each
// destination chunk, read back from the destination and verified against
// its id there, hashes with the source's id key to the source chunk's id.
func (c *copier) verify(ctx context.Context, dmans []*vault.Manifest) error {
	if len(dmans) != len(c.smans) {
		return cairn.E(cairn.Corrupt, fmt.Errorf("verify: %d destination manifests for %d disks", len(dmans), len(c.smans)))
	}
	bids := make([]cairn.ChunkID, len(c.items))
	set := make([]bool, len(c.items))
	owner := make(map[cairn.ChunkID]int, len(c.items)) // destination id -> item
	for i, sm := range c.smans {
		dm := dmans[i]
		name := c.sp.Disks[i].Name
		if dm.DiskSize != sm.DiskSize || dm.ChunkSize != sm.ChunkSize || len(dm.IDs) != len(sm.IDs) {
			return cairn.E(cairn.Corrupt, fmt.Errorf("verify: disk %s: the destination has %d bytes in %d chunks of %d, the source %d bytes in %d chunks of %d",
				name, dm.DiskSize, len(dm.IDs), dm.ChunkSize, sm.DiskSize, len(sm.IDs), sm.ChunkSize))
		}
		for j, a := range sm.IDs {
			b := dm.IDs[j]
			if a.IsZero() != b.IsZero() {
				return cairn.E(cairn.Corrupt, fmt.Errorf("verify: disk %s at offset %d: zeros on one side only", name, int64(j)*int64(sm.ChunkSize)))
			}
			if a.IsZero() {
				continue
			}
			k := c.byID[a]
			if !set[k] {
				bids[k], set[k] = b, true
			} else if bids[k] != b {
				return cairn.E(cairn.Corrupt, fmt.Errorf("verify: disk %s at offset %d: source chunk %s has two destination chunks, %s and %s", name, int64(j)*int64(sm.ChunkSize), a.Short(), bids[k].Short(), b.Short()))
			}
			if o, ok := owner[b]; !ok {
				owner[b] = k
			} else if o != k {
				return cairn.E(cairn.Corrupt, fmt.Errorf("verify: destination chunk %s stands for two source chunks, %s and %s", b.Short(), c.items[o].aid.Short(), a.Short()))
			}
		}
	}
	for i, d := range c.sp.Disks {
		c.prog.Add(d.Name, c.zeroBytes[i])
	}

	var verified atomic.Int64
	jobc := make(chan int, c.opts.Workers)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobc)
		for k := range c.items {
			select {
			case jobc <- k:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range c.opts.Workers {
		g.Go(func() error {
			sh := c.src.Store().Keys().NewHasher()
			dh := c.dst.Store().Keys().NewHasher()
			buf := make([]byte, 0, c.dst.ChunkSize())
			for k := range jobc {
				it := &c.items[k]
				data, err := c.dst.Store().Get(gctx, dh, bids[k], buf)
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					return fmt.Errorf("verify: %s: destination: %w", c.where(it), err)
				}
				if len(data) != it.size {
					return cairn.E(cairn.Corrupt, fmt.Errorf("verify: %s: destination chunk %s has %d bytes, the source chunk %d", c.where(it), bids[k].Short(), len(data), it.size))
				}
				if got := sh.Sum(data); got != it.aid {
					return cairn.E(cairn.Corrupt, fmt.Errorf("verify: %s: destination chunk %s does not hold source chunk %s", c.where(it), bids[k].Short(), it.aid.Short()))
				}
				verified.Add(int64(len(data)))
				c.done(it)
			}
			return nil
		})
	}
	err := g.Wait()
	c.res.VerifiedBytes = verified.Load()
	return err
}

// checkCommitted reads the committed restore point and its manifests back
// from the destination and compares them with what was committed.
func checkCommitted(ctx context.Context, dst *vault.Vault, rp *vault.RestorePoint, mans []*vault.Manifest) error {
	got, err := dst.LoadPoint(ctx, rp.ID)
	if err != nil {
		return fmt.Errorf("verify: read back the committed restore point: %w", err)
	}
	if len(got.Disks) != len(rp.Disks) {
		return cairn.E(cairn.Corrupt, fmt.Errorf("verify: the committed restore point %s reads back with %d disks, not %d", rp.ID, len(got.Disks), len(rp.Disks)))
	}
	for i := range got.Disks {
		m, err := dst.LoadManifest(ctx, &got.Disks[i])
		if err != nil {
			return fmt.Errorf("verify: read back disk %s's manifest: %w", rp.Disks[i].Name, err)
		}
		if got.Disks[i].Name != rp.Disks[i].Name || m.ChunkSize != mans[i].ChunkSize || len(m.IDs) != len(mans[i].IDs) {
			return cairn.E(cairn.Corrupt, fmt.Errorf("verify: disk %s's manifest reads back different", rp.Disks[i].Name))
		}
		for j := range m.IDs {
			if m.IDs[j] != mans[i].IDs[j] {
				return cairn.E(cairn.Corrupt, fmt.Errorf("verify: disk %s's manifest reads back different at chunk %d", rp.Disks[i].Name, j))
			}
		}
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, storage.ErrNotExist) }
