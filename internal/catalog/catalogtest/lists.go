package catalogtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

func testValidation(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	bad := []struct {
		name string
		err  error
	}{
		{"project without a name", c.PutProject(ctx, &catalog.Project{})},
		{"project name with a control character", c.PutProject(ctx, &catalog.Project{Name: "a\x00b"})},
		{"project attrs not JSON", c.PutProject(ctx, &catalog.Project{Name: "x", Attrs: json.RawMessage(`{`)})},
		{"region without storage", c.PutRegion(ctx, &catalog.Region{Name: "r"})},
		{"resource of an unknown kind", c.PutResource(ctx, &catalog.Resource{ProjectID: w.project.ID, Name: "x", Kind: "toaster", Region: w.region.Name})},
		{"resource with a disk twice", c.PutResource(ctx, &catalog.Resource{ProjectID: w.project.ID, Name: "x", Kind: catalog.KindVM, Region: w.region.Name,
			Disks: []catalog.ResourceDisk{{Name: "d"}, {Name: "d"}}})},
		{"resource with a negative disk size", c.PutResource(ctx, &catalog.Resource{ProjectID: w.project.ID, Name: "x", Kind: catalog.KindVM, Region: w.region.Name,
			Disks: []catalog.ResourceDisk{{Name: "d", Size: -1}}})},
		{"resource profile not JSON", c.PutResource(ctx, &catalog.Resource{ProjectID: w.project.ID, Name: "x", Kind: catalog.KindVM, Region: w.region.Name,
			Profile: json.RawMessage(`nope`)})},
		{"vault without a name", c.PutVault(ctx, &catalog.Vault{ProjectID: w.project.ID, Region: w.region.Name})},
		{"vault without a project", c.PutVault(ctx, &catalog.Vault{Name: "v", Region: w.region.Name})},
		{"restore point without a name", c.PutRestorePoint(ctx, &catalog.RestorePoint{VaultID: w.vault.ID})},
		{"disk restore point without a disk", c.PutDiskRestorePoint(ctx, &catalog.DiskRestorePoint{RestorePointID: w.point.ID})},
		{"operation without a kind", c.CreateOperation(ctx, &catalog.Operation{ProjectID: w.project.ID})},
		{"operation created running", c.CreateOperation(ctx, &catalog.Operation{ProjectID: w.project.ID, Kind: "k", State: catalog.OpRunning})},
		{"operation params not JSON", c.CreateOperation(ctx, &catalog.Operation{ProjectID: w.project.ID, Kind: "k", Params: json.RawMessage(`[`)})},
	}
	for _, b := range bad {
		isKind(t, b.err, cairn.Invalid, "%s", b.name)
	}
	_, err := c.CreateToken(ctx, &catalog.Token{ProjectID: w.project.ID})
	isKind(t, err, cairn.Invalid, "token without a name")
	_, err = c.ClaimOperation(ctx, "", time.Minute)
	isKind(t, err, cairn.Invalid, "claim without an owner")
	_, err = c.ClaimOperation(ctx, "me", 0)
	isKind(t, err, cairn.Invalid, "claim without a lease")
	// Nothing invalid was stored.
	ps, _, err := c.ListProjects(ctx, catalog.ProjectFilter{}, catalog.Page{})
	ok(t, err, "ListProjects")
	ops, _, err := c.ListOperations(ctx, catalog.OperationFilter{}, catalog.Page{})
	ok(t, err, "ListOperations")
	if len(ps) != 1 || len(ops) != 0 {
		t.Errorf("invalid records were stored: %d projects, %d operations", len(ps), len(ops))
	}
}

// checkOrder fails unless keys are in ascending (created, id) order.
func checkOrder(t *testing.T, what string, created []time.Time, ids []string) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		a, b := created[i-1], created[i]
		if a.After(b) || a.Equal(b) && ids[i-1] >= ids[i] {
			t.Errorf("%s: item %d (%s, %s) is listed after (%s, %s)", what, i, b, ids[i], a, ids[i-1])
			return
		}
	}
}

