package catalogtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

func testProjects(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := &catalog.Project{Name: "contoso", Attrs: json.RawMessage(`{"b": [1, 2], "a": "x"}`)}
	ok(t, c.PutProject(ctx, p), "PutProject")
	if p.ID == "" {
		t.Fatal("PutProject did not assign an id")
	}
	recent(t, "Created", p.Created)
	got, err := c.GetProject(ctx, p.ID)
	ok(t, err, "GetProject")
	same(t, "GetProject", got, p)

	// Replace: the name changes, Created stays.
	created := p.Created
	p2 := &catalog.Project{ID: p.ID, Name: "contoso-2", Created: created.Add(time.Hour)}
	ok(t, c.PutProject(ctx, p2), "PutProject (replace)")
	if !p2.Created.Equal(created) {
		t.Errorf("replace changed Created from %s to %s", created, p2.Created)
	}
	got, err = c.GetProject(ctx, p.ID)
	ok(t, err, "GetProject")
	same(t, "GetProject after replace", got, p2)

	// A given id and Created are kept (at microsecond precision).
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	q := &catalog.Project{ID: "fixed-id", Name: "fabrikam", Created: at}
	ok(t, c.PutProject(ctx, q), "PutProject with id")
	got, err = c.GetProject(ctx, "fixed-id")
	ok(t, err, "GetProject(fixed-id)")
	if want := at.Truncate(time.Microsecond); !got.Created.Equal(want) || got.Created.Location() != time.UTC {
		t.Errorf("Created = %s, want %s in UTC", got.Created, want.UTC())
	}

	isKind(t, c.PutProject(ctx, &catalog.Project{Name: "fabrikam"}), cairn.Exist, "PutProject with a taken name")
	isKind(t, c.PutProject(ctx, &catalog.Project{ID: p.ID, Name: "fabrikam"}), cairn.Exist, "rename to a taken name")
	_, err = c.GetProject(ctx, "no-such-project")
	isKind(t, err, cairn.NotExist, "GetProject(missing)")

	ok(t, c.DeleteProject(ctx, q.ID), "DeleteProject")
	_, err = c.GetProject(ctx, q.ID)
	isKind(t, err, cairn.NotExist, "GetProject after delete")
	isKind(t, c.DeleteProject(ctx, q.ID), cairn.NotExist, "DeleteProject twice")
	// The name is free again.
	ok(t, c.PutProject(ctx, &catalog.Project{Name: "fabrikam"}), "PutProject with a freed name")

	ps, next, err := c.ListProjects(ctx, catalog.ProjectFilter{Name: "contoso-2"}, catalog.Page{})
	ok(t, err, "ListProjects")
	if len(ps) != 1 || ps[0].ID != p.ID || next != "" {
		t.Errorf("ListProjects(name contoso-2) = %d projects, next %q; want only %s", len(ps), next, p.ID)
	}
}

