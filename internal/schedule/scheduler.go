package schedule

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/clock"
)

// Func is called when an entry fires: id is the entry's id and firedAt
// the firing's scheduled time (not the time of the call, which may be
// later). It runs in the scheduler's goroutine, one call at a time, so it
// should hand the work off (enqueue an operation) and return quickly: no
// other entry fires while it runs.
type Func func(ctx context.Context, id string, firedAt time.Time)

// Entry is what the scheduler knows of one policy.
type Entry struct {
	Trigger Trigger
	Loc     *time.Location // the wall clock the trigger runs on; nil means UTC
	Enabled bool           // a disabled entry never fires

	// Last is the last firing already handled, as the caller recorded it
	// (e.g. the firedAt of its last call, persisted across a restart). On
	// a new entry, a zero Last means "now": only firings after the entry
	// is set fire. A non-zero Last lets the scheduler catch up a firing
	// missed while cairn was down (see [Scheduler]). On an entry that
	// exists already, Last only moves its record forward.
	Last time.Time
}

// Options tune a Scheduler.
type Options struct {
	// Poll is the longest the scheduler sleeps before it reads its clock
	// again, however far the next firing is: the bound on how late a
	// firing is noticed when the clock jumps (host suspend, a wall-clock
	// step, a fake clock in tests). 0 means DefaultPoll.
	Poll time.Duration
}

// DefaultPoll is the default Options.Poll.
const DefaultPoll = 30 * time.Second

// Scheduler calls a Func when its entries fire. Entries may be set and
// removed at any time, also while Run runs; all methods are safe for
// concurrent use.
//
// Each firing is delivered at most once: the scheduler records an entry's
// last firing before it calls the Func. When the scheduler finds that
// several firings of an entry have passed unseen (it was not running, the
// host was suspended, the clock jumped), it fires once, for the most
// recent of them, and skips the older ones: a missed firing fires once
// when the scheduler resumes, older missed firings are skipped. After a
// restart, the same holds for the firings since the Entry.Last the caller
// gives. An entry that is enabled, or whose trigger or location changes,
// starts afresh: only firings after that moment fire.
type Scheduler struct {
	clock clock.Clock
	fn    Func
	poll  time.Duration
	wake  chan struct{}

	running atomic.Bool
	tickMu  sync.Mutex // serializes Tick, so that no firing is delivered twice

	mu      sync.Mutex
	entries map[string]*entryState
}

type entryState struct {
	entry Entry
	last  time.Time // last firing handled, or the baseline
}

