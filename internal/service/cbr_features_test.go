package service

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/cbrpolicy"
)

func TestAccessKeys(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testConfig(dir))
	a := admin(t, s)
	ctx := t.Context()
	k, sk, err := s.CreateAccessKey(ctx, a, AccessKeySpec{Name: "sdk"})
	if err != nil {
		t.Fatal(err)
	}
	if len(k.ID) != 20 || len(sk) != 40 || k.ProjectID != a.ProjectID {
		t.Fatalf("CreateAccessKey = %+v, %q", k, sk)
	}
	got, c, err := s.LookupAccessKey(ctx, k.ID)
	if err != nil || got != sk || c.ProjectID != a.ProjectID || c.Admin {
		t.Fatalf("LookupAccessKey = %q %+v %v", got, c, err)
	}
	// The secret is not in the catalog in the clear.
	db, err := os.ReadFile(filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(sk)) {
		t.Error("the secret key is in the catalog in the clear")
	}
	if _, _, err := s.CreateAccessKey(ctx, a, AccessKeySpec{Name: "sdk"}); !cairn.IsKind(err, cairn.Exist) {
		t.Errorf("a taken name: %v", err)
	}
	user := Caller{ProjectID: a.ProjectID, TokenID: "user"}
	if _, _, err := s.CreateAccessKey(ctx, user, AccessKeySpec{Name: "mine"}); !cairn.IsKind(err, cairn.Permission) {
		t.Errorf("a non-admin made a credential: %v", err)
	}
	if _, _, err := s.LookupAccessKey(ctx, "NOPE"); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("unknown AK: %v", err)
	}
	ks, err := s.ListAccessKeys(ctx, a, "")
	if err != nil || len(ks) != 1 || ks[0].Name != "sdk" {
		t.Fatalf("ListAccessKeys = %+v %v", ks, err)
	}

	// After a restart the secret opens again; without the data
	// directory's key it does not.
	s.Close()
	s2 := openTest(t, testConfig(dir))
	if got, _, err := s2.LookupAccessKey(ctx, k.ID); err != nil || got != sk {
		t.Fatalf("after a restart: %q %v", got, err)
	}
	s2.Close()
	if err := os.Remove(filepath.Join(dir, "credential-key")); err != nil {
		t.Fatal(err)
	}
	s3 := openTest(t, testConfig(dir))
	if _, _, err := s3.LookupAccessKey(ctx, k.ID); !cairn.IsKind(err, cairn.Corrupt) {
		t.Errorf("with another credential key: %v", err)
	}
	if err := s3.DeleteAccessKey(ctx, a, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s3.LookupAccessKey(ctx, k.ID); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("a deleted AK: %v", err)
	}
}

func TestRegionalProjects(t *testing.T) {
	s := openTest(t, testConfig(t.TempDir()))
	a := admin(t, s)
	ctx := t.Context()
	rps, err := s.RegionalProjects(ctx, a, "")
	if err != nil || len(rps) != 2 || rps[0].Region != "eastus" || len(rps[0].ID) != 32 || rps[0].ID == rps[1].ID {
		t.Fatalf("RegionalProjects = %+v %v", rps, err)
	}
	again, err := s.RegionalProject(ctx, a, "eastus")
	if err != nil || again.ID != rps[0].ID {
		t.Errorf("RegionalProject = %+v %v, want %s", again, err, rps[0].ID)
	}
	got, err := s.ResolveRegionalProject(ctx, rps[1].ID)
	if err != nil || got.ProjectID != a.ProjectID || got.Region != "westus" {
		t.Errorf("ResolveRegionalProject = %+v %v", got, err)
	}
	for _, id := range []string{"ffffffffffffffffffffffffffffffff", "x", strings.ToUpper(rps[0].ID)} {
		if _, err := s.ResolveRegionalProject(ctx, id); !cairn.IsKind(err, cairn.NotExist) {
			t.Errorf("ResolveRegionalProject(%q): %v", id, err)
		}
	}
	if _, err := s.RegionalProject(ctx, a, "mars"); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("a region not served: %v", err)
	}
}

