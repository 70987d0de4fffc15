package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// TestConflictAndCancel: a second restore point of a VM while one is being
// made is refused; a running backup is canceled and its point fails with
// the reason.
func TestConflictAndCancel(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.BackupRate = 1 << 20 // 5 MiB take about 5 s
	s := openTest(t, cfg)
	ctx := t.Context()
	c := admin(t, s)
	tv := registerTestVM(t, s, c, dir, "db", "eastus")
	v, _, err := s.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "db-points", SourceResourceID: tv.vm.ID})
	if err != nil {
		t.Fatal(err)
	}
	rp, op, err := s.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: v.ID, Name: "first"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: v.ID, Name: "second"})
	wantKind(t, "second restore point while one is made", err, cairn.Conflict)
	if _, err := s.FindRestorePoint(ctx, c, v.ID, "second"); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("the refused point exists: %v", err)
	}
	_, _, err = s.RegisterVM(ctx, c, VMSpec{ResourceGroup: "rg1", Name: "db", Region: "eastus", Disks: []DiskSpec{{Name: "x", Path: tv.paths["db-os"], OS: true}}})
	wantKind(t, "replace a VM being backed up", err, cairn.Conflict)
	wantKind(t, "delete a VM being backed up", s.DeleteVM(ctx, c, tv.vm.ID), cairn.Conflict)
	_, err = s.DeleteRestorePoint(ctx, c, rp.ID)
	wantKind(t, "delete a point being made", err, cairn.Conflict)

	// Cancel once it is running and has made progress.
	for {
		cur, err := s.GetOperation(ctx, c, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State == catalog.OpRunning && cur.Percent() > 0 {
			break
		}
		if cur.State.Final() {
			t.Fatalf("the backup ended before it could be canceled: %s", cur.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if _, err := s.CancelOperation(ctx, c, op.ID); err != nil {
		t.Fatal(err)
	}
	got := wait(t, s, c, op.ID)
	if got.State != catalog.OpCanceled || got.Error == nil || got.Error.Code != CodeCanceled {
		t.Fatalf("canceled backup: %s %+v", got.State, got.Error)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancel took %s", d)
	}
	cur, err := s.GetRestorePoint(ctx, c, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.State != catalog.PointFailed || !strings.Contains(cur.FailureReason, "canceled") || cur.Restorable {
		t.Errorf("point of a canceled backup: %s %q", cur.State, cur.FailureReason)
	}
	if ids, _ := s.regions["eastus"].vault.PointIDs(ctx); len(ids) != 0 {
		t.Errorf("a canceled backup committed %v", ids)
	}
	_, err = s.CancelOperation(ctx, c, op.ID)
	if err != nil {
		t.Errorf("cancel a canceled operation: %v", err)
	}

	// Now the VM is free again; a queued operation canceled at once fails
	// its point too.
	s.runner.Stop()
	rp2, op2, err := s.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: v.ID, Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.CancelOperation(ctx, c, op2.ID); err != nil || got.State != catalog.OpCanceled {
		t.Fatalf("cancel a queued operation: %v %v", got, err)
	}
	cur, err = s.GetRestorePoint(ctx, c, rp2.ID)
	if err != nil || cur.State != catalog.PointFailed {
		t.Fatalf("point of a canceled queued backup: %v %v", cur, err)
	}
	// A failed point can be deleted.
	if _, err := s.DeleteRestorePoint(ctx, c, rp2.ID); err != nil {
		t.Errorf("delete a failed point: %v", err)
	}
}

// TestRestartResumesCopy: a server closed in the middle of a copy and
// opened again on the same data directory finishes the copy without
// copying again what had arrived. A backup interrupted so resumes too.
func TestRestartResumesCopy(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := testConfig(data)
	cfg.Copy.Rate = 1 << 20
	cfg.Copy.Workers = 2
	s1, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	if err := s1.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	c := admin(t, s1)
	tv := registerTestVM(t, s1, c, dir, "app", "eastus", 4<<20, 1<<20)
	east, rp := backupVM(t, s1, c, tv, "app-points", "rp1")
	west, _, err := s1.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "app-west", Region: "westus", SourceVaultID: east.ID})
	if err != nil {
		t.Fatal(err)
	}
	cp, op, err := s1.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: west.ID, Name: "rp1-copy", SourcePointID: rp.ID})
	if err != nil {
		t.Fatal(err)
	}
	for {
		cur, err := s1.GetOperation(ctx, c, op.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State.Final() {
			t.Fatalf("the copy ended before the restart: %s", cur.State)
		}
		if cur.Percent() >= 20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	westChunks := filepath.Join(data, "regions", "westus", "vault", "chunks")
	before := dirBytes(t, westChunks)
	if before == 0 {
		t.Fatal("nothing had arrived before the restart")
	}

	cfg.Copy.Rate = 0
	s2 := openTest(t, cfg)
	got := wait(t, s2, c, op.ID)
	if got.State != catalog.OpSucceeded || got.Attempt != 2 {
		t.Fatalf("resumed copy: %s attempt %d %+v", got.State, got.Attempt, got.Error)
	}
	var res CopyResult
	jsonUnmarshal(t, got.Result, &res)
	after := dirBytes(t, westChunks)
	// What the second run wrote is what was missing, not everything.
	if res.BytesWritten > after-before+testChunk || res.ChunksSkipped == 0 {
		t.Errorf("resumed copy wrote %d bytes and skipped %d chunks; %d bytes were there before, %d after", res.BytesWritten, res.ChunksSkipped, before, after)
	}
	cur, err := s2.GetRestorePoint(ctx, c, cp.ID)
	if err != nil || !cur.Restorable {
		t.Fatalf("resumed copy's point: %v %v", cur, err)
	}
	for _, d := range cur.Disks {
		checkRead(t, s2, c, d, tv.paths[d.DiskName], tv.sums[d.DiskName])
	}
}

// TestRestartResumesBackup: a backup interrupted by a shutdown finishes
// after the restart.
func TestRestartResumesBackup(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	cfg.BackupRate = 2 << 20
	s1, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s1.Start(t.Context())
	ctx := t.Context()
	c := admin(t, s1)
	tv := registerTestVM(t, s1, c, dir, "batch", "westus")
	v, _, err := s1.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "batch-points", SourceResourceID: tv.vm.ID})
	if err != nil {
		t.Fatal(err)
	}
	rp, op, err := s1.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: v.ID, Name: "nightly", ExcludeDisks: []string{"batch-data1"}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		cur, _ := s1.GetOperation(ctx, c, op.ID)
		if cur.Percent() > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s1.Close()
	cfg.BackupRate = 0
	s2 := openTest(t, cfg)
	got := wait(t, s2, c, op.ID)
	if got.State != catalog.OpSucceeded || got.Attempt != 2 {
		t.Fatalf("resumed backup: %s attempt %d %+v", got.State, got.Attempt, got.Error)
	}
	cur, err := s2.GetRestorePoint(ctx, c, rp.ID)
	if err != nil || !cur.Restorable || len(cur.Disks) != 1 || cur.Disks[0].DiskName != "batch-os" {
		t.Fatalf("resumed backup's point: %+v %v", cur, err)
	}
	checkRead(t, s2, c, cur.Disks[0], tv.paths["batch-os"], tv.sums["batch-os"])
}

