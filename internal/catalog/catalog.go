package catalog

import (
	"context"
	"time"
)

// Page asks a List method for one page of results.
type Page struct {
	Token string // "" for the first page, else the next token of the previous page
	Size  int    // items per page; 0 means DefaultPageSize; larger than MaxPageSize means MaxPageSize
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Limit returns the page size to use for p.
func (p Page) Limit() int {
	switch {
	case p.Size <= 0:
		return DefaultPageSize
	case p.Size > MaxPageSize:
		return MaxPageSize
	}
	return p.Size
}

// ProjectFilter selects projects. Empty fields select everything.
type ProjectFilter struct {
	Name string
}

// TokenFilter selects tokens. Empty fields select everything.
type TokenFilter struct {
	ProjectID string
}

// RegionFilter selects regions. It has no fields yet: every region is
// listed.
type RegionFilter struct{}

// ResourceFilter selects resources. Empty fields select everything.
type ResourceFilter struct {
	ProjectID     string
	ResourceGroup string
	Name          string
	Kind          string
	Region        string
}

// VaultFilter selects vaults. Empty fields select everything.
type VaultFilter struct {
	ProjectID        string
	ResourceGroup    string
	Name             string
	Region           string
	SourceResourceID string
	SourceVaultID    string
}

// RestorePointFilter selects restore points. Empty fields select
// everything.
type RestorePointFilter struct {
	ProjectID     string
	VaultID       string
	Name          string
	ResourceID    string
	VaultPointID  string
	SourcePointID string
	State         PointState
}

// DiskRestorePointFilter selects disk restore points. Empty fields select
// everything.
type DiskRestorePointFilter struct {
	ProjectID      string
	RestorePointID string
	DiskName       string
}

// OperationFilter selects operations. Empty fields select everything;
// States selects operations in any of the states given.
type OperationFilter struct {
	ProjectID  string
	Kind       string
	TargetID   string
	ResourceID string
	States     []OpState
}

// Tx reads and changes the catalog. Inside [Catalog.Update] every change
// made through the Tx commits or rolls back together; the Catalog itself
// is also a Tx whose every call is its own transaction.
//
// Get methods return an error of kind cairn.NotExist for a missing record.
// Put methods create a record, or replace the one with the same ID; when
// ID is empty they assign a new one, and when Created is zero they set it
// (a replace keeps the stored Created). They write the assigned fields back
// into the record passed in. A Put fails with cairn.Invalid for a missing
// required field or a change of the owning project or parent, with
// cairn.NotExist when the parent (project, region, vault, restore point)
// does not exist, and with cairn.Exist when the name is taken in its
// scope. Delete methods fail with cairn.NotExist for a missing record and
// with cairn.Conflict while other records depend on it.
//
// List methods return up to page.Limit() records matching the filter, in
// a stable order (creation time, then id; regions by name), and the token
// of the next page, which is "" exactly when there are no more records. A
// malformed token is cairn.Invalid.
type Tx interface {
	// GetProject returns a project by id.
	GetProject(ctx context.Context, id string) (*Project, error)
	// PutProject creates or replaces a project. Its name is unique.
	PutProject(ctx context.Context, p *Project) error
	// ListProjects lists projects.
	ListProjects(ctx context.Context, f ProjectFilter, page Page) ([]*Project, string, error)
	// DeleteProject deletes a project with its tokens and finished
	// operations. It fails with cairn.Conflict while the project has
	// resources, vaults or active operations.
	DeleteProject(ctx context.Context, id string) error

	// CreateToken creates a token for t.ProjectID and returns its secret,
	// which is not stored and cannot be had again. It sets t.Hash, and ID
	// and Created as Put does. The name is unique within the project.
	CreateToken(ctx context.Context, t *Token) (secret string, err error)
	// GetToken returns a token by id.
	GetToken(ctx context.Context, id string) (*Token, error)
	// ListTokens lists tokens.
	ListTokens(ctx context.Context, f TokenFilter, page Page) ([]*Token, string, error)
	// DeleteToken deletes a token: its secret stops working at once.
	DeleteToken(ctx context.Context, id string) error

	// GetRegion returns a region by name.
	GetRegion(ctx context.Context, name string) (*Region, error)
	// PutRegion creates or replaces a region, keyed by name.
	PutRegion(ctx context.Context, r *Region) error
	// ListRegions lists regions by name.
	ListRegions(ctx context.Context, f RegionFilter, page Page) ([]*Region, string, error)
	// DeleteRegion deletes a region. It fails with cairn.Conflict while
	// resources or vaults are in it.
	DeleteRegion(ctx context.Context, name string) error

	// GetResource returns a resource by id.
	GetResource(ctx context.Context, id string) (*Resource, error)
	// PutResource creates or replaces a resource. Its project and region
	// must exist; its name is unique within (project, resource group,
	// kind); its disks' names are unique within it.
	PutResource(ctx context.Context, r *Resource) error
	// ListResources lists resources.
	ListResources(ctx context.Context, f ResourceFilter, page Page) ([]*Resource, string, error)
	// DeleteResource deletes a resource. Its vaults and restore points
	// stay: they outlive the machine they protect. It fails with
	// cairn.Conflict while an operation on the resource is active.
	DeleteResource(ctx context.Context, id string) error

	// GetVault returns a vault by id.
	GetVault(ctx context.Context, id string) (*Vault, error)
	// PutVault creates or replaces a vault. Its project and region must
	// exist; its name is unique within (project, resource group). Its
	// region cannot change while it holds restore points (cairn.Conflict).
	PutVault(ctx context.Context, v *Vault) error
	// ListVaults lists vaults.
	ListVaults(ctx context.Context, f VaultFilter, page Page) ([]*Vault, string, error)
	// DeleteVault deletes a vault. It fails with cairn.Conflict while the
	// vault holds restore points.
	DeleteVault(ctx context.Context, id string) error

	// GetRestorePoint returns a restore point by id.
	GetRestorePoint(ctx context.Context, id string) (*RestorePoint, error)
	// PutRestorePoint creates or replaces a restore point. Its vault must
	// exist and cannot change; ProjectID is set from the vault. Its name
	// is unique within the vault. An empty State is stored as
	// PointCreating.
	PutRestorePoint(ctx context.Context, p *RestorePoint) error
	// ListRestorePoints lists restore points.
	ListRestorePoints(ctx context.Context, f RestorePointFilter, page Page) ([]*RestorePoint, string, error)
	// DeleteRestorePoint deletes a restore point and its disk restore
	// points.
	DeleteRestorePoint(ctx context.Context, id string) error

	// GetDiskRestorePoint returns a disk restore point by id.
	GetDiskRestorePoint(ctx context.Context, id string) (*DiskRestorePoint, error)
	// PutDiskRestorePoint creates or replaces a disk restore point. Its
	// restore point must exist and cannot change; ProjectID is set from
	// it. DiskName is unique within the restore point.
	PutDiskRestorePoint(ctx context.Context, d *DiskRestorePoint) error
	// ListDiskRestorePoints lists disk restore points.
	ListDiskRestorePoints(ctx context.Context, f DiskRestorePointFilter, page Page) ([]*DiskRestorePoint, string, error)
	// DeleteDiskRestorePoint deletes a disk restore point.
	DeleteDiskRestorePoint(ctx context.Context, id string) error

	// CreateOperation queues a new operation: it sets ID (when empty),
	// State (OpQueued), Created and Attempt (0), and clears the lease,
	// Error, Result and progress times. Kind is required, and the project,
	// when given, must exist. If op.ResourceID is not empty and another
	// operation on that resource is active (queued or running), it fails
	// with cairn.Conflict: jobs on one resource are refused, not queued.
	CreateOperation(ctx context.Context, op *Operation) error
	// GetOperation returns an operation by id.
	GetOperation(ctx context.Context, id string) (*Operation, error)
	// ListOperations lists operations.
	ListOperations(ctx context.Context, f OperationFilter, page Page) ([]*Operation, string, error)
	// DeleteOperation deletes a finished operation. It fails with
	// cairn.Conflict while the operation is active.
	DeleteOperation(ctx context.Context, id string) error
	// CancelOperation cancels an operation and returns it as it is then.
	// A queued operation becomes OpCanceled at once; a running one gets
	// CancelRequested, which its runner learns from RenewLease and answers
	// by finishing it. Canceling a canceled operation changes nothing; a
	// succeeded or failed one is cairn.Conflict.
	CancelOperation(ctx context.Context, id string) (*Operation, error)
	// UpdateProgress records progress of a running operation held by
	// owner: each DiskProgress replaces the one of the same disk, or is
	// appended. It fails with cairn.Conflict when owner does not hold the
	// operation (the lease was lost) or it is not running.
	UpdateProgress(ctx context.Context, id, owner string, p ...DiskProgress) error
	// FinishOperation moves a running operation held by owner to the
	// final state out.State, sets Ended, Error and Result and clears the
	// lease. OpFailed needs out.Error. It fails with cairn.Conflict when
	// owner does not hold the operation or it is not running. Called
	// inside Update together with the changes the job made (a restore
	// point becoming PointSucceeded, say), both commit or neither.
	FinishOperation(ctx context.Context, id, owner string, out Outcome) error

	RecordTx
}

// Catalog is the metadata store. It is safe for concurrent use.
type Catalog interface {
	Tx

	// Update runs fn in one transaction: every change fn makes through tx
	// commits when fn returns nil, and none does when fn returns an error,
	// which Update returns unchanged. fn must use only tx, never the
	// Catalog (that may deadlock), and must have no effects outside tx:
	// an implementation may run it again after a serialization failure.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// Authenticate returns the token whose secret is secret. A secret
	// that matches no token, or an expired token's, fails with
	// cairn.Permission.
	Authenticate(ctx context.Context, secret string) (*Token, error)

	// ClaimOperation leases the oldest claimable operation to owner for
	// leaseFor and returns it: a queued one, or a running one whose lease
	// has expired (its runner died). The claimed operation is running,
	// its Attempt is one more, Started is set on the first claim, and no
	// other claimer gets it while the lease lasts. It returns nil and no
	// error when nothing is claimable.
	ClaimOperation(ctx context.Context, owner string, leaseFor time.Duration) (*Operation, error)

	// RenewLease extends owner's lease of a running operation to now +
	// leaseFor and returns the operation, whose CancelRequested tells the
	// runner to stop. It fails with cairn.Conflict when owner does not
	// hold the operation or it is not running, and cairn.NotExist when
	// there is no such operation.
	RenewLease(ctx context.Context, id, owner string, leaseFor time.Duration) (*Operation, error)

	// Close releases the catalog's resources. No call may follow it.
	Close() error
}

// RecordFilter selects records of one kind. Kind is required; the other
// fields, when not empty, must match.
type RecordFilter struct {
	Kind      string
	ProjectID string
	ParentID  string
	Key       string
}

// RecordTx is the part of Tx that keeps Records. Its methods follow the Tx
// rules: GetRecord of a missing record is cairn.NotExist; PutRecord
// creates or replaces (by Kind and ID), fails with cairn.Invalid for a
// missing Kind or ProjectID or a change of project, with cairn.NotExist
// for a missing project, and with cairn.Exist when another record of the
// Kind has the same non-empty Key; ListRecords lists by creation time,
// then id.
type RecordTx interface {
	// GetRecord returns the record of a kind by id.
	GetRecord(ctx context.Context, kind, id string) (*Record, error)
	// PutRecord creates or replaces a record.
	PutRecord(ctx context.Context, r *Record) error
	// ListRecords lists records of one kind.
	ListRecords(ctx context.Context, f RecordFilter, page Page) ([]*Record, string, error)
	// DeleteRecord deletes a record.
	DeleteRecord(ctx context.Context, kind, id string) error
}