func testPaging250(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	ok(t, c.DeleteRestorePoint(ctx, w.point.ID), "DeleteRestorePoint")
	tie := time.Now().Add(-time.Hour)
	want := map[string]bool{}
	ok(t, c.Update(ctx, func(tx catalog.Tx) error {
		for i := range 250 {
			p := &catalog.RestorePoint{VaultID: w.vault.ID, Name: fmt.Sprintf("rp-%03d", i)}
			if i%2 == 0 {
				p.Created = tie // many points created at the same instant: the id breaks the tie
			}
			if err := tx.PutRestorePoint(ctx, p); err != nil {
				return err
			}
			want[p.ID] = true
		}
		return nil
	}), "create 250 restore points")

	list := func(page catalog.Page) ([]*catalog.RestorePoint, string, error) {
		return c.ListRestorePoints(ctx, catalog.RestorePointFilter{VaultID: w.vault.ID}, page)
	}
	all, pages := pageAll(t, 100, list)
	if pages != 3 {
		t.Errorf("250 items in pages of 100 took %d pages, want 3", pages)
	}
	seen := map[string]int{}
	var created []time.Time
	var ids []string
	for _, p := range all {
		seen[p.ID]++
		created, ids = append(created, p.Created), append(ids, p.ID)
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("restore point %s listed %d times", id, seen[id])
		}
	}
	if len(all) != 250 || len(seen) != 250 {
		t.Errorf("listed %d items, %d distinct; want 250", len(all), len(seen))
	}
	checkOrder(t, "restore points", created, ids)

	first, next, err := list(catalog.Page{})
	ok(t, err, "list with the default page size")
	if len(first) != catalog.DefaultPageSize || next == "" {
		t.Errorf("default page: %d items, next %q; want %d and a next token", len(first), next, catalog.DefaultPageSize)
	}
	everything, next, err := list(catalog.Page{Size: catalog.MaxPageSize * 10})
	ok(t, err, "list with a huge page size")
	if len(everything) != 250 || next != "" {
		t.Errorf("huge page: %d items, next %q; want all 250 and no next token", len(everything), next)
	}
	// An exact multiple of the page size ends without an empty page.
	all, pages = pageAll(t, 125, list)
	if len(all) != 250 || pages != 2 {
		t.Errorf("pages of 125: %d items in %d pages, want 250 in 2", len(all), pages)
	}
}

// checkOnce fails unless ids holds each of want exactly once and nothing
// else.
func checkOnce(t *testing.T, what string, ids []string, want []string) {
	t.Helper()
	got := append([]string(nil), ids...)
	w := append([]string(nil), want...)
	sort.Strings(got)
	sort.Strings(w)
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Errorf("%s: listed %v, want each of %v once", what, got, w)
	}
}

func ids[T any](items []*T, id func(*T) string) []string {
	var out []string
	for _, x := range items {
		out = append(out, id(x))
	}
	return out
}

func testPagingEveryList(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	const n, size = 7, 3
	var projects, tokens, regions, resources, vaults, points, disks, ops []string
	w := newWorld(t, c, "p0")
	projects, regions = append(projects, w.project.ID), append(regions, w.region.Name)
	resources, vaults = append(resources, w.resource.ID), append(vaults, w.vault.ID)
	points, disks = append(points, w.point.ID), append(disks, w.disk.ID)
	for i := 1; i < n; i++ {
		projects = append(projects, project(t, c, fmt.Sprintf("p%d", i)).ID)
		regions = append(regions, region(t, c, fmt.Sprintf("r%d", i)).Name)
		resources = append(resources, resource(t, c, w.project.ID, fmt.Sprintf("vm%d", i), w.region.Name).ID)
		vaults = append(vaults, vaultFor(t, c, w.project.ID, fmt.Sprintf("v%d", i), w.region.Name, "").ID)
		points = append(points, point(t, c, w.vault.ID, fmt.Sprintf("rp%d", i)).ID)
		disks = append(disks, disk(t, c, w.point.ID, fmt.Sprintf("d%d", i)).ID)
	}
	for i := range n {
		tk := &catalog.Token{ProjectID: w.project.ID, Name: fmt.Sprintf("t%d", i)}
		_, err := c.CreateToken(ctx, tk)
		ok(t, err, "CreateToken")
		tokens = append(tokens, tk.ID)
		ops = append(ops, operation(t, c, w.project.ID, "k", "").ID)
	}
	all, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.Project, string, error) {
		return c.ListProjects(ctx, catalog.ProjectFilter{}, p)
	})
	checkOnce(t, "projects", ids(all, func(x *catalog.Project) string { return x.ID }), projects)
	tks, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.Token, string, error) {
		return c.ListTokens(ctx, catalog.TokenFilter{}, p)
	})
	checkOnce(t, "tokens", ids(tks, func(x *catalog.Token) string { return x.ID }), tokens)
	rs, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.Region, string, error) {
		return c.ListRegions(ctx, catalog.RegionFilter{}, p)
	})
	checkOnce(t, "regions", ids(rs, func(x *catalog.Region) string { return x.Name }), regions)
	res, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.Resource, string, error) {
		return c.ListResources(ctx, catalog.ResourceFilter{}, p)
	})
	checkOnce(t, "resources", ids(res, func(x *catalog.Resource) string { return x.ID }), resources)
	vs, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.Vault, string, error) {
		return c.ListVaults(ctx, catalog.VaultFilter{}, p)
	})
	checkOnce(t, "vaults", ids(vs, func(x *catalog.Vault) string { return x.ID }), vaults)
	ps, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.RestorePoint, string, error) {
		return c.ListRestorePoints(ctx, catalog.RestorePointFilter{}, p)
	})
	checkOnce(t, "restore points", ids(ps, func(x *catalog.RestorePoint) string { return x.ID }), points)
	ds, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
		return c.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{}, p)
	})
	checkOnce(t, "disk restore points", ids(ds, func(x *catalog.DiskRestorePoint) string { return x.ID }), disks)
	os, _ := pageAll(t, size, func(p catalog.Page) ([]*catalog.Operation, string, error) {
		return c.ListOperations(ctx, catalog.OperationFilter{}, p)
	})
	checkOnce(t, "operations", ids(os, func(x *catalog.Operation) string { return x.ID }), ops)
}

