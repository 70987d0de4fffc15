package service

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/jobs"
	"github.com/cairn-vm/cairn/internal/vault"
)

// This file is the service's contract with the API dialects: the exported
// types and the method set of *Service. It only grows: fields and methods
// are added, never changed or removed.

// Caller is who makes a call: the project its token is scoped to, the
// token's id (for logs), and whether the token is an admin token. Every
// method takes a Caller and reaches only records of Caller.ProjectID:
// another project's record is reported as cairn.NotExist, exactly as if it
// were absent. Admin tokens may in addition manage projects and tokens of
// other projects; they reach no other project's resources.
type Caller struct {
	ProjectID string
	TokenID   string
	Admin     bool
}

// SystemCaller returns the Caller that local commands (cairn vm register,
// cairn token create) use on a data directory they own: an admin of
// projectID.
func SystemCaller(projectID string) Caller {
	return Caller{ProjectID: projectID, TokenID: "system", Admin: true}
}

// Operation kinds: the values of catalog.Operation.Kind that the service
// queues.
const (
	OpBackup      = "backup"       // make a restore point of a VM; TargetID: the restore point
	OpCopy        = "copy"         // copy a restore point to another region; TargetID: the new restore point
	OpRestoreDisk = "restore-disk" // write a disk image from a disk restore point; TargetID: the new volume
	OpDeletePoint = "delete-point" // delete a restore point; TargetID: the restore point
	OpDeleteVault = "delete-vault" // delete a vault and its restore points; TargetID: the vault
)

// Stable codes of catalog.OpError, for programs: the runner maps an
// error's cairn.Kind to one of these (see jobs.Code); handlers use a few
// more specific ones.
const (
	CodeInvalid     = jobs.CodeInvalid
	CodeNotFound    = jobs.CodeNotFound
	CodeConflict    = jobs.CodeConflict
	CodeCorrupt     = jobs.CodeCorrupt
	CodeIO          = jobs.CodeIO
	CodeCanceled    = jobs.CodeCanceled
	CodeUnsupported = jobs.CodeUnsupported
	CodeInternal    = jobs.CodeInternal
	CodePermission  = jobs.CodePermission
	CodeExist       = jobs.CodeExist
)

// Default names and settings.
const (
	// DefaultProjectName is the name of the project Bootstrap creates.
	DefaultProjectName = "default"
	// DefaultGrantTTL is the lifetime of a disk access grant when the
	// caller gives none.
	DefaultGrantTTL = time.Hour
	// MaxGrantTTL is the longest lifetime of a disk access grant.
	MaxGrantTTL = 7 * 24 * time.Hour
)

// DefaultRegions are the regions of a data directory when Config.Regions
// is empty: two, so that cross-region copy works out of the box.
var DefaultRegions = []string{"eastus", "westus"}

// Config configures Open. Only DataDir is required.
type Config struct {
	// DataDir holds everything: catalog.db, regions/<name>/vault (a local
	// vault per region, sealed by the passphrase in
	// regions/<name>/passphrase, mode 0600), regions/<name>/disks (disk
	// images restored there), tls/, admin-token, access-key (the HMAC key
	// of disk access grants) and runner-id.
	DataDir string
	// Regions names the regions; nil means DefaultRegions. A region that
	// is new gets a new vault; one that is no longer listed stays in the
	// catalog but its vault is not opened.
	Regions []string
	// Logger receives the service's and the runner's logs; nil discards.
	Logger *slog.Logger
	// Clock tells the time; nil is clock.Real.
	Clock clock.Clock

	// Copy tunes cross-region copies.
	Copy CopyConfig
	// Jobs tunes the runner that Start starts.
	Jobs JobsConfig
	// BackupRate caps the bytes per second a backup reads from a VM's
	// disks, all backups together; 0 = no limit.
	BackupRate int64
	// RestoreRate caps the bytes per second a restore-disk operation
	// writes, all together; 0 = no limit.
	RestoreRate int64
	// KDF sets the key derivation of new region vaults; nil is
	// vault.DefaultKDF. Tests use vault.TestKDF.
	KDF *vault.KDFParams
	// ChunkSize of new region vaults; 0 is vault.DefaultChunkSize.
	ChunkSize int
}

// CopyConfig tunes cross-region copies.
type CopyConfig struct {
	Workers    int   // chunks moved at once per copy; 0 = replicate.DefaultWorkers
	Rate       int64 // bytes per second stored in destinations, all copies together; 0 = no limit
	SkipVerify bool  // do not read the destination back before commit (the default verifies)
}

