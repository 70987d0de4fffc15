package service

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

// backupVM makes a vault of tv's VM and a restore point in it, and waits
// for it.
func backupVM(t *testing.T, s *Service, c Caller, tv *testVM, vaultName, pointName string) (*catalog.Vault, *RestorePoint) {
	t.Helper()
	ctx := t.Context()
	v, err := s.FindVault(ctx, c, tv.vm.ResourceGroup, vaultName)
	if cairn.IsKind(err, cairn.NotExist) {
		v, _, err = s.PutVault(ctx, c, VaultSpec{ResourceGroup: tv.vm.ResourceGroup, Name: vaultName, SourceResourceID: tv.vm.ID})
	}
	if err != nil {
		t.Fatal(err)
	}
	rp, op, err := s.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: v.ID, Name: pointName})
	if err != nil {
		t.Fatal(err)
	}
	if rp.State != catalog.PointCreating || op.Kind != OpBackup {
		t.Fatalf("new point %s, op %s", rp.State, op.Kind)
	}
	mustSucceed(t, s, c, op)
	rp, err = s.GetRestorePoint(ctx, c, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rp.State != catalog.PointSucceeded || !rp.Restorable || len(rp.Disks) != len(tv.vm.Disks)-len(rp.ExcludedDisks) {
		t.Fatalf("point after backup: %s restorable %v, %d disks", rp.State, rp.Restorable, len(rp.Disks))
	}
	return v, rp
}

// checkRead reads a disk restore point through an access grant: all of it
// in 1 MiB pieces, and random ranges compared with the image.
func checkRead(t *testing.T, s *Service, c Caller, d *catalog.DiskRestorePoint, image, sum string) {
	t.Helper()
	g, err := s.GrantDiskAccess(t.Context(), c, d.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenDisk(t.Context(), g.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := readerSHA(t, r); got != sum {
		t.Fatalf("disk %s read through a grant: sha %s, want %s", d.DiskName, got, sum)
	}
	want, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size() != int64(len(want)) {
		t.Fatalf("size %d, want %d", r.Size(), len(want))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		off := rnd.Int64N(r.Size())
		n := rnd.IntN(300000) + 1
		buf := make([]byte, n)
		got, err := r.ReadAt(buf, off)
		wantN := min(int64(n), r.Size()-off)
		if int64(got) != wantN || (err != nil && !(err == io.EOF && wantN < int64(n))) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", n, off, got, err)
		}
		if !bytes.Equal(buf[:got], want[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d bytes at %d): bytes differ", n, off)
		}
	}
	if n, err := r.ReadAt(make([]byte, 10), r.Size()); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v", n, err)
	}
}