// TestIsolation: a caller of another project reaches none of a project's
// records: each is as if absent.
func TestIsolation(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testConfig(filepath.Join(dir, "data")))
	ctx := t.Context()
	a := admin(t, s)
	tv := registerTestVM(t, s, a, dir, "web", "eastus")
	v, rp := backupVM(t, s, a, tv, "web-points", "rp1")
	ops, _, err := s.ListOperations(ctx, a, OperationFilter{}, catalog.Page{})
	if err != nil || len(ops) != 1 {
		t.Fatal(ops, err)
	}

	pb, err := s.CreateProject(ctx, a, ProjectSpec{Name: "tenant-b"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.CreateToken(ctx, a, TokenSpec{ProjectID: pb.ID, Name: "b-user"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Authenticate(ctx, secret)
	if err != nil || b.ProjectID != pb.ID || b.Admin {
		t.Fatalf("caller b: %+v %v", b, err)
	}
	_, err = s.GetVM(ctx, b, tv.vm.ID)
	wantKind(t, "get A's VM", err, cairn.NotExist)
	_, err = s.GetVault(ctx, b, v.ID)
	wantKind(t, "get A's vault", err, cairn.NotExist)
	_, err = s.FindVault(ctx, b, "rg1", "web-points")
	wantKind(t, "find A's vault", err, cairn.NotExist)
	_, err = s.GetRestorePoint(ctx, b, rp.ID)
	wantKind(t, "get A's point", err, cairn.NotExist)
	_, err = s.GetDiskRestorePoint(ctx, b, rp.Disks[0].ID)
	wantKind(t, "get A's disk point", err, cairn.NotExist)
	_, err = s.GrantDiskAccess(ctx, b, rp.Disks[0].ID, 0)
	wantKind(t, "grant on A's disk point", err, cairn.NotExist)
	_, err = s.GetOperation(ctx, b, ops[0].ID)
	wantKind(t, "get A's operation", err, cairn.NotExist)
	_, err = s.CancelOperation(ctx, b, ops[0].ID)
	wantKind(t, "cancel A's operation", err, cairn.NotExist)
	_, _, err = s.CreateRestorePoint(ctx, b, RestorePointSpec{VaultID: v.ID, Name: "sneaky"})
	wantKind(t, "point in A's vault", err, cairn.NotExist)
	_, err = s.DeleteRestorePoint(ctx, b, rp.ID)
	wantKind(t, "delete A's point", err, cairn.NotExist)
	_, err = s.DeleteVault(ctx, b, v.ID)
	wantKind(t, "delete A's vault", err, cairn.NotExist)
	wantKind(t, "delete A's VM", s.DeleteVM(ctx, b, tv.vm.ID), cairn.NotExist)
	_, _, err = s.PutVault(ctx, b, VaultSpec{ResourceGroup: "rg1", Name: "mine", SourceResourceID: tv.vm.ID})
	wantKind(t, "vault of A's VM", err, cairn.NotExist)
	_, _, err = s.RestoreDisk(ctx, b, RestoreDiskSpec{ResourceGroup: "rg1", Name: "stolen", DiskRestorePointID: rp.Disks[0].ID})
	wantKind(t, "restore A's disk", err, cairn.NotExist)
	_, err = s.GetProject(ctx, b, a.ProjectID)
	wantKind(t, "get A's project", err, cairn.NotExist)
	_, _, err = s.CreateToken(ctx, b, TokenSpec{ProjectID: a.ProjectID, Name: "x"})
	wantKind(t, "token for A's project", err, cairn.NotExist)
	_, _, err = s.CreateToken(ctx, b, TokenSpec{Name: "root", Admin: true})
	wantKind(t, "admin token by a non-admin", err, cairn.Permission)
	_, err = s.CreateProject(ctx, b, ProjectSpec{Name: "c"})
	wantKind(t, "project by a non-admin", err, cairn.Permission)

	vms, _, err := s.ListVMs(ctx, b, VMFilter{}, catalog.Page{})
	if err != nil || len(vms) != 0 {
		t.Errorf("B lists VMs %v, %v", vms, err)
	}
	vs, _, err := s.ListVaults(ctx, b, VaultFilter{}, catalog.Page{})
	if err != nil || len(vs) != 0 {
		t.Errorf("B lists vaults %v, %v", vs, err)
	}
	pts, _, err := s.ListRestorePoints(ctx, b, "", catalog.Page{})
	if err != nil || len(pts) != 0 {
		t.Errorf("B lists points %v, %v", pts, err)
	}
	bops, _, err := s.ListOperations(ctx, b, OperationFilter{}, catalog.Page{})
	if err != nil || len(bops) != 0 {
		t.Errorf("B lists operations %v, %v", bops, err)
	}
	projects, _, err := s.ListProjects(ctx, b, catalog.Page{})
	if err != nil || len(projects) != 1 || projects[0].ID != pb.ID {
		t.Errorf("B lists projects %v, %v", projects, err)
	}

	// B's own VM of the same name is its own.
	bvm := registerTestVM(t, s, b, filepath.Join(dir), "web2", "eastus")
	if bvm.vm.ID != VMID(pb.ID, "rg1", "web2") {
		t.Errorf("B's VM id %s", bvm.vm.ID)
	}
	_, err = s.GetVM(ctx, a, bvm.vm.ID)
	wantKind(t, "A gets B's VM", err, cairn.NotExist)

	// Tokens are stored hashed.
	tok, err := s.Catalog().GetToken(ctx, b.TokenID)
	if err != nil || tok.Hash == secret || tok.Hash != catalog.HashSecret(secret) {
		t.Errorf("token stored as %q", tok.Hash)
	}
	_, err = s.Authenticate(ctx, secret+"x")
	wantKind(t, "a wrong secret", err, cairn.Permission)
}

// counts returns how many records of each kind the catalog has.
func counts(t *testing.T, s *Service) map[string]int {
	t.Helper()
	ctx := t.Context()
	cat := s.Catalog()
	n := map[string]int{}
	rs, err := listAll(func(p catalog.Page) ([]*catalog.Resource, string, error) {
		return cat.ListResources(ctx, catalog.ResourceFilter{}, p)
	})
	vs, err2 := listAll(func(p catalog.Page) ([]*catalog.Vault, string, error) {
		return cat.ListVaults(ctx, catalog.VaultFilter{}, p)
	})
	ps, err3 := listAll(func(p catalog.Page) ([]*catalog.RestorePoint, string, error) {
		return cat.ListRestorePoints(ctx, catalog.RestorePointFilter{}, p)
	})
	ds, err4 := listAll(func(p catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
		return cat.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{}, p)
	})
	os, err5 := listAll(func(p catalog.Page) ([]*catalog.Operation, string, error) {
		return cat.ListOperations(ctx, catalog.OperationFilter{}, p)
	})
	if err := firstErr(err, err2, err3, err4, err5); err != nil {
		t.Fatal(err)
	}
	n["resources"], n["vaults"], n["points"], n["disks"], n["ops"] = len(rs), len(vs), len(ps), len(ds), len(os)
	for _, r := range []string{"eastus", "westus"} {
		ids, err := s.regions[r].vault.PointIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n["stored-"+r] = len(ids)
	}
	return n
}

// TestBadInput: every bad field is refused with a clear kind, and nothing
// changes in the catalog or the vaults.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testConfig(filepath.Join(dir, "data")))
	ctx := t.Context()
	c := admin(t, s)
	tv := registerTestVM(t, s, c, dir, "web", "eastus")
	east, rp := backupVM(t, s, c, tv, "web-points", "rp1")
	westVM := registerTestVM(t, s, c, dir, "api", "westus", 1<<20)
	good := tv.paths["web-os"]
	unreadable := filepath.Join(dir, "secret.raw")
	os.WriteFile(unreadable, []byte("x"), 0o000)
	empty := filepath.Join(dir, "empty.raw")
	os.WriteFile(empty, nil, 0o644)
	before := counts(t, s)

	vmCases := []struct {
		name string
		spec VMSpec
		kind cairn.Kind
	}{
		{"unknown region", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "mars", Disks: []DiskSpec{{Name: "d", Path: good}}}, cairn.Invalid},
		{"no region", VMSpec{ResourceGroup: "rg1", Name: "x", Disks: []DiskSpec{{Name: "d", Path: good}}}, cairn.Invalid},
		{"bad VM name", VMSpec{ResourceGroup: "rg1", Name: "bad name!", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: good}}}, cairn.Invalid},
		{"bad group", VMSpec{ResourceGroup: "rg/1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: good}}}, cairn.Invalid},
		{"no disk", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus"}, cairn.Invalid},
		{"bad disk name", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "a/b", Path: good}}}, cairn.Invalid},
		{"twice the same disk", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: good}, {Name: "d", Path: good, Lun: 1}}}, cairn.Invalid},
		{"missing image", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: filepath.Join(dir, "nope.raw")}}}, cairn.NotExist},
		{"relative path", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: "disk.raw"}}}, cairn.Invalid},
		{"a directory", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: dir}}}, cairn.Invalid},
		{"an empty image", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: empty}}}, cairn.Invalid},
		{"remote URI", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: "https://example.com/d.vhd"}}}, cairn.Unsupported},
		{"id of another VM", VMSpec{ID: VMID(c.ProjectID, "rg1", "other"), ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: good}}}, cairn.Invalid},
		{"id that does not parse", VMSpec{ID: "vm-17", ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: good}}}, cairn.Invalid},
		{"bad profile", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: good}}, Profile: []byte("{")}, cairn.Invalid},
	}
	if os.Geteuid() != 0 {
		vmCases = append(vmCases, struct {
			name string
			spec VMSpec
			kind cairn.Kind
		}{"unreadable image", VMSpec{ResourceGroup: "rg1", Name: "x", Region: "eastus", Disks: []DiskSpec{{Name: "d", Path: unreadable}}}, cairn.Invalid})
	}
	for _, tc := range vmCases {
		_, _, err := s.RegisterVM(ctx, c, tc.spec)
		wantKind(t, "register VM: "+tc.name, err, tc.kind)
	}

	vaultCases := []struct {
		name string
		spec VaultSpec
		kind cairn.Kind
	}{
		{"bad name", VaultSpec{ResourceGroup: "rg1", Name: "-x", SourceResourceID: tv.vm.ID}, cairn.Invalid},
		{"unknown region", VaultSpec{ResourceGroup: "rg1", Name: "v", Region: "mars"}, cairn.Invalid},
		{"unknown VM", VaultSpec{ResourceGroup: "rg1", Name: "v", SourceResourceID: VMID(c.ProjectID, "rg1", "ghost")}, cairn.NotExist},
		{"VM in another region", VaultSpec{ResourceGroup: "rg1", Name: "v", Region: "westus", SourceResourceID: tv.vm.ID}, cairn.Invalid},
		{"copy target in the same region", VaultSpec{ResourceGroup: "rg1", Name: "v", Region: "eastus", SourceVaultID: east.ID}, cairn.Invalid},
		{"copy target without region", VaultSpec{ResourceGroup: "rg1", Name: "v", SourceVaultID: east.ID}, cairn.Invalid},
		{"unknown source vault", VaultSpec{ResourceGroup: "rg1", Name: "v", Region: "westus", SourceVaultID: "nope"}, cairn.NotExist},
		{"both sources", VaultSpec{ResourceGroup: "rg1", Name: "v", Region: "westus", SourceVaultID: east.ID, SourceResourceID: tv.vm.ID}, cairn.Invalid},
		{"change of region", VaultSpec{ResourceGroup: "rg1", Name: "web-points", Region: "westus"}, cairn.Conflict},
	}
	for _, tc := range vaultCases {
		_, _, err := s.PutVault(ctx, c, tc.spec)
		wantKind(t, "vault: "+tc.name, err, tc.kind)
	}

	west, _, err := s.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "web-west", Region: "westus", SourceVaultID: east.ID})
	if err != nil {
		t.Fatal(err)
	}
	westLocal, _, err := s.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "api-points", SourceResourceID: westVM.vm.ID})
	if err != nil {
		t.Fatal(err)
	}
	before = counts(t, s)
	pointCases := []struct {
		name string
		spec RestorePointSpec
		kind cairn.Kind
	}{
		{"bad name", RestorePointSpec{VaultID: east.ID, Name: "a b"}, cairn.Invalid},
		{"unknown vault", RestorePointSpec{VaultID: "nope", Name: "p"}, cairn.NotExist},
		{"name taken", RestorePointSpec{VaultID: east.ID, Name: "rp1"}, cairn.Exist},
		{"exclude an unknown disk", RestorePointSpec{VaultID: east.ID, Name: "p", ExcludeDisks: []string{"web-swap"}}, cairn.Invalid},
		{"exclude every disk", RestorePointSpec{VaultID: east.ID, Name: "p", ExcludeDisks: []string{"web-os", "web-data1"}}, cairn.Invalid},
		{"bad consistency mode", RestorePointSpec{VaultID: east.ID, Name: "p", ConsistencyMode: "Quantum"}, cairn.Invalid},
		{"another VM than the vault's", RestorePointSpec{VaultID: east.ID, Name: "p", ResourceID: westVM.vm.ID}, cairn.Invalid},
		{"a backup into a copy target", RestorePointSpec{VaultID: west.ID, Name: "p", ResourceID: tv.vm.ID}, cairn.Invalid},
		{"copy from the same region", RestorePointSpec{VaultID: east.ID, Name: "p", SourcePointID: rp.ID}, cairn.Invalid},
		{"copy of an unknown point", RestorePointSpec{VaultID: west.ID, Name: "p", SourcePointID: "nope"}, cairn.NotExist},
		{"copy into a vault of another VM", RestorePointSpec{VaultID: westLocal.ID, Name: "p", SourcePointID: rp.ID}, cairn.Invalid},
		{"id taken", RestorePointSpec{ID: rp.ID, VaultID: east.ID, Name: "p"}, cairn.Exist},
	}
	for _, tc := range pointCases {
		_, _, err := s.CreateRestorePoint(ctx, c, tc.spec)
		wantKind(t, "restore point: "+tc.name, err, tc.kind)
	}
	grantCases := []struct {
		name string
		id   string
		ttl  time.Duration
		kind cairn.Kind
	}{
		{"unknown disk point", "nope", 0, cairn.NotExist},
		{"negative duration", rp.Disks[0].ID, -time.Second, cairn.Invalid},
		{"too long", rp.Disks[0].ID, 30 * 24 * time.Hour, cairn.Invalid},
	}
	for _, tc := range grantCases {
		_, err := s.GrantDiskAccess(ctx, c, tc.id, tc.ttl)
		wantKind(t, "grant: "+tc.name, err, tc.kind)
	}
	restoreCases := []struct {
		name string
		spec RestoreDiskSpec
		kind cairn.Kind
	}{
		{"bad name", RestoreDiskSpec{ResourceGroup: "rg1", Name: "a b", DiskRestorePointID: rp.Disks[0].ID}, cairn.Invalid},
		{"no source", RestoreDiskSpec{ResourceGroup: "rg1", Name: "d"}, cairn.Invalid},
		{"unknown source", RestoreDiskSpec{ResourceGroup: "rg1", Name: "d", DiskRestorePointID: "nope"}, cairn.NotExist},
		{"unknown region", RestoreDiskSpec{ResourceGroup: "rg1", Name: "d", Region: "mars", DiskRestorePointID: rp.Disks[0].ID}, cairn.Invalid},
		{"relative path", RestoreDiskSpec{ResourceGroup: "rg1", Name: "d", Path: "d.raw", DiskRestorePointID: rp.Disks[0].ID}, cairn.Invalid},
		{"existing file", RestoreDiskSpec{ResourceGroup: "rg1", Name: "d", Path: good, DiskRestorePointID: rp.Disks[0].ID}, cairn.Exist},
	}
	for _, tc := range restoreCases {
		_, _, err := s.RestoreDisk(ctx, c, tc.spec)
		wantKind(t, "restore disk: "+tc.name, err, tc.kind)
	}
	_, err = s.GetRestorePoint(ctx, c, "nope")
	wantKind(t, "get an unknown point", err, cairn.NotExist)
	_, err = s.GetRegion(ctx, c, "mars")
	wantKind(t, "get an unknown region", err, cairn.NotExist)
	_, err = s.OpenDisk(ctx, "v1.bogus.token")
	wantKind(t, "open a forged token", err, cairn.Permission)
	_, err = s.GetVM(ctx, Caller{}, tv.vm.ID)
	wantKind(t, "a caller without project", err, cairn.Permission)

	after := counts(t, s)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d before the bad calls, %d after", k, v, after[k])
		}
	}
}