// JobsConfig tunes the operation runner.
type JobsConfig struct {
	Workers       int           // operations run at once; 0 = 4
	Lease         time.Duration // lease of a claimed operation; 0 = 15 s
	Poll          time.Duration // how often an idle runner looks for work; 0 = 1 s
	ProgressEvery time.Duration // how often progress is written to the catalog; 0 = 250 ms
}

// Paths are the files and directories of a data directory.
type Paths struct {
	DataDir    string // the data directory
	Catalog    string // catalog.db
	TLSDir     string // tls/: the server's certificate and key
	AdminToken string // admin-token: the admin token's secret, mode 0600
	Regions    string // regions/: one directory per region
}

// BootstrapResult tells what Bootstrap did.
type BootstrapResult struct {
	// Project is the default project (created now or earlier).
	Project *catalog.Project
	// AdminToken is the admin token made now, nil when one existed.
	AdminToken *catalog.Token
	// AdminSecret is the admin token's secret, set only when the token was
	// made now: it cannot be had again. Bootstrap has also written it to
	// Paths.AdminToken.
	AdminSecret string
	// Created reports that this call created the default project.
	Created bool
}

// ProjectSpec describes a project to create.
type ProjectSpec struct {
	ID    string          // "" = a new UUID (an ARM subscription id)
	Name  string          // unique among projects
	Attrs json.RawMessage // dialect extras
}

// TokenSpec describes a token to create.
type TokenSpec struct {
	ProjectID string        // "" = the caller's project
	Name      string        // unique within the project
	Admin     bool          // may manage projects and tokens; only an admin may make one
	TTL       time.Duration // 0 = never expires
}

// DiskSpec is one disk of a VM to register.
type DiskSpec struct {
	Name string // unique within the VM; the rules of cairn.ValidateName
	// Path is the disk image: an absolute path of a readable regular file
	// or block device, or a file:// URI naming one.
	Path string
	Lun  int  // logical unit of a data disk
	OS   bool // the OS disk
}

// VMSpec describes a VM to register (or replace).
type VMSpec struct {
	// ID, when not empty, must be the ARM id that VMID makes of the
	// caller's project, ResourceGroup and Name (compared ignoring case).
	ID            string
	ResourceGroup string // required: ARM resource group
	Name          string // the rules of cairn.ValidateName
	Region        string // a known region
	Disks         []DiskSpec
	// Profile is the hardware, OS and storage profile as the dialect
	// reports it (ARM: {"hardwareProfile":…, "osProfile":…,
	// "storageProfile":…}); it is kept as given and becomes a restore
	// point's source metadata.
	Profile json.RawMessage
	Tags    map[string]string
	Attrs   json.RawMessage
}

// VMFilter selects VMs (and volumes) in lists. Empty fields select all.
type VMFilter struct {
	ResourceGroup string
	Region        string
	Name          string
}

// VaultSpec describes a vault (an ARM restorePointCollection, a CBR vault)
// to create or update.
type VaultSpec struct {
	// ID, when not empty, is the vault's id (e.g. its ARM id); "" gives
	// a new UUID, or keeps the id of the vault of the same resource group
	// and name.
	ID            string
	ResourceGroup string
	Name          string
	// Region: "" = the source VM's region (or required for a copy target
	// or a vault without a source).
	Region string
	// SourceResourceID is the VM whose restore points the vault holds
	// (a local collection). At most one of SourceResourceID and
	// SourceVaultID.
	SourceResourceID string
	// SourceVaultID makes the vault a cross-region copy target of that
	// vault, which must be in another region.
	SourceVaultID string
	Tags          map[string]string
	Attrs         json.RawMessage
}

// VaultFilter selects vaults in lists. Empty fields select all.
type VaultFilter struct {
	ResourceGroup    string
	Region           string
	SourceResourceID string
	SourceVaultID    string
}

// RestorePointSpec describes a restore point to create: either made from a
// VM (SourcePointID empty) or copied from a restore point in another
// region (SourcePointID set).
type RestorePointSpec struct {
	ID      string // "" = a new UUID
	VaultID string // the vault it goes in
	Name    string // unique within the vault
	// ResourceID is the VM to back up; "" = the vault's SourceResourceID.
	// Ignored for a copy.
	ResourceID string
	// ConsistencyMode: "" or a name vault.ParseConsistencyMode accepts.
	ConsistencyMode string
	// ExcludeDisks names disks of the VM to leave out.
	ExcludeDisks []string
	// SourcePointID makes this a copy of that restore point, which must be
	// in another region and restorable. When the vault is a copy target,
	// the source point must be in the vault it copies.
	SourcePointID string
	Attrs         json.RawMessage
}

