// Package ratelimit caps the number of bytes per second that pass through
// the callers of one [Limiter], however many goroutines share it.
//
// A Limiter is a token bucket that starts empty and holds little: over any
// interval of length d after [New], at most rate·d + [Limiter.Capacity]
// bytes pass, and over the first interval at most rate·d. So a backup that
// starts, or resumes after a pause, does not flood the link with a burst.
//
// Bytes are granted at the moment a waiter actually takes them, under the
// limiter's lock, not at a moment reserved in advance: a goroutine that
// wakes up late (timers fire late, busy machines schedule late) takes what
// the bucket holds then, and cannot pass together with goroutines that were
// granted the same bytes meanwhile. Waiters queue in FIFO order, so a large
// piece is not starved by small ones.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Bucket capacity. The capacity is the largest burst the limiter allows
// after an idle period. It is 50 ms worth of bytes at the configured rate,
// clamped to [minCapacity, maxCapacity], then raised to minBurstTime worth
// of bytes, and never more than one second's worth:
//
//   - 50 ms: pauses shorter than that (a slow chunk, a scheduling hiccup)
//     are made up for, so the average rate is met, while the link never
//     sees more than a twentieth of a second's worth at once;
//   - maxCapacity, 256 KiB, is what 50 ms amount to at 5 MiB/s; at higher
//     rates a burst stays a fraction of a backup chunk;
//   - minCapacity, 4 KiB, keeps the number of pieces (and timers) per
//     second reasonable at very low rates, where 50 ms is a few hundred
//     bytes;
//   - minBurstTime, 4 ms, matters above 62.5 MiB/s (where 4 ms is more
//     than 256 KiB): there a burst is bounded in time, 4 % of a 100 ms
//     window, rather than in bytes.
//
// Why minBurstTime: Go timers shorter than a millisecond fire about 1 ms
// late on Linux (the runtime sleeps in epoll with millisecond resolution),
// and later on a busy machine. The head waiter sleeps until the bucket
// holds its piece; whatever it oversleeps beyond the time the bucket takes
// to fill is lost, and the rate is not reached. Measured on a busy 2-CPU
// machine, 1 GiB/s, 64 KiB waits: with a 256 KiB bucket one goroutine got
// 0.26 of the rate and eight 0.49; with 2 ms worth 0.82 to 0.99; with 4 ms
// worth and pieces of a quarter bucket 0.98 or more at every rate from
// 20 MiB/s to 4 GiB/s, 1 or 8 goroutines, 64 KiB or 1 MiB waits
// (TestMeasure).
//
// Waits larger than a quarter of the capacity are split into pieces of a
// quarter (piecesPerBucket): the head then sleeps until the bucket holds a
// quarter, and may oversleep for three quarters of a bucket's filling time
// before bytes are lost; a whole-bucket piece would lose every late wakeup.
const (
	minCapacity     = 4 << 10
	maxCapacity     = 256 << 10
	minBurstTime    = 4 * time.Millisecond
	piecesPerBucket = 4
)

// capacityFor returns the bucket capacity for a rate in bytes per second.
func capacityFor(rate int64) int64 {
	c := rate / 20
	c = max(c, minCapacity)
	c = min(c, maxCapacity)
	c = max(c, rate/int64(time.Second/minBurstTime))
	return min(c, rate)
}

// Limiter limits a byte rate. It is safe for concurrent use by many
// goroutines; waiters are served in the order they reach the limiter, piece
// by piece. The methods of a nil *Limiter do nothing and never block: nil is
// the unlimited limiter.
type Limiter struct {
	rate     int64 // bytes per second, > 0
	capacity int64 // bucket size in bytes, in [1, rate]

	mu sync.Mutex
	// paid is the time at which the bucket was empty, counting every
	// byte granted: at time t it holds min(capacity, (t−paid)·rate)
	// bytes. Never later than the last grant. Carries a monotonic clock
	// reading.
	paid time.Time
	// queue holds the waiters in arrival order. Only queue[0], the head,
	// takes bytes; the others wait for their head channel to be closed.
	// While the queue is not empty, newcomers queue too.
	queue []*waiter
}

// waiter is a goroutine waiting in Wait for its turn.
type waiter struct {
	head chan struct{} // closed when the waiter becomes queue[0]
}

// New returns a limiter that lets bytesPerSec bytes pass per second, with
// an empty bucket. A bytesPerSec of zero or less means unlimited: New
// returns nil, whose methods are no-ops.
func New(bytesPerSec int64) *Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	return &Limiter{
		rate:     bytesPerSec,
		capacity: capacityFor(bytesPerSec),
		paid:     time.Now(),
	}
}

// Rate returns the limit in bytes per second, or 0 for a nil (unlimited)
// Limiter.
func (l *Limiter) Rate() int64 {
	if l == nil {
		return 0
	}
	return l.rate
}

// Capacity returns the bucket size in bytes: the largest burst the limiter
// lets through at once, after an idle period. It is 0 for a nil Limiter.
func (l *Limiter) Capacity() int64 {
	if l == nil {
		return 0
	}
	return l.capacity
}

