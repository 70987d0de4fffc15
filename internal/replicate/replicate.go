// Package replicate copies restore points from one vault to another: the
// cross-region copy engine. Only the chunks the destination lacks move,
// several at a time and under an optional rate limit; an interrupted copy
// started again goes on without sending again what already arrived; and at
// the end the destination's chunks are read back and checked against the
// source restore point before the copy is committed.
//
// # Chunk ids differ between vaults
//
// A chunk's id is a hash keyed with its vault's id key, and its object is
// sealed with its vault's encryption key, so the same plaintext has one id
// in the source vault (A) and another in the destination (B). Copying a
// chunk means: fetch it from A, open and verify it with A's keys, hash it
// with B's id key, and, when B lacks that id, seal it with B's keys and
// store it. The destination manifest names B's ids.
//
// To tell whether B lacks a chunk without fetching it from A, B keeps an id
// map: pairs (A id, B id), stored as sealed objects under
// xref/<A's vault id>/ in B (see idmap.go). A pair is a pure function of a
// chunk's plaintext and the two vaults' keys, which never change, so a
// pair is never out of date and may be written as soon as it is known. A
// copy looks every source chunk up in the map; a hit whose B id B holds
// costs neither a read from A nor a write to B. Only chunks never seen
// before are fetched from A, and only those B lacks are stored. Whether B
// holds a chunk is always decided by B's listing (the backup session's
// known set), never by the map, so a pair whose chunk B's garbage
// collection removed since is harmless: the chunk is fetched and stored
// again.
//
// The alternative, vaults of one "replication family" sharing their id key
// (a destination created from the source's id key), makes ids equal across
// vaults, and "missing" a mere listing comparison. It was not chosen:
// it needs a change of the key format and binds a destination to one
// family, so an existing vault (or one that takes copies from vaults of
// several families) could not be a destination; and it gives whoever holds
// one vault's passphrase the id key of the others, letting them confirm
// guesses of the others' contents from their chunk names. The id map
// keeps vaults independent for the price of one read from A of the chunks
// B already held before any copy from A (the destination's own backups of
// the same data): those are fetched once, written never.
//
// # The destination's garbage collection
//
// A copy is a backup session in B (vault.Vault.BeginBackupAs): it holds a
// backup lock, relies only on chunks of the session's known set, and stores
// chunks that a running garbage collection may delete ("doomed") only after
// that collection has ended (vault.Session.WaitPending), as backup does.
//
// # Restore point identity and resumption
//
// The destination restore point's id is derived from the source vault's id
// and the source point's id (DestinationPointID), unless Options.PointID
// names one: a copy run again, after a crash or a restart of the server,
// makes the same point, and a copy of a point that is already there
// returns it (after verifying it) without copying anything. The point
// commits only at the end, atomically, with the source point's VM,
// consistency mode, time, host, duration, excluded disks, tags (with
// Options.Tags on top) and parent (the parent's copy, when it was copied
// with the default id), and a record of its origin
// (vault.RestorePoint.CopiedFrom). Its disks' NewChunks, NewBytes and
// ReadBytes count what the copy stored and fetched. A copy that
// was killed leaves its chunks in B, where the next attempt finds them by
// listing, and its id map pairs, written every MapFlushChunks chunks or
// MapFlushInterval, so that the next attempt fetches from A only the chunks
// of the last moments before the crash, and stores none of those that
// arrived.
//
// # Verification
//
// Unless Options.SkipVerify, every chunk of the destination manifests is
// read back from B before the commit (opened and checked against its B id),
// and its plaintext is hashed with A's id key: the result must be the A id
// the source manifest has at the same place. This proves, chunk by chunk,
// that the destination holds the source's bytes, also for chunks this copy
// did not move, without reading A again. After the commit the manifests are
// read back from B and compared with what was written.
//
// Both vaults must have the same chunk size.
package replicate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/progress"
	"github.com/cairn-vm/cairn/internal/ratelimit"
	"github.com/cairn-vm/cairn/internal/vault"
)

// Limiter caps a byte rate: Wait blocks until n more bytes may pass.
// *ratelimit.Limiter is one.
type Limiter interface {
	Wait(ctx context.Context, n int) error
}

var _ Limiter = (*ratelimit.Limiter)(nil)

// DefaultWorkers is how many chunks a copy moves at once by default.
const DefaultWorkers = 8

