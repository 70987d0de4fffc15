package faulty_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/storage/faulty"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/storage/storagetest"
)

func newLocal(t *testing.T) storage.Backend {
	t.Helper()
	b, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// With no hooks set, the decorator keeps the whole contract.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend { return faulty.New(newLocal(t)) })
}

func TestFaults(t *testing.T) {
	inner := newLocal(t)
	b := faulty.New(inner)
	ctx := t.Context()
	failChunks := func(name string) error {
		if strings.HasPrefix(name, "chunks/") {
			return faulty.ErrInjected
		}
		return nil
	}
	b.FailPut = failChunks
	b.FailGet = failChunks
	b.FailStat = failChunks
	b.FailDelete = failChunks
	b.FailList = failChunks

	if err := b.Put(ctx, "chunks/x", []byte("x")); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("Put with FailPut = %v, want ErrInjected", err)
	}
	if _, err := inner.Get(ctx, "chunks/x"); !errors.Is(err, storage.ErrNotExist) {
		t.Fatalf("a failed Put stored the object: %v", err)
	}
	if err := b.Put(ctx, "index/x", []byte("i")); err != nil {
		t.Fatalf("Put of a name the hook lets through: %v", err)
	}
	if err := inner.Put(ctx, "chunks/y", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "chunks/y"); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Get with FailGet = %v, want ErrInjected", err)
	}
	if _, err := b.Stat(ctx, "chunks/y"); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Stat with FailStat = %v, want ErrInjected", err)
	}
	if err := b.List(ctx, "chunks/", func(storage.ObjectInfo) error { return nil }); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("List with FailList = %v, want ErrInjected", err)
	}
	if err := b.Delete(ctx, "chunks/y"); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Delete with FailDelete = %v, want ErrInjected", err)
	}
	if _, err := inner.Stat(ctx, "chunks/y"); err != nil {
		t.Errorf("a failed Delete removed the object: %v", err)
	}
	if p, err := b.Get(ctx, "index/x"); err != nil || string(p) != "i" {
		t.Errorf("Get(index/x) = %q, %v; want \"i\"", p, err)
	}

	// A lost reply: the object is stored, the caller sees an error.
	b.FailPut = nil
	b.FailPutAfter = failChunks
	if err := b.Put(ctx, "chunks/z", []byte("z")); !errors.Is(err, faulty.ErrInjected) {
		t.Errorf("Put with FailPutAfter = %v, want ErrInjected", err)
	}
	if p, err := inner.Get(ctx, "chunks/z"); err != nil || string(p) != "z" {
		t.Errorf("Put with FailPutAfter stored %q, %v; want \"z\"", p, err)
	}

	b.CorruptGet = func(name string, data []byte) []byte {
		data[0] ^= 0xff
		return data
	}
	if p, err := b.Get(ctx, "index/x"); err != nil || bytes.Equal(p, []byte("i")) {
		t.Errorf("Get with CorruptGet = %q, %v; want corrupted data", p, err)
	}
	if p, _ := inner.Get(ctx, "index/x"); string(p) != "i" {
		t.Errorf("CorruptGet changed the stored object: %q", p)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[faulty.Op]int64{faulty.Put: 3, faulty.Get: 3, faulty.Stat: 1, faulty.List: 1, faulty.Delete: 1, faulty.Close: 1}
	for op, n := range want {
		if got := b.Calls(op); got != n {
			t.Errorf("Calls(%v) = %d, want %d", op, got, n)
		}
	}
	if b.Unwrap() != inner {
		t.Error("Unwrap does not return the wrapped Backend")
	}
	if loc := b.Location(); !strings.HasPrefix(loc, "faulty:") || !strings.HasSuffix(loc, inner.(storage.Location).Location()) {
		t.Errorf("Location = %q", loc)
	}
}
