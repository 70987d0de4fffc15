package replicate

// The id map: which destination chunk id each source chunk id has.
//
// It lives in the destination vault as objects named
// xref/<source vault id>/<32 hex digits>, sealed with the destination's
// keys and bound to their names (chunkstore.Keys.SealObject). Each holds
//
//	bytes 0..7    "CAIRNXR1"
//	bytes 8..39   the source's fingerprint: the source's keyed hash of a
//	              fixed string, so that pairs made with another id key
//	              (another vault that claims the same id) are not used
//	bytes 40..    pairs of 32-byte ids: source id, destination id
//
// Objects are written whole and never changed. A copy writes the pairs it
// learns every MapFlushChunks chunks or MapFlushInterval, and at its end;
// a copy that finds CompactObjects or more objects of fewer than
// maxPairsPerObject/2 pairs merges them into one and then deletes them.
// Any reader sees every pair of a merged object either in its parts or in
// the merged object (the merged one is durable before a part is deleted),
// except that a reader may miss pairs while a merge runs: the map is an
// optimization, and a missed pair costs one read from the source. Garbage
// collection and verification of the vault do not look under xref/.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/vault"
)

// XrefPrefix is the prefix of the destination vault's id map objects.
const XrefPrefix = "xref/"

const (
	xrefMagic  = "CAIRNXR1"
	xrefHeader = len(xrefMagic) + 32
	pairSize   = 64
	// maxPairsPerObject bounds a merged object: 1 Mi pairs, 64 MiB.
	maxPairsPerObject = 1 << 20
)

// How often a copy writes the id map pairs it learned: after this many
// pairs, or after this long, whichever comes first. What a copy killed
// in between learned is fetched again from the source by the next
// attempt (but not stored again). Tests may change them.
var (
	MapFlushChunks   = 16384
	MapFlushInterval = 30 * time.Second
)

// CompactObjects is how many small id map objects of one source a copy
// tolerates before it merges them. Tests may change it.
var CompactObjects = 16

type pair [pairSize]byte

func makePair(a, b cairn.ChunkID) (p pair) {
	copy(p[:32], a[:])
	copy(p[32:], b[:])
	return p
}

func (p *pair) ids() (a, b cairn.ChunkID) {
	copy(a[:], p[:32])
	copy(b[:], p[32:])
	return a, b
}

// fingerprint identifies a source vault's id key.
func fingerprint(src *vault.Vault) cairn.ChunkID {
	return src.Store().Keys().NewHasher().Sum([]byte("cairn replicate id map fingerprint v1"))
}

func xrefDir(srcID string) string { return XrefPrefix + srcID + "/" }

func encodeXref(fp cairn.ChunkID, pairs []pair) []byte {
	out := make([]byte, 0, xrefHeader+pairSize*len(pairs))
	out = append(out, xrefMagic...)
	out = append(out, fp[:]...)
	for i := range pairs {
		out = append(out, pairs[i][:]...)
	}
	return out
}

// decodeXref checks an object's header and returns its pairs.
func decodeXref(fp cairn.ChunkID, data []byte) ([]pair, error) {
	if len(data) < xrefHeader || string(data[:len(xrefMagic)]) != xrefMagic || (len(data)-xrefHeader)%pairSize != 0 {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("not an id map object (%d bytes)", len(data)))
	}
	if !bytes.Equal(data[len(xrefMagic):xrefHeader], fp[:]) {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("made for another source vault with the same id"))
	}
	out := make([]pair, (len(data)-xrefHeader)/pairSize)
	for i := range out {
		copy(out[i][:], data[xrefHeader+pairSize*i:])
	}
	return out, nil
}

func putXref(ctx context.Context, dst *vault.Vault, srcID string, fp cairn.ChunkID, pairs []pair) error {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return err
	}
	name := xrefDir(srcID) + hex.EncodeToString(r[:])
	if err := dst.Backend().Put(ctx, name, dst.Store().Keys().SealObject(name, encodeXref(fp, pairs))); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("destination: write id map %s: %w", name, err))
	}
	return nil
}

// idMap is the id map of one source as loaded.
type idMap struct {
	dst      *vault.Vault
	srcID    string
	fp       cairn.ChunkID
	pairs    map[cairn.ChunkID]cairn.ChunkID // the wanted ones
	small    []string                        // objects worth merging
	smallPrs [][]pair                        // their pairs, when there are enough to merge
	warnings []string
}