// duration returns how long n ≥ 0 bytes take at the limiter's rate,
// rounded up so that rounding never lets more than the rate through, or
// math.MaxInt64 if that does not fit. The sub-second part is computed in
// 128 bits, as rem·1e9 overflows int64 for rates above 9.2 GB/s.
func (l *Limiter) duration(n int64) time.Duration {
	secs, rem := n/l.rate, n%l.rate
	if secs >= math.MaxInt64/int64(time.Second)-1 {
		return math.MaxInt64
	}
	hi, lo := bits.Mul64(uint64(rem), uint64(time.Second))
	lo, carry := bits.Add64(lo, uint64(l.rate-1), 0)
	q, _ := bits.Div64(hi+carry, lo, uint64(l.rate)) // ≤ 1e9: rem < rate
	return time.Duration(secs)*time.Second + time.Duration(q)
}

// emptyAt returns the time from which the bucket's content at now is
// counted: it holds (now − emptyAt)·rate bytes. l.mu must be held.
func (l *Limiter) emptyAt(now time.Time) time.Time {
	if full := now.Add(-l.duration(l.capacity)); l.paid.Before(full) {
		return full // the bucket is full: older credit is lost
	}
	return l.paid
}

// earliest returns how long from now until the bucket holds n bytes if
// nobody else takes any (for n > capacity, as if it had no capacity
// limit): a lower bound on any wait for n bytes. l.mu must be held.
func (l *Limiter) earliest(now time.Time, n int64) time.Duration {
	return max(0, l.emptyAt(now).Add(l.duration(n)).Sub(now))
}

// take grants n ≤ capacity bytes if the bucket holds them at now and
// returns 0, or returns how long until it will. l.mu must be held.
func (l *Limiter) take(now time.Time, n int64) time.Duration {
	enough := l.emptyAt(now).Add(l.duration(n)) // when the bucket holds n
	if enough.After(now) {
		return enough.Sub(now)
	}
	l.paid = enough
	return 0
}

// deadlineError is returned when the bytes cannot pass in time.
func deadlineError(n int64, wait time.Duration) error {
	return canceled(fmt.Errorf("%d bytes may pass in %v at the earliest, after the deadline: %w", n, wait, context.DeadlineExceeded))
}

// leave removes w from the queue and, if w was the head, hands the head to
// the next waiter. l.mu must be held.
func (l *Limiter) leave(w *waiter) {
	i := slices.Index(l.queue, w)
	if i < 0 {
		return
	}
	l.queue = slices.Delete(l.queue, i, i+1)
	if i == 0 && len(l.queue) > 0 {
		close(l.queue[0].head)
	}
}

// Wait blocks until n more bytes may pass, then returns nil. n may exceed
// the capacity: Wait lets bytes through in pieces of at most a quarter of
// the capacity, each queueing behind the other goroutines' pieces, and
// returns when the last piece passes. A caller that then sends all n bytes
// at once makes a burst of its own: wait for what is sent at once (a
// chunk, a request), not for a whole disk.
//
// If ctx is done before the bytes may pass, Wait returns an error of kind
// [cairn.Canceled] wrapping ctx.Err(). If the wait is known to outlast
// ctx's deadline, it returns at once an error of that kind wrapping
// [context.DeadlineExceeded]; Wait knows it at the start, when even an
// idle limiter could not pass n bytes in time, and whenever a piece is
// about to sleep. The pieces that passed before an error stay counted; the
// piece waited for is not taken. Wait checks ctx before anything else,
// except on a nil Limiter, which returns nil at once. n ≤ 0 returns nil.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		l.mu.Lock()
		now := time.Now()
		wait := l.earliest(now, int64(n))
		l.mu.Unlock()
		if dl.Before(now.Add(wait)) {
			return deadlineError(int64(n), wait)
		}
	}
	for rest := int64(n); rest > 0; {
		piece := min(rest, max(l.capacity/piecesPerBucket, 1))
		if err := l.waitPiece(ctx, piece); err != nil {
			return err
		}
		rest -= piece
	}
	return nil
}

// waitPiece waits for n ≤ capacity/piecesPerBucket bytes (or 1 byte).
func (l *Limiter) waitPiece(ctx context.Context, n int64) error {
	if err := ctx.Err(); err != nil {
		return canceled(err)
	}
	l.mu.Lock()
	if len(l.queue) == 0 && l.take(time.Now(), n) == 0 {
		l.mu.Unlock()
		return nil
	}
	w := &waiter{head: make(chan struct{})}
	l.queue = append(l.queue, w)
	if len(l.queue) == 1 {
		close(w.head)
	}
	l.mu.Unlock()

	select {
	case <-w.head:
	case <-ctx.Done():
		l.mu.Lock()
		l.leave(w)
		l.mu.Unlock()
		return canceled(ctx.Err())
	}

	// w is the head: nobody else takes bytes until it leaves.
	var timer *time.Timer
	for {
		l.mu.Lock()
		now := time.Now()
		wait := l.take(now, n)
		if wait == 0 {
			l.leave(w)
			l.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(wait)) {
			l.leave(w)
			l.mu.Unlock()
			return deadlineError(n, wait)
		}
		l.mu.Unlock()

		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			l.mu.Lock()
			l.leave(w)
			l.mu.Unlock()
			return canceled(ctx.Err())
		}
	}
}

func canceled(err error) error {
	return cairn.E(cairn.Canceled, fmt.Errorf("rate limit: %w", err))
}
