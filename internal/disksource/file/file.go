// Package file reads disks from raw image files and block devices: the
// disksource for a VM whose disk is a raw file, an LVM volume, a mapped
// RBD image or a snapshot of one of them.
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/disksource"
)

// Disk is a raw disk image file or block device opened read-only. It is
// safe for concurrent use.
type Disk struct {
	f    *os.File
	path string
	size int64

	// seek is f.Seek; tests replace it to simulate file systems without
	// SEEK_DATA.
	seek func(offset int64, whence int) (int64, error)
}

var _ disksource.SparseReader = (*Disk)(nil)

// Open opens the raw disk image or block device at path, read-only. The
// disk's size is the file's size, or for a block device the offset of its
// end. Errors name the path and have a kind:
//
//   - [cairn.NotExist]: path, or a directory on the way, does not exist;
//   - [cairn.Permission]: the file cannot be read by this process;
//   - [cairn.Invalid]: path is a directory, a character device, a named
//     pipe or a socket: neither a regular file nor a block device;
//   - [cairn.IO]: any other failure to open the file or find its size.
func Open(path string) (*Disk, error) {
	// Check the type before opening: opening a named pipe would block.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := checkType(path, fi.Mode()); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	d := &Disk{f: f, path: path, seek: f.Seek}
	if err := d.init(); err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// init checks the opened file (path may have been replaced since the
// Stat) and finds its size.
func (d *Disk) init() error {
	fi, err := d.f.Stat()
	if err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("disk image %s: %w", d.path, unwrapPath(err)))
	}
	if err := checkType(d.path, fi.Mode()); err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		d.size = fi.Size()
		return nil
	}
	// A block device: stat reports size 0, seeking to the end finds it.
	size, err := d.f.Seek(0, io.SeekEnd)
	if err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("disk image %s: finding the size of a block device: %w", d.path, unwrapPath(err)))
	}
	d.size = size
	return nil
}

// checkType accepts regular files and block devices.
func checkType(path string, mode fs.FileMode) error {
	var what string
	switch {
	case mode.IsRegular():
		return nil
	case mode&fs.ModeDevice != 0 && mode&fs.ModeCharDevice == 0:
		return nil // block device
	case mode.IsDir():
		what = "a directory"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	default:
		what = "of type " + mode.Type().String()
	}
	return cairn.E(cairn.Invalid, fmt.Errorf("disk image %s: is %s, not a raw image file or block device", path, what))
}

// openError classifies an error from Stat or Open.
func openError(path string, err error) error {
	kind := cairn.IO
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		kind = cairn.NotExist
	case errors.Is(err, fs.ErrPermission):
		kind = cairn.Permission
	}
	return cairn.E(kind, fmt.Errorf("disk image %s: %w", path, unwrapPath(err)))
}

// unwrapPath returns the error inside a *fs.PathError, whose message would
// repeat the path.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// Path returns the path the disk was opened with.
func (d *Disk) Path() string { return d.path }

// Size returns the disk's size in bytes, as found by Open.
func (d *Disk) Size() int64 { return d.size }

// ReadAt reads len(p) bytes at off, as [io.ReaderAt]. Reads stop at Size
// even if the file has grown since Open; a read reaching Size returns
// io.EOF. Other errors are of kind [cairn.IO].
func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, cairn.E(cairn.Invalid, fmt.Errorf("disk image %s: read at negative offset %d", d.path, off))
	}
	if off >= d.size {
		return 0, io.EOF
	}
	short := false
	if rest := d.size - off; int64(len(p)) > rest {
		p, short = p[:rest], true
	}
	n, err := d.f.ReadAt(p, off)
	switch {
	case err == io.EOF:
		return n, io.EOF // the file shrank
	case err != nil:
		return n, cairn.E(cairn.IO, fmt.Errorf("disk image %s: read %d bytes at %d: %w", d.path, len(p), off, unwrapPath(err)))
	case short:
		return n, io.EOF
	}
	return n, nil
}

// Close closes the file.
func (d *Disk) Close() error {
	if err := d.f.Close(); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("disk image %s: %w", d.path, unwrapPath(err)))
	}
	return nil
}

// Extents returns the allocated extents of the file within [0, Size()),
// found with lseek's SEEK_DATA and SEEK_HOLE, so that holes need not be
// read. Where the operating system or file system cannot tell (other
// systems than Linux, file systems without SEEK_DATA), it returns one
// extent covering the disk; so does a block device on Linux. The extents
// are sorted and do not overlap; bytes outside them read as zero (file
// systems may report some zero ranges as data, never the reverse).
// Errors are of kind [cairn.IO], or [cairn.Canceled] when ctx is done.
func (d *Disk) Extents(ctx context.Context) ([]cairn.Extent, error) {
	ext, err := d.extents(ctx)
	if errors.Is(err, errUnsupported) {
		return disksource.Whole(d.size), nil
	}
	return ext, err
}

// errUnsupported is returned by extents when the system cannot find holes.
var errUnsupported = errors.New("SEEK_DATA is not supported")