// loadIDMap reads the destination's id map for source srcID, keeping the
// pairs whose source id want accepts. Objects that cannot be read or
// opened are skipped with a warning: the map only saves reads.
func loadIDMap(ctx context.Context, dst *vault.Vault, srcID string, fp cairn.ChunkID, want func(cairn.ChunkID) bool) (*idMap, error) {
	m := &idMap{dst: dst, srcID: srcID, fp: fp, pairs: map[cairn.ChunkID]cairn.ChunkID{}}
	var objs []storage.ObjectInfo
	if err := dst.Backend().List(ctx, xrefDir(srcID), func(oi storage.ObjectInfo) error {
		objs = append(objs, oi)
		return nil
	}); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("destination: list id map: %w", err))
	}
	nsmall := 0
	for _, oi := range objs {
		if (oi.Size-int64(xrefHeader))/pairSize < maxPairsPerObject/2 {
			nsmall++
		}
	}
	merge := nsmall >= CompactObjects
	var mu sync.Mutex
	bad := map[cairn.ChunkID]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, oi := range objs {
		g.Go(func() error {
			sealed, err := dst.Backend().Get(gctx, oi.Name)
			if isNotExist(err) {
				return nil // merged and deleted meanwhile
			}
			if err != nil {
				return cairn.E(cairn.IO, fmt.Errorf("destination: read id map %s: %w", oi.Name, err))
			}
			var prs []pair
			data, err := dst.Store().Keys().OpenObject(oi.Name, sealed)
			if err == nil {
				prs, err = decodeXref(fp, data)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				m.warnings = append(m.warnings, fmt.Sprintf("id map object %s skipped: %v", oi.Name, err))
				return nil
			}
			for i := range prs {
				a, b := prs[i].ids()
				if !want(a) || bad[a] {
					continue
				}
				if old, ok := m.pairs[a]; ok && old != b {
					// Two answers: trust neither.
					delete(m.pairs, a)
					bad[a] = true
					continue
				}
				m.pairs[a] = b
			}
			if merge && len(prs) < maxPairsPerObject/2 {
				m.small = append(m.small, oi.Name)
				m.smallPrs = append(m.smallPrs, prs)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		m.warnings = append(m.warnings, fmt.Sprintf("id map: %d source chunks have conflicting entries; they were ignored", len(bad)))
	}
	return m, nil
}

// compact merges the small objects loadIDMap found, if there were enough,
// and returns a warning if that failed. Duplicates are dropped.
func (m *idMap) compact(ctx context.Context) string {
	if len(m.small) < CompactObjects {
		return ""
	}
	var all []pair
	for _, prs := range m.smallPrs {
		all = append(all, prs...)
	}
	m.smallPrs = nil
	slices.SortFunc(all, func(a, b pair) int { return bytes.Compare(a[:], b[:]) })
	all = slices.Compact(all)
	for len(all) > 0 {
		n := min(len(all), maxPairsPerObject)
		if err := putXref(ctx, m.dst, m.srcID, m.fp, all[:n]); err != nil {
			return fmt.Sprintf("id map not compacted: %v", err)
		}
		all = all[n:]
	}
	for _, name := range m.small {
		if err := m.dst.Backend().Delete(ctx, name); err != nil {
			return fmt.Sprintf("id map compacted, but an old part remains: %v", err)
		}
	}
	return ""
}

// journal collects the pairs a copy learns and writes them out.
type journal struct {
	dst   *vault.Vault
	srcID string
	fp    cairn.ChunkID

	mu      sync.Mutex
	pending []pair
	last    time.Time
}

func newJournal(dst *vault.Vault, srcID string, fp cairn.ChunkID) *journal {
	return &journal{dst: dst, srcID: srcID, fp: fp, last: time.Now()}
}

// add records a learned pair.
func (j *journal) add(a, b cairn.ChunkID) {
	j.mu.Lock()
	j.pending = append(j.pending, makePair(a, b))
	j.mu.Unlock()
}

// maybeFlush writes the pending pairs when there are MapFlushChunks of
// them or the last write is MapFlushInterval ago.
func (j *journal) maybeFlush(ctx context.Context) error {
	j.mu.Lock()
	if len(j.pending) < MapFlushChunks && (len(j.pending) == 0 || time.Since(j.last) < MapFlushInterval) {
		j.mu.Unlock()
		return nil
	}
	return j.flushLocked(ctx)
}

// flush writes the pending pairs.
func (j *journal) flush(ctx context.Context) error {
	j.mu.Lock()
	return j.flushLocked(ctx)
}

// flushLocked takes the pending pairs, unlocks j.mu and writes them. On
// failure they are pending again.
func (j *journal) flushLocked(ctx context.Context) error {
	prs := j.pending
	j.pending = nil
	j.last = time.Now()
	j.mu.Unlock()
	if len(prs) == 0 {
		return nil
	}
	if err := putXref(ctx, j.dst, j.srcID, j.fp, prs); err != nil {
		j.mu.Lock()
		j.pending = append(prs, j.pending...)
		j.mu.Unlock()
		return err
	}
	return nil
}