func testTokens(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	a := project(t, c, "a")
	b := project(t, c, "b")
	tk := &catalog.Token{ProjectID: a.ID, Name: "ci", Admin: true}
	secret, err := c.CreateToken(ctx, tk)
	ok(t, err, "CreateToken")
	if len(secret) < 32 {
		t.Fatalf("secret %q is too short to hold 128 random bits", secret)
	}
	if tk.ID == "" || tk.Hash == "" {
		t.Fatalf("CreateToken left ID %q, Hash %q", tk.ID, tk.Hash)
	}
	recent(t, "Created", tk.Created)

	stored, err := c.GetToken(ctx, tk.ID)
	ok(t, err, "GetToken")
	same(t, "GetToken", stored, tk)
	if stored.Hash != catalog.HashSecret(secret) {
		t.Errorf("stored hash %q is not HashSecret(secret)", stored.Hash)
	}
	if strings.Contains(fmt.Sprintf("%+v", *stored), secret) {
		t.Errorf("the stored token %+v holds the secret", *stored)
	}
	ts, _, err := c.ListTokens(ctx, catalog.TokenFilter{ProjectID: a.ID}, catalog.Page{})
	ok(t, err, "ListTokens")
	for _, x := range ts {
		if strings.Contains(fmt.Sprintf("%+v", *x), secret) {
			t.Errorf("a listed token holds the secret")
		}
	}

	got, err := c.Authenticate(ctx, secret)
	ok(t, err, "Authenticate")
	if got.ID != tk.ID || got.ProjectID != a.ID || !got.Admin {
		t.Errorf("Authenticate = %+v, want token %s of project %s, admin", got, tk.ID, a.ID)
	}
	for _, bad := range []string{"", "x", secret + "x", secret[:len(secret)-1], strings.ToUpper(secret), stored.Hash} {
		_, err := c.Authenticate(ctx, bad)
		isKind(t, err, cairn.Permission, "Authenticate(%q)", bad)
	}

	// Two tokens, two secrets; names are unique per project only.
	tk2 := &catalog.Token{ProjectID: a.ID, Name: "ops"}
	secret2, err := c.CreateToken(ctx, tk2)
	ok(t, err, "CreateToken(ops)")
	if secret2 == secret || tk2.Hash == tk.Hash {
		t.Error("two tokens got the same secret")
	}
	_, err = c.CreateToken(ctx, &catalog.Token{ProjectID: a.ID, Name: "ci"})
	isKind(t, err, cairn.Exist, "CreateToken with a taken name")
	tkb := &catalog.Token{ProjectID: b.ID, Name: "ci"}
	secretB, err := c.CreateToken(ctx, tkb)
	ok(t, err, "CreateToken(ci) in another project")
	if got, err := c.Authenticate(ctx, secretB); err != nil || got.ProjectID != b.ID {
		t.Errorf("Authenticate(b's secret) = %+v, %v; want project %s", got, err, b.ID)
	}
	_, err = c.CreateToken(ctx, &catalog.Token{ProjectID: "no-such-project", Name: "x"})
	isKind(t, err, cairn.NotExist, "CreateToken in a missing project")

	ok(t, c.DeleteToken(ctx, tk.ID), "DeleteToken")
	_, err = c.Authenticate(ctx, secret)
	isKind(t, err, cairn.Permission, "Authenticate after DeleteToken")
	_, err = c.GetToken(ctx, tk.ID)
	isKind(t, err, cairn.NotExist, "GetToken after delete")
	isKind(t, c.DeleteToken(ctx, tk.ID), cairn.NotExist, "DeleteToken twice")
	if _, err := c.Authenticate(ctx, secret2); err != nil {
		t.Errorf("the other token stopped working: %v", err)
	}
}

func testTokenExpiry(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	a := project(t, c, "a")
	old := &catalog.Token{ProjectID: a.ID, Name: "old", Expires: time.Now().Add(-time.Hour)}
	secret, err := c.CreateToken(ctx, old)
	ok(t, err, "CreateToken(expired)")
	_, err = c.Authenticate(ctx, secret)
	isKind(t, err, cairn.Permission, "Authenticate(expired)")

	fresh := &catalog.Token{ProjectID: a.ID, Name: "fresh", Expires: time.Now().Add(time.Hour)}
	secret, err = c.CreateToken(ctx, fresh)
	ok(t, err, "CreateToken")
	got, err := c.Authenticate(ctx, secret)
	ok(t, err, "Authenticate(not yet expired)")
	if want := catalog.Timestamp(fresh.Expires); !got.Expires.Equal(want) {
		t.Errorf("Expires = %s, want %s", got.Expires, want)
	}
}

