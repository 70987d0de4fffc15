//go:build unix

package file

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/disksource"
)

// write is one write into a test image.
type write struct {
	off  int64
	data []byte
}

// makeImage creates a sparse file of size bytes: truncate, then writes.
func makeImage(t *testing.T, size int64, writes ...write) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		if _, err := f.WriteAt(w.data, w.off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func random(n int, seed uint64) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	rand.NewChaCha8(key).Read(b)
	for i := range b {
		b[i] |= 1 // never zero
	}
	return b
}

func open(t *testing.T, path string) *Disk {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// allocated returns the bytes the file system allocated for path.
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Skip("no block count on this system")
	}
	return int64(st.Blocks) * 512
}

// checkExtents checks the SparseReader contract: sorted, disjoint,
// within the disk, and every byte outside the extents reads as zero.
func checkExtents(t *testing.T, d *Disk, ext []cairn.Extent) {
	t.Helper()
	var prevEnd int64
	for i, e := range ext {
		if e.Length <= 0 || e.Offset < prevEnd || e.End() > d.Size() {
			t.Fatalf("extent %d %+v: not sorted, empty, overlapping or past %d: %v", i, e, d.Size(), ext)
		}
		prevEnd = e.End()
	}
	all := make([]byte, d.Size())
	if n, err := d.ReadAt(all, 0); n != len(all) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt whole disk: %d, %v", n, err)
	}
	var off int64
	for _, e := range append(ext, cairn.Extent{Offset: d.Size()}) {
		if i := firstNonZero(all[off:e.Offset]); i >= 0 {
			t.Fatalf("non-zero byte at %d, outside the extents %v", off+int64(i), ext)
		}
		off = e.End()
	}
}

// firstNonZero returns the index of the first non-zero byte of b, or -1.
func firstNonZero(b []byte) int {
	var zero [64 << 10]byte
	for off := 0; off < len(b); off += len(zero) {
		block := b[off:min(off+len(zero), len(b))]
		if !bytes.Equal(block, zero[:len(block)]) {
			return off + slices.IndexFunc(block, func(c byte) bool { return c != 0 })
		}
	}
	return -1
}

// covered reports whether [off, off+n) lies within one of ext.
func covered(ext []cairn.Extent, off, n int64) bool {
	for _, e := range ext {
		if e.Offset <= off && off+n <= e.End() {
			return true
		}
	}
	return false
}

func TestExtentsSparse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SEEK_DATA is used on Linux only")
	}
	const size = 64 << 20
	writes := []write{
		{1 << 20, random(4096, 1)},       // aligned block
		{10<<20 + 100, random(8192, 2)},  // unaligned, spans three blocks
		{10<<20 + 8292, random(10, 3)},   // right after it
		{40 << 20, random(1<<20, 4)},     // a whole MiB
		{size - 1, []byte{0xff}},         // the last byte
		{20 << 20, make([]byte, 64<<10)}, // written zeros: allocated
	}
	path := makeImage(t, size, writes...)
	if allocated(t, path) >= size {
		t.Skip("this file system does not make sparse files")
	}
	d := open(t, path)
	if d.Size() != size {
		t.Fatalf("Size() = %d", d.Size())
	}
	ext, err := d.Extents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("extents: %v", ext)
	checkExtents(t, d, ext)
	for _, w := range writes {
		if !slices.ContainsFunc(w.data, func(b byte) bool { return b != 0 }) {
			continue // file systems may store written zeros as holes
		}
		if !covered(ext, w.off, int64(len(w.data))) {
			t.Errorf("write of %d bytes at %d is not within one extent", len(w.data), w.off)
		}
	}
	var total int64
	for _, e := range ext {
		total += e.Length
	}
	// The writes allocate about 1.1 MiB; allow for file systems with large
	// allocation units, but the 64 MiB of holes must be skipped.
	if total > 8<<20 {
		t.Errorf("extents cover %d bytes of %d: holes not skipped", total, int64(size))
	}
	if len(ext) < 4 {
		t.Errorf("%d extents for 5 separate areas: %v", len(ext), ext)
	}

	// The data reads back through ReadAt.
	for _, w := range writes {
		got := make([]byte, len(w.data))
		if _, err := d.ReadAt(got, w.off); err != nil && !(err == io.EOF && w.off+int64(len(got)) == size) {
			t.Fatalf("ReadAt(%d): %v", w.off, err)
		}
		if !bytes.Equal(got, w.data) {
			t.Errorf("data at %d does not read back", w.off)
		}
	}
}

