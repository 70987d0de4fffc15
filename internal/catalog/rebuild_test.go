package catalog_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/catalog/sqlite"
	"github.com/cairn-vm/cairn/internal/vault"
)

// storagePoint returns a committed storage vault point of VM vmID.
func storagePoint(id, vmID string, at time.Time, tags map[string]string) *vault.RestorePoint {
	return &vault.RestorePoint{
		ID: id, Time: at, ConsistencyMode: vault.CrashConsistent, Tags: tags,
		VM: vault.VM{Name: "web", ID: vmID, HardwareProfile: json.RawMessage(`{"vmSize":"Standard_B2s"}`)},
		Disks: []vault.Disk{
			{Name: "os", Size: 8 << 30},
			{Name: "data", Size: 16 << 30},
		},
		ExcludedDisks: []string{"scratch"},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRebuild(t *testing.T) {
	ctx := t.Context()
	c := sqlite.TestCatalog(t)
	p := &catalog.Project{Name: "p"}
	must(t, c.PutProject(ctx, p))
	must(t, c.PutRegion(ctx, &catalog.Region{Name: "west", Storage: "/srv/west"}))
	must(t, c.PutRegion(ctx, &catalog.Region{Name: "east", Storage: "/srv/east"}))
	web := &catalog.Vault{ProjectID: p.ID, Name: "web-points", Region: "west", SourceResourceID: "vm-web"}
	tagged := &catalog.Vault{ProjectID: p.ID, Name: "tagged", Region: "west"}
	elsewhere := &catalog.Vault{ProjectID: p.ID, Name: "east-points", Region: "east", SourceResourceID: "vm-db"}
	for _, v := range []*catalog.Vault{web, tagged, elsewhere} {
		must(t, c.PutVault(ctx, v))
	}
	// The catalog's own state before the rebuild: a point whose backup
	// committed to storage but not to the catalog (the server died), and
	// a succeeded point whose data is gone from storage.
	crashed := &catalog.RestorePoint{VaultID: web.ID, Name: "crashed", VaultPointID: "cccc", State: catalog.PointCreating}
	gone := &catalog.RestorePoint{VaultID: web.ID, Name: "gone", VaultPointID: "dddd", State: catalog.PointSucceeded}
	inFlight := &catalog.RestorePoint{VaultID: web.ID, Name: "in-flight", State: catalog.PointCreating}
	for _, rp := range []*catalog.RestorePoint{crashed, gone, inFlight} {
		must(t, c.PutRestorePoint(ctx, rp))
	}

	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	storage := []*vault.RestorePoint{
		storagePoint("aaaa", "vm-web", t0, nil), // by its VM
		storagePoint("bbbb", "vm-other", t0.Add(time.Hour), map[string]string{
			catalog.TagVault: tagged.ID, catalog.TagPoint: "rp-bbbb", catalog.TagName: "nightly"}), // by its tags
		storagePoint("cccc", "vm-web", t0.Add(2*time.Hour), nil), // the crashed one
		storagePoint("eeee", "vm-nobody", t0, nil),               // no vault claims it
		storagePoint("ffff", "vm-db", t0, nil),                   // its vault is in another region
	}

	dry, err := catalog.Rebuild(ctx, c, "west", storage, catalog.RebuildOptions{DryRun: true, Prune: true})
	must(t, err)
	if len(dry.Added) != 2 || len(dry.Missing) != 1 {
		t.Errorf("dry run report: %+v", dry)
	}
	if all, _, _ := c.ListRestorePoints(ctx, catalog.RestorePointFilter{}, catalog.Page{}); len(all) != 3 {
		t.Fatalf("a dry run changed the catalog: %d restore points", len(all))
	}

	rep, err := catalog.Rebuild(ctx, c, "west", storage, catalog.RebuildOptions{})
	must(t, err)
	slices.Sort(rep.Unmatched)
	if len(rep.Added) != 2 || !slices.Equal(rep.Completed, []string{crashed.ID}) ||
		!slices.Equal(rep.Missing, []string{gone.ID}) || !slices.Equal(rep.Unmatched, []string{"eeee", "ffff"}) {
		t.Errorf("report: %+v", rep)
	}

	// The point found by its VM.
	got, _, err := c.ListRestorePoints(ctx, catalog.RestorePointFilter{VaultPointID: "aaaa"}, catalog.Page{})
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("%d catalog points for aaaa", len(got))
	}
	a := got[0]
	if a.VaultID != web.ID || a.State != catalog.PointSucceeded || a.ResourceID != "vm-web" || !a.Created.Equal(t0) ||
		a.ConsistencyMode != vault.CrashConsistent || !slices.Equal(a.ExcludedDisks, []string{"scratch"}) || a.Name != "aaaa" {
		t.Errorf("rebuilt point: %+v", a)
	}
	var meta vault.VM
	if err := json.Unmarshal(a.Metadata, &meta); err != nil || meta.ID != "vm-web" || string(meta.HardwareProfile) != `{"vmSize":"Standard_B2s"}` {
		t.Errorf("metadata %s: %v", a.Metadata, err)
	}
	disks, _, err := c.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: a.ID}, catalog.Page{})
	must(t, err)
	if len(disks) != 2 || disks[0].Size+disks[1].Size != 24<<30 {
		t.Errorf("rebuilt disks: %+v", disks)
	}

	// The point found by its tags keeps its catalog id and name.
	b, err := c.GetRestorePoint(ctx, "rp-bbbb")
	must(t, err)
	if b.VaultID != tagged.ID || b.Name != "nightly" || b.VaultPointID != "bbbb" {
		t.Errorf("tagged point: %+v", b)
	}
	// The crashed one is complete now; the gone one is kept without Prune;
	// the one still being made is untouched.
	cc, err := c.GetRestorePoint(ctx, crashed.ID)
	must(t, err)
	if cc.State != catalog.PointSucceeded {
		t.Errorf("crashed point is %s", cc.State)
	}
	if disks, _, _ := c.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: crashed.ID}, catalog.Page{}); len(disks) != 2 {
		t.Errorf("crashed point has %d disks, want 2", len(disks))
	}
	if _, err := c.GetRestorePoint(ctx, gone.ID); err != nil {
		t.Errorf("a missing point was deleted without Prune: %v", err)
	}
	if f, err := c.GetRestorePoint(ctx, inFlight.ID); err != nil || f.State != catalog.PointCreating {
		t.Errorf("in-flight point: %+v, %v", f, err)
	}

	// A second rebuild has nothing to add; with Prune it drops the gone one.
	rep, err = catalog.Rebuild(ctx, c, "west", storage, catalog.RebuildOptions{Prune: true})
	must(t, err)
	if len(rep.Added) != 0 || len(rep.Completed) != 0 || !slices.Equal(rep.Missing, []string{gone.ID}) {
		t.Errorf("second rebuild: %+v", rep)
	}
	if _, err := c.GetRestorePoint(ctx, gone.ID); err == nil {
		t.Error("Prune kept a point whose data is gone")
	}
	if _, err := catalog.Rebuild(ctx, c, "mars", nil, catalog.RebuildOptions{}); err == nil {
		t.Error("rebuild of a missing region succeeded")
	}
}