// Options tune a copy.
type Options struct {
	// Workers is how many chunks are fetched, opened, sealed and stored
	// at once; 0 = DefaultWorkers.
	Workers int
	// Limiter, when set, caps the bytes stored in the destination (sealed
	// chunk bytes). Chunks pass it one at a time, each with all its bytes.
	Limiter Limiter
	// Progress receives, per disk, the bytes done of the disk's size
	// (twice its size when verifying: copying and reading back each count
	// the disk once), so a percentage moves as bytes move.
	Progress progress.Reporter
	// SkipVerify skips reading the destination back before the commit.
	// The zero value verifies.
	SkipVerify bool
	// PointID is the id of the destination restore point; "" derives it
	// from the source (DestinationPointID). A resumed copy must be given
	// the same id as the first attempt.
	PointID string
	// Tags are set on the destination restore point on top of the source
	// point's tags; a tag with an empty value removes that tag.
	Tags map[string]string
}

// Result describes a finished copy.
type Result struct {
	// Point is the destination restore point.
	Point *vault.RestorePoint
	// Existed reports that the destination already held the point, so
	// nothing was copied.
	Existed bool

	BytesRead     int64 // sealed chunk bytes fetched from the source
	BytesWritten  int64 // sealed chunk bytes stored in the destination
	DataBytes     int64 // plaintext bytes of the point's non-zero chunks (each distinct chunk once)
	Chunks        int64 // distinct non-zero chunks of the point
	ChunksRead    int64 // chunks fetched from the source
	ChunksCopied  int64 // chunks stored in the destination
	ChunksSkipped int64 // chunks the destination already had
	MapHits       int64 // chunks whose destination id the id map gave (not fetched to learn it)
	Deferred      int64 // chunks stored only after a garbage collection of the destination ended

	Verified       bool          // the destination was read back and equals the source
	VerifiedBytes  int64         // plaintext bytes read back from the destination
	VerifyDuration time.Duration // the part of Duration spent verifying

	Duration time.Duration
	// Warnings are things that did not stop the copy: e.g. id map
	// objects that could not be read or compacted.
	Warnings []string
}

// MBps returns n bytes over the copy's duration in MB/s (10^6 bytes).
func (r *Result) MBps(n int64) float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(n) / 1e6 / r.Duration.Seconds()
}