func TestExtentsSpecialCases(t *testing.T) {
	ctx := context.Background()
	t.Run("only a hole", func(t *testing.T) {
		path := makeImage(t, 8<<20)
		if allocated(t, path) > 0 {
			t.Skip("this file system allocates holes")
		}
		ext, err := open(t, path).Extents(ctx)
		if err != nil || len(ext) != 0 {
			t.Errorf("got %v, %v; want no extents", ext, err)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		d := open(t, makeImage(t, 0))
		ext, err := d.Extents(ctx)
		if err != nil || len(ext) != 0 || d.Size() != 0 {
			t.Errorf("got %v, %v, size %d", ext, err, d.Size())
		}
		if n, err := d.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
			t.Errorf("ReadAt on an empty disk: %d, %v", n, err)
		}
	})
	t.Run("fully written", func(t *testing.T) {
		const size = 1<<20 + 512
		d := open(t, makeImage(t, size, write{0, random(size, 5)}))
		ext, err := d.Extents(ctx)
		if err != nil || len(ext) != 1 || ext[0] != (cairn.Extent{Offset: 0, Length: size}) {
			t.Errorf("got %v, %v; want one extent of %d", ext, err, size)
		}
	})
	t.Run("data at the start, hole at the end", func(t *testing.T) {
		path := makeImage(t, 16<<20, write{0, random(4096, 6)})
		if allocated(t, path) >= 16<<20 {
			t.Skip("this file system does not make sparse files")
		}
		d := open(t, path)
		ext, err := d.Extents(ctx)
		if err != nil || len(ext) != 1 || ext[0].Offset != 0 || ext[0].Length < 4096 || ext[0].Length > 4<<20 {
			t.Errorf("got %v, %v", ext, err)
		}
		checkExtents(t, d, ext)
	})
	t.Run("file grown after Open", func(t *testing.T) {
		path := makeImage(t, 1<<20, write{0, random(4096, 7)})
		d := open(t, path)
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(random(4096, 8), 2<<20); err != nil {
			t.Fatal(err)
		}
		f.Close()
		ext, err := d.Extents(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ext {
			if e.End() > 1<<20 {
				t.Errorf("extent %+v past the size found by Open", e)
			}
		}
		buf := make([]byte, 4096)
		if n, err := d.ReadAt(buf, 1<<20); n != 0 || err != io.EOF {
			t.Errorf("ReadAt past Size: %d, %v", n, err)
		}
		if n, err := d.ReadAt(buf, 1<<20-100); n != 100 || err != io.EOF {
			t.Errorf("ReadAt across Size: %d, %v; want 100, EOF", n, err)
		}
	})
}

func TestExtentsUnsupported(t *testing.T) {
	const size = 3 << 20
	d := open(t, makeImage(t, size, write{1 << 20, random(10, 9)}))
	for _, errno := range []syscall.Errno{syscall.EINVAL, syscall.EOPNOTSUPP, syscall.ENOSYS} {
		d.seek = func(int64, int) (int64, error) {
			return 0, &fs.PathError{Op: "seek", Path: d.path, Err: errno}
		}
		ext, err := d.Extents(context.Background())
		if err != nil || len(ext) != 1 || ext[0] != (cairn.Extent{Offset: 0, Length: size}) {
			t.Errorf("%v: got %v, %v; want the whole disk", errno, ext, err)
		}
	}
	d.seek = func(int64, int) (int64, error) { return 0, syscall.EIO }
	if runtime.GOOS == "linux" {
		_, err := d.Extents(context.Background())
		if !cairn.IsKind(err, cairn.IO) || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), d.path) {
			t.Errorf("seek failing with EIO: %v", err)
		}
	}
}

