package local

import (
	"errors"
	"os"
	"runtime"
	"sync"

	"github.com/cairn-vm/cairn/internal/directio"
)

// Objects of directMin bytes and more are written with direct I/O where the
// file system allows it (see package directio): they are synced at once
// anyway.
var directMin = func() int {
	if runtime.GOOS == "linux" {
		return directio.Align
	}
	return int(^uint(0) >> 1)
}()

var alignedPool sync.Pool // *[]byte from directio.AlignedBuffer

// writeDirect writes data to f, opened with direct I/O: the whole blocks
// directly, then the last partial block through the page cache (direct
// I/O turned off), which is cheaper than padding and truncating.
func writeDirect(f *os.File, data []byte) error {
	whole := len(data) / directio.Align * directio.Align
	if whole > 0 {
		bp, _ := alignedPool.Get().(*[]byte)
		if bp == nil || cap(*bp) < whole {
			b := directio.AlignedBuffer(max(whole, 1<<20+directio.Align))
			bp = &b
		}
		defer alignedPool.Put(bp)
		buf := (*bp)[:whole]
		copy(buf, data)
		for off := 0; off < whole; {
			w, err := f.WriteAt(buf[off:], int64(off))
			if err != nil {
				return err
			}
			if w%directio.Align != 0 {
				return errors.New("direct write: short write not on a block boundary")
			}
			off += w
		}
	}
	if whole == len(data) {
		return nil
	}
	if err := directio.SetDirect(f, false); err != nil {
		return err
	}
	_, err := f.WriteAt(data[whole:], int64(whole))
	return err
}
