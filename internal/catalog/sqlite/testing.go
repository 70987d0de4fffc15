package sqlite

import (
	"path/filepath"
	"testing"
)

// TestCatalog returns a new, empty catalog in a temporary directory, for
// tests of the packages that use a catalog. It is closed when the test
// ends.
func TestCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), Options{})
	if err != nil {
		t.Fatalf("open test catalog: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close test catalog: %v", err)
		}
	})
	return c
}