func TestExtentsCanceled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SEEK_DATA is used on Linux only")
	}
	d := open(t, makeImage(t, 1<<20, write{0, []byte{1}}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := d.Extents(ctx)
	if !cairn.IsKind(err, cairn.Canceled) || !errors.Is(err, context.Canceled) {
		t.Errorf("got %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	regular := makeImage(t, 10)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	tests := []struct {
		path string
		kind cairn.Kind
		msg  string
	}{
		{filepath.Join(dir, "missing.raw"), cairn.NotExist, "no such file or directory"},
		{filepath.Join(dir, "missing", "disk.raw"), cairn.NotExist, "no such file or directory"},
		{filepath.Join(regular, "disk.raw"), cairn.NotExist, "not a directory"},
		{dir, cairn.Invalid, "is a directory, not a raw image file or block device"},
		{fifo, cairn.Invalid, "is a named pipe, not a raw image file or block device"},
		{sock, cairn.Invalid, "is a socket"},
		{"/dev/null", cairn.Invalid, "is a character device"},
	}
	for _, tc := range tests {
		d, err := Open(tc.path)
		if err == nil {
			d.Close()
			t.Errorf("Open(%s) succeeded", tc.path)
			continue
		}
		if cairn.KindOf(err) != tc.kind {
			t.Errorf("Open(%s): kind %v, want %v (%v)", tc.path, cairn.KindOf(err), tc.kind, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "disk image "+tc.path+": ") || !strings.Contains(msg, tc.msg) {
			t.Errorf("Open(%s): error %q, want the path and %q", tc.path, msg, tc.msg)
		}
	}
}

func TestOpenPermission(t *testing.T) {
	path := makeImage(t, 10)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err == nil {
		d.Close()
		if os.Geteuid() == 0 {
			t.Skip("root reads unreadable files")
		}
		t.Fatal("opened an unreadable file")
	}
	if !cairn.IsKind(err, cairn.Permission) || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
		t.Errorf("got %v (kind %v)", err, cairn.KindOf(err))
	}
}

// TestOpenErrorKinds covers the classification for errors a test cannot
// provoke as root.
func TestOpenErrorKinds(t *testing.T) {
	tests := []struct {
		err  error
		kind cairn.Kind
	}{
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, cairn.Permission},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EPERM}, cairn.Permission},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}, cairn.NotExist},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EIO}, cairn.IO},
		{&fs.PathError{Op: "open", Path: "/x", Err: syscall.ELOOP}, cairn.IO},
	}
	for _, tc := range tests {
		err := openError("/x", tc.err)
		if cairn.KindOf(err) != tc.kind || !errors.Is(err, tc.err.(*fs.PathError).Err) {
			t.Errorf("%v: kind %v, want %v", tc.err, cairn.KindOf(err), tc.kind)
		}
		if want := "disk image /x: " + tc.err.(*fs.PathError).Err.Error(); err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
}

func TestReadAt(t *testing.T) {
	const size = 1 << 20
	data := random(size, 10)
	d := open(t, makeImage(t, size, write{0, data}))
	var _ disksource.Reader = d
	if d.Path() == "" {
		t.Error("no path")
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 0))
			for range 200 {
				off := r.Int64N(size)
				n := r.IntN(64 << 10)
				buf := make([]byte, n)
				got, err := d.ReadAt(buf, off)
				want := min(int64(n), size-off)
				if int64(got) != want || (err != nil && !(err == io.EOF && off+int64(n) >= size)) {
					t.Errorf("ReadAt(%d bytes at %d) = %d, %v", n, off, got, err)
					return
				}
				if !bytes.Equal(buf[:got], data[off:off+int64(got)]) {
					t.Errorf("ReadAt(%d bytes at %d): wrong data", n, off)
					return
				}
			}
		})
	}
	wg.Wait()

	if n, err := d.ReadAt(make([]byte, 10), size-10); n != 10 || err != nil {
		t.Errorf("ReadAt to the end: %d, %v", n, err)
	}
	if n, err := d.ReadAt(make([]byte, 10), size); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at Size: %d, %v", n, err)
	}
	if _, err := d.ReadAt(make([]byte, 10), -1); !cairn.IsKind(err, cairn.Invalid) {
		t.Errorf("ReadAt at -1: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadAt(make([]byte, 10), 0); !cairn.IsKind(err, cairn.IO) || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
}

// TestBlockDevice opens the block device named by CAIRN_TEST_BLOCK_DEVICE
// (for example a loop device), which must be readable.
func TestBlockDevice(t *testing.T) {
	path := os.Getenv("CAIRN_TEST_BLOCK_DEVICE")
	if path == "" {
		t.Skip("set CAIRN_TEST_BLOCK_DEVICE to a readable block device")
	}
	d := open(t, path)
	if d.Size() <= 0 {
		t.Fatalf("size %d", d.Size())
	}
	ext, err := d.Extents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes, extents %v", path, d.Size(), ext)
	if len(ext) != 1 || ext[0] != (cairn.Extent{Offset: 0, Length: d.Size()}) {
		t.Errorf("extents %v, want the whole device", ext)
	}
	buf := make([]byte, 4096)
	if _, err := d.ReadAt(buf, d.Size()-int64(len(buf))); err != nil {
		t.Errorf("reading the last block: %v", err)
	}
}
