package local

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend { return open(t, t.TempDir()) })
}

func open(t testing.TB, dir string) *Backend {
	t.Helper()
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// files returns every non-directory entry below root, as slash-separated
// relative paths.
func files(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func mustGet(t *testing.T, b *Backend, name string, want []byte) {
	t.Helper()
	got, err := b.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q, want %q", name, got, want)
	}
}

func mustMissing(t *testing.T, b *Backend, name string) {
	t.Helper()
	if _, err := b.Get(t.Context(), name); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("Get(%q) = %v, want ErrNotExist", name, err)
	}
}

func listAll(t *testing.T, b *Backend) []string {
	t.Helper()
	var names []string
	if err := b.List(t.Context(), "", func(info storage.ObjectInfo) error {
		names = append(names, info.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

func TestLayout(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	ctx := t.Context()
	objs := map[string]string{
		"chunks/ab/abcd": "chunk",
		"config":         "config",
		".tmp-x":         "a valid name that looks temporary",
		"locks/l1":       "lock",
	}
	for name, data := range objs {
		if err := b.Put(ctx, name, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	// Each object is a plain file at its name, and nothing else is left.
	if got, want := files(t, dir), slices.Sorted(func(yield func(string) bool) {
		for name := range objs {
			yield(name)
		}
	}); !slices.Equal(got, want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
	for name, data := range objs {
		p := filepath.Join(dir, filepath.FromSlash(name))
		got, err := os.ReadFile(p)
		if err != nil || string(got) != data {
			t.Errorf("%s = %q, %v; want %q", p, got, err, data)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != fileMode {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), os.FileMode(fileMode))
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "chunks", "ab"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != dirMode {
		t.Errorf("chunks/ab has mode %v, want %v", fi.Mode().Perm(), os.FileMode(dirMode))
	}
	if got := listAll(t, b); len(got) != len(objs) {
		t.Errorf("List = %q, want all %d objects", got, len(objs))
	}
	if tmps, err := b.TempFiles(ctx); err != nil || len(tmps) != 0 {
		t.Errorf("TempFiles = %q, %v; want none", tmps, err)
	}
}

// TestSyncs checks that Put syncs the file before renaming it into place,
// then its directory, and the parents of directories it creates.
func TestSyncs(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	type event struct {
		path    string
		visible bool // the object existed when the sync happened
	}
	var (
		mu     sync.Mutex
		events []event
		object string
	)
	b.syncFile = func(f *os.File) error {
		_, err := os.Stat(object)
		mu.Lock()
		events = append(events, event{f.Name(), err == nil})
		mu.Unlock()
		return f.Sync()
	}
	put := func(name string) []event {
		t.Helper()
		events, object = nil, filepath.Join(dir, filepath.FromSlash(name))
		if err := b.Put(t.Context(), name, []byte(name)); err != nil {
			t.Fatal(err)
		}
		return events
	}
	tmp := func(d string) event { return event{filepath.Join(dir, d, tempPrefix), false} }
	synced := func(d string) event { return event{filepath.Join(dir, d), true} }
	dirOnly := func(d string) event { return event{filepath.Join(dir, d), false} }

	cases := []struct {
		name string
		want []event
	}{
		// New directories a and a/b: sync root (for a), a (for a/b),
		// the file, then a/b after the rename.
		{"a/b/c", []event{dirOnly(""), dirOnly("a"), tmp("a/b"), synced("a/b")}},
		{"a/b/d", []event{tmp("a/b"), synced("a/b")}},
		{"a/b/d", []event{{filepath.Join(dir, "a/b", tempPrefix), true}, synced("a/b")}}, // overwrite
		{"x", []event{tmp(""), synced("")}},
		{"a/e/f", []event{dirOnly("a"), tmp("a/e"), synced("a/e")}},
	}
	for _, c := range cases {
		got := put(c.name)
		if len(got) != len(c.want) {
			t.Fatalf("Put(%q) synced %v, want %v", c.name, got, c.want)
		}
		for i, e := range got {
			w := c.want[i]
			ok := e.visible == w.visible
			if strings.HasSuffix(w.path, tempPrefix) {
				ok = ok && strings.HasPrefix(e.path, w.path)
			} else {
				ok = ok && e.path == filepath.Clean(w.path)
			}
			if !ok {
				t.Fatalf("Put(%q) synced %v, want %v (a path ending in %s is a temporary file)", c.name, got, c.want, tempPrefix)
			}
		}
		mustGet(t, b, c.name, []byte(c.name))
	}
}

func TestTempFilesAndCleanTemp(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	ctx := t.Context()
	for _, name := range []string{"chunks/ab/abcd", "top"} {
		if err := b.Put(ctx, name, []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	// As left by killed Puts: one an hour old, one fresh (a Put that may
	// still be running), one in a directory of its own.
	now := time.Now()
	leftovers := map[string]time.Time{
		"chunks/ab/" + tempPrefix + "00000000000000aa": now.Add(-time.Hour),
		tempPrefix + "00000000000000bb":                now,
		"new/" + tempPrefix + "00000000000000cc":       now.Add(-2 * time.Hour),
	}
	for rel, mtime := range leftovers {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), fileMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if got := listAll(t, b); !slices.Equal(got, []string{"chunks/ab/abcd", "top"}) {
		t.Fatalf("List = %q, want only the objects", got)
	}
	tmps, err := b.TempFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tmps)
	want := slices.Sorted(func(yield func(string) bool) {
		for rel := range leftovers {
			yield(rel)
		}
	})
	if !slices.Equal(tmps, want) {
		t.Fatalf("TempFiles = %q, want %q", tmps, want)
	}

	n, err := b.CleanTemp(ctx, now.Add(-10*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("CleanTemp(10 minutes ago) = %d, %v; want the 2 older files", n, err)
	}
	if tmps, _ := b.TempFiles(ctx); !slices.Equal(tmps, []string{tempPrefix + "00000000000000bb"}) {
		t.Fatalf("after CleanTemp, TempFiles = %q, want the fresh one", tmps)
	}
	n, err = b.CleanTemp(ctx, now.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp(now) = %d, %v; want 1", n, err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"chunks/ab/abcd", "top"}) {
		t.Fatalf("after CleanTemp, files = %q, want only the objects", got)
	}
	mustGet(t, b, "chunks/ab/abcd", []byte("chunks/ab/abcd"))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.CleanTemp(cctx, now); !errors.Is(err, context.Canceled) {
		t.Errorf("CleanTemp with canceled context = %v, want context.Canceled", err)
	}
}

// TestCrash simulates processes killed in the middle of a Put: the
// temporary file holds part of the data and was never renamed.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	ctx := t.Context()
	if err := b.Put(ctx, "locks/old", []byte("old content")); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{
		"locks/" + tempPrefix + "0123456789abcdef", // replacing locks/old
		"chunks/ab/" + tempPrefix + "fedcba9876543210",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("new cont"), fileMode); err != nil {
			t.Fatal(err)
		}
	}
	mustGet(t, b, "locks/old", []byte("old content"))
	if got := listAll(t, b); !slices.Equal(got, []string{"locks/old"}) {
		t.Fatalf("List = %q, want [locks/old]", got)
	}
	if err := b.List(ctx, "chunks/ab/", func(info storage.ObjectInfo) error {
		return errors.New("reported " + info.Name)
	}); err != nil {
		t.Fatal(err)
	}
	// The directory still works.
	if err := b.Put(ctx, "chunks/ab/abcd", []byte("chunk")); err != nil {
		t.Fatal(err)
	}
	mustGet(t, b, "chunks/ab/abcd", []byte("chunk"))
	if n, err := b.CleanTemp(ctx, time.Now().Add(time.Minute)); err != nil || n != 2 {
		t.Fatalf("CleanTemp = %d, %v; want 2", n, err)
	}
}

// TestFailedPut checks that a Put failing after it created its temporary
// file removes it and leaves the old state.
func TestFailedPut(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	ctx := t.Context()
	if err := b.Put(ctx, "a/b", []byte("b")); err != nil {
		t.Fatal(err)
	}
	// "a" is a directory: the rename fails.
	if err := b.Put(ctx, "a", []byte("a")); err == nil {
		t.Fatal("Put over a directory succeeded")
	}
	// "a/b" is a file: the directory cannot be made.
	if err := b.Put(ctx, "a/b/c", []byte("c")); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("Put below a file = %v, want ENOTDIR", err)
	}
	// A failing sync.
	b.syncFile = func(*os.File) error { return syscall.EIO }
	if err := b.Put(ctx, "a/d", []byte("d")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Put with failing sync = %v, want EIO", err)
	}
	b.syncFile = nil
	mustMissing(t, b, "a/d")
	if got := files(t, dir); !slices.Equal(got, []string{"a/b"}) {
		t.Fatalf("after failed puts, files = %q, want [a/b]", got)
	}
	mustGet(t, b, "a/b", []byte("b"))
}

func TestRemovedDirectory(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	ctx := t.Context()
	if err := b.Put(ctx, "a/b/x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// Someone removes the directories the Backend remembers making.
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "a/b/y", []byte("y")); err != nil {
		t.Fatalf("Put after its directory was removed: %v", err)
	}
	mustGet(t, b, "a/b/y", []byte("y"))
	// Delete never removes a directory, even an empty one.
	if err := b.Delete(ctx, "a/b/y"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil || !fi.IsDir() {
		t.Fatalf("Delete(a/b) removed the directory a/b: %v", err)
	}
}

func TestInvalidNamesStayInside(t *testing.T) {
	parent := t.TempDir()
	b := open(t, filepath.Join(parent, "vault"))
	for _, name := range storagetest.InvalidNames {
		if err := b.Put(t.Context(), name, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded", name)
		} else if !strings.Contains(err.Error(), "invalid object name") {
			t.Errorf("Put(%q) = %v, want a message saying the name is invalid", name, err)
		}
	}
	if got := files(t, parent); len(got) != 0 {
		t.Fatalf("invalid puts created %q", got)
	}
}

func TestOpen(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "x", "y", "vault")
	b := open(t, dir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("Open did not create %s: %v", dir, err)
	}
	if b.Location() != dir {
		t.Errorf("Location = %q, want %q", b.Location(), dir)
	}
	if err := b.Put(t.Context(), "k/v", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(t.Context(), "k/v"); err == nil {
		t.Error("Get after Close succeeded")
	}

	// Reopening, through a relative path, finds the objects.
	t.Chdir(filepath.Join(parent, "x"))
	b = open(t, filepath.Join("y", "vault"))
	if b.Location() != dir {
		t.Errorf("Location = %q, want %q", b.Location(), dir)
	}
	mustGet(t, b, "k/v", []byte("v"))

	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", file, filepath.Join(file, "below")} {
		if _, err := Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

// BenchmarkPut measures Put of 1 MiB objects, from 16 goroutines, into a
// chunk-like layout of 256 directories. "nosync" skips the fsyncs, to show
// what durability costs.
func BenchmarkPut(b *testing.B) {
	for _, durable := range []bool{true, false} {
		name := "durable"
		if !durable {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			be := open(b, b.TempDir())
			if !durable {
				be.syncFile = func(*os.File) error { return nil }
			}
			data := make([]byte, 1<<20)
			for i := range data {
				data[i] = byte(rand.Uint32())
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				var id [32]byte
				name := make([]byte, 0, 80)
				for pb.Next() {
					for i := 0; i < len(id); i += 8 {
						v := rand.Uint64()
						for j := range 8 {
							id[i+j] = byte(v >> (8 * j))
						}
					}
					name = append(name[:0], "chunks/"...)
					name = hex.AppendEncode(name, id[:1])
					name = append(name, '/')
					name = hex.AppendEncode(name, id[:])
					if err := be.Put(context.Background(), string(name), data); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
