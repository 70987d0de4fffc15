// Delegation of the catalog.Tx methods: reads go to the read pool, each
// write is its own transaction on the writer connection.

package sqlite

import (
	"context"

	"github.com/cairn-vm/cairn/internal/catalog"
)

// GetProject implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetProject(ctx context.Context, id string) (*catalog.Project, error) {
	return c.read().GetProject(ctx, id)
}

// ListProjects implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListProjects(ctx context.Context, f catalog.ProjectFilter, page catalog.Page) ([]*catalog.Project, string, error) {
	return c.read().ListProjects(ctx, f, page)
}

// GetToken implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetToken(ctx context.Context, id string) (*catalog.Token, error) {
	return c.read().GetToken(ctx, id)
}

// ListTokens implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListTokens(ctx context.Context, f catalog.TokenFilter, page catalog.Page) ([]*catalog.Token, string, error) {
	return c.read().ListTokens(ctx, f, page)
}

// GetRegion implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetRegion(ctx context.Context, name string) (*catalog.Region, error) {
	return c.read().GetRegion(ctx, name)
}

// ListRegions implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListRegions(ctx context.Context, f catalog.RegionFilter, page catalog.Page) ([]*catalog.Region, string, error) {
	return c.read().ListRegions(ctx, f, page)
}

// GetResource implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetResource(ctx context.Context, id string) (*catalog.Resource, error) {
	return c.read().GetResource(ctx, id)
}

// ListResources implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListResources(ctx context.Context, f catalog.ResourceFilter, page catalog.Page) ([]*catalog.Resource, string, error) {
	return c.read().ListResources(ctx, f, page)
}

// GetVault implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetVault(ctx context.Context, id string) (*catalog.Vault, error) {
	return c.read().GetVault(ctx, id)
}

// ListVaults implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListVaults(ctx context.Context, f catalog.VaultFilter, page catalog.Page) ([]*catalog.Vault, string, error) {
	return c.read().ListVaults(ctx, f, page)
}

// GetRestorePoint implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetRestorePoint(ctx context.Context, id string) (*catalog.RestorePoint, error) {
	return c.read().GetRestorePoint(ctx, id)
}

// ListRestorePoints implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListRestorePoints(ctx context.Context, f catalog.RestorePointFilter, page catalog.Page) ([]*catalog.RestorePoint, string, error) {
	return c.read().ListRestorePoints(ctx, f, page)
}

// GetDiskRestorePoint implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetDiskRestorePoint(ctx context.Context, id string) (*catalog.DiskRestorePoint, error) {
	return c.read().GetDiskRestorePoint(ctx, id)
}

// ListDiskRestorePoints implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListDiskRestorePoints(ctx context.Context, f catalog.DiskRestorePointFilter, page catalog.Page) ([]*catalog.DiskRestorePoint, string, error) {
	return c.read().ListDiskRestorePoints(ctx, f, page)
}

// GetOperation implements catalog.Tx; it reads from the read pool.
func (c *Catalog) GetOperation(ctx context.Context, id string) (*catalog.Operation, error) {
	return c.read().GetOperation(ctx, id)
}

// ListOperations implements catalog.Tx; it reads from the read pool.
func (c *Catalog) ListOperations(ctx context.Context, f catalog.OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error) {
	return c.read().ListOperations(ctx, f, page)
}

// PutProject implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutProject(ctx context.Context, p *catalog.Project) error {
	return c.update(ctx, func(t *txn) error { return t.PutProject(ctx, p) })
}

// DeleteProject implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteProject(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteProject(ctx, id) })
}

// CreateToken implements catalog.Tx in a transaction of its own.
func (c *Catalog) CreateToken(ctx context.Context, tk *catalog.Token) (string, error) {
	var out string
	err := c.update(ctx, func(t *txn) error {
		var err error
		out, err = t.CreateToken(ctx, tk)
		return err
	})
	return out, err
}

// DeleteToken implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteToken(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteToken(ctx, id) })
}

// PutRegion implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutRegion(ctx context.Context, r *catalog.Region) error {
	return c.update(ctx, func(t *txn) error { return t.PutRegion(ctx, r) })
}

// DeleteRegion implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteRegion(ctx context.Context, name string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteRegion(ctx, name) })
}

// PutResource implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutResource(ctx context.Context, r *catalog.Resource) error {
	return c.update(ctx, func(t *txn) error { return t.PutResource(ctx, r) })
}

// DeleteResource implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteResource(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteResource(ctx, id) })
}

// PutVault implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutVault(ctx context.Context, v *catalog.Vault) error {
	return c.update(ctx, func(t *txn) error { return t.PutVault(ctx, v) })
}

// DeleteVault implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteVault(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteVault(ctx, id) })
}

// PutRestorePoint implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutRestorePoint(ctx context.Context, p *catalog.RestorePoint) error {
	return c.update(ctx, func(t *txn) error { return t.PutRestorePoint(ctx, p) })
}

// DeleteRestorePoint implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteRestorePoint(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteRestorePoint(ctx, id) })
}

// PutDiskRestorePoint implements catalog.Tx in a transaction of its own.
func (c *Catalog) PutDiskRestorePoint(ctx context.Context, d *catalog.DiskRestorePoint) error {
	return c.update(ctx, func(t *txn) error { return t.PutDiskRestorePoint(ctx, d) })
}

// DeleteDiskRestorePoint implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteDiskRestorePoint(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteDiskRestorePoint(ctx, id) })
}

// CreateOperation implements catalog.Tx in a transaction of its own.
func (c *Catalog) CreateOperation(ctx context.Context, op *catalog.Operation) error {
	return c.update(ctx, func(t *txn) error { return t.CreateOperation(ctx, op) })
}

// DeleteOperation implements catalog.Tx in a transaction of its own.
func (c *Catalog) DeleteOperation(ctx context.Context, id string) error {
	return c.update(ctx, func(t *txn) error { return t.DeleteOperation(ctx, id) })
}

// CancelOperation implements catalog.Tx in a transaction of its own.
func (c *Catalog) CancelOperation(ctx context.Context, id string) (*catalog.Operation, error) {
	var out *catalog.Operation
	err := c.update(ctx, func(t *txn) error {
		var err error
		out, err = t.CancelOperation(ctx, id)
		return err
	})
	return out, err
}

// UpdateProgress implements catalog.Tx in a transaction of its own.
func (c *Catalog) UpdateProgress(ctx context.Context, id, owner string, p ...catalog.DiskProgress) error {
	return c.update(ctx, func(t *txn) error { return t.UpdateProgress(ctx, id, owner, p...) })
}

// FinishOperation implements catalog.Tx in a transaction of its own.
func (c *Catalog) FinishOperation(ctx context.Context, id, owner string, out catalog.Outcome) error {
	return c.update(ctx, func(t *txn) error { return t.FinishOperation(ctx, id, owner, out) })
}