// TestAccessGrants: a grant expires and can be revoked; a token cannot be
// forged or moved to another disk.
func TestAccessGrants(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	clk := &offsetClock{}
	cfg.Clock = clk
	s := openTest(t, cfg)
	ctx := t.Context()
	c := admin(t, s)
	tv := registerTestVM(t, s, c, dir, "web", "eastus")
	_, rp := backupVM(t, s, c, tv, "web-points", "rp1")
	d := rp.Disks[0]

	g, err := s.GrantDiskAccess(ctx, c, d.ID, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if g.Expires.Before(clk.Now().Add(9*time.Minute)) || g.DiskRestorePointID != d.ID {
		t.Errorf("grant %+v", g)
	}
	r, err := s.OpenDisk(ctx, g.Token)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	g2, err := s.GrantDiskAccess(ctx, c, d.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// Tampering: another disk's id in the payload breaks the signature.
	parts := strings.Split(g.Token, ".")
	parts[1] = parts[1][:len(parts[1])-2] + "AA"
	_, err = s.OpenDisk(ctx, strings.Join(parts, "."))
	wantKind(t, "tampered token", err, cairn.Permission)

	clk.Advance(11 * time.Minute)
	_, err = s.OpenDisk(ctx, g.Token)
	wantKind(t, "expired token", err, cairn.Permission)
	if r, err := s.OpenDisk(ctx, g2.Token); err != nil {
		t.Fatalf("the longer grant: %v", err)
	} else {
		r.Close()
	}

	if err := s.RevokeDiskAccess(ctx, c, d.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.OpenDisk(ctx, g2.Token)
	wantKind(t, "revoked token", err, cairn.Permission)
	g3, err := s.GrantDiskAccess(ctx, c, d.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r, err = s.OpenDisk(ctx, g3.Token)
	if err != nil {
		t.Fatalf("a grant after the revocation: %v", err)
	}
	if got := readerSHA(t, r); got != tv.sums[d.DiskName] {
		t.Errorf("read after revoke and grant: sha %s", got)
	}
	r.Close()

	// Deleting the point ends every grant.
	op, err := s.DeleteRestorePoint(ctx, c, rp.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, s, c, op)
	_, err = s.OpenDisk(ctx, g3.Token)
	wantKind(t, "token of a deleted point", err, cairn.NotExist)
}

// TestRebuild: with the catalog file gone, Rebuild recreates the project,
// the vaults and the restore points from the regions' vaults.
func TestRebuild(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(filepath.Join(dir, "data"))
	s1, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s1.Start(t.Context())
	ctx := t.Context()
	c := admin(t, s1)
	tv := registerTestVM(t, s1, c, dir, "web", "eastus")
	east, rp := backupVM(t, s1, c, tv, "web-points", "rp1")
	west, _, err := s1.PutVault(ctx, c, VaultSpec{ResourceGroup: "rg1", Name: "web-west", Region: "westus", SourceVaultID: east.ID})
	if err != nil {
		t.Fatal(err)
	}
	cp, op, err := s1.CreateRestorePoint(ctx, c, RestorePointSpec{VaultID: west.ID, Name: "rp1-copy", SourcePointID: rp.ID})
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, s1, c, op)
	s1.Close()

	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(s1.Paths().Catalog + suffix)
	}
	s2, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rep, err := s2.Rebuild(ctx, catalog.RebuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Projects) != 1 || len(rep.Vaults) != 2 || len(rep.Regions["eastus"].Added) != 1 || len(rep.Regions["westus"].Added) != 1 {
		t.Fatalf("rebuild report %+v, east %+v, west %+v", rep, rep.Regions["eastus"], rep.Regions["westus"])
	}
	b, err := s2.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Created || b.Project.ID != c.ProjectID || b.AdminSecret == "" {
		t.Fatalf("bootstrap after rebuild: created %v, project %s (was %s), new admin token %v", b.Created, b.Project.ID, c.ProjectID, b.AdminSecret != "")
	}
	c2, err := s2.Authenticate(ctx, b.AdminSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*RestorePoint{rp, cp} {
		got, err := s2.GetRestorePoint(ctx, c2, want.ID)
		if err != nil {
			t.Fatalf("rebuilt point %s: %v", want.Name, err)
		}
		if got.Name != want.Name || got.VaultID != want.VaultID || !got.Restorable || len(got.Disks) != 2 || got.SourcePointID != want.SourcePointID {
			t.Errorf("rebuilt point %+v, was %+v", got.RestorePoint, want.RestorePoint)
		}
		for _, d := range got.Disks {
			checkRead(t, s2, c2, d, tv.paths[d.DiskName], tv.sums[d.DiskName])
		}
	}
	v, err := s2.FindVault(ctx, c2, "rg1", "web-west")
	if err != nil || v.ID != west.ID || v.SourceVaultID != east.ID || v.Region != "westus" {
		t.Errorf("rebuilt vault %+v, %v", v, err)
	}
}