// New returns a Scheduler that reads the time from c (nil means
// clock.Real) and calls fn when an entry fires.
func New(c clock.Clock, fn Func, opts Options) *Scheduler {
	if c == nil {
		c = clock.Real
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	return &Scheduler{clock: c, fn: fn, poll: opts.Poll, wake: make(chan struct{}, 1), entries: map[string]*entryState{}}
}

// Set adds the entry id or replaces it. Replacing an entry with the same
// trigger and location keeps its record of the last firing (so setting
// the same entries again, e.g. from a periodic sync with the catalog,
// neither repeats nor loses a firing); a changed trigger or location, or
// enabling a disabled entry, starts it afresh from now.
func (s *Scheduler) Set(id string, e Entry) {
	now := s.clock.Now()
	s.mu.Lock()
	st := &entryState{entry: e}
	if old, ok := s.entries[id]; ok {
		st.last = later(old.last, e.Last)
		if !sameSchedule(old.entry, e) || (e.Enabled && !old.entry.Enabled) {
			st.last = later(st.last, now)
		}
	} else {
		st.last = now
		if !e.Last.IsZero() {
			st.last = e.Last
		}
	}
	st.entry.Last = time.Time{}
	s.entries[id] = st
	s.mu.Unlock()
	s.kick()
}

// Remove removes the entry id, if there is one. It does not interrupt a
// call of the Func already under way.
func (s *Scheduler) Remove(id string) {
	s.mu.Lock()
	delete(s.entries, id)
	s.mu.Unlock()
	s.kick()
}

// Next returns when the entry id fires next, as things stand: the zero
// time if it is disabled or never fires (a time in the past if a missed
// firing is due), and false if there is no such entry.
func (s *Scheduler) Next(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.entries[id]
	if !ok {
		return time.Time{}, false
	}
	if !st.entry.Enabled {
		return time.Time{}, true
	}
	return st.entry.Trigger.Next(st.last, st.entry.Loc), true
}

func (s *Scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Tick fires, once each, the entries due at the clock's current time, in
// the order of their firing times (then ids), and returns how many it
// fired. Run calls it; tests and callers that drive the scheduler
// themselves may call it directly. It stops early, leaving the rest due,
// when ctx is done.
func (s *Scheduler) Tick(ctx context.Context) int {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	now := s.clock.Now()

	type due struct {
		id string
		at time.Time
	}
	var dues []due
	s.mu.Lock()
	for id, st := range s.entries {
		if at := st.due(now); !at.IsZero() {
			dues = append(dues, due{id, at})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(dues, func(a, b due) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.id, b.id))
	})

	fired := 0
	for _, d := range dues {
		if ctx.Err() != nil {
			break
		}
		// The Func called before may have changed or removed this entry:
		// look again, and record the firing before the call.
		s.mu.Lock()
		st, ok := s.entries[d.id]
		var at time.Time
		if ok {
			if at = st.due(now); !at.IsZero() {
				st.last = at
			}
		}
		s.mu.Unlock()
		if at.IsZero() {
			continue
		}
		s.fn(ctx, d.id, at)
		fired++
	}
	return fired
}

// due returns the firing of st to deliver at now: the latest one after
// st.last and not after now, or the zero time. The caller holds s.mu.
func (st *entryState) due(now time.Time) time.Time {
	if !st.entry.Enabled {
		return time.Time{}
	}
	tr, loc := st.entry.Trigger, st.entry.Loc
	f := tr.Next(st.last, loc)
	if f.IsZero() || f.After(now) {
		return time.Time{}
	}
	// After a long pause, jump close to now rather than walk every missed
	// firing; the walk below makes the result exact either way.
	if w := tr.span(); now.Sub(f) > w {
		if g := tr.Next(now.Add(-w), loc); !g.IsZero() && g.After(f) && !g.After(now) {
			f = g
		}
	}
	for {
		n := tr.Next(f, loc)
		if n.IsZero() || n.After(now) {
			return f
		}
		f = n
	}
}

// earliest returns the earliest next firing of the enabled entries, or
// the zero time.
func (s *Scheduler) earliest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best time.Time
	for _, st := range s.entries {
		if !st.entry.Enabled {
			continue
		}
		if n := st.entry.Trigger.Next(st.last, st.entry.Loc); !n.IsZero() && (best.IsZero() || n.Before(best)) {
			best = n
		}
	}
	return best
}

// ErrRunning is returned by Run when the scheduler is running already.
var ErrRunning = cairn.E(cairn.Conflict, errors.New("schedule: the scheduler is running already"))

// Run fires entries as they come due until ctx is done, then returns
// ctx's error. It sleeps until the next firing, at most Options.Poll at a
// time, and wakes early when an entry is set or removed. Run must not be
// called again while it runs ([ErrRunning]); it may be called again after
// it returns, and then catches up missed firings as described under
// [Scheduler].
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.Tick(ctx)
		wait := s.poll
		if next := s.earliest(); !next.IsZero() {
			wait = min(wait, max(next.Sub(s.clock.Now()), time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		case <-timer.C:
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func sameSchedule(a, b Entry) bool {
	return locName(a.Loc) == locName(b.Loc) && a.Trigger.equal(b.Trigger)
}

func locName(l *time.Location) string {
	if l == nil {
		return time.UTC.String()
	}
	return l.String()
}
