package service

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"time"

	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/cbrpolicy"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/jobs"
	"github.com/cairn-vm/cairn/internal/storage"
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
	// OpRestorePoint writes a restore point's disks over its VM's images
	// or into new images; TargetID: the restore point.
	OpRestorePoint = "restore-point"
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
	// Schedule tunes the scheduler of policies.
	Schedule ScheduleConfig
	// WrapStorage, when set, wraps the storage backend of each region's
	// vault as it is opened (a latency or fault injector in tests and
	// benchmarks).
	WrapStorage func(region string, b storage.Backend) storage.Backend
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
	Workers int // chunks moved at once per copy; 0 = replicate.DefaultWorkers
	// AcceleratedWorkers is Workers for an accelerated copy (CBR's
	// enable_acceleration): more parallel streams; 0 = 4 × Workers (4 ×
	// replicate.DefaultWorkers when Workers is 0).
	AcceleratedWorkers int
	Rate               int64 // bytes per second stored in destinations, all copies together; 0 = no limit
	SkipVerify         bool  // do not read the destination back before commit (the default verifies)
}

// ScheduleConfig tunes the scheduler that runs policies. It reads the time
// from Config.Clock, so a fake clock drives it in tests.
type ScheduleConfig struct {
	// Poll is the longest the scheduler sleeps before it reads the clock
	// again; 0 = schedule.DefaultPoll. Tests with a fake clock set a
	// short one.
	Poll time.Duration
	// Off turns scheduling off: policies are kept but never fire.
	Off bool
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
	// Resources are VMs to bind to a new vault (see BindResources), in
	// the same transaction; a vault that exists already is cairn.Exist.
	Resources []BindSpec
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
	// CopyWorkers is how many chunks a copy moves at once; 0 = the
	// service's CopyConfig.Workers. Ignored for a backup.
	CopyWorkers int
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

// --- AK/SK credentials

// AccessKey is an AK/SK credential of a project, for clients that sign
// requests (Huawei Cloud's SDKs, through the CBR dialect). Its ID is the
// access key id (AK); the secret key (SK) is kept sealed with a key of the
// data directory and shown once, by CreateAccessKey. One credential
// serves every regional project of its project.
type AccessKey struct {
	ID        string // the AK
	ProjectID string
	Name      string // unique within the project
	Created   time.Time
}

// AccessKeySpec describes a credential to create.
type AccessKeySpec struct {
	ProjectID string // "" = the caller's
	Name      string // unique within the project; the rules of a token name
}

// CreateAccessKey creates an AK/SK credential and returns it with its
// secret key, which cannot be had again. Admin only (cairn.Permission); a
// name taken in the project is cairn.Exist.
func (s *Service) CreateAccessKey(ctx context.Context, c Caller, spec AccessKeySpec) (*AccessKey, string, error) {
	return s.createAccessKey(ctx, c, spec)
}

// ListAccessKeys lists the credentials of a project ("" = the caller's;
// another project's need an admin), never their secrets.
func (s *Service) ListAccessKeys(ctx context.Context, c Caller, projectID string) ([]*AccessKey, error) {
	return s.listAccessKeys(ctx, c, projectID)
}

// DeleteAccessKey deletes a credential of the caller's project (any, for
// an admin): its signatures stop verifying at once.
func (s *Service) DeleteAccessKey(ctx context.Context, c Caller, ak string) error {
	return s.deleteAccessKey(ctx, c, ak)
}

// LookupAccessKey returns the secret key of an access key and the Caller
// it acts as (its project, not an admin), for a verifier of signed
// requests. An unknown AK is cairn.NotExist. It takes no Caller: the
// signature it serves to check is the credential.
func (s *Service) LookupAccessKey(ctx context.Context, ak string) (secretKey string, caller Caller, err error) {
	return s.lookupAccessKey(ctx, ak)
}

// --- regional projects

// RegionalProject is a project in one region: what Huawei Cloud calls a
// project (its project_id names one tenant in one region). The service's
// Project is the tenant; each (project, region) gets a RegionalProject
// with a stable id of 32 lower-case hex digits, made on first use.
type RegionalProject struct {
	ID        string // 32 lower-case hex digits
	ProjectID string // the tenant
	Region    string
}

// RegionalProjects returns the regional projects of a project ("" = the
// caller's; another's needs an admin), one per region the server serves,
// by region name, making those that do not exist yet.
func (s *Service) RegionalProjects(ctx context.Context, c Caller, projectID string) ([]*RegionalProject, error) {
	return s.regionalProjects(ctx, c, projectID)
}

// RegionalProject returns the caller's regional project in a region,
// making it on first use. A region the server does not serve is
// cairn.NotExist.
func (s *Service) RegionalProject(ctx context.Context, c Caller, region string) (*RegionalProject, error) {
	return s.regionalProject(ctx, c, region)
}

// ResolveRegionalProject returns the regional project of an id, for a
// dialect that finds the tenant and region from a URL. An id that names
// none is cairn.NotExist. It takes no Caller: the caller's right to the
// project is the dialect's check.
func (s *Service) ResolveRegionalProject(ctx context.Context, id string) (*RegionalProject, error) {
	return s.resolveRegional(ctx, id)
}

// --- resources bound to vaults

// BindSpec names a VM to bind to a vault.
type BindSpec struct {
	ResourceID string
	// ExcludeDisks are disks of the VM its backups leave out (CBR's
	// extra_info.exclude_volumes).
	ExcludeDisks []string
}

// VaultResource is a VM bound to a vault: the vault protects it, and
// takes restore points of it besides its SourceResourceID's. A VM is
// bound to one vault at most.
type VaultResource struct {
	VaultID      string
	ResourceID   string
	ExcludeDisks []string
	Created      time.Time
}

// BindResources binds VMs to a vault, all or none. Errors: a VM that does
// not exist (cairn.NotExist); one in another region (ErrRegionMismatch),
// named twice or bound to this vault already (ErrDuplicateResource), a
// disk to exclude it lacks, or all of its disks excluded (cairn.Invalid);
// one bound to another vault (ErrResourceInOtherVault, cairn.Exist); more
// than MaxVaultResources in all, or a copy-target vault (cairn.Invalid).
func (s *Service) BindResources(ctx context.Context, c Caller, vaultID string, specs []BindSpec) ([]*VaultResource, error) {
	return s.bindResources(ctx, c, vaultID, specs)
}

// UnbindResources unbinds VMs from a vault, all or none: a VM that is not
// bound to it is cairn.NotExist. Their restore points stay.
func (s *Service) UnbindResources(ctx context.Context, c Caller, vaultID string, resourceIDs []string) error {
	return s.unbindResources(ctx, c, vaultID, resourceIDs)
}

// ListVaultResources lists the VMs bound to a vault, in the order bound.
func (s *Service) ListVaultResources(ctx context.Context, c Caller, vaultID string) ([]*VaultResource, error) {
	return s.listVaultResources(ctx, c, vaultID)
}

// --- checkpoints

// Checkpoint states, CBR's: protecting while any of its restore points
// is being made, then available, or error if any failed; deleted once
// every restore point of it is gone.
const (
	CheckpointProtecting = "protecting"
	CheckpointAvailable  = "available"
	CheckpointError      = "error"
	CheckpointDeleted    = "deleted"
)

// Codes of SkippedResource: why a checkpoint left a resource out.
const (
	SkipBusy     = "ResourceBusy"     // another operation (a backup, a restore) runs on it
	SkipNotBound = "ResourceNotBound" // it is not bound to the vault
	SkipNotFound = "ResourceNotFound" // it is bound but no longer exists
)

// CheckpointResource names a VM a checkpoint is to back up.
type CheckpointResource struct {
	ResourceID string
	// ExcludeDisks, with OverrideExclude, replace the disks the binding
	// leaves out; without it the binding's are used.
	ExcludeDisks    []string
	OverrideExclude bool
}

// CheckpointSpec describes a checkpoint to make: one restore point of
// each VM, made at once, in a vault.
type CheckpointSpec struct {
	VaultID     string
	Name        string // the dialect's (CBR: 1 to 64 characters); kept as given
	Description string
	AutoTrigger bool   // made by a policy's schedule
	Incremental bool   // as asked; every backup stores only new chunks
	PolicyID    string // the policy that made it, if one
	// ConsistencyMode: "" or a name vault.ParseConsistencyMode accepts.
	ConsistencyMode string
	// Resources to back up; nil = every VM bound to the vault (or its
	// source VM when none is bound).
	Resources []CheckpointResource
}

// SkippedResource is a resource a checkpoint left out, and why.
type SkippedResource struct {
	ResourceID string `json:"resourceId"`
	Name       string `json:"name,omitempty"`
	Code       string `json:"code"` // SkipBusy, SkipNotBound, SkipNotFound
	Reason     string `json:"reason"`
}

// Checkpoint is a group of restore points, one per VM, made at once in a
// vault: a CBR checkpoint. Each of its restore points is an ordinary one
// (an ARM restorePoint) of its VM, named "cp-<checkpoint id>-<n>".
type Checkpoint struct {
	ID          string
	ProjectID   string
	VaultID     string
	Name        string
	Description string
	AutoTrigger bool
	Incremental bool
	PolicyID    string
	Created     time.Time
	State       string          // CheckpointProtecting, ...
	Points      []*RestorePoint // those not deleted
	Skipped     []SkippedResource
	// SourceCheckpointID is, for a checkpoint of replicas (made by
	// ReplicateVault in the destination vault), the one they copy.
	SourceCheckpointID string
}

// CreateCheckpoint queues a backup of each resource of spec and records
// them as one checkpoint. A resource that is not bound to the vault, or
// that another operation holds, is skipped (Checkpoint.Skipped); when
// every one is skipped nothing is made and the error is ErrResourceBusy
// (cairn.Conflict) if all were busy, else ErrNothingToBackUp
// (cairn.Invalid). A resource named twice is ErrDuplicateResource; bad
// fields and excluded disks are cairn.Invalid, as for CreateRestorePoint.
func (s *Service) CreateCheckpoint(ctx context.Context, c Caller, spec CheckpointSpec) (*Checkpoint, error) {
	return s.createCheckpoint(ctx, c, spec)
}

// GetCheckpoint returns a checkpoint with its restore points and state.
func (s *Service) GetCheckpoint(ctx context.Context, c Caller, id string) (*Checkpoint, error) {
	return s.getCheckpoint(ctx, c, id)
}

// ListCheckpoints lists the checkpoints of a vault ("" = all the
// caller's), oldest first.
func (s *Service) ListCheckpoints(ctx context.Context, c Caller, vaultID string, page catalog.Page) ([]*Checkpoint, string, error) {
	return s.listCheckpoints(ctx, c, vaultID, page)
}

// --- restoring a restore point

// RestoreSpec describes a restore of a restore point's disks: in place,
// over the images of the VM it was made of (ResourceID), or into new
// images in a directory (Dir). Exactly one of the two.
type RestoreSpec struct {
	PointID string
	// ResourceID must be the restore point's VM (else
	// ErrRestoreOtherServer): each disk's image is replaced by the
	// backup's, atomically (written beside it, then renamed over it).
	ResourceID string
	// Dir, an absolute path, receives <disk>.raw per disk; none may exist.
	Dir string
	// Disks maps disk names of the restore point to the VM's disks they
	// go to (in place; "" = the disk of the same name); nil = every disk.
	// For a Dir, only the keys count.
	Disks map[string]string
}

// RestorePoint queues the operation (OpRestorePoint) that restores a
// restore point and returns it. The point must be restorable
// (ErrNotRestorable, cairn.Conflict); in place, the VM must be idle
// (ErrResourceBusy, cairn.Conflict) and each target image a regular file
// at least the backup's size (ErrTargetTooSmall; cairn.Unsupported for a
// block device); for a Dir, no image may exist (cairn.Exist).
func (s *Service) RestorePoint(ctx context.Context, c Caller, spec RestoreSpec) (*catalog.Operation, error) {
	return s.restorePoint(ctx, c, spec)
}

// --- replication between regional projects

// ReplicationAgreement is a destination's consent to receive replicas: the
// owner of DestinationRegionalProjectID accepts replication from
// SourceRegionalProjectID (which may be its own project in another region,
// or another tenant's).
type ReplicationAgreement struct {
	ID                           string
	ProjectID                    string // the destination's owner, who recorded it
	SourceRegionalProjectID      string
	DestinationRegionalProjectID string
	Created                      time.Time
}

// AllowReplication records that the caller's regional project destID
// accepts replicas from the regional project srcID, and returns the
// agreement (the existing one, if there is one). destID must be the
// caller's (cairn.NotExist otherwise); srcID must exist and be in another
// region (ErrRegionMismatch).
func (s *Service) AllowReplication(ctx context.Context, c Caller, destID, srcID string) (*ReplicationAgreement, error) {
	return s.allowReplication(ctx, c, destID, srcID)
}

// ListReplicationAgreements lists the agreements the caller recorded, for
// one of its regional projects ("" = all).
func (s *Service) ListReplicationAgreements(ctx context.Context, c Caller, destID string) ([]*ReplicationAgreement, error) {
	return s.listAgreements(ctx, c, destID)
}

// DeleteReplicationAgreement withdraws an agreement: replications queued
// before go on, new ones are refused.
func (s *Service) DeleteReplicationAgreement(ctx context.Context, c Caller, id string) error {
	return s.deleteAgreement(ctx, c, id)
}

// ReplicateSpec describes a replication of a vault's restore points to a
// vault of a regional project in another region.
type ReplicateSpec struct {
	SourceVaultID                string
	DestinationRegionalProjectID string
	DestinationVaultID           string
	// PointIDs are the restore points to replicate; nil = every complete
	// restore point of the vault (not a replica itself) that has no copy
	// in the destination region yet.
	PointIDs    []string
	AutoTrigger bool   // made by a policy's schedule
	PolicyID    string // the policy, if one
	// Accelerate copies with CopyConfig.AcceleratedWorkers parallel
	// streams instead of Workers.
	Accelerate bool
}

// ReplicationRecord is one restore point's replication: its copy in the
// destination vault and the copy operation, which the caller owns.
type ReplicationRecord struct {
	SourcePointID string
	PointID       string // the replica
	OperationID   string
}

// Replication is what ReplicateVault queued.
type Replication struct {
	SourceVaultID                string
	SourceRegion                 string
	DestinationVaultID           string
	DestinationRegion            string
	DestinationProjectID         string // the destination's tenant
	DestinationRegionalProjectID string
	Records                      []ReplicationRecord
}

// ReplicateVault queues a copy (an OpCopy operation of the caller) of each
// restore point to replicate into the destination vault, which may belong
// to another project, and records the replicas of each checkpoint as a
// checkpoint of the destination vault. The destination must have agreed
// (ErrNoConsent, cairn.Permission); the destination vault must be in the
// destination regional project (cairn.NotExist) and region, which is not
// the source's (ErrRegionMismatch). When every point has been replicated to
// that region, or is being, it is ErrAlreadyReplicated (cairn.Conflict);
// when there is none, ErrNothingToReplicate (cairn.Invalid).
func (s *Service) ReplicateVault(ctx context.Context, c Caller, spec ReplicateSpec) (*Replication, error) {
	return s.replicateVault(ctx, c, spec)
}

// Replica is a copy of a restore point in another region.
type Replica struct {
	Point     *RestorePoint // with its copy operation
	VaultID   string
	ProjectID string
	Region    string
}

// PointReplicas lists the copies of one of the caller's restore points
// that the caller may see: in its own vaults, or made by its operations.
func (s *Service) PointReplicas(ctx context.Context, c Caller, pointID string) ([]*Replica, error) {
	return s.pointReplicas(ctx, c, pointID)
}

// --- policies

// Policy operation types.
const (
	PolicyBackup      = "backup"      // makes checkpoints of its vaults' resources
	PolicyReplication = "replication" // replicates its vaults' restore points
)

// PolicySpec describes a policy: a trigger (CBR's RRULE patterns, run on
// UTC wall-clock time by the service's scheduler) and what it does when it
// fires, with CBR's retention rules for what it made.
type PolicySpec struct {
	Name          string // 1 to 255 characters (dialects may be stricter)
	Enabled       bool
	OperationType string   // PolicyBackup or PolicyReplication
	Patterns      []string // see schedule.ParseTrigger
	StartTime     time.Time
	Retention     cbrpolicy.Retention
	// A replication policy's destination: a region and a regional
	// project there; Accelerate as in ReplicateSpec.
	DestinationRegion            string
	DestinationRegionalProjectID string
	Accelerate                   bool
}

// PolicyUpdate changes the fields of a policy that are not nil.
type PolicyUpdate struct {
	Name                         *string
	Enabled                      *bool
	Patterns                     []string
	StartTime                    *time.Time
	Retention                    *cbrpolicy.Retention
	DestinationRegion            *string
	DestinationRegionalProjectID *string
	Accelerate                   *bool
}

// PolicyVault is a vault a policy is associated with (and, for a
// replication policy, the vault its replicas go to).
type PolicyVault struct {
	VaultID            string
	DestinationVaultID string
}

// Policy is a policy as Get and List return it.
type Policy struct {
	ID                           string
	ProjectID                    string
	Name                         string
	Enabled                      bool
	OperationType                string
	Patterns                     []string
	StartTime                    time.Time
	Retention                    cbrpolicy.Retention
	DestinationRegion            string
	DestinationRegionalProjectID string
	Accelerate                   bool
	Created                      time.Time
	LastFired                    time.Time // the last firing handled; zero if none
	Vaults                       []PolicyVault
}

// PolicyFilter selects policies. Empty fields select all.
type PolicyFilter struct {
	OperationType string
	VaultID       string
}

// CreatePolicy creates a policy and schedules it. Its fields are checked
// first (cairn.Invalid): the name, the type, the patterns (see
// schedule.ParseTrigger), the retention (cbrpolicy.Retention.Validate), a
// replication policy's destination region and project (which must be in
// that region: ErrRegionMismatch).
//
// When it fires, a backup policy makes a checkpoint of each of its vaults
// (AutoTrigger, named "autobk_<time>") and a replication policy replicates
// each of its vaults (AutoTrigger); once those are done the retention
// rules delete the automatic restore points they forget, per resource.
func (s *Service) CreatePolicy(ctx context.Context, c Caller, spec PolicySpec) (*Policy, error) {
	return s.createPolicy(ctx, c, spec)
}

// GetPolicy returns a policy with its vaults.
func (s *Service) GetPolicy(ctx context.Context, c Caller, id string) (*Policy, error) {
	return s.getPolicy(ctx, c, id)
}

// ListPolicies lists the caller's policies, oldest first.
func (s *Service) ListPolicies(ctx context.Context, c Caller, f PolicyFilter) ([]*Policy, error) {
	return s.listPolicies(ctx, c, f)
}

// UpdatePolicy changes a policy, checked as CreatePolicy checks, and
// reschedules it (a changed trigger starts afresh from now).
func (s *Service) UpdatePolicy(ctx context.Context, c Caller, id string, u PolicyUpdate) (*Policy, error) {
	return s.updatePolicy(ctx, c, id, u)
}

// DeletePolicy deletes a policy and its associations; what it made stays.
func (s *Service) DeletePolicy(ctx context.Context, c Caller, id string) error {
	return s.deletePolicy(ctx, c, id)
}

// AssociatePolicy associates a policy with a vault, replacing the vault's
// policy of the same type if it has one. A replication policy needs the
// destination vault, in its destination project and region
// (cairn.NotExist), and that project's agreement (ErrNoConsent).
func (s *Service) AssociatePolicy(ctx context.Context, c Caller, vaultID, policyID, destinationVaultID string) (*PolicyVault, error) {
	return s.associatePolicy(ctx, c, vaultID, policyID, destinationVaultID)
}

// DissociatePolicy ends a policy's association with a vault
// (cairn.NotExist when there is none).
func (s *Service) DissociatePolicy(ctx context.Context, c Caller, vaultID, policyID string) error {
	return s.dissociatePolicy(ctx, c, vaultID, policyID)
}

// OperationInfo is an operation with what it works on, as far as those
// records are still there: for dialects that report operations with their
// vault, region and restore points (CBR's operation logs).
type OperationInfo struct {
	Operation *catalog.Operation
	// Region is where it runs: the vault's region; a copy's source region.
	Region    string
	VaultID   string
	VaultName string
	// PointID is the restore point made (backup), copied (copy),
	// restored or deleted.
	PointID      string
	PointName    string
	CheckpointID string
	ResourceID   string // the VM
	ResourceName string
	AutoTrigger  bool   // made by a policy's schedule
	Incremental  bool   // as the checkpoint asked
	PolicyID     string // the policy that made it
	// A copy's destination.
	DestinationPointID           string
	DestinationPointName         string
	DestinationCheckpointID      string
	DestinationVaultID           string
	DestinationRegion            string
	DestinationProjectID         string
	DestinationRegionalProjectID string
	// RestoreTargetID is a restore's target: the VM, directory or volume.
	RestoreTargetID string
}

// DescribeOperation returns one of the caller's operations with what it
// works on.
func (s *Service) DescribeOperation(ctx context.Context, c Caller, id string) (*OperationInfo, error) {
	return s.describeOperation(ctx, c, id)
}
