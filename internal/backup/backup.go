// Package backup makes restore points: it reads a VM's disks (all of each
// disk, or only the extents a change map names), cuts them into the vault's
// fixed-size chunks, stores the chunks the vault lacks and commits a
// restore point whose manifests are complete on their own.
package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/progress"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Source is where one disk's bytes come from.
type Source interface {
	io.ReaderAt
	Size() int64
}

// Allocator is an optional interface of a Source that knows which extents
// hold data; chunks wholly outside them are zeros and are not read.
type Allocator interface {
	Allocated(ctx context.Context) ([]cairn.Extent, error)
}

// Disk is one disk to back up.
type Disk struct {
	Name   string
	Source Source
	// Changes, when not nil, lists the extents that changed since the
	// parent restore point: only those are read, and everything else is
	// inherited from the parent's manifest.
	Changes []cairn.Extent
}

// Options describe the restore point to make.
type Options struct {
	VM          vault.VM
	Consistency string            // "" = CrashConsistent
	Tags        map[string]string // stored with the restore point
	Excluded    []string          // names of disks left out, recorded
	// Parent names the parent restore point by id; "" picks the newest
	// restore point of the same VM; "none" makes a backup without parent.
	Parent   string
	Progress progress.Reporter
	Workers  int // hashing and compressing goroutines; 0 = GOMAXPROCS
	Writers  int // concurrent object writes; 0 = 16
}

// Warning is something the user should know about a backup that succeeded:
// e.g. a change map that could not be used.
type Warning struct {
	Disk    string
	Message string
}

// Result is a finished backup.
type Result struct {
	Point    *vault.RestorePoint
	Warnings []Warning
}

// Validate checks a backup's inputs before anything is written.
func Validate(disks []Disk, opts Options) error {
	if err := cairn.ValidateName("VM name", opts.VM.Name); err != nil {
		return err
	}
	if len(disks) == 0 {
		return cairn.E(cairn.Invalid, errors.New("no disk to back up: give at least one --disk NAME=PATH"))
	}
	seen := map[string]bool{}
	for _, d := range disks {
		if err := cairn.ValidateName("disk name", d.Name); err != nil {
			return err
		}
		if seen[d.Name] {
			return cairn.E(cairn.Invalid, fmt.Errorf("disk name %q is given twice: each disk of a VM needs its own name", d.Name))
		}
		seen[d.Name] = true
		if d.Source == nil {
			return cairn.E(cairn.Invalid, fmt.Errorf("disk %s: no source", d.Name))
		}
		if d.Source.Size() <= 0 {
			return cairn.E(cairn.Invalid, fmt.Errorf("disk %s: the image is empty (0 bytes)", d.Name))
		}
		for i, e := range d.Changes {
			if e.Offset < 0 || e.Length < 0 || e.End() > d.Source.Size() {
				return cairn.E(cairn.Invalid, fmt.Errorf("disk %s: change map extent %d (offset %d, length %d) is outside the disk's %d bytes", d.Name, i, e.Offset, e.Length, d.Source.Size()))
			}
		}
	}
	if _, err := vault.ParseConsistencyMode(opts.Consistency); err != nil {
		return err
	}
	return nil
}

// Run makes a restore point of disks in v.
func Run(ctx context.Context, v *vault.Vault, disks []Disk, opts Options) (*Result, error) {
	if err := Validate(disks, opts); err != nil {
		return nil, err
	}
	mode, _ := vault.ParseConsistencyMode(opts.Consistency)
	start := time.Now()
	parent, err := findParent(ctx, v, opts)
	if err != nil {
		return nil, err
	}
	sess, err := v.BeginBackup(ctx)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			_ = sess.Abort(context.WithoutCancel(ctx))
		}
	}()

	e := &engine{v: v, sess: sess, prog: progress.OrNoop(opts.Progress), cs: v.ChunkSize()}
	e.workers = opts.Workers
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.writers = opts.Writers
	if e.writers <= 0 {
		e.writers = 16
	}
	res := &Result{}
	rp := &vault.RestorePoint{
		ID:              sess.PointID,
		VM:              opts.VM,
		ConsistencyMode: mode,
		Tags:            opts.Tags,
		ExcludedDisks:   opts.Excluded,
		Host:            hostname(),
	}
	if parent != nil {
		rp.Parent = parent.ID
	}
	plans := make([]*diskPlan, len(disks))
	for i, d := range disks {
		p, warn, err := e.plan(ctx, d, parent)
		if err != nil {
			return nil, err
		}
		if warn != "" {
			res.Warnings = append(res.Warnings, Warning{Disk: d.Name, Message: warn})
		}
		plans[i] = p
	}
	if err := e.run(ctx, plans); err != nil {
		return nil, err
	}
	manifests := make([]*vault.Manifest, len(plans))
	for i, p := range plans {
		manifests[i] = p.man
		zeros := 0
		for _, id := range p.man.IDs {
			if id.IsZero() {
				zeros++
			}
		}
		rp.Disks = append(rp.Disks, vault.Disk{
			Name:       p.name,
			Size:       p.man.DiskSize,
			ZeroChunks: zeros,
			NewChunks:  int(p.newChunks.Load()),
			NewBytes:   p.newBytes.Load(),
			ReadBytes:  p.readBytes.Load(),
			Mode:       p.mode,
		})
	}
	rp.Time = v.Clock().Now().UTC()
	rp.Duration = time.Since(start)
	if err := sess.Commit(ctx, rp, manifests); err != nil {
		return nil, err
	}
	committed = true
	res.Point = rp
	return res, nil
}

