// Package nativeapi holds the wire types of cairn's native JSON API
// (/cairn/v1/...), shared by the server's handlers (package native) and
// the Go client (package client), and the interface both implement. The
// API is described by api/openapi.yaml; a test checks the two agree.
package nativeapi

import (
	"context"
	"encoding/json"
	"time"
)

// Prefix starts the path of every native route.
const Prefix = "/cairn/v1"

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code for programs (the
// service's CodeInvalid, CodeNotFound, ...) and a message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WhoAmI describes the caller of a request.
type WhoAmI struct {
	ProjectID string `json:"projectId"`
	TokenID   string `json:"tokenId"`
	Admin     bool   `json:"admin"`
}

// Project is a tenant.
type Project struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// ProjectSpec is the body of POST /projects.
type ProjectSpec struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// Token is a bearer token, without its secret.
type Token struct {
	ID        string     `json:"id"`
	ProjectID string     `json:"projectId"`
	Name      string     `json:"name"`
	Admin     bool       `json:"admin"`
	Created   time.Time  `json:"created"`
	Expires   *time.Time `json:"expires,omitempty"`
}

// TokenSpec is the body of POST /tokens.
type TokenSpec struct {
	ProjectID  string `json:"projectId,omitempty"`
	Name       string `json:"name"`
	Admin      bool   `json:"admin,omitempty"`
	TTLSeconds int64  `json:"ttlSeconds,omitempty"`
}

// TokenCreated is the answer to POST /tokens: the token and its secret,
// shown this once.
type TokenCreated struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// AccessKey is an AK/SK credential (for clients that sign requests, as
// the Huawei Cloud SDKs do through the CBR dialect), without its secret.
type AccessKey struct {
	ID        string    `json:"id"` // the access key id (AK)
	ProjectID string    `json:"projectId"`
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
}

// AccessKeySpec is the body of POST /accessKeys.
type AccessKeySpec struct {
	ProjectID string `json:"projectId,omitempty"`
	Name      string `json:"name"`
}

// AccessKeyCreated is the answer to POST /accessKeys: the credential, its
// secret key (shown this once) and the project's regional project ids,
// which CBR clients put in their URLs.
type AccessKeyCreated struct {
	AccessKey        AccessKey         `json:"accessKey"`
	SecretKey        string            `json:"secretKey"`
	RegionalProjects []RegionalProject `json:"regionalProjects"`
}

// RegionalProject is a project in one region: a CBR project_id.
type RegionalProject struct {
	ID        string `json:"id"`
	ProjectID string `json:"projectId"`
	Region    string `json:"region"`
}

// Region is a site with its own vault storage.
type Region struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Disk is one disk of a VM.
type Disk struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	Lun  int    `json:"lun"`
	OS   bool   `json:"os,omitempty"`
}