// RestorePoint is a restore point with its disks, as Get and List return
// it.
type RestorePoint struct {
	*catalog.RestorePoint
	// Disks are its disk restore points. For a copy in progress, their
	// BytesDone and BytesTotal are the copy's live progress.
	Disks []*catalog.DiskRestorePoint
	// Operation is the operation that creates (or deletes) it, while one
	// is active, else the last one; nil for a point rebuilt from storage.
	Operation *catalog.Operation
	// Region is the region of its vault.
	Region string
	// Restorable: the point succeeded and, for a copy, every disk has
	// replicated. Only a restorable point can be read or restored.
	Restorable bool
}

// AccessGrant is a disk access grant: a token that lets its bearer read
// one disk restore point's bytes until Expires.
type AccessGrant struct {
	// Token is opaque and URL-safe; OpenDisk accepts it. It is signed
	// with the service's key, so it cannot be forged.
	Token              string
	DiskRestorePointID string
	Expires            time.Time
}

// DiskReader reads a disk restore point's raw bytes, fetching chunks from
// the vault on demand. ReadAt follows io.ReaderAt (parallel calls are
// allowed; a read past Size returns io.EOF); reads use the context given
// to OpenDisk. Close releases it.
type DiskReader interface {
	io.ReaderAt
	io.Closer
	// Size returns the disk's size in bytes.
	Size() int64
	// Name returns the disk's name.
	Name() string
}

// RestoreDiskSpec describes a new disk image made from a disk restore
// point (ARM: a disk with creationData.createOption Restore).
type RestoreDiskSpec struct {
	// ID, when not empty, must be the ARM id that DiskID makes of the
	// caller's project, ResourceGroup and Name (compared ignoring case).
	ID            string
	ResourceGroup string
	Name          string // the new volume's name; cairn.ValidateName rules
	// Region is where the image is written; "" = the restore point's
	// region.
	Region string
	// DiskRestorePointID is the disk restore point to restore.
	DiskRestorePointID string
	// Path, when not empty, is the absolute path of the image to write
	// (it must not exist); "" = <data>/regions/<region>/disks/<name>.raw.
	Path  string
	Tags  map[string]string
	Attrs json.RawMessage
}

// Volume is a disk (a catalog resource of kind volume) and the state of
// the operation that writes it.
type Volume struct {
	*catalog.Resource
	// State is "creating" while the image is written, "succeeded" when it
	// is complete, "failed" when its operation failed or was canceled.
	State string
	// Path is the image file.
	Path string
	// Operation is the operation that writes it, nil for a volume
	// registered otherwise.
	Operation *catalog.Operation
}

// Volume states.
const (
	VolumeCreating  = "creating"
	VolumeSucceeded = "succeeded"
	VolumeFailed    = "failed"
)

// OperationFilter selects operations in lists. Empty fields select all.
type OperationFilter struct {
	Kind       string
	TargetID   string
	ResourceID string
	States     []catalog.OpState
}

// BackupResult is the Result of a succeeded backup operation.
type BackupResult struct {
	RestorePointID string `json:"restorePointId"`
	VaultPointID   string `json:"vaultPointId"`
	BytesRead      int64  `json:"bytesRead"`
	NewBytes       int64  `json:"newBytes"` // sealed bytes stored
	NewChunks      int    `json:"newChunks"`
}

// CopyResult is the Result of a succeeded copy operation.
type CopyResult struct {
	RestorePointID string `json:"restorePointId"`
	VaultPointID   string `json:"vaultPointId"`
	BytesRead      int64  `json:"bytesRead"`    // sealed bytes fetched from the source region
	BytesWritten   int64  `json:"bytesWritten"` // sealed bytes stored in the destination region
	ChunksCopied   int64  `json:"chunksCopied"`
	ChunksSkipped  int64  `json:"chunksSkipped"`
	Verified       bool   `json:"verified"`
}

// RestoreDiskResult is the Result of a succeeded restore-disk operation.
type RestoreDiskResult struct {
	VolumeID string `json:"volumeId"`
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Written  int64  `json:"written"` // bytes of data written; the rest are holes
}

// RebuildReport tells what Rebuild did, per region.
type RebuildReport struct {
	// Projects and Vaults recreated from the tags of storage points.
	Projects []string
	Vaults   []string
	// Regions maps each region to what catalog.Rebuild did there.
	Regions map[string]*catalog.RebuildReport
}

