package schedule

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/clock"
)

// recorder collects the scheduler's calls.
type recorder struct {
	mu    sync.Mutex
	calls []string // "id@firedAt (RFC 3339, UTC)"
	ch    chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 100)} }

func (r *recorder) fn(_ context.Context, id string, firedAt time.Time) {
	c := id + "@" + firedAt.UTC().Format("2006-01-02 15:04")
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	r.ch <- c
}

// take returns the calls so far and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	for len(r.ch) > 0 {
		<-r.ch
	}
	return out
}

func mustTrigger(t *testing.T, patterns ...string) Trigger {
	t.Helper()
	tr, err := ParseTrigger(patterns, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// tickExpect ticks and checks the calls made.
func tickExpect(t *testing.T, s *Scheduler, rec *recorder, want ...string) {
	t.Helper()
	n := s.Tick(context.Background())
	got := rec.take()
	if n != len(got) {
		t.Errorf("Tick returned %d, made %d calls", n, len(got))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Tick fired %q, want %q", got, want)
	}
}

func TestSchedulerFiresOnTime(t *testing.T) {
	clk := clock.NewFake(at(plus8, "2026-01-05 00:00"))
	rec := newRecorder()
	s := New(clk, rec.fn, Options{})
	s.Set("p1", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=1,13;BYMINUTE=0"), Loc: plus8, Enabled: true})

	if next, ok := s.Next("p1"); !ok || !next.Equal(at(plus8, "2026-01-05 01:00")) {
		t.Fatalf("Next = %v, %v", next, ok)
	}
	tickExpect(t, s, rec)
	clk.Set(at(plus8, "2026-01-05 00:59"))
	tickExpect(t, s, rec)
	clk.Set(at(plus8, "2026-01-05 01:00"))
	tickExpect(t, s, rec, "p1@2026-01-04 17:00")
	tickExpect(t, s, rec) // no double fire
	clk.Set(at(plus8, "2026-01-05 12:59"))
	tickExpect(t, s, rec)
	clk.Set(at(plus8, "2026-01-05 13:00").Add(30 * time.Second))
	tickExpect(t, s, rec, "p1@2026-01-05 05:00")
	tickExpect(t, s, rec)
	if next, _ := s.Next("p1"); !next.Equal(at(plus8, "2026-01-06 01:00")) {
		t.Errorf("Next = %v", next)
	}
	if _, ok := s.Next("nope"); ok {
		t.Error("Next of an unknown id: ok")
	}
}

func TestSchedulerOrderAndNoDoubleFireUnderConcurrentTicks(t *testing.T) {
	clk := clock.NewFake(utc("2026-01-05 00:00"))
	rec := newRecorder()
	s := New(clk, rec.fn, Options{})
	s.Set("b", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=2;BYMINUTE=0"), Enabled: true})
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=2;BYMINUTE=0"), Enabled: true})
	s.Set("c", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=1;BYMINUTE=0"), Enabled: true})
	clk.Set(utc("2026-01-05 03:00"))

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { s.Tick(context.Background()) })
	}
	wg.Wait()
	if got, want := rec.take(), []string{"c@2026-01-05 01:00", "a@2026-01-05 02:00", "b@2026-01-05 02:00"}; !slices.Equal(got, want) {
		t.Fatalf("fired %q, want %q", got, want)
	}
}

func TestSchedulerLiveChanges(t *testing.T) {
	clk := clock.NewFake(utc("2026-01-05 00:00"))
	rec := newRecorder()
	s := New(clk, rec.fn, Options{})
	daily2 := mustTrigger(t, "FREQ=DAILY;BYHOUR=2;BYMINUTE=0")
	s.Set("a", Entry{Trigger: daily2, Enabled: true})
	s.Set("b", Entry{Trigger: daily2, Enabled: true})

	// Removed before its firing: never fires.
	s.Remove("b")
	s.Remove("b") // removing twice is fine
	clk.Set(utc("2026-01-05 02:00"))
	tickExpect(t, s, rec, "a@2026-01-05 02:00")

	// Added live: fires from its next firing on.
	s.Set("c", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=3;BYMINUTE=0"), Enabled: true})
	clk.Set(utc("2026-01-05 03:00"))
	tickExpect(t, s, rec, "c@2026-01-05 03:00")

	// Disabled: its firings pass silently, and enabling it again does not
	// catch them up.
	s.Set("a", Entry{Trigger: daily2, Enabled: false})
	if next, ok := s.Next("a"); !ok || !next.IsZero() {
		t.Errorf("Next of a disabled entry = %v, %v", next, ok)
	}
	clk.Set(utc("2026-01-06 02:30"))
	tickExpect(t, s, rec) // nothing: a is disabled and c's 03:00 is ahead
	s.Set("a", Entry{Trigger: daily2, Enabled: true})
	tickExpect(t, s, rec)
	clk.Set(utc("2026-01-07 02:00"))
	tickExpect(t, s, rec, "c@2026-01-06 03:00", "a@2026-01-07 02:00") // in firing order

	// A changed trigger starts afresh from now: the new trigger's earlier
	// time of today does not fire.
	clk.Set(utc("2026-01-07 12:00"))
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=10,14;BYMINUTE=0"), Enabled: true})
	tickExpect(t, s, rec, "c@2026-01-07 03:00") // c only
	clk.Set(utc("2026-01-07 14:00"))
	tickExpect(t, s, rec, "a@2026-01-07 14:00")

	// So does a changed location.
	clk.Set(utc("2026-01-07 20:00"))
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=10,14;BYMINUTE=0"), Loc: plus8, Enabled: true})
	tickExpect(t, s, rec) // 14:00 UTC+8 today (06:00 UTC) has passed but does not fire
	clk.Set(utc("2026-01-08 02:00"))
	tickExpect(t, s, rec, "a@2026-01-08 02:00")

	// Setting the same entry again (a periodic sync) neither fires nor
	// loses a firing.
	clk.Set(utc("2026-01-08 06:30")) // a's 14:00 UTC+8 passed without a tick
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=10,14;BYMINUTE=0"), Loc: plus8, Enabled: true})
	tickExpect(t, s, rec, "c@2026-01-08 03:00", "a@2026-01-08 06:00")
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=10,14;BYMINUTE=0"), Loc: plus8, Enabled: true})
	tickExpect(t, s, rec)
}

func TestSchedulerFuncMayChangeEntries(t *testing.T) {
	clk := clock.NewFake(utc("2026-01-05 00:00"))
	var s *Scheduler
	var fired []string
	s = New(clk, func(_ context.Context, id string, _ time.Time) {
		fired = append(fired, id)
		s.Remove("b") // a fires first and removes b, which then must not fire
	}, Options{})
	tr := mustTrigger(t, "FREQ=DAILY;BYHOUR=1;BYMINUTE=0")
	s.Set("a", Entry{Trigger: tr, Enabled: true})
	s.Set("b", Entry{Trigger: tr, Enabled: true})
	clk.Set(utc("2026-01-05 01:00"))
	if n := s.Tick(context.Background()); n != 1 || !slices.Equal(fired, []string{"a"}) {
		t.Fatalf("Tick = %d, fired %q; want only a", n, fired)
	}
}

func TestSchedulerCatchUpOnce(t *testing.T) {
	clk := clock.NewFake(utc("2026-01-05 00:00"))
	rec := newRecorder()
	s := New(clk, rec.fn, Options{})
	s.Set("p", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=6,18;BYMINUTE=0"), Enabled: true})

	// Paused for five days and a half: ten firings missed, one fires: the
	// most recent.
	clk.Set(utc("2026-01-10 12:30"))
	tickExpect(t, s, rec, "p@2026-01-10 06:00")
	tickExpect(t, s, rec)
	clk.Set(utc("2026-01-10 18:00"))
	tickExpect(t, s, rec, "p@2026-01-10 18:00")
}

func TestSchedulerCatchUpAfterLongPause(t *testing.T) {
	// Past the span the catch-up jumps over: the result must still be the
	// latest firing, checked against a walk of every firing.
	for _, p := range []string{
		"FREQ=DAILY;BYHOUR=1,7,13,19;BYMINUTE=15",
		"FREQ=WEEKLY;INTERVAL=3;BYDAY=TU;BYHOUR=23;BYMINUTE=0",
		"FREQ=DAILY;INTERVAL=30;BYDAY=MO;BYHOUR=2;BYMINUTE=30",
	} {
		t.Run(p, func(t *testing.T) {
			start := utc("2025-01-01 00:00")
			tr, err := ParseTrigger([]string{p}, start)
			if err != nil {
				t.Fatal(err)
			}
			for _, pause := range []time.Duration{400 * 24 * time.Hour, 1000*24*time.Hour + 17*time.Hour} {
				clk := clock.NewFake(start)
				rec := newRecorder()
				s := New(clk, rec.fn, Options{})
				s.Set("p", Entry{Trigger: tr, Loc: berlin, Enabled: true})
				now := start.Add(pause)
				clk.Set(now)
				var want time.Time
				for f := tr.Next(start, berlin); !f.After(now); f = tr.Next(f, berlin) {
					want = f
				}
				tickExpect(t, s, rec, "p@"+want.UTC().Format("2006-01-02 15:04"))
				tickExpect(t, s, rec)
			}
		})
	}
}

func TestSchedulerRestart(t *testing.T) {
	tr := mustTrigger(t, "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=14;BYMINUTE=00")
	rec := newRecorder()

	// First life: fires on Monday, records it; then stops.
	clk := clock.NewFake(at(plus8, "2026-01-05 12:00"))
	s := New(clk, rec.fn, Options{})
	s.Set("p", Entry{Trigger: tr, Loc: plus8, Enabled: true})
	clk.Set(at(plus8, "2026-01-05 14:00"))
	tickExpect(t, s, rec, "p@2026-01-05 06:00")
	last := at(plus8, "2026-01-05 14:00") // what the caller persisted

	// Restarted on Saturday: Wednesday's and Friday's firings were missed;
	// Friday's fires, once.
	clk.Set(at(plus8, "2026-01-10 09:00"))
	s = New(clk, rec.fn, Options{})
	s.Set("p", Entry{Trigger: tr, Loc: plus8, Enabled: true, Last: last})
	tickExpect(t, s, rec, "p@2026-01-09 06:00")
	tickExpect(t, s, rec)

	// Restarted again right away with Friday recorded: nothing to do.
	s = New(clk, rec.fn, Options{})
	s.Set("p", Entry{Trigger: tr, Loc: plus8, Enabled: true, Last: at(plus8, "2026-01-09 14:00")})
	tickExpect(t, s, rec)

	// A stale Last does not move a live entry's record back.
	s.Set("p", Entry{Trigger: tr, Loc: plus8, Enabled: true, Last: last})
	tickExpect(t, s, rec)
}

func TestSchedulerRun(t *testing.T) {
	clk := clock.NewFake(utc("2026-01-05 00:00"))
	rec := newRecorder()
	s := New(clk, rec.fn, Options{Poll: time.Millisecond})
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=1;BYMINUTE=0"), Enabled: true})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	wait := func(want string) {
		t.Helper()
		select {
		case got := <-rec.ch:
			if got != want {
				t.Fatalf("fired %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q did not fire", want)
		}
	}
	quiet := func() {
		t.Helper()
		select {
		case got := <-rec.ch:
			t.Fatalf("unexpected firing %q", got)
		case <-time.After(30 * time.Millisecond):
		}
	}

	quiet()
	clk.Set(utc("2026-01-05 01:00"))
	wait("a@2026-01-05 01:00")
	quiet() // many polls later, still once

	s.Set("b", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=2;BYMINUTE=0"), Enabled: true})
	clk.Set(utc("2026-01-05 02:00"))
	wait("b@2026-01-05 02:00")

	if err := s.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}

	// Paused: the firings of three days pass; run again: one catch-up.
	clk.Set(utc("2026-01-08 12:00"))
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- s.Run(ctx) }()
	got := []string{<-rec.ch, <-rec.ch}
	slices.Sort(got)
	if want := []string{"a@2026-01-08 01:00", "b@2026-01-08 02:00"}; !slices.Equal(got, want) {
		t.Fatalf("after the pause fired %q, want %q", got, want)
	}
	quiet()
}

func TestSchedulerRunWakesOnSet(t *testing.T) {
	// With a long poll, Run sleeps until the next firing by the real
	// clock; setting an entry wakes it to look at the (fake) clock again.
	clk := clock.NewFake(utc("2026-01-05 00:59"))
	rec := newRecorder()
	s := New(clk, rec.fn, Options{Poll: time.Hour})
	s.Set("a", Entry{Trigger: mustTrigger(t, "FREQ=DAILY;BYHOUR=1;BYMINUTE=0"), Enabled: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	time.Sleep(10 * time.Millisecond) // let Run go to sleep (not needed for correctness)

	clk.Set(utc("2026-01-05 01:00"))
	s.Set("other", Entry{})
	select {
	case got := <-rec.ch:
		if got != "a@2026-01-05 01:00" {
			t.Fatalf("fired %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Set did not wake Run")
	}
	cancel()
	<-done
}

func TestSchedulerTickStopsWithContext(t *testing.T) {
	clk := clock.NewFake(utc("2026-01-05 00:00"))
	ctx, cancel := context.WithCancel(context.Background())
	var fired []string
	s := New(clk, func(_ context.Context, id string, _ time.Time) {
		fired = append(fired, id)
		cancel()
	}, Options{})
	tr := mustTrigger(t, "FREQ=DAILY;BYHOUR=1;BYMINUTE=0")
	for i := range 3 {
		s.Set(fmt.Sprint(i), Entry{Trigger: tr, Enabled: true})
	}
	clk.Set(utc("2026-01-05 01:00"))
	if n := s.Tick(ctx); n != 1 {
		t.Fatalf("Tick = %d with a context canceled by the first call, want 1", n)
	}
	// The others are still due.
	if n := s.Tick(context.Background()); n != 2 || len(fired) != 3 {
		t.Fatalf("next Tick = %d, fired %q", n, fired)
	}
}
