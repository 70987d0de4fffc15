// Package disksource defines where the bytes of a disk come from during a
// backup: a [Reader] over the disk's contents, optionally a [SparseReader]
// that knows which byte ranges hold data, and a [ChangeMap] that says which
// ranges changed since the previous backup.
//
// Implementations live in subpackages (file: raw image files and block
// devices).
package disksource

import (
	"context"
	"io"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Reader reads one disk.
//
// ReadAt follows [io.ReaderAt]: callers may run parallel ReadAt calls, and
// a read reaching Size returns io.EOF (unwrapped). Other errors are of kind
// [cairn.IO]. Size is the disk's size in bytes, fixed when the Reader is
// opened. Close releases the Reader; it must not be used after.
type Reader interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// SparseReader is a Reader that knows where the disk's data is, so that a
// backup can skip the rest without reading it.
//
// Extents returns the byte ranges that may hold data: sorted, not
// overlapping, within [0, Size()). Every byte outside them reads as zero.
// An implementation that cannot tell returns one extent covering the whole
// disk. Errors are of kind [cairn.IO], or [cairn.Canceled] when ctx is done.
// Safe to call concurrently with ReadAt.
type SparseReader interface {
	Reader
	Extents(ctx context.Context) ([]cairn.Extent, error)
}

// Extents returns r's data extents if r is a [SparseReader], else one
// extent covering the whole disk (none for an empty disk).
func Extents(ctx context.Context, r Reader) ([]cairn.Extent, error) {
	if s, ok := r.(SparseReader); ok {
		return s.Extents(ctx)
	}
	return Whole(r.Size()), nil
}

// Whole returns the extents of a fully allocated disk of size bytes: one
// extent, or none when size ≤ 0.
func Whole(size int64) []cairn.Extent {
	if size <= 0 {
		return nil
	}
	return []cairn.Extent{{Offset: 0, Length: size}}
}