// Methods of *Service. Unless a method's doc says otherwise, errors have a
// cairn kind: cairn.Invalid for a bad field (nothing is changed),
// cairn.NotExist for a missing record or one of another project,
// cairn.Exist for a name taken, cairn.Conflict for a busy resource or a
// state that forbids the call, cairn.Permission for a caller that may not
// make it.

// Paths returns the files and directories of the data directory.
func (s *Service) Paths() Paths { return s.paths }

// Bootstrap makes a fresh data directory ready to serve, and does nothing
// on one already bootstrapped: it creates the default project (named
// DefaultProjectName, its id a new UUID) when no project exists, and an
// admin token of that project when the project has no admin token, whose
// secret it writes to Paths.AdminToken (mode 0600) and returns once.
func (s *Service) Bootstrap(ctx context.Context) (*BootstrapResult, error) {
	return s.bootstrap(ctx)
}

// Authenticate returns the Caller of a token secret. A secret that matches
// no token, or an expired one, is cairn.Permission.
func (s *Service) Authenticate(ctx context.Context, secret string) (Caller, error) {
	return s.authenticate(ctx, secret)
}

// CreateProject creates a project. Admin only (else cairn.Permission).
func (s *Service) CreateProject(ctx context.Context, c Caller, spec ProjectSpec) (*catalog.Project, error) {
	return s.createProject(ctx, c, spec)
}

// GetProject returns a project: the caller's own, or any for an admin.
func (s *Service) GetProject(ctx context.Context, c Caller, id string) (*catalog.Project, error) {
	return s.getProject(ctx, c, id)
}

// ListProjects lists the projects the caller reaches: its own, or all for
// an admin.
func (s *Service) ListProjects(ctx context.Context, c Caller, page catalog.Page) ([]*catalog.Project, string, error) {
	return s.listProjects(ctx, c, page)
}

// CreateToken creates a token and returns it with its secret, which is
// stored only hashed and cannot be had again. A token for another project
// than the caller's, or an admin token, needs an admin caller
// (cairn.Permission).
func (s *Service) CreateToken(ctx context.Context, c Caller, spec TokenSpec) (*catalog.Token, string, error) {
	return s.createToken(ctx, c, spec)
}

// ListTokens lists the tokens of a project ("" = the caller's); another
// project's need an admin caller.
func (s *Service) ListTokens(ctx context.Context, c Caller, projectID string, page catalog.Page) ([]*catalog.Token, string, error) {
	return s.listTokens(ctx, c, projectID, page)
}

// DeleteToken deletes a token of the caller's project (any, for an
// admin): its secret stops working at once.
func (s *Service) DeleteToken(ctx context.Context, c Caller, id string) error {
	return s.deleteToken(ctx, c, id)
}

// ListRegions lists the regions, by name.
func (s *Service) ListRegions(ctx context.Context, c Caller) ([]*catalog.Region, error) {
	return s.listRegions(ctx, c)
}

// GetRegion returns a region by name; an unknown one is cairn.NotExist.
func (s *Service) GetRegion(ctx context.Context, c Caller, name string) (*catalog.Region, error) {
	return s.getRegion(ctx, c, name)
}

// RegisterVM registers a VM whose disks are image files, or replaces the
// registration of the VM of the same id, and reports whether it was
// created. Every field is checked before anything is stored: names
// (cairn.Invalid), the region (cairn.Invalid when unknown), the disks
// (at least one; names unique; each path a readable regular file or block
// device, not empty: cairn.Invalid or cairn.NotExist). Disk sizes are read
// from the images. Replacing a VM that an operation is using is
// cairn.Conflict.
func (s *Service) RegisterVM(ctx context.Context, c Caller, spec VMSpec) (*catalog.Resource, bool, error) {
	return s.registerVM(ctx, c, spec)
}

// GetVM returns a VM by id.
func (s *Service) GetVM(ctx context.Context, c Caller, id string) (*catalog.Resource, error) {
	return s.getVM(ctx, c, id)
}

// ListVMs lists the caller's VMs.
func (s *Service) ListVMs(ctx context.Context, c Caller, f VMFilter, page catalog.Page) ([]*catalog.Resource, string, error) {
	return s.listResources(ctx, c, catalog.KindVM, f, page)
}

// DeleteVM unregisters a VM; its images and its restore points stay. It is
// cairn.Conflict while an operation uses the VM.
func (s *Service) DeleteVM(ctx context.Context, c Caller, id string) error {
	return s.deleteResource(ctx, c, catalog.KindVM, id)
}

