package file

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// Whence values of lseek(2) on Linux, from <unistd.h>; package syscall
// does not define them.
const (
	seekData = 3 // SEEK_DATA: the next offset ≥ offset that holds data
	seekHole = 4 // SEEK_HOLE: the next offset ≥ offset in a hole (or the end)
)

// extents walks the file with SEEK_DATA and SEEK_HOLE. It returns
// errUnsupported if the file system rejects them.
func (d *Disk) extents(ctx context.Context) ([]cairn.Extent, error) {
	var out []cairn.Extent
	for off := int64(0); off < d.size; {
		if err := ctx.Err(); err != nil {
			return nil, cairn.E(cairn.Canceled, fmt.Errorf("disk image %s: extents: %w", d.path, err))
		}
		data, err := d.seek(off, seekData)
		switch {
		case errors.Is(err, syscall.ENXIO):
			return out, nil // no data at or after off
		case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.ENOSYS):
			return nil, errUnsupported
		case err != nil:
			return nil, d.seekError("SEEK_DATA", off, err)
		}
		if data >= d.size {
			return out, nil // data only past the size found by Open
		}
		if data < off {
			return nil, cairn.E(cairn.IO, fmt.Errorf("disk image %s: SEEK_DATA from %d returned %d", d.path, off, data))
		}
		hole, err := d.seek(data, seekHole)
		switch {
		case errors.Is(err, syscall.ENXIO):
			hole = d.size // the file shrank meanwhile
		case err != nil:
			return nil, d.seekError("SEEK_HOLE", data, err)
		}
		hole = min(hole, d.size)
		if hole <= data {
			return nil, cairn.E(cairn.IO, fmt.Errorf("disk image %s: SEEK_HOLE from %d returned %d", d.path, data, hole))
		}
		out = append(out, cairn.Extent{Offset: data, Length: hole - data})
		off = hole
	}
	return out, nil
}

func (d *Disk) seekError(op string, off int64, err error) error {
	return cairn.E(cairn.IO, fmt.Errorf("disk image %s: %s from %d: %w", d.path, op, off, unwrapPath(err)))
}
