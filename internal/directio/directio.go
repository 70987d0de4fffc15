// Package directio helps write files with direct I/O (O_DIRECT on Linux):
// the kernel moves the bytes from the caller's buffer to the device without
// copying them into the page cache. Buffers, offsets and lengths must be
// multiples of Align.
//
// On the machines cairn was measured on, a buffered write of 1 GiB costs
// about 1.7 s of system CPU and a direct one about 0.15 s: for a backup
// that syncs every object it writes, and for a restore that writes whole
// disks, that is most of their I/O cost.
package directio

import "unsafe"

// Align is the alignment direct I/O needs here: it satisfies devices with
// 512- and 4096-byte logical blocks.
const Align = 4 << 10

// AlignedBuffer returns a zeroed buffer of n bytes whose first byte is
// aligned to Align.
func AlignedBuffer(n int) []byte {
	raw := make([]byte, n+Align)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % Align); r != 0 {
		off = Align - r
	}
	return raw[off : off+n]
}

// Aligned reports whether b can be written with direct I/O at offset off:
// its start, its length and off are multiples of Align.
func Aligned(b []byte, off int64) bool {
	return len(b)%Align == 0 && off%Align == 0 &&
		(len(b) == 0 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%Align == 0)
}