func findParent(ctx context.Context, v *vault.Vault, opts Options) (*vault.RestorePoint, error) {
	switch opts.Parent {
	case "none":
		return nil, nil
	case "":
		rp, err := v.FindPoint(ctx, "latest", opts.VM.Name)
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, nil
		}
		return rp, err
	}
	rp, err := v.FindPoint(ctx, opts.Parent, "")
	if err != nil {
		return nil, fmt.Errorf("parent: %w", err)
	}
	if rp.VM.Name != opts.VM.Name {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("parent %s is a restore point of VM %q, not %q", rp.ID, rp.VM.Name, opts.VM.Name))
	}
	return rp, nil
}

// diskPlan is the work for one disk: which chunks to read.
type diskPlan struct {
	name  string
	src   Source
	man   *vault.Manifest
	read  []int // chunk indexes to read, ascending
	mode  string
	total int64 // bytes to read

	newChunks atomic.Int64
	newBytes  atomic.Int64
	readBytes atomic.Int64
}

type engine struct {
	v       *vault.Vault
	sess    *vault.Session
	prog    progress.Reporter
	cs      int
	workers int
	writers int
}

// plan decides which chunks of d to read.
func (e *engine) plan(ctx context.Context, d Disk, parent *vault.RestorePoint) (*diskPlan, string, error) {
	size := d.Source.Size()
	p := &diskPlan{name: d.Name, src: d.Source, man: vault.NewManifest(size, e.cs), mode: "full"}
	n := len(p.man.IDs)
	need := make([]bool, n) // chunks to read
	var warn string
	var pm *vault.Manifest
	if d.Changes != nil {
		if parent == nil {
			warn = "no earlier restore point of this VM: the change map was ignored and the whole disk read"
		} else if pd := parent.Disk(d.Name); pd == nil {
			warn = fmt.Sprintf("restore point %s has no disk %q: the change map was ignored and the whole disk read", parent.ID[:8], d.Name)
		} else {
			m, err := e.v.LoadManifest(ctx, pd)
			switch {
			case cairn.IsKind(err, cairn.NotExist):
				// Forgotten since it was chosen as parent.
				warn = fmt.Sprintf("restore point %s was removed during the backup: the change map was ignored and the whole disk read", parent.ID[:8])
			case err != nil:
				return nil, "", fmt.Errorf("disk %s: parent manifest: %w", d.Name, err)
			case m.ChunkSize != e.cs:
				warn = "the parent's chunk size differs: the change map was ignored and the whole disk read"
			default:
				pm = m
			}
		}
	}
	if pm != nil {
		p.mode = "changemap"
		inherited, reread := 0, 0
		for i := 0; i < n; i++ {
			if i >= len(pm.IDs) || (i == len(pm.IDs)-1 && pm.ChunkLen(i) != p.man.ChunkLen(i)) {
				need[i] = true // the disk grew: new or resized last chunk
				continue
			}
			id := pm.IDs[i]
			if !e.sess.Usable(id) {
				// The chunk is gone or about to be: read it again.
				need[i] = true
				reread++
				continue
			}
			p.man.IDs[i] = id
			inherited++
		}
		for _, ex := range d.Changes {
			if ex.Length == 0 {
				continue
			}
			for i := ex.Offset / int64(e.cs); i <= (ex.End()-1)/int64(e.cs) && i < int64(n); i++ {
				need[i] = true
			}
		}
		if reread > 0 {
			warn = fmt.Sprintf("%d chunks of the parent are missing or being removed by garbage collection: they were read again", reread)
		}
	} else {
		for i := range need {
			need[i] = true
		}
	}
	// Chunks wholly in holes of the source are zeros: no need to read.
	if al, ok := d.Source.(Allocator); ok {
		exts, err := al.Allocated(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("disk %s: %w", d.Name, err)
		}
		hasData := make([]bool, n)
		for _, ex := range exts {
			if ex.Length <= 0 {
				continue
			}
			for i := ex.Offset / int64(e.cs); i <= (ex.End()-1)/int64(e.cs) && i < int64(n); i++ {
				hasData[i] = true
			}
		}
		for i := range need {
			if need[i] && !hasData[i] {
				need[i] = false
				p.man.IDs[i] = cairn.ZeroChunkID
			}
		}
	}
	for i, r := range need {
		if r {
			p.read = append(p.read, i)
			p.total += int64(p.man.ChunkLen(i))
		}
	}
	return p, warn, nil
}