func testPagingWhileInserting(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	region(t, c, "r")
	var want []string
	for i := range 25 {
		want = append(want, vaultFor(t, c, p.ID, fmt.Sprintf("v%02d", i), "r", "").ID)
	}
	f := catalog.VaultFilter{ProjectID: p.ID}
	first, next, err := c.ListVaults(ctx, f, catalog.Page{Size: 10})
	ok(t, err, "ListVaults page 1")
	// Changes between pages: new vaults, and a replace of one already seen.
	for i := range 5 {
		vaultFor(t, c, p.ID, fmt.Sprintf("new%d", i), "r", "")
	}
	first[0].Tags = map[string]string{"changed": "yes"}
	ok(t, c.PutVault(ctx, first[0]), "PutVault (replace)")
	seen := ids(first, func(v *catalog.Vault) string { return v.ID })
	for next != "" {
		var page []*catalog.Vault
		page, next, err = c.ListVaults(ctx, f, catalog.Page{Size: 10, Token: next})
		ok(t, err, "ListVaults")
		seen = append(seen, ids(page, func(v *catalog.Vault) string { return v.ID })...)
	}
	count := map[string]int{}
	for _, id := range seen {
		count[id]++
	}
	for _, id := range want {
		if count[id] != 1 {
			t.Errorf("vault %s listed %d times while paging during changes", id, count[id])
		}
	}
	if len(seen) != len(count) {
		t.Errorf("paging during changes listed %d items, %d distinct", len(seen), len(count))
	}
}

func testBadPageToken(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	for _, tok := range []string{"garbage", "!!!", "eyJ4IjoxfQ"} {
		_, _, err := c.ListVaults(ctx, catalog.VaultFilter{ProjectID: w.project.ID}, catalog.Page{Token: tok})
		isKind(t, err, cairn.Invalid, "ListVaults with token %q", tok)
		_, _, err = c.ListRegions(ctx, catalog.RegionFilter{}, catalog.Page{Token: tok})
		isKind(t, err, cairn.Invalid, "ListRegions with token %q", tok)
		_, _, err = c.ListOperations(ctx, catalog.OperationFilter{}, catalog.Page{Token: tok})
		isKind(t, err, cairn.Invalid, "ListOperations with token %q", tok)
	}
}

