// Package catalogtest is the conformance suite for catalog.Catalog: every
// implementation runs [Run] from its tests, so that the SQLite catalog and
// a PostgreSQL one keep the same contract.
//
// The suite assumes nothing of the database underneath: it compares JSON
// fields as JSON values, times at microsecond precision in UTC, and
// empty maps and slices as nil, as the catalog package documents. It uses
// the real clock; the lease-expiry tests sleep for a fraction of a second.
package catalogtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// Run runs the conformance suite as parallel subtests of t. open must
// return a new, empty Catalog on the real clock each time it is called;
// Run closes it when the subtest ends and fails the subtest if Close
// fails.
func Run(t *testing.T, open func(t *testing.T) catalog.Catalog) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c catalog.Catalog)
	}{
		{"Projects", testProjects},
		{"Tokens", testTokens},
		{"TokenExpiry", testTokenExpiry},
		{"Regions", testRegions},
		{"Resources", testResources},
		{"Vaults", testVaults},
		{"RestorePoints", testRestorePoints},
		{"DiskRestorePoints", testDiskRestorePoints},
		{"DeleteProject", testDeleteProject},
		{"Validation", testValidation},
		{"Paging250", testPaging250},
		{"PagingEveryList", testPagingEveryList},
		{"PagingWhileInserting", testPagingWhileInserting},
		{"BadPageToken", testBadPageToken},
		{"Filters", testFilters},
		{"ProjectIsolation", testProjectIsolation},
		{"UpdateCommits", testUpdateCommits},
		{"UpdateRollsBack", testUpdateRollsBack},
		{"UpdateSerializes", testUpdateSerializes},
		{"CanceledContext", testCanceledContext},
		{"OperationCreate", testOperationCreate},
		{"OneActiveOperationPerResource", testOneActivePerResource},
		{"OneActiveOperationConcurrent", testOneActiveConcurrent},
		{"ClaimOrder", testClaimOrder},
		{"ClaimExclusive", testClaimExclusive},
		{"ClaimExpiredLease", testClaimExpiredLease},
		{"RenewLease", testRenewLease},
		{"Progress", testProgress},
		{"Finish", testFinish},
		{"FinishWithChangesIsAtomic", testFinishAtomic},
		{"Cancel", testCancel},
		{"DeleteOperation", testDeleteOperation},
		{"ListOperations", testListOperations},
		{"Records", testRecords},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := open(t)
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, c)
		})
	}
}

// ---- assertions

// ok fails the test now if err is not nil.
func ok(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// isKind fails the test unless err has the kind want.
func isKind(t *testing.T, err error, want cairn.Kind, format string, args ...any) {
	t.Helper()
	what := fmt.Sprintf(format, args...)
	if err == nil {
		t.Errorf("%s: no error, want kind %q", what, want)
		return
	}
	if got := cairn.KindOf(err); got != want {
		t.Errorf("%s: error %q has kind %q, want %q", what, err, got, want)
	}
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// canon puts the value v points to in the canonical form the catalog
// promises to keep: times in UTC at microsecond precision, JSON values
// re-encoded, empty maps and slices nil.
func canon(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			canon(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(catalog.Timestamp(v.Interface().(time.Time))))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				canon(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		if v.Type() == rawType {
			var x any
			if err := json.Unmarshal(v.Bytes(), &x); err != nil || x == nil {
				if x == nil && err == nil {
					v.SetZero()
				}
				return
			}
			b, _ := json.Marshal(x)
			v.SetBytes(b)
			return
		}
		for i := range v.Len() {
			canon(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
		}
	}
}

// canonical returns a canonical copy of *p.
func canonical[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := deepCopy(p)
	canon(reflect.ValueOf(c))
	return c
}

// deepCopy copies *p through JSON-free reflection so that canon does not
// change the caller's values.
func deepCopy[T any](p *T) *T {
	c := new(T)
	copyValue(reflect.ValueOf(c).Elem(), reflect.ValueOf(p).Elem())
	return c
}

func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Type().Elem())
		copyValue(n.Elem(), src.Elem())
		dst.Set(n)
	case reflect.Struct:
		if src.Type() == timeType {
			dst.Set(src)
			return
		}
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				copyValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyValue(n.Index(i), src.Index(i))
		}
		dst.Set(n)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		n := reflect.MakeMapWithSize(src.Type(), src.Len())
		for it := src.MapRange(); it.Next(); {
			n.SetMapIndex(it.Key(), it.Value())
		}
		dst.Set(n)
	default:
		dst.Set(src)
	}
}

// same fails the test unless got and want are equal in canonical form.
func same[T any](t *testing.T, what string, got, want *T) {
	t.Helper()
	g, w := canonical(got), canonical(want)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// recent fails the test unless tm was set by the catalog just now.
func recent(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.IsZero() {
		t.Errorf("%s: not set", what)
		return
	}
	if d := time.Since(tm); d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %s: not close to now", what, tm)
	}
}