type job struct {
	p     *diskPlan
	i     int
	again bool // second pass: store the chunk read in the first
}

type sealed struct {
	p    *diskPlan
	id   cairn.ChunkID
	data []byte
	buf  *[]byte
}

// run reads, hashes, seals and stores the planned chunks of every disk.
// Chunks that a running garbage collection may delete ("doomed") are
// stored only after that collection has ended: they are read again then.
func (e *engine) run(ctx context.Context, plans []*diskPlan) error {
	for _, p := range plans {
		e.prog.Start(p.name, p.total)
	}
	defer func() {
		for _, p := range plans {
			e.prog.Done(p.name)
		}
	}()
	var mu sync.Mutex
	var later []job
	err := e.pass(ctx, func(yield func(job) bool) {
		for _, p := range plans {
			for _, i := range p.read {
				if !yield(job{p: p, i: i}) {
					return
				}
			}
		}
	}, func(j job) { mu.Lock(); later = append(later, j); mu.Unlock() })
	if err != nil || len(later) == 0 {
		return err
	}
	if err := e.sess.WaitPending(ctx); err != nil {
		return fmt.Errorf("wait for garbage collection to end: %w", err)
	}
	return e.pass(ctx, func(yield func(job) bool) {
		for _, j := range later {
			j.again = true
			if !yield(j) {
				return
			}
		}
	}, nil)
}

// pass reads, hashes, seals and stores the chunks of jobs. In the first
// pass, a new chunk that is doomed is handed to deferLater instead. In a
// second pass (job.again) the chunks are stored as they are, after a check
// that the disk still holds what the first pass read.
func (e *engine) pass(ctx context.Context, jobs func(yield func(job) bool), deferLater func(job)) error {
	jobc := make(chan job, 64)
	out := make(chan sealed, e.writers)
	sealPool := sync.Pool{New: func() any { b := make([]byte, 0, e.cs+e.cs/32+256); return &b }}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobc)
		for j := range jobs {
			select {
			case jobc <- j:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var cpu sync.WaitGroup
	for range e.workers {
		cpu.Add(1)
		g.Go(func() error {
			defer cpu.Done()
			h := e.v.Store().Keys().NewHasher()
			buf := make([]byte, e.cs)
			for j := range jobc {
				n := j.p.man.ChunkLen(j.i)
				off := int64(j.i) * int64(e.cs)
				data := buf[:n]
				if _, err := j.p.src.ReadAt(data, off); err != nil && !(errors.Is(err, io.EOF)) {
					return cairn.E(cairn.IO, fmt.Errorf("disk %s: read at %d: %w", j.p.name, off, err))
				}
				if j.again {
					if id := h.Sum(data); id != j.p.man.IDs[j.i] {
						return cairn.E(cairn.Conflict, fmt.Errorf("disk %s changed during the backup (at offset %d): back up a snapshot or a stopped VM", j.p.name, off))
					}
				} else {
					j.p.readBytes.Add(int64(n))
					e.prog.Add(j.p.name, int64(n))
					if isZero(data) {
						j.p.man.IDs[j.i] = cairn.ZeroChunkID
						continue
					}
					id := h.Sum(data)
					j.p.man.IDs[j.i] = id
					if !e.sess.Claim(id) {
						continue
					}
					if e.sess.Doomed(id) {
						deferLater(j)
						continue
					}
				}
				bp := sealPool.Get().(*[]byte)
				sc := e.v.Store().SealChunk((*bp)[:0], j.p.man.IDs[j.i], data)
				select {
				case out <- sealed{p: j.p, id: j.p.man.IDs[j.i], data: sc, buf: bp}:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		cpu.Wait()
		close(out)
		return nil
	})
	for range e.writers {
		g.Go(func() error {
			for s := range out {
				if err := e.v.Store().PutSealed(gctx, s.id, s.data); err != nil {
					return fmt.Errorf("disk %s: %w", s.p.name, err)
				}
				s.p.newChunks.Add(1)
				s.p.newBytes.Add(int64(len(s.data)))
				*s.buf = s.data[:0]
				sealPool.Put(s.buf)
			}
			return nil
		})
	}
	return g.Wait()
}

// isZero reports whether b is all zeros.
func isZero(b []byte) bool {
	for len(b) >= len(zeros) {
		if string(b[:len(zeros)]) != string(zeros[:]) {
			return false
		}
		b = b[len(zeros):]
	}
	return string(b) == string(zeros[:len(b)])
}

var zeros [64 << 10]byte
