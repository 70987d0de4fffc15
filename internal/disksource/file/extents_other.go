//go:build !linux

package file

import (
	"context"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// extents is not implemented outside Linux: the SEEK_DATA and SEEK_HOLE
// whence values differ between systems (Darwin swaps them).
func (d *Disk) extents(ctx context.Context) ([]cairn.Extent, error) {
	return nil, errUnsupported
}
