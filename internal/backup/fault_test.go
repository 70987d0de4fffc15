package backup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/storage/faulty"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// A disk that fills up at any point of a backup (any chunk, the manifest,
// the commit) fails that backup with an error that says so, and leaves the
// vault verifying clean with every earlier point restorable.
func TestDiskFullDuringBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	inner, err := local.Open(filepath.Join(dir, "vault"))
	if err != nil {
		t.Fatal(err)
	}
	fb := faulty.New(inner)
	var puts, failAfter atomic.Int64
	failAfter.Store(-1)
	fb.FailPut = func(name string) error {
		n := puts.Add(1)
		if f := failAfter.Load(); f >= 0 && n > f {
			return &os.PathError{Op: "write", Path: name, Err: syscall.ENOSPC}
		}
		return nil
	}
	v, err := vault.Init(ctx, fb, []byte("secret"), vault.Options{ChunkSize: testChunk, KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 1<<20, 9)
	first, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	firstCopy := copyFile(t, img)

	// Fail at the k-th put of a backup, for k = 1, 4, 7, ... until the
	// backup makes fewer puts than that and succeeds.
	failures := 0
	for k := int64(0); ; k += 3 {
		makeImage(t, img, 1<<20, uint64(100+k)) // all chunks new
		start := puts.Load()
		failAfter.Store(start + k)
		res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "web"}, Writers: 1, Workers: 1})
		failAfter.Store(-1)
		if err == nil {
			if made := puts.Load() - start; k < made {
				t.Fatalf("fail after %d puts: backup of %d puts succeeded on a full disk", k, made)
			}
			if err := v.DeletePoint(ctx, res.Point); err != nil {
				t.Fatal(err)
			}
			break
		}
		failures++
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left") {
			t.Fatalf("fail after %d puts: error %q does not say the disk is full", k, err)
		}
		pts, err := v.Points(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != 1 || pts[0].ID != first.Point.ID {
			t.Fatalf("fail after %d puts: %d points, want only the first", k, len(pts))
		}
		verifyClean(t, v)
	}
	if failures < 5 {
		t.Fatalf("only %d failing backups", failures)
	}
	restoreAndCompare(t, v, first.Point, "os", firstCopy)
	// With space again, the backup goes through.
	res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	restoreAndCompare(t, v, res.Point, "os", img)
}

// A backend that drops reads mid-restore fails the restore with the reason
// and leaves no image that looks whole.
func TestRestoreReadFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	inner, err := local.Open(filepath.Join(dir, "vault"))
	if err != nil {
		t.Fatal(err)
	}
	fb := faulty.New(inner)
	v, err := vault.Init(ctx, fb, []byte("secret"), vault.Options{ChunkSize: testChunk, KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 2<<20, 12)
	res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vault.VM{Name: "web"}})
	if err != nil {
		t.Fatal(err)
	}
	var gets atomic.Int64
	fb.FailGet = func(name string) error {
		if strings.HasPrefix(name, "chunks/") && gets.Add(1) > 5 {
			return errors.New("connection reset by peer")
		}
		return nil
	}
	out := t.TempDir()
	_, err = restore.ToDir(ctx, v, res.Point, out, restore.Options{})
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("restore error %v, want the dropped connection", err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 0 {
		t.Fatalf("a failed restore left %v behind", entries)
	}
	fb.FailGet = nil
	restoreAndCompare(t, v, res.Point, "os", img)
}
