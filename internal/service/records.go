package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

// Kinds of the catalog records the service keeps (catalog.Record.Kind).
const (
	recAccessKey       = "access-key"            // ID: the AK; Key: project/name
	recRegionalProject = "regional-project"      // ID: the regional id; Key: project/region
	recVaultResource   = "vault-resource"        // ParentID: the vault; Key: the resource (bound to one vault)
	recCheckpoint      = "checkpoint"            // ParentID: the vault
	recPolicy          = "policy"                //
	recVaultPolicy     = "vault-policy"          // ParentID: the policy; Key: vault/operation type
	recAgreement       = "replication-agreement" // ParentID: the destination regional project; Key: source>destination
)

// Sentinel errors of the service's distinct failures, for dialects that
// answer each with its own code: test with errors.Is. Each comes wrapped
// in an error of a cairn kind, with a message that names the records.
var (
	// ErrResourceInOtherVault: a resource to bind is bound to another
	// vault (cairn.Exist).
	ErrResourceInOtherVault = errors.New("the resource is bound to another vault")
	// ErrDuplicateResource: a resource is named twice, or is bound to
	// the vault already (cairn.Invalid).
	ErrDuplicateResource = errors.New("duplicate resource")
	// ErrResourceBusy: another operation is running on the resource, a
	// backup say (cairn.Conflict).
	ErrResourceBusy = errors.New("the resource is busy")
	// ErrNothingToBackUp: no resource of a checkpoint can be backed up
	// (cairn.Invalid).
	ErrNothingToBackUp = errors.New("no resource is available for backup")
	// ErrAlreadyReplicated: every restore point to replicate has been
	// replicated, or is being replicated, to the destination region
	// (cairn.Conflict).
	ErrAlreadyReplicated = errors.New("already replicated or replicating to the destination region")
	// ErrNothingToReplicate: the vault has no restorable restore point
	// (cairn.Invalid).
	ErrNothingToReplicate = errors.New("nothing to replicate")
	// ErrNoConsent: the destination has not agreed to receive
	// replication from the source (cairn.Permission).
	ErrNoConsent = errors.New("the destination project has not agreed to replication from this project")
	// ErrRestoreOtherServer: a restore in place names a VM other than the
	// restore point's (cairn.Invalid).
	ErrRestoreOtherServer = errors.New("restoring to a different server is not allowed")
	// ErrNotRestorable: the restore point cannot be restored (or copied)
	// in its current state (cairn.Conflict).
	ErrNotRestorable = errors.New("not allowed in the restore point's current state")
	// ErrTargetTooSmall: a disk to restore over is smaller than the
	// backup (cairn.Invalid).
	ErrTargetTooSmall = errors.New("the target disk is smaller than the backup")
	// ErrRegionMismatch: a resource or vault is in another region than
	// the one the call needs (cairn.Invalid).
	ErrRegionMismatch = errors.New("region mismatch")
)

// markErr returns an error of kind that wraps sentinel and reads as msg.
func markErr(kind cairn.Kind, sentinel error, format string, args ...any) error {
	return cairn.E(kind, &markedError{msg: fmt.Sprintf(format, args...), sentinel: sentinel})
}

type markedError struct {
	msg      string
	sentinel error
}

func (e *markedError) Error() string { return e.msg }
func (e *markedError) Unwrap() error { return e.sentinel }

// putData encodes v as a record's Data.
func putData(r *catalog.Record, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s record: %w", r.Kind, err)
	}
	r.Data = b
	return nil
}

// getData decodes a record's Data into v.
func getData(r *catalog.Record, v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		return cairn.E(cairn.Corrupt, fmt.Errorf("%s record %s: %w", r.Kind, r.ID, err))
	}
	return nil
}

// listRecords returns every record matching f.
func listRecords(ctx context.Context, tx catalog.Tx, f catalog.RecordFilter) ([]*catalog.Record, error) {
	return listAll(func(pg catalog.Page) ([]*catalog.Record, string, error) {
		return tx.ListRecords(ctx, f, pg)
	})
}

// ownRecord returns a record of the caller's project, or NotExist naming
// what.
func ownRecord(ctx context.Context, tx catalog.Tx, c Caller, kind, what, id string) (*catalog.Record, error) {
	if err := checkCaller(c); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, invalid("no %s id given", what)
	}
	r, err := tx.GetRecord(ctx, kind, id)
	if err != nil {
		return nil, hide(err, what, id)
	}
	if err := own(c, r.ProjectID, what, id); err != nil {
		return nil, err
	}
	return r, nil
}