func testRegions(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	for _, n := range []string{"westeurope", "eastus", "cn-north-4"} {
		region(t, c, n)
	}
	r, err := c.GetRegion(ctx, "eastus")
	ok(t, err, "GetRegion")
	recent(t, "Created", r.Created)
	created := r.Created
	r.Storage = "s3://bucket/eastus"
	r.Attrs = json.RawMessage(`{"endpoint":"https://s3.example"}`)
	ok(t, c.PutRegion(ctx, r), "PutRegion (replace)")
	got, err := c.GetRegion(ctx, "eastus")
	ok(t, err, "GetRegion")
	same(t, "GetRegion after replace", got, r)
	if !got.Created.Equal(created) {
		t.Errorf("replace changed Created")
	}
	rs, next, err := c.ListRegions(ctx, catalog.RegionFilter{}, catalog.Page{})
	ok(t, err, "ListRegions")
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "cn-north-4 eastus westeurope" || next != "" {
		t.Errorf("ListRegions = %v (next %q), want them by name", names, next)
	}
	_, err = c.GetRegion(ctx, "mars")
	isKind(t, err, cairn.NotExist, "GetRegion(missing)")

	// A region in use cannot go.
	p := project(t, c, "p")
	res := resource(t, c, p.ID, "vm", "eastus")
	isKind(t, c.DeleteRegion(ctx, "eastus"), cairn.Conflict, "DeleteRegion with a resource")
	ok(t, c.DeleteResource(ctx, res.ID), "DeleteResource")
	v := vaultFor(t, c, p.ID, "v", "eastus", "")
	isKind(t, c.DeleteRegion(ctx, "eastus"), cairn.Conflict, "DeleteRegion with a vault")
	ok(t, c.DeleteVault(ctx, v.ID), "DeleteVault")
	ok(t, c.DeleteRegion(ctx, "eastus"), "DeleteRegion")
	_, err = c.GetRegion(ctx, "eastus")
	isKind(t, err, cairn.NotExist, "GetRegion after delete")
	isKind(t, c.DeleteRegion(ctx, "eastus"), cairn.NotExist, "DeleteRegion twice")
}

func testResources(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	q := project(t, c, "q")
	region(t, c, "r1")
	region(t, c, "r2")
	armID := "/subscriptions/" + p.ID + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web"
	r := &catalog.Resource{
		ID: armID, ProjectID: p.ID, ResourceGroup: "rg", Name: "web", Kind: catalog.KindVM, Region: "r1",
		Profile: json.RawMessage(`{"osProfile":{"computerName":"web"},"hardwareProfile":{"vmSize":"Standard_B2s"}}`),
		Disks: []catalog.ResourceDisk{
			{Name: "web-os", URI: "/d/web-os.qcow2", Size: 10 << 30, OS: true},
			{Name: "web-data", URI: "/d/web-data.raw", Size: 20 << 30, Lun: 1},
		},
		Tags:  map[string]string{"env": "prod", "owner": "ops"},
		Attrs: json.RawMessage(`{"zones":["1"]}`),
	}
	ok(t, c.PutResource(ctx, r), "PutResource")
	if r.ID != armID {
		t.Errorf("PutResource changed the id to %s", r.ID)
	}
	got, err := c.GetResource(ctx, armID)
	ok(t, err, "GetResource")
	same(t, "GetResource", got, r)
	if d := got.Disk("web-data"); d == nil || d.Lun != 1 || d.Size != 20<<30 {
		t.Errorf("Disk(web-data) = %+v", d)
	}

	// Replace: disks change, Created stays.
	r.Disks = r.Disks[:1]
	r.Tags = nil
	r.Region = "r2"
	created := r.Created
	ok(t, c.PutResource(ctx, r), "PutResource (replace)")
	got, err = c.GetResource(ctx, armID)
	ok(t, err, "GetResource")
	same(t, "GetResource after replace", got, r)
	if !got.Created.Equal(created) {
		t.Error("replace changed Created")
	}

	// Names are unique within (project, resource group, kind).
	dup := &catalog.Resource{ProjectID: p.ID, ResourceGroup: "rg", Name: "web", Kind: catalog.KindVM, Region: "r1"}
	isKind(t, c.PutResource(ctx, dup), cairn.Exist, "PutResource with a taken name")
	for _, other := range []*catalog.Resource{
		{ProjectID: p.ID, ResourceGroup: "rg2", Name: "web", Kind: catalog.KindVM, Region: "r1"},
		{ProjectID: p.ID, ResourceGroup: "rg", Name: "web", Kind: catalog.KindVolume, Region: "r1"},
		{ProjectID: q.ID, ResourceGroup: "rg", Name: "web", Kind: catalog.KindVM, Region: "r1"},
	} {
		ok(t, c.PutResource(ctx, other), "PutResource(%s/%s/%s in %s)", other.ResourceGroup, other.Kind, other.Name, other.ProjectID)
	}

	isKind(t, c.PutResource(ctx, &catalog.Resource{ProjectID: "nope", Name: "x", Kind: catalog.KindVM, Region: "r1"}),
		cairn.NotExist, "PutResource in a missing project")
	isKind(t, c.PutResource(ctx, &catalog.Resource{ProjectID: p.ID, Name: "x", Kind: catalog.KindVM, Region: "mars"}),
		cairn.NotExist, "PutResource in a missing region")
	moved := *r
	moved.ProjectID = q.ID
	isKind(t, c.PutResource(ctx, &moved), cairn.Invalid, "PutResource moving it to another project")
	if got, _ := c.GetResource(ctx, armID); got == nil || got.ProjectID != p.ID {
		t.Errorf("a refused move changed the resource: %+v", got)
	}

	_, err = c.GetResource(ctx, "missing")
	isKind(t, err, cairn.NotExist, "GetResource(missing)")
	ok(t, c.DeleteResource(ctx, armID), "DeleteResource")
	_, err = c.GetResource(ctx, armID)
	isKind(t, err, cairn.NotExist, "GetResource after delete")
	isKind(t, c.DeleteResource(ctx, armID), cairn.NotExist, "DeleteResource twice")
}