// restoreTo restores a disk restore point with the restore-disk operation
// and returns the image's path.
func restoreTo(t *testing.T, s *Service, c Caller, d *catalog.DiskRestorePoint, name, region string) string {
	t.Helper()
	vol, op, err := s.RestoreDisk(t.Context(), c, RestoreDiskSpec{ResourceGroup: "rg1", Name: name, Region: region, DiskRestorePointID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	if vol.State != VolumeCreating {
		t.Errorf("new volume is %s", vol.State)
	}
	mustSucceed(t, s, c, op)
	vol, err = s.GetVolume(t.Context(), c, vol.ID)
	if err != nil {
		t.Fatal(err)
	}
	if vol.State != VolumeSucceeded || vol.Disks[0].Size != d.Size {
		t.Fatalf("volume %s, size %d", vol.State, vol.Disks[0].Size)
	}
	return vol.Path
}

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.Copy.Rate = 3 << 20 // slow enough to see the copy's progress move
	s := openTest(t, cfg)
	ctx := t.Context()
	c := admin(t, s)

	regions, err := s.ListRegions(ctx, c)
	if err != nil || len(regions) != 2 || regions[0].Name != "eastus" || regions[1].Name != "westus" {
		t.Fatalf("regions %v, %v", regions, err)
	}
	tv := registerTestVM(t, s, c, dir, "web", "eastus")
	if tv.vm.ID != VMID(c.ProjectID, "rg1", "web") || len(tv.vm.Disks) != 2 || tv.vm.Disks[1].Size != 2<<20+12345 {
		t.Fatalf("VM %+v", tv.vm)
	}

	// A restore point, read back two ways.
	east, rp := backupVM(t, s, c, tv, "web-points", "rp1")
	for _, d := range rp.Disks {
		checkRead(t, s, c, d, tv.paths[d.DiskName], tv.sums[d.DiskName])
	}
	d0 := rp.Disks[1]
	img := restoreTo(t, s, c, d0, "web-data1-restored", "")
	if got := fileSHA(t, img); got != tv.sums[d0.DiskName] {
		t.Fatalf("restored image sha %s, want %s", got, tv.sums[d0.DiskName])
	}
	if filepath.Dir(img) != filepath.Join(s.Paths().Regions, "eastus", "disks") {
		t.Errorf("restored image at %s", img)
	}

	// A copy to the other region: progress moves, and the copy restores
	// byte for byte.
	west, created, err := s.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "web-points-west", Region: "westus", SourceVaultID: east.ID})
	if err != nil || !created {
		t.Fatal(err)
	}
	cp, op, err := s.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: west.ID, Name: "rp1-copy", SourcePointID: rp.ID})
	if err != nil {
		t.Fatal(err)
	}
	if op.Kind != OpCopy || len(cp.Disks) != 2 || cp.Restorable {
		t.Fatalf("copy: op %s, %d disks, restorable %v", op.Kind, len(cp.Disks), cp.Restorable)
	}
	seen := map[int]bool{}
	sawSucceededCopying := false
	for {
		cur, err := s.GetRestorePoint(ctx, c, cp.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range cur.Disks {
			seen[d.Percent()] = true
		}
		if cur.State == catalog.PointSucceeded && !cur.Restorable {
			sawSucceededCopying = true
			if _, err := s.GrantDiskAccess(ctx, c, cur.Disks[0].ID, 0); !cairn.IsKind(err, cairn.Conflict) {
				// Unless the copy ended meanwhile.
				if now, _ := s.GetRestorePoint(ctx, c, cp.ID); err != nil || !now.Restorable {
					t.Errorf("grant on a copy in progress: %v, want a conflict", err)
				}
			}
		}
		if cur.Operation.State.Final() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	intermediate := 0
	for p := range seen {
		if p > 0 && p < 100 {
			intermediate++
		}
	}
	if intermediate == 0 || !sawSucceededCopying {
		t.Errorf("copy progress seen: %v; succeeded while copying: %v", seen, sawSucceededCopying)
	}
	done := mustSucceed(t, s, c, op)
	cp, err = s.GetRestorePoint(ctx, c, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !cp.Restorable || cp.Region != "westus" || cp.SourcePointID != rp.ID {
		t.Fatalf("copy: restorable %v, region %s, source %s", cp.Restorable, cp.Region, cp.SourcePointID)
	}
	for _, d := range cp.Disks {
		if d.ReplicationState != catalog.ReplicationSucceeded || d.Percent() != 100 {
			t.Errorf("copied disk %s: %s %d%%", d.DiskName, d.ReplicationState, d.Percent())
		}
		checkRead(t, s, c, d, tv.paths[d.DiskName], tv.sums[d.DiskName])
	}
	wimg := restoreTo(t, s, c, cp.Disks[0], "web-os-west", "westus")
	if got := fileSHA(t, wimg); got != tv.sums[cp.Disks[0].DiskName] {
		t.Fatalf("image restored in westus: sha %s, want %s", got, tv.sums[cp.Disks[0].DiskName])
	}
	var first CopyResult
	jsonUnmarshal(t, done.Result, &first)
	if first.BytesWritten == 0 || !first.Verified {
		t.Errorf("first copy: %+v", first)
	}

	// The same point copied again moves (almost) nothing.
	cp2, op2, err := s.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: west.ID, Name: "rp1-copy2", SourcePointID: rp.ID})
	if err != nil {
		t.Fatal(err)
	}
	done2 := mustSucceed(t, s, c, op2)
	var second CopyResult
	jsonUnmarshal(t, done2.Result, &second)
	if second.BytesWritten > first.BytesWritten/50 || second.ChunksCopied != 0 {
		t.Errorf("second copy wrote %d bytes (%d chunks), the first %d", second.BytesWritten, second.ChunksCopied, first.BytesWritten)
	}
	if second.VaultPointID == first.VaultPointID {
		t.Errorf("two copies share storage point %s", first.VaultPointID)
	}

	// Lists.
	pts, _, err := s.ListRestorePoints(ctx, c, west.ID, catalog.Page{})
	if err != nil || len(pts) != 2 {
		t.Fatalf("west points: %d, %v", len(pts), err)
	}
	ops, _, err := s.ListOperations(ctx, c, OperationFilter{Kind: OpCopy}, catalog.Page{})
	if err != nil || len(ops) != 2 {
		t.Fatalf("copy operations: %d, %v", len(ops), err)
	}

	// Deleting a point deletes it from storage too.
	dop, err := s.DeleteRestorePoint(ctx, c, cp2.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, s, c, dop)
	if _, err := s.GetRestorePoint(ctx, c, cp2.ID); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("deleted point: %v", err)
	}
	if _, err := s.regions["westus"].vault.LoadPoint(ctx, second.VaultPointID); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("deleted point's storage: %v", err)
	}

	// A source vault with a copy target cannot go first; then deleting
	// each vault deletes its points.
	if _, err := s.DeleteVault(ctx, c, east.ID); !cairn.IsKind(err, cairn.Conflict) {
		t.Errorf("delete a copied vault: %v, want a conflict", err)
	}
	for _, v := range []*catalog.Vault{west, east} {
		vop, err := s.DeleteVault(ctx, c, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		mustSucceed(t, s, c, vop)
		if _, err := s.GetVault(ctx, c, v.ID); !cairn.IsKind(err, cairn.NotExist) {
			t.Errorf("deleted vault %s: %v", v.Name, err)
		}
	}
	for _, r := range []string{"eastus", "westus"} {
		ids, err := s.regions[r].vault.PointIDs(ctx)
		if err != nil || len(ids) != 0 {
			t.Errorf("region %s still has points %v (%v)", r, ids, err)
		}
	}
	if _, err := s.GetRestorePoint(ctx, c, rp.ID); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("point of a deleted vault: %v", err)
	}
}
