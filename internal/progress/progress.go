// Package progress is how engines report how far along they are without
// printing: they call a Reporter, and the CLI renders it as bars on a
// terminal or JSON lines for machines.
package progress

// Reporter receives progress per item (a disk). Implementations must be
// safe for concurrent use; Add is called from many goroutines.
type Reporter interface {
	// Start announces an item and the bytes it will take.
	Start(item string, total int64)
	// Add records n more bytes done for item.
	Add(item string, n int64)
	// Done marks item finished.
	Done(item string)
}

// Noop is a Reporter that does nothing.
type Noop struct{}

// Start does nothing.
func (Noop) Start(string, int64) {}

// Add does nothing.
func (Noop) Add(string, int64) {}

// Done does nothing.
func (Noop) Done(string) {}

// OrNoop returns r, or Noop when r is nil.
func OrNoop(r Reporter) Reporter {
	if r == nil {
		return Noop{}
	}
	return r
}
