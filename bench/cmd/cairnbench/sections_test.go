package main

import (
	"testing"

	"github.com/cairn-vm/cairn/bench/internal/diskfile"
)

func TestTouchedChunks(t *testing.T) {
	const mib = 1 << 20
	exts := []diskfile.Extent{
		{Offset: 0, Length: 64 << 10},             // chunk 0
		{Offset: mib - 64<<10, Length: 128 << 10}, // chunks 0 and 1
		{Offset: 5 * mib, Length: mib},            // chunk 5 exactly
		{Offset: 9 * mib, Length: 0},              // nothing
	}
	if got := touchedChunks(exts, mib); got != 3 {
		t.Errorf("touchedChunks = %d, want 3", got)
	}
	if got := touchedChunks(exts, 64<<10); got != 1+2+16 {
		t.Errorf("touchedChunks at 64 KiB = %d, want 19", got)
	}
}
