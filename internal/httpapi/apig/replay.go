package apig

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// DefaultReplayCacheSize is how many signatures NewVerifier's default
// replay cache holds: at about 100 bytes each, some 25 MiB when full,
// enough for 290 accepted requests a second sustained over a 15-minute
// window.
const DefaultReplayCacheSize = 1 << 18

// ReplayCache remembers the signatures of accepted requests until they
// expire. Implementations must be safe for concurrent use. One shared by
// several servers (in the catalog, say) stops a replay to another server;
// a MemoryReplayCache stops replays to its own process only.
type ReplayCache interface {
	// Remember records key until expires and reports whether key was
	// already recorded with an expiry not before now; the check and the
	// record are one atomic step. An entry whose expiry is before now is
	// gone. When the cache cannot record key it returns an error wrapping
	// ErrReplayCacheFull, never seen == false.
	Remember(ctx context.Context, key string, expires, now time.Time) (seen bool, err error)
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// MemoryReplayCache is a ReplayCache in memory, of bounded size. When it
// holds its maximum of unexpired entries, Remember fails with
// ErrReplayCacheFull: it refuses requests rather than forget a signature
// that could still be replayed. Each call first drops the expired entries
// (O(log n) each, by a heap on expiry). It is safe for concurrent use.
type MemoryReplayCache struct {
	mu      sync.Mutex
	max     int
	entries map[string]time.Time
	queue   expiryHeap
}

// NewMemoryReplayCache returns an empty cache of at most max entries
// (DefaultReplayCacheSize if max <= 0).
func NewMemoryReplayCache(max int) *MemoryReplayCache {
	if max <= 0 {
		max = DefaultReplayCacheSize
	}
	return &MemoryReplayCache{max: max, entries: map[string]time.Time{}}
}

// Remember implements ReplayCache.
func (c *MemoryReplayCache) Remember(_ context.Context, key string, expires, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) > 0 && c.queue[0].expires.Before(now) {
		e := heap.Pop(&c.queue).(expiryEntry)
		delete(c.entries, e.key)
	}
	if _, ok := c.entries[key]; ok {
		return true, nil
	}
	if expires.Before(now) {
		return false, nil // gone at once; nothing to keep
	}
	if len(c.entries) >= c.max {
		return false, ErrReplayCacheFull
	}
	c.entries[key] = expires
	heap.Push(&c.queue, expiryEntry{key: key, expires: expires})
	return false, nil
}

// Len returns the number of entries held, expired ones not yet dropped
// included.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

type expiryEntry struct {
	key     string
	expires time.Time
}

// expiryHeap is a min-heap of entries by expiry.
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = expiryEntry{}
	*h = old[:len(old)-1]
	return e
}
