package ui

import (
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/progress"
)

// Timer is a progress.Reporter that passes every call on to another one
// and records when each item started and finished, so that a command can
// report per-item durations. It is safe for concurrent use.
type Timer struct {
	next progress.Reporter

	mu    sync.Mutex
	start map[string]time.Time
	took  map[string]time.Duration
}

var _ progress.Reporter = (*Timer)(nil)

// NewTimer returns a Timer passing calls on to next (which may be nil).
func NewTimer(next progress.Reporter) *Timer {
	return &Timer{next: progress.OrNoop(next), start: map[string]time.Time{}, took: map[string]time.Duration{}}
}

// Start records item's start and passes the call on.
func (t *Timer) Start(item string, total int64) {
	t.mu.Lock()
	t.start[item] = time.Now()
	delete(t.took, item)
	t.mu.Unlock()
	t.next.Start(item, total)
}

// Add passes the call on.
func (t *Timer) Add(item string, n int64) { t.next.Add(item, n) }

// Done records item's end and passes the call on.
func (t *Timer) Done(item string) {
	t.mu.Lock()
	if s, ok := t.start[item]; ok {
		t.took[item] = time.Since(s)
	}
	t.mu.Unlock()
	t.next.Done(item)
}

// Took returns the time between item's Start and Done, or false when the
// item has not finished.
func (t *Timer) Took(item string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.took[item]
	return d, ok
}