// TestBindAndReplicate: bindings, checkpoints and replication to another
// tenant, which needs its consent.
func TestBindAndReplicate(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, testConfig(filepath.Join(dir, "data")))
	a := admin(t, s)
	ctx := t.Context()
	vm1 := registerTestVM(t, s, a, dir, "b1", "eastus", 256<<10)
	vm2 := registerTestVM(t, s, a, dir, "b2", "eastus", 256<<10)
	vmW := registerTestVM(t, s, a, dir, "w1", "westus", 256<<10)
	v, _, err := s.PutVault(ctx, a, VaultSpec{ResourceGroup: "cbr", Name: "v", Region: "eastus", SourceResourceID: vm1.vm.ID,
		Resources: []BindSpec{{ResourceID: vm1.vm.ID}, {ResourceID: vm2.vm.ID, ExcludeDisks: []string{"nope"}}}})
	if !cairn.IsKind(err, cairn.Invalid) {
		t.Fatalf("a binding excluding a disk the VM lacks: %v", err)
	}
	v, _, err = s.PutVault(ctx, a, VaultSpec{ResourceGroup: "cbr", Name: "v", Region: "eastus", SourceResourceID: vm1.vm.ID,
		Resources: []BindSpec{{ResourceID: vm1.vm.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.PutVault(ctx, a, VaultSpec{ResourceGroup: "cbr", Name: "other", Region: "eastus"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		vault string
		specs []BindSpec
		want  error
	}{
		{other.ID, []BindSpec{{ResourceID: vm1.vm.ID}}, ErrResourceInOtherVault},
		{v.ID, []BindSpec{{ResourceID: vm1.vm.ID}}, ErrDuplicateResource},
		{other.ID, []BindSpec{{ResourceID: vm2.vm.ID}, {ResourceID: vm2.vm.ID}}, ErrDuplicateResource},
		{other.ID, []BindSpec{{ResourceID: vmW.vm.ID}}, ErrRegionMismatch},
	} {
		if _, err := s.BindResources(ctx, a, tc.vault, tc.specs); !errors.Is(err, tc.want) {
			t.Errorf("BindResources(%v): %v, want %v", tc.specs, err, tc.want)
		}
	}
	if _, err := s.BindResources(ctx, a, v.ID, []BindSpec{{ResourceID: vm2.vm.ID}}); err != nil {
		t.Fatal(err)
	}
	cp, err := s.CreateCheckpoint(ctx, a, CheckpointSpec{VaultID: v.ID, Name: "both", Incremental: true})
	if err != nil || len(cp.Points) != 2 || cp.State != CheckpointProtecting {
		t.Fatalf("CreateCheckpoint = %+v %v", cp, err)
	}
	for _, p := range cp.Points {
		if _, err := s.WaitOperation(ctx, a, p.Operation.ID); err != nil {
			t.Fatal(err)
		}
	}
	if cp, err = s.GetCheckpoint(ctx, a, cp.ID); err != nil || cp.State != CheckpointAvailable {
		t.Fatalf("GetCheckpoint = %+v %v", cp, err)
	}

	// Another tenant's vault in the west: refused until it agrees.
	b, err := s.CreateProject(ctx, a, ProjectSpec{Name: "tenant-b"})
	if err != nil {
		t.Fatal(err)
	}
	cb := Caller{ProjectID: b.ID, TokenID: "b"}
	bv, _, err := s.PutVault(ctx, cb, VaultSpec{ResourceGroup: "cbr", Name: "dr", Region: "westus"})
	if err != nil {
		t.Fatal(err)
	}
	bWest, err := s.RegionalProject(ctx, cb, "westus")
	if err != nil {
		t.Fatal(err)
	}
	aEast, err := s.RegionalProject(ctx, a, "eastus")
	if err != nil {
		t.Fatal(err)
	}
	spec := ReplicateSpec{SourceVaultID: v.ID, DestinationRegionalProjectID: bWest.ID, DestinationVaultID: bv.ID}
	if _, err := s.ReplicateVault(ctx, a, spec); !errors.Is(err, ErrNoConsent) || !cairn.IsKind(err, cairn.Permission) {
		t.Fatalf("without consent: %v", err)
	}
	if _, err := s.AllowReplication(ctx, a, bWest.ID, aEast.ID); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("tenant A recorded consent for B's project: %v", err)
	}
	ag, err := s.AllowReplication(ctx, cb, bWest.ID, aEast.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.AllowReplication(ctx, cb, bWest.ID, aEast.ID); err != nil || again.ID != ag.ID {
		t.Errorf("agreeing twice: %+v %v", again, err)
	}
	rep, err := s.ReplicateVault(ctx, a, spec)
	if err != nil || len(rep.Records) != 2 || rep.DestinationProjectID != b.ID {
		t.Fatalf("ReplicateVault = %+v %v", rep, err)
	}
	for _, r := range rep.Records {
		op, err := s.WaitOperation(ctx, a, r.OperationID)
		if err != nil || op.State != catalog.OpSucceeded {
			t.Fatalf("copy %s: %+v %v", r.OperationID, op, err)
		}
	}
	if _, err := s.ReplicateVault(ctx, a, spec); !errors.Is(err, ErrAlreadyReplicated) {
		t.Errorf("again: %v", err)
	}
	// B sees the replicas and a checkpoint of them; A sees its copy
	// operations and the replicas through PointReplicas.
	ps, _, err := s.ListRestorePoints(ctx, cb, bv.ID, catalog.Page{})
	if err != nil || len(ps) != 2 || !ps[0].Restorable {
		t.Fatalf("B's replicas: %+v %v", ps, err)
	}
	cps, _, err := s.ListCheckpoints(ctx, cb, bv.ID, catalog.Page{})
	if err != nil || len(cps) != 1 || cps[0].SourceCheckpointID != cp.ID || len(cps[0].Points) != 2 {
		t.Fatalf("B's checkpoints: %+v %v", cps, err)
	}
	reps, err := s.PointReplicas(ctx, a, cp.Points[0].ID)
	if err != nil || len(reps) != 1 || reps[0].ProjectID != b.ID {
		t.Fatalf("PointReplicas = %+v %v", reps, err)
	}
	// After the consent is withdrawn, nothing more goes.
	if err := s.DeleteReplicationAgreement(ctx, cb, ag.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplicateVault(ctx, a, spec); !errors.Is(err, ErrNoConsent) {
		t.Errorf("after the consent was withdrawn: %v", err)
	}
}

func TestPolicyValidation(t *testing.T) {
	s := openTest(t, testConfig(t.TempDir()))
	a := admin(t, s)
	ctx := t.Context()
	west, err := s.RegionalProject(ctx, a, "westus")
	if err != nil {
		t.Fatal(err)
	}
	two, neg := 2, -5
	good := PolicySpec{Name: "p", Enabled: true, OperationType: PolicyBackup, Patterns: []string{"FREQ=DAILY;BYHOUR=1;BYMINUTE=0"}}
	for _, tc := range []struct {
		name   string
		change func(*PolicySpec)
	}{
		{"no name", func(p *PolicySpec) { p.Name = "" }},
		{"unknown type", func(p *PolicySpec) { p.OperationType = "archive" }},
		{"no pattern", func(p *PolicySpec) { p.Patterns = nil }},
		{"a bad pattern", func(p *PolicySpec) { p.Patterns = []string{"FREQ=HOURLY;BYHOUR=1;BYMINUTE=0"} }},
		{"a bad max_backups", func(p *PolicySpec) { p.Retention = cbrpolicy.Retention{MaxBackups: &neg} }},
		{"long-term without timezone", func(p *PolicySpec) { p.Retention = cbrpolicy.Retention{Day: &two} }},
		{"a backup policy with a destination", func(p *PolicySpec) { p.DestinationRegion = "westus" }},
		{"replication without destination", func(p *PolicySpec) { p.OperationType = PolicyReplication }},
		{"replication to a project of another region", func(p *PolicySpec) {
			p.OperationType, p.DestinationRegion, p.DestinationRegionalProjectID = PolicyReplication, "eastus", west.ID
		}},
	} {
		spec := good
		tc.change(&spec)
		if _, err := s.CreatePolicy(ctx, a, spec); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("%s: %v, want invalid", tc.name, err)
		}
	}
	p, err := s.CreatePolicy(ctx, a, good)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if p, err = s.UpdatePolicy(ctx, a, p.ID, PolicyUpdate{Enabled: &off}); err != nil || p.Enabled {
		t.Fatalf("UpdatePolicy = %+v %v", p, err)
	}
	other := Caller{ProjectID: "nope", TokenID: "x"}
	if _, err := s.GetPolicy(ctx, other, p.ID); !cairn.IsKind(err, cairn.NotExist) {
		t.Errorf("another project's policy: %v", err)
	}
	if err := s.DeletePolicy(ctx, a, p.ID); err != nil {
		t.Fatal(err)
	}
}
