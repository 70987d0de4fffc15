// Package diskfile holds the file operations the benchmark needs on sparse
// disk images: data extents, sparse copies, hashing and disk usage.
package diskfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Extent is a byte range: Length bytes from Offset. Its JSON form is the
// change-map entry {"offset":N,"length":N}.
type Extent struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// End returns the offset just past the extent.
func (e Extent) End() int64 { return e.Offset + e.Length }

const (
	seekData = 3 // SEEK_DATA
	seekHole = 4 // SEEK_HOLE
)

// DataExtents returns the data (non-hole) extents of the open file f, as
// lseek(SEEK_DATA/SEEK_HOLE) reports them, in order.
func DataExtents(f *os.File) ([]Extent, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var out []Extent
	for off := int64(0); off < size; {
		start, err := f.Seek(off, seekData)
		if errors.Is(err, syscall.ENXIO) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("seek data in %s: %w", f.Name(), err)
		}
		end, err := f.Seek(start, seekHole)
		if err != nil {
			return nil, fmt.Errorf("seek hole in %s: %w", f.Name(), err)
		}
		if end > size {
			end = size
		}
		out = append(out, Extent{start, end - start})
		off = end
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return out, nil
}

// Allocated returns the bytes the file occupies on disk (st_blocks × 512).
func Allocated(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Sys().(*syscall.Stat_t).Blocks * 512, nil
}

// SparseCopy copies src to dst (created or truncated), writing only src's
// data extents so that dst keeps src's holes, and fsyncs dst.
func SparseCopy(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	exts, err := DataExtents(in)
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := copyExtents(out, in, exts); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if err := out.Truncate(st.Size()); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// CopyExtents overwrites, in place, the given extents of dst with the same
// extents of src, and fsyncs dst. dst keeps its inode.
func CopyExtents(dst, src string, exts []Extent) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := copyExtents(out, in, exts); err != nil {
		out.Close()
		return fmt.Errorf("copy extents of %s into %s: %w", src, dst, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func copyExtents(out, in *os.File, exts []Extent) error {
	for _, e := range exts {
		if _, err := in.Seek(e.Offset, io.SeekStart); err != nil {
			return err
		}
		if _, err := out.Seek(e.Offset, io.SeekStart); err != nil {
			return err
		}
		// *os.File to *os.File through a LimitedReader uses copy_file_range.
		n, err := io.Copy(out, io.LimitReader(in, e.Length))
		if err != nil {
			return err
		}
		if n != e.Length {
			return fmt.Errorf("short copy at %d: %d of %d bytes", e.Offset, n, e.Length)
		}
	}
	return nil
}

// HashFile reads the whole file, holes included, and returns its SHA-256
// in hex and its size. Reading it also brings it into the page cache.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, 4<<20))
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// DiskUsage returns the bytes that the files under root occupy on disk, as
// du counts them (st_blocks × 512, each inode once).
func DiskUsage(root string) (int64, error) {
	seen := map[uint64]bool{}
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		if seen[st.Ino] {
			return nil
		}
		seen[st.Ino] = true
		total += st.Blocks * 512
		return nil
	})
	return total, err
}
