package catalog

import (
	"encoding/json"
	"time"
)

// Project is a tenant: an ARM subscription, a CBR project, a ZStack
// account. Every resource, vault, restore point, token and operation
// belongs to one project.
type Project struct {
	ID      string          // assigned by the catalog when empty
	Name    string          // unique among projects
	Attrs   json.RawMessage // dialect-specific extras
	Created time.Time       // set by the catalog when zero
}

// Token is a bearer token scoped to one project. The catalog stores only a
// hash of its secret: the secret itself is returned once, by CreateToken.
type Token struct {
	ID        string    // assigned by the catalog when empty
	ProjectID string    // the only project the token reaches
	Name      string    // unique within the project
	Hash      string    // HashSecret of the secret; set by the catalog
	Admin     bool      // may manage projects, regions and tokens
	Created   time.Time // set by the catalog when zero
	Expires   time.Time // zero: never expires
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// Region is a named site with its own vault storage: an ARM location, a
// CBR region, a ZStack zone.
type Region struct {
	Name    string          // the key, e.g. "westeurope"
	Storage string          // where the region's vault lives: a directory or an s3:// URL
	Attrs   json.RawMessage // dialect-specific extras
	Created time.Time       // set by the catalog when zero
}

// Kinds of resource.
const (
	KindVM     = "vm"
	KindVolume = "volume"
)

// Resource is a machine that restore points are made of (a VM and its
// disks), or a single volume.
type Resource struct {
	ID            string          // an ARM id or a UUID; assigned by the catalog when empty
	ProjectID     string          // owning project
	ResourceGroup string          // ARM resource group; "" where the dialect has none
	Name          string          // unique within (project, resource group, kind)
	Kind          string          // KindVM or KindVolume
	Region        string          // the region the resource runs in
	Profile       json.RawMessage // hardware, OS and storage profile, as the dialects report it
	Disks         []ResourceDisk  // the disks, in the order of the machine
	Tags          map[string]string
	Attrs         json.RawMessage // dialect-specific extras
	Created       time.Time       // set by the catalog when zero
}

// Disk returns the resource's disk with the given name, or nil.
func (r *Resource) Disk(name string) *ResourceDisk {
	for i := range r.Disks {
		if r.Disks[i].Name == name {
			return &r.Disks[i]
		}
	}
	return nil
}

// ResourceDisk is one disk of a resource.
type ResourceDisk struct {
	Name string `json:"name"`          // unique within the resource
	URI  string `json:"uri,omitempty"` // where its bytes are: a file path, a QEMU node, an ARM disk id
	Size int64  `json:"size"`          // bytes
	Lun  int    `json:"lun"`           // logical unit of a data disk
	OS   bool   `json:"os,omitempty"`  // the OS disk (its Lun means nothing)
}

// Vault holds restore points of some resources in one region: an ARM
// restorePointCollection, a CBR vault.
type Vault struct {
	ID               string // assigned by the catalog when empty
	ProjectID        string // owning project
	ResourceGroup    string // ARM resource group; "" where the dialect has none
	Name             string // unique within (project, resource group)
	Region           string // where its restore points are stored
	SourceResourceID string // the resource whose points it holds, if one
	SourceVaultID    string // for a cross-region copy target: the vault it copies
	Tags             map[string]string
	Attrs            json.RawMessage // dialect-specific extras
	Created          time.Time       // set by the catalog when zero
}

// PointState is the state of a restore point.
type PointState string

// The states of a restore point. Only a succeeded point can be restored.
const (
	PointCreating  PointState = "creating"
	PointSucceeded PointState = "succeeded"
	PointFailed    PointState = "failed"
	PointDeleting  PointState = "deleting"
)

// Valid reports whether s is one of the states above.
func (s PointState) Valid() bool {
	switch s {
	case PointCreating, PointSucceeded, PointFailed, PointDeleting:
		return true
	}
	return false
}

// RestorePoint is one consistent point of one resource in one vault: an
// ARM restorePoint, a CBR checkpoint. Its disks are DiskRestorePoints.
type RestorePoint struct {
	ID              string          // assigned by the catalog when empty
	VaultID         string          // the vault it belongs to
	ProjectID       string          // the vault's project; set by the catalog
	Name            string          // unique within the vault
	ResourceID      string          // the resource it was made of
	VaultPointID    string          // the restore point's id inside the region's storage vault; "" until committed
	ConsistencyMode string          // vault.CrashConsistent, ...
	State           PointState      // "" is stored as PointCreating
	SourcePointID   string          // for a copy: the restore point it copies
	ExcludedDisks   []string        // disks of the resource left out
	Metadata        json.RawMessage // the resource's profile at the time (ARM sourceMetadata)
	FailureReason   string          // why State is PointFailed
	Attrs           json.RawMessage // dialect-specific extras
	Created         time.Time       // set by the catalog when zero
}

// ReplicationState is the state of one disk's copy to another region.
type ReplicationState string

// The replication states of a disk restore point. A disk restore point
// that is not a copy has ReplicationNone.
const (
	ReplicationNone      ReplicationState = ""
	ReplicationPending   ReplicationState = "pending"
	ReplicationCopying   ReplicationState = "copying"
	ReplicationSucceeded ReplicationState = "succeeded"
	ReplicationFailed    ReplicationState = "failed"
)

// Valid reports whether s is one of the states above.
func (s ReplicationState) Valid() bool {
	switch s {
	case ReplicationNone, ReplicationPending, ReplicationCopying, ReplicationSucceeded, ReplicationFailed:
		return true
	}
	return false
}

// DiskRestorePoint is one disk's image at a restore point: an ARM
// diskRestorePoint, a CBR backup.
type DiskRestorePoint struct {
	ID               string           // assigned by the catalog when empty
	RestorePointID   string           // the restore point it belongs to
	ProjectID        string           // the restore point's project; set by the catalog
	DiskName         string           // the resource disk's name; unique within the restore point
	Size             int64            // bytes
	ReplicationState ReplicationState // for a copy: how far it has come
	BytesDone        int64            // for a copy: bytes copied so far
	BytesTotal       int64            // for a copy: bytes to copy
	Attrs            json.RawMessage  // dialect-specific extras
	Created          time.Time        // set by the catalog when zero
}

// Percent returns the share of BytesTotal done, 0 to 100, rounded down.
// It returns 100 for a finished copy of nothing and 0 for a copy that has
// not been sized yet.
func (d *DiskRestorePoint) Percent() int {
	if d.ReplicationState == ReplicationSucceeded {
		return 100
	}
	return percent(d.BytesDone, d.BytesTotal)
}

func percent(done, total int64) int {
	if total <= 0 {
		return 0
	}
	if done >= total {
		return 100
	}
	return int(done * 100 / total)
}

// OpState is the state of an operation.
type OpState string

// The states of an operation. Queued and running operations are active;
// the others are final.
const (
	OpQueued    OpState = "queued"
	OpRunning   OpState = "running"
	OpSucceeded OpState = "succeeded"
	OpFailed    OpState = "failed"
	OpCanceled  OpState = "canceled"
)

// Valid reports whether s is one of the states above.
func (s OpState) Valid() bool {
	return s.Active() || s.Final()
}

// Active reports whether s is OpQueued or OpRunning.
func (s OpState) Active() bool { return s == OpQueued || s == OpRunning }

// Final reports whether s is OpSucceeded, OpFailed or OpCanceled.
func (s OpState) Final() bool { return s == OpSucceeded || s == OpFailed || s == OpCanceled }

// Operation is a persisted long-running job: ARM's Azure-AsyncOperation, a
// CBR job or replication record, a ZStack job. A runner claims a queued
// operation with a lease, renews the lease while it works, reports
// progress and finishes it; an operation whose runner died is claimed again
// once its lease expires, so operations survive a server restart.
type Operation struct {
	ID              string          // assigned by the catalog when empty
	ProjectID       string          // owning project; "" for a system job
	Kind            string          // what the job does, e.g. "backup", "copy", "restore"
	TargetID        string          // the record the job works on, e.g. a restore point id
	ResourceID      string          // the resource it holds busy: at most one active operation per resource
	State           OpState         // OpQueued on creation
	CancelRequested bool            // set by CancelOperation on a running operation
	Progress        []DiskProgress  // per disk, in the order first reported
	Error           *OpError        // why it failed or was canceled
	Params          json.RawMessage // the job's input
	Result          json.RawMessage // the job's output, set when it finishes
	Attempt         int             // how many times it has been claimed
	Lease           Lease           // who runs it, while running
	Created         time.Time       // set by the catalog
	Started         time.Time       // first claim
	Ended           time.Time       // reached a final state
}

// Percent returns the share of all disks' bytes done, 0 to 100. A
// succeeded operation is at 100.
func (o *Operation) Percent() int {
	if o.State == OpSucceeded {
		return 100
	}
	var done, total int64
	for _, p := range o.Progress {
		done += p.BytesDone
		total += p.BytesTotal
	}
	return percent(done, total)
}

// DiskProgress is how far an operation has come with one disk.
type DiskProgress struct {
	Disk       string `json:"disk"`
	BytesDone  int64  `json:"bytesDone"`
	BytesTotal int64  `json:"bytesTotal"`
}

// Percent returns the share of BytesTotal done, 0 to 100, rounded down.
func (p DiskProgress) Percent() int { return percent(p.BytesDone, p.BytesTotal) }

// OpError is the failure reason of an operation: a stable code for
// programs and a message for people.
type OpError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns the message prefixed by the code.
func (e *OpError) Error() string { return e.Code + ": " + e.Message }

// Lease records which runner holds a running operation, and until when.
type Lease struct {
	Owner string    // the runner's id; "" when not leased
	Until time.Time // the lease expires at this time
}

// Outcome is how an operation finished, for FinishOperation.
type Outcome struct {
	State  OpState         // OpSucceeded, OpFailed or OpCanceled
	Error  *OpError        // required for OpFailed; optional for OpCanceled
	Result json.RawMessage // the job's output, if any
}

// Record is a small document a layer above the catalog keeps beside the
// native model: a CBR checkpoint, a policy, an AK/SK credential, a VM's
// binding to a vault, the per-region id of a project. Records of one Kind
// form a collection; the catalog stores their Data as given and knows
// nothing of it, so a new kind of record needs no schema change.
//
// Every record belongs to a project and goes when its project is deleted.
// ParentID links it to what it hangs off (a vault, a policy), for lists;
// Key, when set, is a second key unique within the Kind, so that the
// catalog refuses a second record with the same Key (one binding per VM,
// one regional id per project and region).
type Record struct {
	Kind      string          // the collection, e.g. "cbr.policy"; required
	ID        string          // unique within Kind; assigned by the catalog when empty
	ProjectID string          // owning project; required
	ParentID  string          // what the record hangs off, if anything
	Key       string          // a second key, unique within Kind when not empty
	Data      json.RawMessage // the document
	Created   time.Time       // set by the catalog when zero
	Updated   time.Time       // set by the catalog on every Put
}