func testFilters(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	region(t, c, "r2")
	vol := &catalog.Resource{ProjectID: w.project.ID, ResourceGroup: "rg2", Name: "vol", Kind: catalog.KindVolume, Region: "r2"}
	ok(t, c.PutResource(ctx, vol), "PutResource(volume)")
	copyVault := &catalog.Vault{ProjectID: w.project.ID, ResourceGroup: "rg", Name: "copy", Region: "r2", SourceVaultID: w.vault.ID}
	ok(t, c.PutVault(ctx, copyVault), "PutVault(copy)")
	done := &catalog.RestorePoint{VaultID: w.vault.ID, Name: "done", ResourceID: w.resource.ID, State: catalog.PointSucceeded, VaultPointID: "vp-1"}
	ok(t, c.PutRestorePoint(ctx, done), "PutRestorePoint")
	cp := &catalog.RestorePoint{VaultID: copyVault.ID, Name: "done", SourcePointID: done.ID}
	ok(t, c.PutRestorePoint(ctx, cp), "PutRestorePoint(copy)")
	disk(t, c, done.ID, "vm-1-os")

	resID := func(x *catalog.Resource) string { return x.ID }
	vaultID := func(x *catalog.Vault) string { return x.ID }
	pointID := func(x *catalog.RestorePoint) string { return x.ID }
	for _, tc := range []struct {
		f    catalog.ResourceFilter
		want []string
	}{
		{catalog.ResourceFilter{ProjectID: w.project.ID}, []string{w.resource.ID, vol.ID}},
		{catalog.ResourceFilter{Kind: catalog.KindVolume}, []string{vol.ID}},
		{catalog.ResourceFilter{Region: w.region.Name}, []string{w.resource.ID}},
		{catalog.ResourceFilter{ResourceGroup: "rg2"}, []string{vol.ID}},
		{catalog.ResourceFilter{ResourceGroup: "rg", Name: "vm-1"}, []string{w.resource.ID}},
		{catalog.ResourceFilter{ResourceGroup: "rg", Name: "vol"}, nil},
	} {
		got, _, err := c.ListResources(ctx, tc.f, catalog.Page{})
		ok(t, err, "ListResources(%+v)", tc.f)
		checkOnce(t, fmt.Sprintf("ListResources(%+v)", tc.f), ids(got, resID), tc.want)
	}
	for _, tc := range []struct {
		f    catalog.VaultFilter
		want []string
	}{
		{catalog.VaultFilter{ProjectID: w.project.ID}, []string{w.vault.ID, copyVault.ID}},
		{catalog.VaultFilter{Region: "r2"}, []string{copyVault.ID}},
		{catalog.VaultFilter{SourceResourceID: w.resource.ID}, []string{w.vault.ID}},
		{catalog.VaultFilter{SourceVaultID: w.vault.ID}, []string{copyVault.ID}},
		{catalog.VaultFilter{ResourceGroup: "rg", Name: "copy"}, []string{copyVault.ID}},
		{catalog.VaultFilter{ResourceGroup: "other", Name: "copy"}, nil},
	} {
		got, _, err := c.ListVaults(ctx, tc.f, catalog.Page{})
		ok(t, err, "ListVaults(%+v)", tc.f)
		checkOnce(t, fmt.Sprintf("ListVaults(%+v)", tc.f), ids(got, vaultID), tc.want)
	}
	for _, tc := range []struct {
		f    catalog.RestorePointFilter
		want []string
	}{
		{catalog.RestorePointFilter{ProjectID: w.project.ID}, []string{w.point.ID, done.ID, cp.ID}},
		{catalog.RestorePointFilter{VaultID: w.vault.ID}, []string{w.point.ID, done.ID}},
		{catalog.RestorePointFilter{State: catalog.PointSucceeded}, []string{done.ID}},
		{catalog.RestorePointFilter{State: catalog.PointCreating}, []string{w.point.ID, cp.ID}},
		{catalog.RestorePointFilter{ResourceID: w.resource.ID}, []string{done.ID}},
		{catalog.RestorePointFilter{VaultPointID: "vp-1"}, []string{done.ID}},
		{catalog.RestorePointFilter{SourcePointID: done.ID}, []string{cp.ID}},
		{catalog.RestorePointFilter{Name: "done"}, []string{done.ID, cp.ID}},
		{catalog.RestorePointFilter{VaultID: copyVault.ID, Name: "done"}, []string{cp.ID}},
	} {
		got, _, err := c.ListRestorePoints(ctx, tc.f, catalog.Page{})
		ok(t, err, "ListRestorePoints(%+v)", tc.f)
		checkOnce(t, fmt.Sprintf("ListRestorePoints(%+v)", tc.f), ids(got, pointID), tc.want)
	}
	ds, _, err := c.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{DiskName: "vm-1-os"}, catalog.Page{})
	ok(t, err, "ListDiskRestorePoints")
	if len(ds) != 2 {
		t.Errorf("ListDiskRestorePoints(disk vm-1-os) = %d, want 2", len(ds))
	}
	ps, _, err := c.ListProjects(ctx, catalog.ProjectFilter{Name: "nope"}, catalog.Page{})
	ok(t, err, "ListProjects")
	if len(ps) != 0 {
		t.Errorf("ListProjects(name nope) = %d projects", len(ps))
	}
}