func testVaults(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	region(t, c, "region-2")
	v := &catalog.Vault{
		ProjectID: w.project.ID, ResourceGroup: "rg", Name: "copy", Region: "region-2",
		SourceResourceID: w.resource.ID, SourceVaultID: w.vault.ID,
		Tags: map[string]string{"purpose": "dr"}, Attrs: json.RawMessage(`{"cbr":{"protect_type":"replication"}}`),
	}
	ok(t, c.PutVault(ctx, v), "PutVault")
	got, err := c.GetVault(ctx, v.ID)
	ok(t, err, "GetVault")
	same(t, "GetVault", got, v)
	recent(t, "Created", got.Created)

	v.Tags = map[string]string{"purpose": "dr", "tier": "cold"}
	v.Region = "region-1" // allowed: it holds no restore points
	ok(t, c.PutVault(ctx, v), "PutVault (replace)")
	got, err = c.GetVault(ctx, v.ID)
	ok(t, err, "GetVault")
	same(t, "GetVault after replace", got, v)

	isKind(t, c.PutVault(ctx, &catalog.Vault{ProjectID: w.project.ID, ResourceGroup: "rg", Name: "copy", Region: "region-1"}),
		cairn.Exist, "PutVault with a taken name")
	ok(t, c.PutVault(ctx, &catalog.Vault{ProjectID: w.project.ID, ResourceGroup: "other", Name: "copy", Region: "region-1"}),
		"PutVault with the name in another resource group")
	isKind(t, c.PutVault(ctx, &catalog.Vault{ProjectID: "nope", Name: "x", Region: "region-1"}), cairn.NotExist, "PutVault in a missing project")
	isKind(t, c.PutVault(ctx, &catalog.Vault{ProjectID: w.project.ID, Name: "x", Region: "mars"}), cairn.NotExist, "PutVault in a missing region")

	// A vault with restore points keeps its region and cannot be deleted.
	full := *w.vault
	full.Region = "region-2"
	isKind(t, c.PutVault(ctx, &full), cairn.Conflict, "PutVault moving a vault with points to another region")
	isKind(t, c.DeleteVault(ctx, w.vault.ID), cairn.Conflict, "DeleteVault with restore points")
	ok(t, c.DeleteRestorePoint(ctx, w.point.ID), "DeleteRestorePoint")
	ok(t, c.DeleteVault(ctx, w.vault.ID), "DeleteVault")
	_, err = c.GetVault(ctx, w.vault.ID)
	isKind(t, err, cairn.NotExist, "GetVault after delete")
	isKind(t, c.DeleteVault(ctx, w.vault.ID), cairn.NotExist, "DeleteVault twice")
}

