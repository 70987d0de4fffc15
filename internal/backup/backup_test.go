package backup_test

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

const testChunk = 64 << 10

type fileSource struct {
	*os.File
	size int64
}

func (f fileSource) Size() int64 { return f.size }

func openSource(t *testing.T, path string) fileSource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fileSource{f, st.Size()}
}

func newVault(t *testing.T) *vault.Vault {
	t.Helper()
	be, err := local.Open(filepath.Join(t.TempDir(), "vault"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Init(context.Background(), be, []byte("secret"), vault.Options{ChunkSize: testChunk, KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// makeImage writes a disk image with random, compressible and zero regions.
func makeImage(t *testing.T, path string, size int64, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	buf := make([]byte, size)
	for off := int64(0); off < size; {
		n := int64(r.IntN(200<<10) + 1)
		if off+n > size {
			n = size - off
		}
		switch r.IntN(3) {
		case 0: // random
			for i := off; i < off+n; i++ {
				buf[i] = byte(r.Uint32())
			}
		case 1: // text-like
			for i := off; i < off+n; i++ {
				buf[i] = "abcde fghij\n"[r.IntN(12)]
			}
		}
		off += n
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mutate overwrites a few extents of the image and returns them.
func mutate(t *testing.T, path string, seed uint64, count int) []cairn.Extent {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	r := rand.New(rand.NewPCG(seed, 2))
	var exts []cairn.Extent
	for range count {
		n := int64(r.IntN(100<<10) + 1)
		off := r.Int64N(st.Size() - n)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
		exts = append(exts, cairn.Extent{Offset: off, Length: n})
	}
	return exts
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func restoreAndCompare(t *testing.T, v *vault.Vault, rp *vault.RestorePoint, disk, want string) {
	t.Helper()
	dir := t.TempDir()
	res, err := restore.ToDir(context.Background(), v, rp, dir, restore.Options{Disks: []string{disk}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("restored %d disks, want 1", len(res))
	}
	if got, w := fileHash(t, res[0].Path), fileHash(t, want); got != w {
		t.Fatalf("restore point %s disk %s: restored image hash %x, source %x", rp.ID[:8], disk, got[:8], w[:8])
	}
}

func TestFullIncrementalChain(t *testing.T) {
	ctx := context.Background()
	v := newVault(t)
	dir := t.TempDir()
	img := filepath.Join(dir, "os.raw")
	makeImage(t, img, 5<<20+12345, 1) // not a multiple of the chunk size
	vm := vault.VM{Name: "web"}

	res, err := backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vm})
	if err != nil {
		t.Fatal(err)
	}
	first := res.Point
	if first.Parent != "" || first.Disks[0].Mode != "full" {
		t.Fatalf("first point: parent %q mode %q", first.Parent, first.Disks[0].Mode)
	}
	restoreAndCompare(t, v, first, "os", img)

	// A second full backup of the same bytes stores nothing new.
	res, err = backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: openSource(t, img)}}, backup.Options{VM: vm})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Point.Disks[0].NewChunks; n != 0 {
		t.Fatalf("unchanged disk stored %d new chunks", n)
	}

	// Keep a copy of every state to restore all points at the end.
	states := map[string]string{first.ID: copyFile(t, img)}
	for i := range 12 {
		exts := mutate(t, img, uint64(i+10), 3)
		d := backup.Disk{Name: "os", Source: openSource(t, img)}
		if i%2 == 0 {
			d.Changes = exts
		}
		res, err := backup.Run(ctx, v, []backup.Disk{d}, backup.Options{VM: vm})
		if err != nil {
			t.Fatal(err)
		}
		rp := res.Point
		want := "full"
		if i%2 == 0 {
			want = "changemap"
			var changed int64
			for _, e := range exts {
				changed += e.Length
			}
			// Only chunks touching the changed extents were read.
			if max := changed + int64(2*len(exts)*testChunk); rp.Disks[0].ReadBytes > max {
				t.Fatalf("change-map backup read %d bytes, want at most %d", rp.Disks[0].ReadBytes, max)
			}
		}
		if rp.Disks[0].Mode != want {
			t.Fatalf("backup %d: mode %q, want %q (warnings %v)", i, rp.Disks[0].Mode, want, res.Warnings)
		}
		states[rp.ID] = copyFile(t, img)
	}
	pts, err := v.Points(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range pts {
		if want, ok := states[rp.ID]; ok {
			restoreAndCompare(t, v, rp, "os", want)
		}
	}
	rep, err := v.Verify(ctx, vault.VerifyOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Unreferenced != 0 || rep.ChunksRead != rep.Referenced {
		t.Fatalf("verify: %+v", rep)
	}
}

func copyFile(t *testing.T, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.raw")
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