// PutVault creates a vault or updates the one of the same resource group
// and name (only its tags and attrs may change: another region or source
// is cairn.Conflict), and reports whether it was created. A source VM must
// exist (cairn.NotExist) and be in the vault's region (cairn.Invalid); a
// source vault must exist and be in another region (cairn.Invalid).
func (s *Service) PutVault(ctx context.Context, c Caller, spec VaultSpec) (*catalog.Vault, bool, error) {
	return s.putVault(ctx, c, spec)
}

// UpdateVaultTags replaces a vault's tags.
func (s *Service) UpdateVaultTags(ctx context.Context, c Caller, id string, tags map[string]string) (*catalog.Vault, error) {
	return s.updateVaultTags(ctx, c, id, tags)
}

// GetVault returns a vault by id.
func (s *Service) GetVault(ctx context.Context, c Caller, id string) (*catalog.Vault, error) {
	return s.getVault(ctx, c, id)
}

// FindVault returns the caller's vault of a resource group and name.
func (s *Service) FindVault(ctx context.Context, c Caller, resourceGroup, name string) (*catalog.Vault, error) {
	return s.findVault(ctx, c, resourceGroup, name)
}

// ListVaults lists the caller's vaults.
func (s *Service) ListVaults(ctx context.Context, c Caller, f VaultFilter, page catalog.Page) ([]*catalog.Vault, string, error) {
	return s.listVaults(ctx, c, f, page)
}

// DeleteVault queues an operation that deletes the vault's restore points
// (from the region's storage too) and then the vault, and returns it. A
// vault with an active operation on one of its points, or that another
// vault copies, is cairn.Conflict. The vault is gone from lists and Get
// once the operation succeeds.
func (s *Service) DeleteVault(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return s.deleteVault(ctx, c, id)
}

// CreateRestorePoint creates a restore point in state creating and queues
// the operation that makes it: a backup of the VM, or a copy of
// spec.SourcePointID from another region. It returns both. Errors, with
// nothing created: bad names or fields (cairn.Invalid); an unknown vault,
// VM or source point (cairn.NotExist); a disk to exclude that the VM lacks,
// all disks excluded, a source point in the vault's own region, or one that
// is not restorable (cairn.Invalid); a name taken in the vault
// (cairn.Exist); another operation running on the VM (cairn.Conflict).
//
// A copy's point becomes succeeded as soon as the copy has started; its
// disks then show replication progress, and it is Restorable only when
// every disk has replicated.
func (s *Service) CreateRestorePoint(ctx context.Context, c Caller, spec RestorePointSpec) (*RestorePoint, *catalog.Operation, error) {
	return s.createRestorePoint(ctx, c, spec)
}

// GetRestorePoint returns a restore point with its disks and progress.
func (s *Service) GetRestorePoint(ctx context.Context, c Caller, id string) (*RestorePoint, error) {
	return s.getRestorePoint(ctx, c, id)
}

// FindRestorePoint returns the restore point of a vault by name.
func (s *Service) FindRestorePoint(ctx context.Context, c Caller, vaultID, name string) (*RestorePoint, error) {
	return s.findRestorePoint(ctx, c, vaultID, name)
}

// ListRestorePoints lists a vault's restore points ("" = all the caller's),
// with their disks.
func (s *Service) ListRestorePoints(ctx context.Context, c Caller, vaultID string, page catalog.Page) ([]*RestorePoint, string, error) {
	return s.listRestorePoints(ctx, c, vaultID, page)
}

// DeleteRestorePoint marks a restore point deleting and queues the
// operation that deletes it, from storage too. A point with an active
// operation (being made or copied) is cairn.Conflict; so is one that a
// copy in progress reads.
func (s *Service) DeleteRestorePoint(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return s.deleteRestorePoint(ctx, c, id)
}

// GetDiskRestorePoint returns a disk restore point, with live replication
// progress while its point is being copied.
func (s *Service) GetDiskRestorePoint(ctx context.Context, c Caller, id string) (*catalog.DiskRestorePoint, error) {
	return s.getDiskRestorePoint(ctx, c, id)
}

// FindDiskRestorePoint returns the disk restore point of a restore point
// by disk name.
func (s *Service) FindDiskRestorePoint(ctx context.Context, c Caller, pointID, diskName string) (*catalog.DiskRestorePoint, error) {
	return s.findDiskRestorePoint(ctx, c, pointID, diskName)
}

