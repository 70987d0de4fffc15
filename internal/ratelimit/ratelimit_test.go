package ratelimit

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// run has goroutines call l.Wait(piece) until d has passed since start and
// returns the time of every pass.
func run(t *testing.T, l *Limiter, goroutines, piece int, start time.Time, d time.Duration) []time.Time {
	t.Helper()
	var (
		mu     sync.Mutex
		passes []time.Time
		wg     sync.WaitGroup
	)
	stop := start.Add(d)
	for range goroutines {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := l.Wait(context.Background(), piece); err != nil {
					t.Error(err)
					return
				}
				now := time.Now()
				mu.Lock()
				passes = append(passes, now)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(passes, func(a, b time.Time) int { return a.Compare(b) })
	return passes
}

// TestRate measures the rate eight goroutines get through a 20 MiB/s
// limiter and checks the bytes passed in every 100 ms window.
func TestRate(t *testing.T) {
	const (
		rate   = 20 << 20
		piece  = 64 << 10
		window = 100 * time.Millisecond
	)
	start := time.Now()
	l := New(rate)
	passes := run(t, l, 8, piece, start, time.Second)
	if len(passes) == 0 {
		t.Fatal("nothing passed")
	}
	elapsed := passes[len(passes)-1].Sub(start)
	total := float64(len(passes) * piece)
	ratio := total / elapsed.Seconds() / rate
	t.Logf("capacity %d B; %d pieces of %d B in %v: %.0f B/s, %.4f of the cap", l.Capacity(), len(passes), piece, elapsed, total/elapsed.Seconds(), ratio)
	if ratio < 0.9 || ratio > 1.02 {
		t.Errorf("measured rate is %.4f of the cap, want within [0.9, 1.02]", ratio)
	}

	// The bucket starts empty: the first window gets no burst.
	first := 0
	for _, p := range passes {
		if p.Sub(start) <= window {
			first += piece
		}
	}
	if limit := int(rate * window.Seconds()); first > limit {
		t.Errorf("%d bytes passed in the first %v, more than %d", first, window, limit)
	}

	// Every closed window [passes[i], passes[i]+100ms].
	limit := int(rate*window.Seconds()) + int(l.Capacity())
	worst, j := 0, 0
	for i := range passes {
		for j < len(passes) && passes[j].Sub(passes[i]) <= window {
			j++
		}
		if b := (j - i) * piece; b > worst {
			worst = b
		}
	}
	t.Logf("at most %d B in a %v window; bound %d B", worst, window, limit)
	if worst > limit {
		t.Errorf("%d bytes passed in a %v window, more than cap·0.1 + capacity = %d", worst, window, limit)
	}
}

// TestRateHigh checks that the limiter's own cost does not keep it from
// reaching a high rate, and that it still does not exceed it.
func TestRateHigh(t *testing.T) {
	const rate = 1 << 30
	start := time.Now()
	l := New(rate)
	passes := run(t, l, 8, 1<<20, start, 200*time.Millisecond)
	elapsed := passes[len(passes)-1].Sub(start)
	ratio := float64(len(passes)<<20) / elapsed.Seconds() / rate
	t.Logf("1 GiB/s, 8 goroutines, 1 MiB waits: %.4f of the cap in %v", ratio, elapsed)
	if ratio < 0.5 || ratio > 1.02 {
		t.Errorf("measured rate is %.4f of the cap", ratio)
	}
}

func TestNoInitialBurst(t *testing.T) {
	t.Parallel()
	start := time.Now()
	l := New(1 << 20) // capacity 52428 B: 50 ms worth
	if err := l.Wait(context.Background(), int(l.Capacity())); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 49*time.Millisecond {
		t.Errorf("a full bucket passed after %v, want ≥ 50 ms", d)
	}
}

func TestBurstAfterIdle(t *testing.T) {
	t.Parallel()
	l := New(1 << 20)
	c := int(l.Capacity())
	time.Sleep(120 * time.Millisecond) // more than the 50 ms that fill the bucket
	start := time.Now()
	if err := l.Wait(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Millisecond {
		t.Errorf("a full bucket took %v after an idle period", d)
	}
	if err := l.Wait(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 49*time.Millisecond {
		t.Errorf("two buckets passed in %v after an idle period: the bucket holds more than its capacity", d)
	}
}

// TestLargeWait checks that a Wait larger than the capacity takes its time
// and lets other goroutines through meanwhile.
func TestLargeWait(t *testing.T) {
	t.Parallel()
	l := New(8 << 20) // capacity 256 KiB, 31.25 ms worth
	if l.Capacity() != 256<<10 {
		t.Fatalf("capacity %d", l.Capacity())
	}
	start := time.Now()
	bigDone := make(chan time.Duration, 1)
	go func() {
		if err := l.Wait(context.Background(), 2<<20); err != nil { // 250 ms
			t.Error(err)
		}
		bigDone <- time.Since(start)
	}()
	time.Sleep(20 * time.Millisecond)
	if err := l.Wait(context.Background(), 4<<10); err != nil {
		t.Fatal(err)
	}
	small := time.Since(start)
	big := <-bigDone
	t.Logf("2 MiB at 8 MiB/s: %v; 4 KiB started at 20 ms passed at %v", big, small)
	if big < 250*time.Millisecond || big > 400*time.Millisecond {
		t.Errorf("2 MiB took %v, want about 250 ms", big)
	}
	if small > 100*time.Millisecond {
		t.Errorf("a small wait behind a large one passed after %v", small)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	l := New(100 << 10) // capacity 5120 B: 50 ms worth
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	err := l.Wait(ctx, 5120)
	if !errors.Is(err, context.Canceled) || !cairn.IsKind(err, cairn.Canceled) {
		t.Fatalf("err = %v (kind %v), want context.Canceled of kind canceled", err, cairn.KindOf(err))
	}
	if d := time.Since(start); d > 40*time.Millisecond {
		t.Errorf("canceled wait returned after %v", d)
	}
	// The canceled piece was not taken: the next one waits only for the
	// rest of its own 50 ms, not for the canceled piece's too.
	if err := l.Wait(context.Background(), 5120); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 49*time.Millisecond || d > 85*time.Millisecond {
		t.Errorf("the piece after a canceled one passed at %v, want about 50 ms", d)
	}

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := New(1<<40).Wait(done, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a done context = %v", err)
	}
}

// TestCancelQueued cancels a waiter queued behind another: the ones behind
// it move up and it takes nothing.
func TestCancelQueued(t *testing.T) {
	t.Parallel()
	l := New(25 << 10) // capacity 4096 B, pieces of 1024 B: 40 ms each
	if l.Capacity() != 4096 {
		t.Fatalf("capacity %d", l.Capacity())
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	var wg sync.WaitGroup
	var a, c time.Duration
	var errB error
	wg.Go(func() {
		if err := l.Wait(context.Background(), 1024); err != nil {
			t.Error(err)
		}
		a = time.Since(start)
	})
	time.Sleep(5 * time.Millisecond)
	wg.Go(func() { errB = l.Wait(ctx, 1024) })
	time.Sleep(5 * time.Millisecond)
	wg.Go(func() {
		if err := l.Wait(context.Background(), 1024); err != nil {
			t.Error(err)
		}
		c = time.Since(start)
	})
	wg.Wait()
	t.Logf("a passed at %v, c at %v", a, c)
	if !errors.Is(errB, context.Canceled) {
		t.Errorf("queued waiter: err = %v, want context.Canceled", errB)
	}
	if a < 39*time.Millisecond || a > 70*time.Millisecond {
		t.Errorf("first waiter passed at %v, want about 40 ms", a)
	}
	if c < 79*time.Millisecond || c > 115*time.Millisecond {
		t.Errorf("waiter behind a canceled one passed at %v, want about 80 ms", c)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	l := New(100 << 10)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, 5120) // needs 50 ms
	if !errors.Is(err, context.DeadlineExceeded) || !cairn.IsKind(err, cairn.Canceled) {
		t.Fatalf("err = %v, want context.DeadlineExceeded of kind canceled", err)
	}
	if d := time.Since(start); d > 10*time.Millisecond {
		t.Errorf("Wait returned after %v; it should not wait for a deadline it cannot meet", d)
	}
	if err := l.Wait(context.Background(), 5120); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 85*time.Millisecond {
		t.Errorf("the wait that missed its deadline still held its bytes: next one took %v", d)
	}
}

func TestNil(t *testing.T) {
	t.Parallel()
	if New(0) != nil || New(-1) != nil {
		t.Fatal("New(0) and New(-1) must be nil")
	}
	var l *Limiter
	done, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	for range 1000 {
		if err := l.Wait(done, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("nil limiter took %v", d)
	}
	if l.Rate() != 0 || l.Capacity() != 0 {
		t.Errorf("nil limiter: rate %d, capacity %d", l.Rate(), l.Capacity())
	}
	if err := New(1).Wait(context.Background(), 0); err != nil {
		t.Errorf("Wait(0) = %v", err)
	}
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	tests := []struct{ rate, capacity int64 }{
		{1, 1},
		{1000, 1000},
		{4096, 4096},
		{10 << 10, 4 << 10},
		{100 << 10, 5120},
		{1 << 20, 52428},
		{5 << 20, 256 << 10},
		{20 << 20, 256 << 10},
		{60 << 20, 256 << 10},
		{100 << 20, 419430},
		{1 << 30, 4294967},
		{1 << 62, 1 << 62 / 250},
	}
	for _, tc := range tests {
		l := New(tc.rate)
		if l.Rate() != tc.rate || l.Capacity() != tc.capacity {
			t.Errorf("New(%d): rate %d, capacity %d; want capacity %d", tc.rate, l.Rate(), l.Capacity(), tc.capacity)
		}
		// duration rounds up, exactly, without overflow.
		for _, n := range []int64{1, l.Capacity() / 3, l.Capacity()} {
			num := new(big.Int).Mul(big.NewInt(n), big.NewInt(int64(time.Second)))
			num.Add(num, big.NewInt(tc.rate-1))
			want := num.Quo(num, big.NewInt(tc.rate)).Int64()
			if got := l.duration(n); int64(got) != want {
				t.Errorf("rate %d: duration(%d) = %d ns, want %d", tc.rate, n, got, want)
			}
		}
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"1048576", 1 << 20},
		{"0", 0},
		{"0MiB/s", 0},
		{"200MiB/s", 200 << 20},
		{"50MB/s", 50e6},
		{"1GiB/s", 1 << 30},
		{"800KiB/s", 800 << 10},
		{"10M", 10 << 20},
		{"10m", 10 << 20},
		{"10mib/S", 10 << 20},
		{"2K", 2048},
		{"2KB", 2000},
		{"3G/s", 3 << 30},
		{"3GB", 3e9},
		{"1T", 1 << 40},
		{"1TB/s", 1e12},
		{"1TiB", 1 << 40},
		{"512B", 512},
		{"512B/s", 512},
		{"512/s", 512},
		{"5 /s", 5},
		{" 200 MiB/s ", 200 << 20},
		{"1.5KiB/s", 1536},
		{"0.5MB", 500000},
		{"1.0000001", 1},
		{"8388607TiB", 8388607 << 40},
	}
	for _, tc := range tests {
		got, err := ParseRate(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}

	bad := []struct{ in, why string }{
		{"", "not a number"},
		{"fast", "not a number"},
		{"-5MiB/s", "not a number"},
		{"+5", "not a number"},
		{"1e6", "not a number"},
		{"10 Mbit/s", `unknown unit "Mbit"`},
		{"5X", `unknown unit "X"`},
		{"5  MiB", "not a number"},
		{"1.", "not a number"},
		{".5", "not a number"},
		{"5MiB/h", "not a number"},
		{"5MiB/s/s", "not a number"},
		{"0.1", "less than 1 byte per second"},
		{"0.0001KB", "less than 1 byte per second"},
		{"8388608TiB", "more than 9223372036854775807 bytes per second"},
		{"99999999999999999999", "more than"},
	}
	for _, tc := range bad {
		got, err := ParseRate(tc.in)
		if err == nil {
			t.Errorf("ParseRate(%q) = %d, want an error", tc.in, got)
			continue
		}
		if !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("ParseRate(%q): kind %v", tc.in, cairn.KindOf(err))
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.why) || !strings.Contains(msg, `e.g. "200MiB/s"`) || !strings.Contains(msg, tc.in) {
			t.Errorf("ParseRate(%q): error %q should say %q, quote the input and state the rule", tc.in, msg, tc.why)
		}
	}
}

// BenchmarkWait measures the limiter's own cost per piece, at a rate so
// high that no piece waits.
func BenchmarkWait(b *testing.B) {
	l := New(1 << 60)
	ctx := context.Background()
	b.SetBytes(64 << 10)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Wait(ctx, 64<<10); err != nil {
				b.Fatal(err)
			}
		}
	})
}
