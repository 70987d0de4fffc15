// Package restore writes the disks of a restore point back out as raw
// images: chunks are fetched and opened in parallel, each one's hash is
// checked, zero chunks become holes, and an optional rate limit caps the
// bytes written per second.
package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/directio"
	"github.com/cairn-vm/cairn/internal/progress"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Limiter caps a byte rate: Wait blocks until n more bytes may pass.
type Limiter interface {
	Wait(ctx context.Context, n int) error
}

// Options tune a restore.
type Options struct {
	Disks     []string // names of the disks to restore; empty = all
	Limiter   Limiter  // nil = no limit
	Workers   int      // chunks in flight; 0 = 16
	Overwrite bool     // replace existing images in the target directory
	NoSync    bool     // skip the final fsync of each image
	Progress  progress.Reporter
}

// DiskResult describes one restored image.
type DiskResult struct {
	Disk    string `json:"disk"`
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	Written int64  `json:"written"` // bytes of data written; the rest are holes
}

// Select returns the disks of rp named in names (all when names is empty),
// or an error naming a disk rp lacks.
func Select(rp *vault.RestorePoint, names []string) ([]*vault.Disk, error) {
	if len(names) == 0 {
		out := make([]*vault.Disk, len(rp.Disks))
		for i := range rp.Disks {
			out[i] = &rp.Disks[i]
		}
		return out, nil
	}
	var out []*vault.Disk
	seen := map[string]bool{}
	for _, n := range names {
		d := rp.Disk(n)
		if d == nil {
			var have []string
			for _, d := range rp.Disks {
				have = append(have, d.Name)
			}
			return nil, cairn.E(cairn.NotExist, fmt.Errorf("restore point %s has no disk %q (it has %q)", rp.ID[:8], n, have))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, d)
		}
	}
	return out, nil
}

// ToDir restores the selected disks of rp into dir as <disk>.raw. Each image
// is written under a temporary name and renamed when complete, so a failed
// or interrupted restore leaves no image that looks whole. Existing images
// are refused unless opts.Overwrite.
func ToDir(ctx context.Context, v *vault.Vault, rp *vault.RestorePoint, dir string, opts Options) ([]DiskResult, error) {
	disks, err := Select(rp, opts.Disks)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("target directory: %w", err))
	}
	for _, d := range disks {
		p := filepath.Join(dir, d.Name+".raw")
		if _, err := os.Lstat(p); err == nil && !opts.Overwrite {
			return nil, cairn.E(cairn.Exist, fmt.Errorf("%s already exists: choose another --to directory or pass --overwrite", p))
		}
	}
	var out []DiskResult
	for _, d := range disks {
		r, err := toFile(ctx, v, d, filepath.Join(dir, d.Name+".raw"), opts)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func toFile(ctx context.Context, v *vault.Vault, d *vault.Disk, path string, opts Options) (DiskResult, error) {
	res := DiskResult{Disk: d.Name, Path: path, Size: d.Size}
	m, err := v.LoadManifest(ctx, d)
	if err != nil {
		return res, err
	}
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return res, cairn.E(cairn.IO, fmt.Errorf("create %s: %w", tmp, err))
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Truncate(m.DiskSize); err != nil {
		return res, cairn.E(cairn.IO, fmt.Errorf("size %s: %w", tmp, err))
	}
	var w WriterAt = f
	// Whole aligned chunks go through a second descriptor with direct
	// I/O where the file system has it: much less CPU than the page
	// cache (see package directio).
	df, direct, err := directio.OpenForWrite(tmp)
	if err != nil {
		return res, cairn.E(cairn.IO, fmt.Errorf("open %s: %w", tmp, err))
	}
	if direct {
		defer df.Close()
		w = splitWriter{direct: df, buffered: f}
	}
	n, err := Manifest(ctx, v, m, w, d.Name, opts)
	res.Written = n
	if err != nil {
		return res, err
	}
	if !opts.NoSync {
		if err := f.Sync(); err != nil {
			return res, cairn.E(cairn.IO, fmt.Errorf("sync %s: %w", tmp, err))
		}
	}
	if err := f.Close(); err != nil {
		return res, cairn.E(cairn.IO, fmt.Errorf("close %s: %w", tmp, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		return res, cairn.E(cairn.IO, fmt.Errorf("rename %s: %w", tmp, err))
	}
	ok = true
	return res, nil
}

// splitWriter writes aligned buffers with direct I/O, others through the
// page cache.
type splitWriter struct{ direct, buffered *os.File }

func (s splitWriter) WriteAt(p []byte, off int64) (int, error) {
	if directio.Aligned(p, off) {
		return s.direct.WriteAt(p, off)
	}
	return s.buffered.WriteAt(p, off)
}

// WriterAt is where restored bytes go.
type WriterAt interface {
	WriteAt(p []byte, off int64) (int, error)
}

// Manifest writes the non-zero chunks of m to w at their offsets and
// returns the bytes written. w must already read as zeros where nothing is
// written (a new sparse file, a zeroed device). Chunks are fetched and
// written by opts.Workers goroutines at once, in no particular order.
func Manifest(ctx context.Context, v *vault.Vault, m *vault.Manifest, w WriterAt, item string, opts Options) (int64, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = 16
	}
	prog := progress.OrNoop(opts.Progress)
	prog.Start(item, m.DiskSize)
	defer prog.Done(item)
	var zeroBytes int64
	for i, id := range m.IDs {
		if id.IsZero() {
			zeroBytes += int64(m.ChunkLen(i))
		}
	}
	prog.Add(item, zeroBytes)

	var written atomic.Int64
	// One chunk at a time waits on the limiter, so that each chunk's bytes
	// are granted together and chunks pass evenly spaced: interleaved
	// waits would complete together and be written as a burst.
	var limitMu sync.Mutex
	idx := make(chan int, workers)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(idx)
		for i, id := range m.IDs {
			if id.IsZero() {
				continue
			}
			select {
			case idx <- i:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			h := v.Store().Keys().NewHasher()
			buf := directio.AlignedBuffer(m.ChunkSize)[:0]
			for i := range idx {
				id := m.IDs[i]
				data, err := v.Store().Get(gctx, h, id, buf)
				if err != nil {
					return fmt.Errorf("%s at offset %d: %w", item, int64(i)*int64(m.ChunkSize), err)
				}
				if len(data) != m.ChunkLen(i) {
					return cairn.E(cairn.Corrupt, fmt.Errorf("%s: chunk %s has %d bytes, the manifest wants %d", item, id.Short(), len(data), m.ChunkLen(i)))
				}
				if opts.Limiter != nil {
					limitMu.Lock()
					err := opts.Limiter.Wait(gctx, len(data))
					limitMu.Unlock()
					if err != nil {
						return err
					}
				}
				if _, err := w.WriteAt(data, int64(i)*int64(m.ChunkSize)); err != nil {
					return cairn.E(cairn.IO, fmt.Errorf("%s: write at %d: %w", item, int64(i)*int64(m.ChunkSize), err))
				}
				written.Add(int64(len(data)))
				prog.Add(item, int64(len(data)))
			}
			return nil
		})
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = cairn.E(cairn.Canceled, err)
	}
	return written.Load(), err
}
