package ui

import (
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/cairn-vm/cairn/internal/progress"
)

// Bars renders progress as one bar per item on a terminal: the item, the
// bytes done of the total, a percentage, the average rate and the time
// left. It is safe for concurrent use. Nothing else may write to the
// terminal between NewBars and Close.
type Bars struct {
	p *mpb.Progress

	mu     sync.Mutex
	bars   map[string]*barState
	closed bool
}

type barState struct {
	bar   *mpb.Bar
	total int64
}

var (
	_ progress.Reporter = (*Bars)(nil)
	_ Counter           = (*Bars)(nil)
)

// NewBars returns a Bars drawing on w, which should be a terminal.
func NewBars(w io.Writer) *Bars {
	return &Bars{
		p:    mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond)),
		bars: map[string]*barState{},
	}
}

// Start adds a bar for item, counting bytes.
func (b *Bars) Start(item string, total int64) { b.start(item, total, true) }

// StartCount adds a bar for item, counting things that are not bytes.
func (b *Bars) StartCount(item string, total int64) { b.start(item, total, false) }

func (b *Bars) start(item string, total int64, bytes bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if old := b.bars[item]; old != nil {
		old.bar.Abort(false)
	}
	var counters, speed decor.Decorator
	if bytes {
		counters = decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpace)
		speed = decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace)
	} else {
		counters = decor.CountersNoUnit("%d / %d", decor.WCSyncSpace)
		speed = decor.AverageSpeed(0, "%.0f/s", decor.WCSyncSpace)
	}
	bar := b.p.AddBar(total,
		mpb.PrependDecorators(
			decor.Name(item, decor.WCSyncSpaceR),
			counters,
		),
		mpb.AppendDecorators(
			decor.Percentage(decor.WCSyncSpace),
			speed,
			decor.OnAbort(decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO, decor.WCSyncSpace), "done"), "stopped"),
		),
	)
	b.bars[item] = &barState{bar: bar, total: total}
}

// Add advances item's bar by n.
func (b *Bars) Add(item string, n int64) {
	b.mu.Lock()
	s := b.bars[item]
	b.mu.Unlock()
	if s != nil {
		s.bar.IncrInt64(n)
	}
}

// Done completes item's bar, or marks it stopped when it did not reach
// its total (the work failed or was interrupted).
func (b *Bars) Done(item string) {
	b.mu.Lock()
	s := b.bars[item]
	delete(b.bars, item)
	b.mu.Unlock()
	if s == nil {
		return
	}
	if s.bar.Current() >= s.total {
		s.bar.SetTotal(-1, true)
	} else {
		s.bar.Abort(false)
	}
}

// Close stops the bars that are not done and waits until the last frame
// is drawn. Call it before writing anything else to the terminal.
func (b *Bars) Close() {
	b.mu.Lock()
	b.closed = true
	for item, s := range b.bars {
		s.bar.Abort(false)
		delete(b.bars, item)
	}
	b.mu.Unlock()
	b.p.Wait()
}