func testRestorePoints(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	other := vaultFor(t, c, w.project.ID, "vault-2", w.region.Name, w.resource.ID)

	p := &catalog.RestorePoint{
		VaultID: w.vault.ID, Name: "rp-2024", ResourceID: w.resource.ID, ConsistencyMode: "ApplicationConsistent",
		ExcludedDisks: []string{"vm-1-data"},
		Metadata:      json.RawMessage(`{"hardwareProfile":{"vmSize":"Standard_D2s_v3"},"storageProfile":{"osDisk":{"name":"vm-1-os"}}}`),
	}
	ok(t, c.PutRestorePoint(ctx, p), "PutRestorePoint")
	if p.State != catalog.PointCreating {
		t.Errorf("a new restore point is %q, want %q", p.State, catalog.PointCreating)
	}
	if p.ProjectID != w.project.ID {
		t.Errorf("ProjectID = %q, want the vault's %q", p.ProjectID, w.project.ID)
	}
	got, err := c.GetRestorePoint(ctx, p.ID)
	ok(t, err, "GetRestorePoint")
	same(t, "GetRestorePoint", got, p)

	// The point is committed to the vault, then a copy of it fails.
	p.State, p.VaultPointID = catalog.PointSucceeded, "0123456789abcdef0123456789abcdef"
	ok(t, c.PutRestorePoint(ctx, p), "PutRestorePoint (succeeded)")
	cp := &catalog.RestorePoint{VaultID: other.ID, Name: "rp-2024", SourcePointID: p.ID, State: catalog.PointFailed,
		FailureReason: "region-2 is out of space", Created: p.Created.Add(time.Second)}
	ok(t, c.PutRestorePoint(ctx, cp), "PutRestorePoint with the name in another vault")
	got, err = c.GetRestorePoint(ctx, cp.ID)
	ok(t, err, "GetRestorePoint(copy)")
	same(t, "GetRestorePoint(copy)", got, cp)

	isKind(t, c.PutRestorePoint(ctx, &catalog.RestorePoint{VaultID: w.vault.ID, Name: "rp-2024"}), cairn.Exist, "PutRestorePoint with a taken name")
	isKind(t, c.PutRestorePoint(ctx, &catalog.RestorePoint{VaultID: "nope", Name: "x"}), cairn.NotExist, "PutRestorePoint in a missing vault")
	isKind(t, c.PutRestorePoint(ctx, &catalog.RestorePoint{VaultID: w.vault.ID, Name: "x", State: "exploded"}), cairn.Invalid, "PutRestorePoint with a bad state")
	q := project(t, c, "q")
	isKind(t, c.PutRestorePoint(ctx, &catalog.RestorePoint{VaultID: w.vault.ID, ProjectID: q.ID, Name: "x"}), cairn.Invalid, "PutRestorePoint claiming another project")
	moved := *p
	moved.VaultID = other.ID
	moved.Name = "moved"
	isKind(t, c.PutRestorePoint(ctx, &moved), cairn.Invalid, "PutRestorePoint moving it to another vault")

	// Deleting a point deletes its disks.
	d := disk(t, c, p.ID, "vm-1-os")
	ok(t, c.DeleteRestorePoint(ctx, p.ID), "DeleteRestorePoint")
	_, err = c.GetRestorePoint(ctx, p.ID)
	isKind(t, err, cairn.NotExist, "GetRestorePoint after delete")
	_, err = c.GetDiskRestorePoint(ctx, d.ID)
	isKind(t, err, cairn.NotExist, "GetDiskRestorePoint after its point's delete")
	isKind(t, c.DeleteRestorePoint(ctx, p.ID), cairn.NotExist, "DeleteRestorePoint twice")
}

