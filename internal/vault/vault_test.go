package vault_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

func newBackend(t *testing.T) (*local.Backend, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return be, dir
}

func TestInitOpen(t *testing.T) {
	ctx := context.Background()
	be, dir := newBackend(t)
	v, err := vault.Init(ctx, be, []byte("right"), vault.Options{KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	if v.ChunkSize() != vault.DefaultChunkSize || v.Config().Format != vault.FormatVersion {
		t.Fatalf("config %+v", v.Config())
	}
	if _, err := vault.Init(ctx, be, []byte("x"), vault.Options{KDF: &vault.TestKDF}); !cairn.IsKind(err, cairn.Exist) {
		t.Fatalf("second init: %v, want kind exist", err)
	}
	if _, err := vault.Open(ctx, be, []byte("wrong"), vault.Options{}); !cairn.IsKind(err, cairn.Permission) || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	v2, err := vault.Open(ctx, be, []byte("right"), vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Config().ID != v.Config().ID {
		t.Fatal("reopened another vault")
	}

	// A newer format is refused before any passphrase is tried.
	cfg, _ := os.ReadFile(filepath.Join(dir, "config"))
	newer := strings.Replace(string(cfg), `"format": 1`, `"format": 99`, 1)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(newer), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = vault.Open(ctx, be, []byte("right"), vault.Options{})
	if !cairn.IsKind(err, cairn.Unsupported) || !strings.Contains(err.Error(), "upgrade cairn") {
		t.Fatalf("newer format: %v", err)
	}
}

func TestOpenMissingVault(t *testing.T) {
	be, _ := newBackend(t)
	_, err := vault.Open(context.Background(), be, []byte("x"), vault.Options{})
	if !cairn.IsKind(err, cairn.NotExist) || !strings.Contains(err.Error(), "vault init") {
		t.Fatalf("open of an empty dir: %v", err)
	}
}

func TestInitValidates(t *testing.T) {
	be, _ := newBackend(t)
	ctx := context.Background()
	for _, cs := range []int{1000, 1 << 12, 3 << 20, 64 << 20} {
		if _, err := vault.Init(ctx, be, []byte("x"), vault.Options{ChunkSize: cs, KDF: &vault.TestKDF}); !cairn.IsKind(err, cairn.Invalid) {
			t.Fatalf("chunk size %d: %v", cs, err)
		}
	}
	if _, err := vault.Init(ctx, be, nil, vault.Options{}); !cairn.IsKind(err, cairn.Invalid) {
		t.Fatalf("empty passphrase: %v", err)
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := vault.NewManifest(5<<20+3, 1<<20)
	if len(m.IDs) != 6 || m.ChunkLen(5) != 3 || m.ChunkLen(0) != 1<<20 {
		t.Fatalf("manifest of %d ids, last chunk %d", len(m.IDs), m.ChunkLen(5))
	}
	m.IDs[2][0] = 9
	data, _ := m.MarshalBinary()
	var back vault.Manifest
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if back.DiskSize != m.DiskSize || back.IDs[2] != m.IDs[2] {
		t.Fatal("round trip changed the manifest")
	}
	if err := back.UnmarshalBinary(data[:len(data)-1]); !cairn.IsKind(err, cairn.Corrupt) {
		t.Fatalf("truncated manifest: %v", err)
	}
}

func FuzzManifest(f *testing.F) {
	m := vault.NewManifest(3<<20, 1<<20)
	data, _ := m.MarshalBinary()
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m vault.Manifest
		if m.UnmarshalBinary(data) == nil {
			if vault.ChunkCount(m.DiskSize, m.ChunkSize) != len(m.IDs) {
				t.Fatal("accepted an inconsistent manifest")
			}
		}
	})
}

func TestPointsFindDelete(t *testing.T) {
	ctx := context.Background()
	be, _ := newBackend(t)
	v, err := vault.Init(ctx, be, []byte("x"), vault.Options{KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, vm := range []string{"a", "b", "a"} {
		s, err := v.BeginBackup(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rp := &vault.RestorePoint{ID: s.PointID, Time: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC), VM: vault.VM{Name: vm}, Disks: []vault.Disk{{Name: "os"}}}
		if err := s.Commit(ctx, rp, []*vault.Manifest{vault.NewManifest(1<<20, vault.DefaultChunkSize)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rp.ID)
	}
	pts, err := v.Points(ctx)
	if err != nil || len(pts) != 3 || pts[0].ID != ids[0] || pts[2].ID != ids[2] {
		t.Fatalf("points %v %v", pts, err)
	}
	if rp, err := v.FindPoint(ctx, "latest", "b"); err != nil || rp.ID != ids[1] {
		t.Fatalf("latest of b: %v %v", rp, err)
	}
	if rp, err := v.FindPoint(ctx, ids[0][:8], ""); err != nil || rp.ID != ids[0] {
		t.Fatalf("by prefix: %v %v", rp, err)
	}
	if _, err := v.FindPoint(ctx, "zz", ""); !cairn.IsKind(err, cairn.Invalid) {
		t.Fatalf("bad ref: %v", err)
	}
	if _, err := v.FindPoint(ctx, "0000000000", ""); !cairn.IsKind(err, cairn.NotExist) {
		t.Fatalf("unknown ref: %v", err)
	}
	if err := v.DeletePoint(ctx, pts[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := v.LoadPoint(ctx, ids[0]); !cairn.IsKind(err, cairn.NotExist) {
		t.Fatalf("deleted point: %v", err)
	}
	if _, err := v.FindPoint(ctx, "latest", "c"); !cairn.IsKind(err, cairn.NotExist) {
		t.Fatalf("latest of unknown VM: %v", err)
	}
}

func TestStaleLockReported(t *testing.T) {
	ctx := context.Background()
	be, _ := newBackend(t)
	v, err := vault.Init(ctx, be, []byte("x"), vault.Options{KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.BeginBackup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = s // never committed: as if the process died
	locks, err := v.Locks(ctx)
	if err != nil || len(locks) != 1 || locks[0].Point != s.PointID {
		t.Fatalf("locks %+v %v", locks, err)
	}
	if locks[0].Stale(time.Now()) || !locks[0].Stale(time.Now().Add(vault.LockStale+time.Second)) {
		t.Fatal("lock staleness is wrong")
	}
	if err := s.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if locks, _ := v.Locks(ctx); len(locks) != 0 {
		t.Fatalf("lock left after abort: %+v", locks)
	}
}

// A session may make a restore point with an id the caller chose, and a
// copied point's origin survives the round trip.
func TestBeginBackupAs(t *testing.T) {
	ctx := context.Background()
	be, _ := newBackend(t)
	v, err := vault.Init(ctx, be, []byte("x"), vault.Options{KDF: &vault.TestKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.BeginBackupAs(ctx, "not-an-id"); !cairn.IsKind(err, cairn.Invalid) {
		t.Fatalf("bad id: %v", err)
	}
	id := vault.NewPointID()
	if !vault.ValidPointID(id) || vault.ValidPointID(strings.ToUpper(id)) {
		t.Fatal("ValidPointID")
	}
	s, err := v.BeginBackupAs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.PointID != id {
		t.Fatalf("session point %s, want %s", s.PointID, id)
	}
	copied := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rp := &vault.RestorePoint{ID: id, Time: copied, VM: vault.VM{Name: "vm"}, ConsistencyMode: vault.CrashConsistent, Disks: []vault.Disk{{Name: "os"}},
		CopiedFrom: &vault.Origin{Vault: "src", Point: "p", Copied: copied}}
	if err := s.Commit(ctx, rp, []*vault.Manifest{vault.NewManifest(1<<20, vault.DefaultChunkSize)}); err != nil {
		t.Fatal(err)
	}
	got, err := v.LoadPoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.CopiedFrom == nil || *got.CopiedFrom != *rp.CopiedFrom {
		t.Fatalf("origin %+v, want %+v", got.CopiedFrom, rp.CopiedFrom)
	}
	if locks, _ := v.Locks(ctx); len(locks) != 0 {
		t.Fatalf("locks left: %+v", locks)
	}
}