// VM is a registered virtual machine.
type VM struct {
	ID            string            `json:"id"`
	ResourceGroup string            `json:"resourceGroup"`
	Name          string            `json:"name"`
	Region        string            `json:"region"`
	Disks         []Disk            `json:"disks"`
	Profile       json.RawMessage   `json:"profile,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Created       time.Time         `json:"created"`
}

// DiskSpec is one disk of a VM to register.
type DiskSpec struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Lun  int    `json:"lun,omitempty"`
	OS   bool   `json:"os,omitempty"`
}

// VMSpec is the body of POST /vms.
type VMSpec struct {
	ResourceGroup string            `json:"resourceGroup"`
	Name          string            `json:"name"`
	Region        string            `json:"region"`
	Disks         []DiskSpec        `json:"disks"`
	Profile       json.RawMessage   `json:"profile,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

// VMFilter selects VMs in GET /vms; empty fields select all.
type VMFilter struct {
	ResourceGroup string
	Region        string
	Name          string
}

// Vault holds restore points in one region.
type Vault struct {
	ID               string            `json:"id"`
	ResourceGroup    string            `json:"resourceGroup"`
	Name             string            `json:"name"`
	Region           string            `json:"region"`
	SourceResourceID string            `json:"sourceResourceId,omitempty"`
	SourceVaultID    string            `json:"sourceVaultId,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	Created          time.Time         `json:"created"`
}

// VaultSpec is the body of POST /vaults.
type VaultSpec struct {
	ResourceGroup    string            `json:"resourceGroup"`
	Name             string            `json:"name"`
	Region           string            `json:"region,omitempty"`
	SourceResourceID string            `json:"sourceResourceId,omitempty"`
	SourceVaultID    string            `json:"sourceVaultId,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
}

// DiskRestorePoint is one disk's image at a restore point.
type DiskRestorePoint struct {
	ID               string `json:"id"`
	DiskName         string `json:"diskName"`
	Size             int64  `json:"size"`
	ReplicationState string `json:"replicationState,omitempty"`
	BytesDone        int64  `json:"bytesDone,omitempty"`
	BytesTotal       int64  `json:"bytesTotal,omitempty"`
	Percent          int    `json:"percent"`
}

// RestorePoint is one consistent point of a VM in a vault.
type RestorePoint struct {
	ID              string             `json:"id"`
	VaultID         string             `json:"vaultId"`
	Name            string             `json:"name"`
	ResourceID      string             `json:"resourceId,omitempty"`
	Region          string             `json:"region"`
	State           string             `json:"state"`
	Restorable      bool               `json:"restorable"`
	ConsistencyMode string             `json:"consistencyMode,omitempty"`
	SourcePointID   string             `json:"sourcePointId,omitempty"`
	ExcludedDisks   []string           `json:"excludedDisks,omitempty"`
	FailureReason   string             `json:"failureReason,omitempty"`
	Disks           []DiskRestorePoint `json:"disks"`
	Operation       *Operation         `json:"operation,omitempty"`
	Created         time.Time          `json:"created"`
}

// RestorePointSpec is the body of POST /restorePoints: a restore point
// made from a VM, or, with SourcePointID, copied from another region.
type RestorePointSpec struct {
	VaultID         string   `json:"vaultId"`
	Name            string   `json:"name"`
	ResourceID      string   `json:"resourceId,omitempty"`
	ConsistencyMode string   `json:"consistencyMode,omitempty"`
	ExcludeDisks    []string `json:"excludeDisks,omitempty"`
	SourcePointID   string   `json:"sourcePointId,omitempty"`
}

// RestorePointCreated is the answer to POST /restorePoints (202): the new
// restore point and the operation that makes it.
type RestorePointCreated struct {
	RestorePoint RestorePoint `json:"restorePoint"`
	Operation    Operation    `json:"operation"`
}

// DiskProgress is how far an operation has come with one disk.
type DiskProgress struct {
	Disk       string `json:"disk"`
	BytesDone  int64  `json:"bytesDone"`
	BytesTotal int64  `json:"bytesTotal"`
}

// Operation is a long-running job.
type Operation struct {
	ID              string          `json:"id"`
	Kind            string          `json:"kind"`
	TargetID        string          `json:"targetId,omitempty"`
	ResourceID      string          `json:"resourceId,omitempty"`
	State           string          `json:"state"`
	Percent         int             `json:"percent"`
	CancelRequested bool            `json:"cancelRequested,omitempty"`
	Progress        []DiskProgress  `json:"progress,omitempty"`
	Error           *ErrorDetail    `json:"error,omitempty"`
	Result          json.RawMessage `json:"result,omitempty"`
	Attempt         int             `json:"attempt"`
	Created         time.Time       `json:"created"`
	Started         *time.Time      `json:"started,omitempty"`
	Ended           *time.Time      `json:"ended,omitempty"`
}

// Final reports whether the operation has reached a final state.
func (o *Operation) Final() bool {
	return o.State == "succeeded" || o.State == "failed" || o.State == "canceled"
}

// OperationFilter selects operations in GET /operations.
type OperationFilter struct {
	Kind       string
	TargetID   string
	ResourceID string
	States     []string
}

// List is the body of every list response: one page of items and the
// token of the next page, "" on the last.
type List[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"nextPageToken,omitempty"`
}

// Page asks for one page of a list.
type Page struct {
	Token string // "" for the first page
	Size  int    // 0 = the server's default
}

// API is the native API as Go methods: package client implements it over
// HTTP and package native on a local service, so that the command line
// works the same on a data directory and against a server. Errors carry
// cairn kinds.
type API interface {
	WhoAmI(ctx context.Context) (*WhoAmI, error)
	CreateProject(ctx context.Context, spec ProjectSpec) (*Project, error)
	ListProjects(ctx context.Context, page Page) (*List[Project], error)
	CreateToken(ctx context.Context, spec TokenSpec) (*TokenCreated, error)
	ListTokens(ctx context.Context, projectID string, page Page) (*List[Token], error)
	DeleteToken(ctx context.Context, id string) error
	ListRegions(ctx context.Context) (*List[Region], error)
	RegisterVM(ctx context.Context, spec VMSpec) (vm *VM, created bool, err error)
	ListVMs(ctx context.Context, f VMFilter, page Page) (*List[VM], error)
	GetVM(ctx context.Context, id string) (*VM, error)
	DeleteVM(ctx context.Context, id string) error
	CreateVault(ctx context.Context, spec VaultSpec) (v *Vault, created bool, err error)
	ListVaults(ctx context.Context, page Page) (*List[Vault], error)
	GetVault(ctx context.Context, id string) (*Vault, error)
	DeleteVault(ctx context.Context, id string) (*Operation, error)
	CreateRestorePoint(ctx context.Context, spec RestorePointSpec) (*RestorePointCreated, error)
	ListRestorePoints(ctx context.Context, vaultID string, page Page) (*List[RestorePoint], error)
	GetRestorePoint(ctx context.Context, id string) (*RestorePoint, error)
	DeleteRestorePoint(ctx context.Context, id string) (*Operation, error)
	ListOperations(ctx context.Context, f OperationFilter, page Page) (*List[Operation], error)
	GetOperation(ctx context.Context, id string) (*Operation, error)
	CancelOperation(ctx context.Context, id string) (*Operation, error)
	CreateAccessKey(ctx context.Context, spec AccessKeySpec) (*AccessKeyCreated, error)
	ListAccessKeys(ctx context.Context, projectID string) (*List[AccessKey], error)
	DeleteAccessKey(ctx context.Context, id string) error
	ListRegionalProjects(ctx context.Context, projectID string) (*List[RegionalProject], error)
}