func testProjectIsolation(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	worlds := []*world{newWorld(t, c, "a"), newWorld(t, c, "b")}
	for _, w := range worlds {
		_, err := c.CreateToken(ctx, &catalog.Token{ProjectID: w.project.ID, Name: "t"})
		ok(t, err, "CreateToken")
		operation(t, c, w.project.ID, "backup", w.resource.ID)
		// More of each, so that paging crosses into the other project's
		// records if a filter leaks.
		for i := range 3 {
			vaultFor(t, c, w.project.ID, fmt.Sprintf("extra-%d", i), w.region.Name, "")
			point(t, c, w.vault.ID, fmt.Sprintf("extra-%d", i))
		}
	}
	for _, w := range worlds {
		pid := w.project.ID
		check := func(what string, n int, projects []string) {
			t.Helper()
			if n == 0 {
				t.Errorf("project %s: no %s listed", w.project.Name, what)
			}
			for _, p := range projects {
				if p != pid {
					t.Errorf("project %s: %s of project %s listed", w.project.Name, what, p)
				}
			}
		}
		tks, _ := pageAll(t, 2, func(p catalog.Page) ([]*catalog.Token, string, error) {
			return c.ListTokens(ctx, catalog.TokenFilter{ProjectID: pid}, p)
		})
		check("tokens", len(tks), ids(tks, func(x *catalog.Token) string { return x.ProjectID }))
		rs, _ := pageAll(t, 2, func(p catalog.Page) ([]*catalog.Resource, string, error) {
			return c.ListResources(ctx, catalog.ResourceFilter{ProjectID: pid}, p)
		})
		check("resources", len(rs), ids(rs, func(x *catalog.Resource) string { return x.ProjectID }))
		vs, _ := pageAll(t, 2, func(p catalog.Page) ([]*catalog.Vault, string, error) {
			return c.ListVaults(ctx, catalog.VaultFilter{ProjectID: pid}, p)
		})
		check("vaults", len(vs), ids(vs, func(x *catalog.Vault) string { return x.ProjectID }))
		if len(vs) != 4 {
			t.Errorf("project %s: %d vaults listed, want 4", w.project.Name, len(vs))
		}
		ps, _ := pageAll(t, 2, func(p catalog.Page) ([]*catalog.RestorePoint, string, error) {
			return c.ListRestorePoints(ctx, catalog.RestorePointFilter{ProjectID: pid}, p)
		})
		check("restore points", len(ps), ids(ps, func(x *catalog.RestorePoint) string { return x.ProjectID }))
		if len(ps) != 4 {
			t.Errorf("project %s: %d restore points listed, want 4", w.project.Name, len(ps))
		}
		ds, _ := pageAll(t, 2, func(p catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
			return c.ListDiskRestorePoints(ctx, catalog.DiskRestorePointFilter{ProjectID: pid}, p)
		})
		check("disk restore points", len(ds), ids(ds, func(x *catalog.DiskRestorePoint) string { return x.ProjectID }))
		os, _ := pageAll(t, 2, func(p catalog.Page) ([]*catalog.Operation, string, error) {
			return c.ListOperations(ctx, catalog.OperationFilter{ProjectID: pid}, p)
		})
		check("operations", len(os), ids(os, func(x *catalog.Operation) string { return x.ProjectID }))
		// Names are scoped by project: both have "vault-1" in "rg".
		named, _, err := c.ListVaults(ctx, catalog.VaultFilter{ProjectID: pid, ResourceGroup: "rg", Name: "vault-1"}, catalog.Page{})
		ok(t, err, "ListVaults by name")
		if len(named) != 1 || named[0].ID != w.vault.ID {
			t.Errorf("project %s: vault-1 resolves to %d vaults, want its own %s", w.project.Name, len(named), w.vault.ID)
		}
	}
}
