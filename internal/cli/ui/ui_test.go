package ui

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {512, "512 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{64 << 20, "64.0 MiB"}, {3 << 30, "3.0 GiB"}, {5 << 40, "5.0 TiB"},
	}
	for _, tc := range tests {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := Rate(10<<20, 2*time.Second); got != "5.0 MiB/s" {
		t.Errorf("Rate = %q", got)
	}
	if got := Rate(10, 0); got != "-" {
		t.Errorf("Rate over no time = %q", got)
	}
	for d, want := range map[time.Duration]string{1234567 * time.Nanosecond: "1ms", 1500 * time.Millisecond: "1.5s", 90*time.Second + 300*time.Millisecond: "1m30s"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJSONLines(t *testing.T) {
	var buf syncBuffer
	j := NewJSONLines(&buf, 5*time.Millisecond)
	j.Start("os", 1000)
	j.StartCount("chunks", 3)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { j.Add("os", 100) })
	}
	wg.Wait()
	time.Sleep(30 * time.Millisecond) // a tick or more
	j.Add("chunks", 3)
	j.Done("os")
	j.Done("chunks")
	j.Add("os", 5) // after Done: ignored
	j.Close()
	j.Close()

	var evs []Event
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ev Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		evs = append(evs, ev)
	}
	if evs[0] != (Event{Event: "start", Item: "os", Unit: "bytes", Total: 1000, Seconds: evs[0].Seconds}) || evs[1].Unit != "count" {
		t.Errorf("start lines: %+v %+v", evs[0], evs[1])
	}
	var progress, done int
	for _, ev := range evs {
		switch ev.Event {
		case "progress":
			progress++
			if ev.Item == "os" && (ev.Done != 1000 || ev.ETASeconds == nil || *ev.ETASeconds != 0) {
				t.Errorf("progress line %+v", ev)
			}
		case "done":
			done++
			if ev.Item == "os" && (ev.Done != 1000 || ev.Rate <= 0) || ev.Item == "chunks" && ev.Done != 3 {
				t.Errorf("done line %+v", ev)
			}
		}
	}
	if progress == 0 || done != 2 {
		t.Errorf("%d progress and %d done lines:\n%s", progress, done, buf.String())
	}
}

func TestBars(t *testing.T) {
	var buf syncBuffer
	b := NewBars(&buf)
	tm := NewTimer(b)
	tm.Start("os", 100)
	tm.Start("data0", 100)
	b.StartCount("chunks", 2)
	tm.Add("os", 100)
	tm.Add("data0", 40)
	tm.Done("os")
	tm.Done("data0") // short of its total: stopped, not completed
	if _, ok := tm.Took("os"); !ok {
		t.Error("Timer did not time os")
	}
	if _, ok := tm.Took("swap"); ok {
		t.Error("Timer timed an item that never started")
	}
	done := make(chan struct{})
	go func() {
		b.Close() // chunks never finished: Close must not hang
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Bars.Close hangs on an unfinished bar")
	}
	b.Start("late", 1) // after Close: ignored
	b.Add("late", 1)
	b.Done("late")
}
