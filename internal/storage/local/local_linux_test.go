package local

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// TestDiskFull fills a small tmpfs: a Put that does not fit must fail with
// ENOSPC and leave neither a partial object nor a temporary file.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a small tmpfs, and mounting one needs root")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("filling a disk needs a small tmpfs, and mounting one failed (no CAP_SYS_ADMIN?): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	dir := filepath.Join(mnt, "vault")
	b := open(t, dir)
	ctx := t.Context()
	small := bytes.Repeat([]byte("s"), 300<<10)
	big := bytes.Repeat([]byte("b"), 1<<20)
	if err := b.Put(ctx, "small", small); err != nil {
		t.Fatal(err)
	}

	err := b.Put(ctx, "chunks/ab/big", big)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put of 1 MiB on a full 1 MiB disk = %v, want ENOSPC", err)
	}
	t.Logf("disk full: %v", err)
	mustMissing(t, b, "chunks/ab/big")

	// Replacing an object with one that does not fit keeps the old one.
	if err := b.Put(ctx, "small", big); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("overwrite that does not fit = %v, want ENOSPC", err)
	}
	mustGet(t, b, "small", small)

	if tmps, err := b.TempFiles(ctx); err != nil || len(tmps) != 0 {
		t.Fatalf("TempFiles after ENOSPC = %q, %v; want none", tmps, err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"small"}) {
		t.Fatalf("files after ENOSPC = %q, want [small]", got)
	}
	// The failed puts gave their space back.
	if err := b.Put(ctx, "small2", small); err != nil {
		t.Fatalf("Put after failed puts: %v", err)
	}
}