// DestinationPointID returns the id a copy gives, by default, to the copy
// of restore point pointID of the vault with id vaultID: 32 hex digits
// derived from both, so that every attempt at one copy makes one point.
func DestinationPointID(vaultID, pointID string) string {
	h := sha256.New()
	h.Write([]byte("cairn replicate point v1\x00"))
	h.Write([]byte(vaultID))
	h.Write([]byte{0})
	h.Write([]byte(pointID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Copy copies restore point pointID (an id, a unique prefix or "latest",
// as vault.Vault.FindPoint takes) from src to dst and returns the
// destination restore point. A failed or canceled copy commits nothing;
// run again with the same arguments, it goes on where it stopped. Errors
// carry a cairn kind: Corrupt for damaged source chunks (the message names
// the disk, offset and chunk) or a failed verification; NotExist when the
// source point does not exist or was deleted during the copy; Exist when
// the destination id is taken by a point that is not a copy of the source
// point; Unsupported when the vaults' chunk sizes differ; Canceled when
// ctx ends; IO for storage failures.
func Copy(ctx context.Context, src, dst *vault.Vault, pointID string, opts Options) (*Result, error) {
	start := time.Now()
	res, err := doCopy(ctx, src, dst, pointID, opts)
	if err != nil {
		if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			err = cairn.E(cairn.Canceled, err)
		}
		return nil, fmt.Errorf("copy restore point %s: %w", pointID, err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

func doCopy(ctx context.Context, src, dst *vault.Vault, pointID string, opts Options) (*Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	scfg, dcfg := src.Config(), dst.Config()
	if scfg.ID == dcfg.ID {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("source and destination are the same vault (%s)", scfg.ID))
	}
	if !vault.ValidPointID(scfg.ID) {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("source vault id %q is not valid", scfg.ID))
	}
	if scfg.ChunkSize != dcfg.ChunkSize {
		return nil, cairn.E(cairn.Unsupported, fmt.Errorf("the source vault's chunk size (%d KiB) differs from the destination's (%d KiB): copying needs equal chunk sizes", scfg.ChunkSize>>10, dcfg.ChunkSize>>10))
	}
	sp, err := src.FindPoint(ctx, pointID, "")
	if err != nil {
		return nil, err
	}
	dstID := opts.PointID
	if dstID == "" {
		dstID = DestinationPointID(scfg.ID, sp.ID)
	} else if !vault.ValidPointID(dstID) {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("destination restore point id %q: want 32 lower-case hex digits", dstID))
	}
	c := &copier{src: src, dst: dst, sp: sp, opts: opts, prog: progress.OrNoop(opts.Progress), res: &Result{}}
	if err := c.loadSource(ctx); err != nil {
		return nil, err
	}

	// Already copied?
	existing, err := dst.LoadPoint(ctx, dstID)
	switch {
	case err == nil:
		return c.existing(ctx, existing)
	case !cairn.IsKind(err, cairn.NotExist):
		return nil, fmt.Errorf("destination: %w", err)
	}

	c.plan()
	m, err := loadIDMap(ctx, dst, scfg.ID, fingerprint(src), func(id cairn.ChunkID) bool { _, ok := c.byID[id]; return ok })
	if err != nil {
		return nil, err
	}
	c.res.Warnings = append(c.res.Warnings, m.warnings...)
	for i := range c.items {
		if bid, ok := m.pairs[c.items[i].aid]; ok {
			c.items[i].bid, c.items[i].mapped = bid, true
		}
	}
	if w := m.compact(ctx); w != "" {
		c.res.Warnings = append(c.res.Warnings, w)
	}
	c.journal = newJournal(dst, scfg.ID, fingerprint(src))

	sess, err := dst.BeginBackupAs(ctx, dstID)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	c.sess = sess
	committed := false
	defer func() {
		if !committed {
			// Pairs learned are valid whatever happened: keep them for
			// the next attempt.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = c.journal.flush(fctx)
			cancel()
			_ = sess.Abort(context.WithoutCancel(ctx))
		}
	}()

	for i, d := range c.sp.Disks {
		c.prog.Start(d.Name, c.progressTotal(i))
		c.prog.Add(d.Name, c.zeroBytes[i])
	}
	defer func() {
		for _, d := range c.sp.Disks {
			c.prog.Done(d.Name)
		}
	}()
	if err := c.run(ctx); err != nil {
		return nil, err
	}
	if err := c.journal.flush(ctx); err != nil {
		return nil, err
	}
	dmans := c.destManifests()
	if !opts.SkipVerify {
		vstart := time.Now()
		if err := c.verify(ctx, dmans); err != nil {
			return nil, err
		}
		c.res.VerifyDuration = time.Since(vstart)
	}
	rp := c.destPoint(ctx, dstID)
	if err := sess.Commit(ctx, rp, dmans); err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	committed = true
	if !opts.SkipVerify {
		if err := checkCommitted(ctx, dst, rp, dmans); err != nil {
			// Take the point back: a copy that failed commits nothing.
			// Its chunks stay, for the next attempt.
			if derr := dst.DeletePoint(context.WithoutCancel(ctx), rp); derr != nil {
				return nil, fmt.Errorf("%w; and the restore point %s committed in the destination could not be removed: %w", err, rp.ID, derr)
			}
			return nil, err
		}
		c.res.Verified = true
	}
	c.res.Point = rp
	return c.res, nil
}

// item is one distinct non-zero chunk of the source point.
type item struct {
	aid    cairn.ChunkID // id in the source
	bid    cairn.ChunkID // id in the destination, once known
	mapped bool          // bid came from the id map
	size   int           // plaintext length
	disk   int           // the first disk that uses it: its statistics count the chunk
	uses   []use         // the bytes it stands for, per disk
}

type use struct {
	disk  int
	bytes int64
}

type diskStats struct {
	newChunks, newBytes, readBytes atomic.Int64
}

type copier struct {
	src, dst *vault.Vault
	sp       *vault.RestorePoint
	opts     Options
	prog     progress.Reporter
	res      *Result
	sess     *vault.Session
	journal  *journal

	smans     []*vault.Manifest // source manifests, by disk
	zeroBytes []int64           // bytes of zero chunks, by disk
	items     []item
	byID      map[cairn.ChunkID]int // source id -> index in items
	stats     []diskStats

	limitMu sync.Mutex
	counts  struct {
		read, readBytes, copied, written, skipped, hits, deferred atomic.Int64
	}
}

// loadSource loads the source point's manifests.
func (c *copier) loadSource(ctx context.Context) error {
	c.smans = make([]*vault.Manifest, len(c.sp.Disks))
	c.zeroBytes = make([]int64, len(c.sp.Disks))
	c.stats = make([]diskStats, len(c.sp.Disks))
	for i := range c.sp.Disks {
		d := &c.sp.Disks[i]
		m, err := c.src.LoadManifest(ctx, d)
		if err != nil {
			return fmt.Errorf("source disk %s: %w", d.Name, err)
		}
		if m.ChunkSize != c.dst.ChunkSize() {
			return cairn.E(cairn.Unsupported, fmt.Errorf("source disk %s has %d KiB chunks, the destination vault %d KiB: copying needs equal chunk sizes", d.Name, m.ChunkSize>>10, c.dst.ChunkSize()>>10))
		}
		c.smans[i] = m
		for j, id := range m.IDs {
			if id.IsZero() {
				c.zeroBytes[i] += int64(m.ChunkLen(j))
			}
		}
	}
	return nil
}

func (c *copier) progressTotal(disk int) int64 {
	n := c.sp.Disks[disk].Size
	if !c.opts.SkipVerify {
		n *= 2
	}
	return n
}

// plan lists the distinct non-zero chunks of the point in the order disks
// and offsets first use them.
func (c *copier) plan() {
	c.byID = map[cairn.ChunkID]int{}
	for di, m := range c.smans {
		for j, id := range m.IDs {
			if id.IsZero() {
				continue
			}
			n := int64(m.ChunkLen(j))
			k, ok := c.byID[id]
			if !ok {
				k = len(c.items)
				c.byID[id] = k
				c.items = append(c.items, item{aid: id, size: int(n), disk: di})
				c.res.Chunks++
				c.res.DataBytes += n
			}
			it := &c.items[k]
			if last := len(it.uses) - 1; last >= 0 && it.uses[last].disk == di {
				it.uses[last].bytes += n
			} else {
				it.uses = append(it.uses, use{disk: di, bytes: n})
			}
		}
	}
}

func (c *copier) done(it *item) {
	for _, u := range it.uses {
		c.prog.Add(c.sp.Disks[u.disk].Name, u.bytes)
	}
}

// run moves the chunks the destination lacks. Chunks that a running
// garbage collection of the destination may delete are stored after it
// ends, in a second pass.
func (c *copier) run(ctx context.Context) error {
	var mu sync.Mutex
	var later []int
	err := c.pass(ctx, false, func(yield func(int) bool) {
		for k := range c.items {
			if !yield(k) {
				return
			}
		}
	}, func(k int) { mu.Lock(); later = append(later, k); mu.Unlock() })
	if err == nil && len(later) > 0 {
		// The wait may be long: keep what was learned meanwhile.
		if err = c.journal.flush(ctx); err == nil {
			if err = c.sess.WaitPending(ctx); err != nil {
				err = fmt.Errorf("wait for the destination's garbage collection to end: %w", err)
			}
		}
		if err == nil {
			c.counts.deferred.Add(int64(len(later)))
			err = c.pass(ctx, true, func(yield func(int) bool) {
				for _, k := range later {
					if !yield(k) {
						return
					}
				}
			}, nil)
		}
	}
	c.res.ChunksRead = c.counts.read.Load()
	c.res.BytesRead = c.counts.readBytes.Load()
	c.res.ChunksCopied = c.counts.copied.Load()
	c.res.BytesWritten = c.counts.written.Load()
	c.res.ChunksSkipped = c.counts.skipped.Load()
	c.res.MapHits = c.counts.hits.Load()
	c.res.Deferred = c.counts.deferred.Load()
	return err
}

// pass handles the items jobs yields with opts.Workers goroutines. In the
// first pass, an item to store whose destination id is doomed is handed to
// deferLater; in the second (again) every item is stored.
func (c *copier) pass(ctx context.Context, again bool, jobs func(yield func(int) bool), deferLater func(int)) error {
	jobc := make(chan int, c.opts.Workers)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobc)
		for k := range jobs {
			select {
			case jobc <- k:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	cs := c.dst.ChunkSize()
	for range c.opts.Workers {
		g.Go(func() error {
			w := &worker{
				c:     c,
				sh:    c.src.Store().Keys().NewHasher(),
				dh:    c.dst.Store().Keys().NewHasher(),
				plain: make([]byte, 0, cs),
				seal:  make([]byte, 0, cs+cs/32+256),
			}
			for k := range jobc {
				if err := w.handle(gctx, k, again, deferLater); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

type worker struct {
	c           *copier
	sh, dh      *chunkstore.Hasher
	plain, seal []byte
}

// handle makes item k's chunk present in the destination.
func (w *worker) handle(ctx context.Context, k int, again bool, deferLater func(int)) error {
	c := w.c
	it := &c.items[k]
	if !again {
		if it.mapped {
			c.counts.hits.Add(1)
		} else {
			// Learn the destination id: fetch the chunk.
			data, err := w.fetch(ctx, it)
			if err != nil {
				return err
			}
			it.bid = w.dh.Sum(data)
			c.journal.add(it.aid, it.bid)
			if err := c.journal.maybeFlush(ctx); err != nil {
				return err
			}
		}
		if c.sess.Usable(it.bid) || !c.sess.Claim(it.bid) {
			c.counts.skipped.Add(1)
			c.done(it)
			return nil
		}
		if c.sess.Doomed(it.bid) {
			deferLater(k)
			return nil
		}
		if !it.mapped {
			return w.store(ctx, it) // w.plain holds the chunk
		}
	}
	data, err := w.fetch(ctx, it)
	if err != nil {
		return err
	}
	if got := w.dh.Sum(data); got != it.bid {
		return cairn.E(cairn.Corrupt, fmt.Errorf("%s: chunk %s should have the id %s in the destination (by its id map) but its content hashes to %s", c.where(it), it.aid.Short(), it.bid.Short(), got.Short()))
	}
	return w.store(ctx, it)
}

// where names the first place the item is used, for messages.
func (c *copier) where(it *item) string {
	m := c.smans[it.disk]
	for j, id := range m.IDs {
		if id == it.aid {
			return fmt.Sprintf("source disk %s at offset %d", c.sp.Disks[it.disk].Name, int64(j)*int64(m.ChunkSize))
		}
	}
	return "source disk " + c.sp.Disks[it.disk].Name
}

// fetch reads item it's chunk from the source and opens and verifies it
// into w.plain.
func (w *worker) fetch(ctx context.Context, it *item) ([]byte, error) {
	c := w.c
	name := chunkstore.ChunkName(it.aid)
	sealed, err := c.src.Backend().Get(ctx, name)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		kind := cairn.IO
		if isNotExist(err) {
			// Damage, unless the point was forgotten and its chunks
			// collected meanwhile.
			if _, perr := c.src.LoadPoint(ctx, c.sp.ID); cairn.IsKind(perr, cairn.NotExist) {
				return nil, cairn.E(cairn.NotExist, fmt.Errorf("the source restore point was deleted during the copy (%s: chunk %s is gone)", c.where(it), it.aid.Short()))
			}
			kind = cairn.Corrupt
		}
		return nil, cairn.E(kind, fmt.Errorf("%s: chunk %s (%s): %w", c.where(it), it.aid.Short(), it.aid, err))
	}
	data, err := c.src.Store().OpenChunk(w.sh, it.aid, sealed, w.plain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (chunk %s)", c.where(it), err, it.aid)
	}
	if len(data) != it.size {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("%s: chunk %s has %d bytes, the manifest wants %d", c.where(it), it.aid.Short(), len(data), it.size))
	}
	w.plain = data
	c.counts.read.Add(1)
	c.counts.readBytes.Add(int64(len(sealed)))
	c.stats[it.disk].readBytes.Add(int64(len(sealed)))
	return data, nil
}

// store seals w.plain with the destination's keys and stores it.
func (w *worker) store(ctx context.Context, it *item) error {
	c := w.c
	w.seal = c.dst.Store().SealChunk(w.seal[:0], it.bid, w.plain)
	if c.opts.Limiter != nil {
		// One chunk at a time waits on the limiter, so that each
		// chunk's bytes are granted together and chunks pass evenly
		// spaced (see restore.Manifest).
		c.limitMu.Lock()
		err := c.opts.Limiter.Wait(ctx, len(w.seal))
		c.limitMu.Unlock()
		if err != nil {
			return err
		}
	}
	if err := c.dst.Store().PutSealed(ctx, it.bid, w.seal); err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	c.counts.copied.Add(1)
	c.counts.written.Add(int64(len(w.seal)))
	c.stats[it.disk].newChunks.Add(1)
	c.stats[it.disk].newBytes.Add(int64(len(w.seal)))
	c.done(it)
	return nil
}

// destManifests builds the destination manifests from the items' ids.
func (c *copier) destManifests() []*vault.Manifest {
	out := make([]*vault.Manifest, len(c.smans))
	for i, sm := range c.smans {
		m := vault.NewManifest(sm.DiskSize, sm.ChunkSize)
		for j, id := range sm.IDs {
			if !id.IsZero() {
				m.IDs[j] = c.items[c.byID[id]].bid
			}
		}
		out[i] = m
	}
	return out
}

// destPoint makes the destination restore point record.
func (c *copier) destPoint(ctx context.Context, id string) *vault.RestorePoint {
	sp := c.sp
	rp := &vault.RestorePoint{
		ID:              id,
		Time:            sp.Time,
		VM:              sp.VM,
		ConsistencyMode: sp.ConsistencyMode,
		Host:            sp.Host,
		Tags:            mergeTags(sp.Tags, c.opts.Tags),
		ExcludedDisks:   sp.ExcludedDisks,
		Duration:        sp.Duration,
		CopiedFrom:      &vault.Origin{Vault: c.src.Config().ID, Point: sp.ID, Copied: c.dst.Clock().Now().UTC()},
	}
	if sp.Parent != "" {
		// The parent's copy, if it was copied (with the default id).
		pid := DestinationPointID(c.src.Config().ID, sp.Parent)
		if _, err := c.dst.LoadPoint(ctx, pid); err == nil {
			rp.Parent = pid
		}
	}
	for i, d := range sp.Disks {
		st := &c.stats[i]
		rp.Disks = append(rp.Disks, vault.Disk{
			Name:       d.Name,
			Size:       d.Size,
			ZeroChunks: d.ZeroChunks,
			NewChunks:  int(st.newChunks.Load()),
			NewBytes:   st.newBytes.Load(),
			ReadBytes:  st.readBytes.Load(),
			Mode:       "copy",
		})
	}
	return rp
}

func mergeTags(src, over map[string]string) map[string]string {
	if len(src) == 0 && len(over) == 0 {
		return nil
	}
	out := maps.Clone(src)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range over {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// existing handles a destination that already holds the point.
func (c *copier) existing(ctx context.Context, rp *vault.RestorePoint) (*Result, error) {
	o := rp.CopiedFrom
	if o == nil || o.Vault != c.src.Config().ID || o.Point != c.sp.ID {
		return nil, cairn.E(cairn.Exist, fmt.Errorf("the destination has a restore point %s that is not a copy of it", rp.ID))
	}
	c.res.Existed = true
	c.res.Point = rp
	if c.opts.SkipVerify {
		return c.res, nil
	}
	if len(rp.Disks) != len(c.sp.Disks) {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("its copy %s in the destination has %d disks, the source %d", rp.ID, len(rp.Disks), len(c.sp.Disks)))
	}
	dmans := make([]*vault.Manifest, len(rp.Disks))
	for i := range rp.Disks {
		if rp.Disks[i].Name != c.sp.Disks[i].Name {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("its copy %s in the destination has disk %q where the source has %q", rp.ID, rp.Disks[i].Name, c.sp.Disks[i].Name))
		}
		m, err := c.dst.LoadManifest(ctx, &rp.Disks[i])
		if err != nil {
			return nil, fmt.Errorf("its copy %s in the destination: disk %s: %w", rp.ID, rp.Disks[i].Name, err)
		}
		dmans[i] = m
	}
	c.plan()
	for i, d := range c.sp.Disks {
		c.prog.Start(d.Name, c.sp.Disks[i].Size)
	}
	defer func() {
		for _, d := range c.sp.Disks {
			c.prog.Done(d.Name)
		}
	}()
	vstart := time.Now()
	if err := c.verify(ctx, dmans); err != nil {
		return nil, err
	}
	c.res.VerifyDuration = time.Since(vstart)
	c.res.Verified = true
	return c.res, nil
}