// ---- fixtures

func project(t *testing.T, c catalog.Tx, name string) *catalog.Project {
	t.Helper()
	p := &catalog.Project{Name: name}
	ok(t, c.PutProject(t.Context(), p), "PutProject(%s)", name)
	return p
}

func region(t *testing.T, c catalog.Tx, name string) *catalog.Region {
	t.Helper()
	r := &catalog.Region{Name: name, Storage: "/srv/cairn/" + name}
	ok(t, c.PutRegion(t.Context(), r), "PutRegion(%s)", name)
	return r
}

func resource(t *testing.T, c catalog.Tx, projectID, name, reg string) *catalog.Resource {
	t.Helper()
	r := &catalog.Resource{
		ProjectID: projectID, ResourceGroup: "rg", Name: name, Kind: catalog.KindVM, Region: reg,
		Profile: json.RawMessage(`{"hardwareProfile":{"vmSize":"Standard_D2s_v3"}}`),
		Disks: []catalog.ResourceDisk{
			{Name: name + "-os", URI: "/vm/" + name + "/os.img", Size: 8 << 30, OS: true},
			{Name: name + "-data", URI: "/vm/" + name + "/data.img", Size: 16 << 30, Lun: 0},
		},
	}
	ok(t, c.PutResource(t.Context(), r), "PutResource(%s)", name)
	return r
}

func vaultFor(t *testing.T, c catalog.Tx, projectID, name, reg, resourceID string) *catalog.Vault {
	t.Helper()
	v := &catalog.Vault{ProjectID: projectID, ResourceGroup: "rg", Name: name, Region: reg, SourceResourceID: resourceID}
	ok(t, c.PutVault(t.Context(), v), "PutVault(%s)", name)
	return v
}

func point(t *testing.T, c catalog.Tx, vaultID, name string) *catalog.RestorePoint {
	t.Helper()
	p := &catalog.RestorePoint{VaultID: vaultID, Name: name, ConsistencyMode: "CrashConsistent"}
	ok(t, c.PutRestorePoint(t.Context(), p), "PutRestorePoint(%s)", name)
	return p
}

func disk(t *testing.T, c catalog.Tx, pointID, name string) *catalog.DiskRestorePoint {
	t.Helper()
	d := &catalog.DiskRestorePoint{RestorePointID: pointID, DiskName: name, Size: 1 << 30}
	ok(t, c.PutDiskRestorePoint(t.Context(), d), "PutDiskRestorePoint(%s)", name)
	return d
}

func operation(t *testing.T, c catalog.Tx, projectID, kind, resourceID string) *catalog.Operation {
	t.Helper()
	op := &catalog.Operation{ProjectID: projectID, Kind: kind, ResourceID: resourceID, TargetID: "target-" + kind}
	ok(t, c.CreateOperation(t.Context(), op), "CreateOperation(%s on %q)", kind, resourceID)
	return op
}

// world is a project with a region, a VM, a vault of it and one restore
// point with a disk.
type world struct {
	project  *catalog.Project
	region   *catalog.Region
	resource *catalog.Resource
	vault    *catalog.Vault
	point    *catalog.RestorePoint
	disk     *catalog.DiskRestorePoint
}

func newWorld(t *testing.T, c catalog.Tx, name string) *world {
	t.Helper()
	w := &world{project: project(t, c, name)}
	if r, err := c.GetRegion(t.Context(), "region-1"); err == nil {
		w.region = r
	} else {
		w.region = region(t, c, "region-1")
	}
	w.resource = resource(t, c, w.project.ID, "vm-1", w.region.Name)
	w.vault = vaultFor(t, c, w.project.ID, "vault-1", w.region.Name, w.resource.ID)
	w.point = point(t, c, w.vault.ID, "point-1")
	w.disk = disk(t, c, w.point.ID, "vm-1-os")
	return w
}

// pageAll lists every page of size size and returns the items and the
// number of pages.
func pageAll[T any](t *testing.T, size int, list func(catalog.Page) ([]*T, string, error)) ([]*T, int) {
	t.Helper()
	var all []*T
	pages := 0
	token := ""
	for {
		items, next, err := list(catalog.Page{Token: token, Size: size})
		ok(t, err, "list page %d", pages+1)
		pages++
		if len(items) > size {
			t.Fatalf("page %d has %d items, more than the page size %d", pages, len(items), size)
		}
		all = append(all, items...)
		if next == "" {
			return all, pages
		}
		if len(items) == 0 {
			t.Fatalf("page %d is empty but has a next token", pages)
		}
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
		token = next
	}
}

var errTest = errors.New("the test's own error")