func testDiskRestorePoints(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	d := &catalog.DiskRestorePoint{
		RestorePointID: w.point.ID, DiskName: "vm-1-data", Size: 20 << 30,
		ReplicationState: catalog.ReplicationCopying, BytesDone: 5 << 30, BytesTotal: 20 << 30,
		Attrs: json.RawMessage(`{"sourceDiskId":"/subscriptions/x/disks/vm-1-data"}`),
	}
	ok(t, c.PutDiskRestorePoint(ctx, d), "PutDiskRestorePoint")
	if d.ProjectID != w.project.ID {
		t.Errorf("ProjectID = %q, want the point's %q", d.ProjectID, w.project.ID)
	}
	got, err := c.GetDiskRestorePoint(ctx, d.ID)
	ok(t, err, "GetDiskRestorePoint")
	same(t, "GetDiskRestorePoint", got, d)
	if got.Percent() != 25 {
		t.Errorf("Percent = %d, want 25", got.Percent())
	}
	d.BytesDone, d.ReplicationState = d.BytesTotal, catalog.ReplicationSucceeded
	ok(t, c.PutDiskRestorePoint(ctx, d), "PutDiskRestorePoint (replace)")
	got, err = c.GetDiskRestorePoint(ctx, d.ID)
	ok(t, err, "GetDiskRestorePoint")
	same(t, "GetDiskRestorePoint after replace", got, d)
	if got.Percent() != 100 {
		t.Errorf("Percent = %d, want 100", got.Percent())
	}

	isKind(t, c.PutDiskRestorePoint(ctx, &catalog.DiskRestorePoint{RestorePointID: w.point.ID, DiskName: "vm-1-data"}), cairn.Exist, "a disk twice in one point")
	isKind(t, c.PutDiskRestorePoint(ctx, &catalog.DiskRestorePoint{RestorePointID: "nope", DiskName: "x"}), cairn.NotExist, "a disk of a missing point")
	isKind(t, c.PutDiskRestorePoint(ctx, &catalog.DiskRestorePoint{RestorePointID: w.point.ID, DiskName: "x", ReplicationState: "warp"}), cairn.Invalid, "a bad replication state")
	isKind(t, c.PutDiskRestorePoint(ctx, &catalog.DiskRestorePoint{RestorePointID: w.point.ID, DiskName: "x", Size: -1}), cairn.Invalid, "a negative size")

	ds, _, err := c.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{RestorePointID: w.point.ID}, catalog.Page{})
	ok(t, err, "ListDiskRestorePoints")
	if len(ds) != 2 || ds[0].ID != w.disk.ID || ds[1].ID != d.ID {
		t.Errorf("ListDiskRestorePoints = %d disks, want %s then %s", len(ds), w.disk.ID, d.ID)
	}
	ok(t, c.DeleteDiskRestorePoint(ctx, d.ID), "DeleteDiskRestorePoint")
	_, err = c.GetDiskRestorePoint(ctx, d.ID)
	isKind(t, err, cairn.NotExist, "GetDiskRestorePoint after delete")
	isKind(t, c.DeleteDiskRestorePoint(ctx, d.ID), cairn.NotExist, "DeleteDiskRestorePoint twice")
}

func testDeleteProject(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	secret, err := c.CreateToken(ctx, &catalog.Token{ProjectID: w.project.ID, Name: "t"})
	ok(t, err, "CreateToken")
	done := operation(t, c, w.project.ID, "backup", w.resource.ID)
	_, err = c.CancelOperation(ctx, done.ID)
	ok(t, err, "CancelOperation")
	active := operation(t, c, w.project.ID, "backup", w.resource.ID)

	isKind(t, c.DeleteProject(ctx, w.project.ID), cairn.Conflict, "DeleteProject with resources, vaults, operations")
	isKind(t, c.DeleteResource(ctx, w.resource.ID), cairn.Conflict, "DeleteResource while an operation holds it")
	_, err = c.CancelOperation(ctx, active.ID)
	ok(t, err, "CancelOperation")
	ok(t, c.DeleteResource(ctx, w.resource.ID), "DeleteResource")
	isKind(t, c.DeleteProject(ctx, w.project.ID), cairn.Conflict, "DeleteProject with a vault")
	ok(t, c.DeleteRestorePoint(ctx, w.point.ID), "DeleteRestorePoint")
	ok(t, c.DeleteVault(ctx, w.vault.ID), "DeleteVault")
	ok(t, c.DeleteProject(ctx, w.project.ID), "DeleteProject")

	_, err = c.Authenticate(ctx, secret)
	isKind(t, err, cairn.Permission, "Authenticate with a token of a deleted project")
	_, err = c.GetOperation(ctx, done.ID)
	isKind(t, err, cairn.NotExist, "GetOperation of a deleted project")
}
