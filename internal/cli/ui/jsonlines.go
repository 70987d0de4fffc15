package ui

import (
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-vm/cairn/internal/progress"
)

// Counter is implemented by the renderers of this package: StartCount
// announces an item counted in things other than bytes (chunks, say).
// Add and Done then work as for a byte item.
type Counter interface {
	StartCount(item string, total int64)
}

// Event is one line written by JSONLines.
type Event struct {
	Event string `json:"event"` // "start", "progress" or "done"
	Item  string `json:"item"`
	Unit  string `json:"unit"` // "bytes" or "count"
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	// Rate is the average number of units per second since the start.
	Rate float64 `json:"rate"`
	// ETASeconds estimates the seconds left; absent when unknown.
	ETASeconds *float64 `json:"etaSeconds,omitempty"`
	// Seconds is the time since the item started.
	Seconds float64 `json:"seconds"`
}

// JSONLines renders progress as JSON lines, one Event per line: a "start"
// line when an item starts, a "progress" line per item that moved every
// interval, and a "done" line when it ends. It is safe for concurrent use.
type JSONLines struct {
	w        io.Writer
	interval time.Duration

	mu     sync.Mutex // guards items and writes to w
	items  map[string]*jsonItem
	order  []string
	stop   chan struct{}
	wg     sync.WaitGroup
	closed bool
}

type jsonItem struct {
	unit     string
	total    int64
	done     atomic.Int64
	start    time.Time
	reported int64
}

var (
	_ progress.Reporter = (*JSONLines)(nil)
	_ Counter           = (*JSONLines)(nil)
)

// NewJSONLines returns a JSONLines writing to w every interval (one second
// when interval is not positive) until Close.
func NewJSONLines(w io.Writer, interval time.Duration) *JSONLines {
	if interval <= 0 {
		interval = time.Second
	}
	j := &JSONLines{w: w, interval: interval, items: map[string]*jsonItem{}, stop: make(chan struct{})}
	j.wg.Add(1)
	go j.loop()
	return j
}

func (j *JSONLines) loop() {
	defer j.wg.Done()
	t := time.NewTicker(j.interval)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			j.mu.Lock()
			for _, name := range j.order {
				it := j.items[name]
				if d := it.done.Load(); d != it.reported {
					it.reported = d
					j.emit("progress", name, it, d)
				}
			}
			j.mu.Unlock()
		}
	}
}

// Start announces an item counted in bytes.
func (j *JSONLines) Start(item string, total int64) { j.start(item, total, "bytes") }

// StartCount announces an item counted in other units.
func (j *JSONLines) StartCount(item string, total int64) { j.start(item, total, "count") }

func (j *JSONLines) start(item string, total int64, unit string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return
	}
	it := &jsonItem{unit: unit, total: total, start: time.Now()}
	if _, ok := j.items[item]; !ok {
		j.order = append(j.order, item)
	}
	j.items[item] = it
	j.emit("start", item, it, 0)
}

// Add records n more units done for item.
func (j *JSONLines) Add(item string, n int64) {
	j.mu.Lock()
	it := j.items[item]
	j.mu.Unlock()
	if it != nil {
		it.done.Add(n)
	}
}

// Done writes item's "done" line.
func (j *JSONLines) Done(item string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	it := j.items[item]
	if it == nil {
		return
	}
	delete(j.items, item)
	for i, n := range j.order {
		if n == item {
			j.order = append(j.order[:i], j.order[i+1:]...)
			break
		}
	}
	j.emit("done", item, it, it.done.Load())
}

// Close stops the ticker. Items not done get no "done" line.
func (j *JSONLines) Close() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.closed = true
	close(j.stop)
	j.mu.Unlock()
	j.wg.Wait()
}

// emit writes one line; j.mu is held.
func (j *JSONLines) emit(event, item string, it *jsonItem, done int64) {
	el := time.Since(it.start)
	ev := Event{Event: event, Item: item, Unit: it.unit, Done: done, Total: it.total, Seconds: el.Seconds()}
	if s := el.Seconds(); s > 0 {
		ev.Rate = float64(done) / s
	}
	if event == "progress" && ev.Rate > 0 && it.total >= done {
		eta := float64(it.total-done) / ev.Rate
		ev.ETASeconds = &eta
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	_, _ = j.w.Write(append(b, '\n'))
}
