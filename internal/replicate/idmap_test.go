package replicate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

func testVault(t *testing.T) *vault.Vault {
	t.Helper()
	be, err := local.Open(filepath.Join(t.TempDir(), "v"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Init(context.Background(), be, []byte("x"), vault.Options{ChunkSize: 64 << 10, KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func cid(b byte) (id cairn.ChunkID) {
	id[0], id[31] = b, b
	return id
}

func xrefNames(t *testing.T, v *vault.Vault, srcID string) []string {
	t.Helper()
	var out []string
	if err := v.Backend().List(context.Background(), xrefDir(srcID), func(oi storage.ObjectInfo) error {
		out = append(out, oi.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The id map keeps what a journal wrote, filtered by want; skips objects
// made for another source key, damaged objects and conflicting pairs; and
// merges small objects into one without losing a pair.
func TestIDMap(t *testing.T) {
	ctx := context.Background()
	src, dst := testVault(t), testVault(t)
	srcID, fp := src.Config().ID, fingerprint(src)
	all := func(cairn.ChunkID) bool { return true }

	j := newJournal(dst, srcID, fp)
	for i := byte(1); i <= 10; i++ {
		j.add(cid(i), cid(100+i))
		if i%2 == 0 {
			if err := j.flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if names := xrefNames(t, dst, srcID); len(names) != 5 {
		t.Fatalf("%d objects after 5 flushes", len(names))
	}
	m, err := loadIDMap(ctx, dst, srcID, fp, func(id cairn.ChunkID) bool { return id[0] <= 5 })
	if err != nil {
		t.Fatal(err)
	}
	if len(m.pairs) != 5 || m.pairs[cid(3)] != cid(103) || len(m.warnings) != 0 {
		t.Fatalf("filtered map: %v, warnings %v", m.pairs, m.warnings)
	}

	// Pairs made with another key (a vault that claims the same id), a
	// damaged object and a conflicting pair.
	if err := putXref(ctx, dst, srcID, cid(9), []pair{makePair(cid(20), cid(120))}); err != nil {
		t.Fatal(err)
	}
	if err := dst.Backend().Put(ctx, xrefDir(srcID)+"00000000000000000000000000000000", []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	if err := putXref(ctx, dst, srcID, fp, []pair{makePair(cid(4), cid(99))}); err != nil {
		t.Fatal(err)
	}
	m, err = loadIDMap(ctx, dst, srcID, fp, all)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.pairs[cid(20)]; ok {
		t.Fatal("a pair made for another source key was used")
	}
	if _, ok := m.pairs[cid(4)]; ok {
		t.Fatal("a pair with a conflicting entry was used")
	}
	if len(m.pairs) != 9 || len(m.warnings) != 3 {
		t.Fatalf("map of %d pairs, warnings %q", len(m.pairs), m.warnings)
	}
	if !strings.Contains(strings.Join(m.warnings, "\n"), "another source vault") {
		t.Fatalf("warnings %q", m.warnings)
	}

	// Merging: 8 objects, 6 of them usable.
	defer func(n int) { CompactObjects = n }(CompactObjects)
	CompactObjects = 4
	m, err = loadIDMap(ctx, dst, srcID, fp, all)
	if err != nil {
		t.Fatal(err)
	}
	if w := m.compact(ctx); w != "" {
		t.Fatal(w)
	}
	names := xrefNames(t, dst, srcID)
	if len(names) != 3 { // the merged one and the two skipped ones
		t.Fatalf("%d objects after merging: %v", len(names), names)
	}
	m2, err := loadIDMap(ctx, dst, srcID, fp, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.pairs) != 9 || m2.pairs[cid(10)] != cid(110) {
		t.Fatalf("merged map: %v", m2.pairs)
	}
}

// The journal writes on its own after MapFlushChunks pairs or
// MapFlushInterval.
func TestJournalFlushes(t *testing.T) {
	ctx := context.Background()
	src, dst := testVault(t), testVault(t)
	srcID := src.Config().ID
	defer func(n int, d time.Duration) { MapFlushChunks, MapFlushInterval = n, d }(MapFlushChunks, MapFlushInterval)
	MapFlushChunks, MapFlushInterval = 3, time.Hour
	j := newJournal(dst, srcID, fingerprint(src))
	for i := byte(1); i <= 7; i++ {
		j.add(cid(i), cid(i+50))
		if err := j.maybeFlush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(xrefNames(t, dst, srcID)); n != 2 {
		t.Fatalf("%d objects after 7 pairs at 3 per flush", n)
	}
	MapFlushInterval = 0
	j.add(cid(60), cid(61))
	if err := j.maybeFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(xrefNames(t, dst, srcID)); n != 3 {
		t.Fatalf("%d objects after the interval passed", n)
	}
}
