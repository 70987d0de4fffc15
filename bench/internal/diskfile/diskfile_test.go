package diskfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSparseCopyAndExtents(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("cairn"), 30000)
	if _, err := f.WriteAt(data, 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(8 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	dst := filepath.Join(dir, "dst")
	if err := SparseCopy(dst, src); err != nil {
		t.Fatal(err)
	}
	a, n, err := HashFile(src)
	if err != nil {
		t.Fatal(err)
	}
	b, m, err := HashFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if a != b || n != m || n != 8<<20 {
		t.Fatalf("copy differs: %s/%d vs %s/%d", a, n, b, m)
	}
	if alloc, _ := Allocated(dst); alloc > 2<<20 {
		t.Errorf("copy is not sparse: %d bytes allocated", alloc)
	}

	// Overwrite one extent in place from a third file.
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, bytes.Repeat([]byte{7}, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	ext := []Extent{{Offset: 2 << 20, Length: 64 << 10}}
	if err := CopyExtents(dst, other, ext); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if got[2<<20] != 7 || got[2<<20+64<<10-1] != 7 || got[2<<20+64<<10] != 0 || len(got) != 8<<20 {
		t.Errorf("CopyExtents wrote the wrong range")
	}
	if du, err := DiskUsage(dir); err != nil || du == 0 {
		t.Errorf("DiskUsage = %d, %v", du, err)
	}
}