// GrantDiskAccess returns a signed token that lets its bearer read a disk
// restore point's bytes through OpenDisk for ttl (0 = DefaultGrantTTL; more
// than MaxGrantTTL is cairn.Invalid). The point must be restorable
// (cairn.Conflict). A new grant does not revoke earlier ones.
func (s *Service) GrantDiskAccess(ctx context.Context, c Caller, diskRestorePointID string, ttl time.Duration) (*AccessGrant, error) {
	return s.grantDiskAccess(ctx, c, diskRestorePointID, ttl)
}

// RevokeDiskAccess revokes every grant of a disk restore point made so
// far: their tokens stop working at once.
func (s *Service) RevokeDiskAccess(ctx context.Context, c Caller, diskRestorePointID string) error {
	return s.revokeDiskAccess(ctx, c, diskRestorePointID)
}

// OpenDisk opens the disk restore point that a grant token names. A token
// that is malformed or forged is cairn.Permission; an expired or revoked
// one, cairn.Permission too; a deleted point, cairn.NotExist. The reader
// fetches chunks from the vault as it reads, with ctx.
func (s *Service) OpenDisk(ctx context.Context, token string) (DiskReader, error) {
	return s.openDisk(ctx, token)
}

// RestoreDisk registers a new volume and queues the restore-disk operation
// that writes its image from a disk restore point; it returns both. The
// point must be restorable (cairn.Conflict); the name is unique among the
// caller's volumes of the resource group (cairn.Exist); a given Path must
// be absolute and not exist (cairn.Invalid, cairn.Exist).
func (s *Service) RestoreDisk(ctx context.Context, c Caller, spec RestoreDiskSpec) (*Volume, *catalog.Operation, error) {
	return s.restoreDisk(ctx, c, spec)
}

// GetVolume returns a volume by id.
func (s *Service) GetVolume(ctx context.Context, c Caller, id string) (*Volume, error) {
	return s.getVolume(ctx, c, id)
}

// ListVolumes lists the caller's volumes.
func (s *Service) ListVolumes(ctx context.Context, c Caller, f VMFilter, page catalog.Page) ([]*Volume, string, error) {
	return s.listVolumes(ctx, c, f, page)
}

// DeleteVolume deletes a volume and, when the service wrote it into the
// region's disks directory, its image. It is cairn.Conflict while its
// operation is active.
func (s *Service) DeleteVolume(ctx context.Context, c Caller, id string) error {
	return s.deleteVolume(ctx, c, id)
}

// GetOperation returns an operation by id.
func (s *Service) GetOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return s.getOperation(ctx, c, id)
}

// ListOperations lists the caller's operations, oldest first.
func (s *Service) ListOperations(ctx context.Context, c Caller, f OperationFilter, page catalog.Page) ([]*catalog.Operation, string, error) {
	return s.listOperations(ctx, c, f, page)
}

// CancelOperation cancels an operation: a queued one at once, a running
// one as soon as its runner sees the request (it then finishes canceled,
// and what it was making fails with the reason). Canceling a finished
// operation is cairn.Conflict, a canceled one changes nothing.
func (s *Service) CancelOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return s.cancelOperation(ctx, c, id)
}

// WaitOperation polls an operation until it is final or ctx is done, and
// returns it as it is then.
func (s *Service) WaitOperation(ctx context.Context, c Caller, id string) (*catalog.Operation, error) {
	return s.waitOperation(ctx, c, id)
}

// Rebuild makes the catalog's restore points agree with the regions'
// vaults (cairn catalog rebuild): projects and vaults named by the tags
// of storage points are recreated when missing, then catalog.Rebuild runs
// per region. Local use only: it takes no Caller.
func (s *Service) Rebuild(ctx context.Context, opts catalog.RebuildOptions) (*RebuildReport, error) {
	return s.rebuild(ctx, opts)
}

// VMID returns the ARM id of a VM: the id under which the service stores
// it. The project id is the ARM subscription id.
func VMID(projectID, resourceGroup, name string) string {
	return armID(projectID, resourceGroup, "virtualMachines", name)
}

// DiskID returns the ARM id of a disk (a volume).
func DiskID(projectID, resourceGroup, name string) string {
	return armID(projectID, resourceGroup, "disks", name)
}

func armID(projectID, resourceGroup, typ, name string) string {
	return "/subscriptions/" + projectID + "/resourceGroups/" + resourceGroup + "/providers/Microsoft.Compute/" + typ + "/" + name
}
