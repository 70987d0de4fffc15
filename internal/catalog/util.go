package catalog

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// NewID returns a new random record id: a version 4 UUID, the form CBR
// uses for its ids.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// SecretPrefix starts every token secret, so that secrets are easy to
// recognise in logs and by secret scanners.
const SecretPrefix = "cairn_"

// NewSecret returns a new token secret: SecretPrefix and 256 random bits.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret returns the hash of a token secret that the catalog stores
// in its place: SHA-256, in hex. The secret has 256 random bits, so a
// plain hash is as strong as a slow one.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Timestamp returns t as the catalog stores it: UTC, truncated to the
// microsecond. The zero time stays zero.
func Timestamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Cursor is the position after which a next page starts: the last
// record's creation time and id (for regions, a zero time and the name).
// Implementations encode it as a page token with EncodeCursor.
type Cursor struct {
	Time time.Time
	Key  string
}

const cursorVersion = "1"

// EncodeCursor returns c as an opaque page token.
func EncodeCursor(c Cursor) string {
	var micros int64
	if !c.Time.IsZero() {
		micros = c.Time.UnixMicro()
	}
	b, _ := json.Marshal([]string{cursorVersion, strconv.FormatInt(micros, 10), c.Key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a page token made by EncodeCursor. A malformed token
// is an error of kind cairn.Invalid.
func DecodeCursor(token string) (Cursor, error) {
	bad := func() (Cursor, error) {
		return Cursor{}, cairn.E(cairn.Invalid, fmt.Errorf("page token %q is not valid", token))
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return bad()
	}
	var parts []string
	if err := json.Unmarshal(b, &parts); err != nil || len(parts) != 3 || parts[0] != cursorVersion {
		return bad()
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return bad()
	}
	c := Cursor{Key: parts[2]}
	if micros != 0 {
		c.Time = time.UnixMicro(micros).UTC()
	}
	return c, nil
}

// MergeProgress returns list with each update replacing the entry of the
// same disk, or appended when the disk has none. list is not modified.
func MergeProgress(list []DiskProgress, updates ...DiskProgress) []DiskProgress {
	out := append([]DiskProgress(nil), list...)
next:
	for _, u := range updates {
		for i := range out {
			if out[i].Disk == u.Disk {
				out[i] = u
				continue next
			}
		}
		out = append(out, u)
	}
	return out
}

// maxNameLen bounds names and ids, in bytes.
const maxNameLen = 1024

func invalid(format string, args ...any) error {
	return cairn.E(cairn.Invalid, fmt.Errorf(format, args...))
}

// checkName checks a required name or id.
func checkName(what, s string) error {
	if s == "" {
		return invalid("%s: must not be empty", what)
	}
	if len(s) > maxNameLen {
		return invalid("%s: longer than %d bytes", what, maxNameLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return invalid("%s %q: has a control character or invalid UTF-8", what, s)
		}
	}
	return nil
}

// checkOptional checks an optional name or id.
func checkOptional(what, s string) error {
	if s == "" {
		return nil
	}
	return checkName(what, s)
}

func checkJSON(what string, m json.RawMessage) error {
	if len(m) > 0 && !json.Valid(m) {
		return invalid("%s: not valid JSON", what)
	}
	return nil
}

func checkTags(tags map[string]string) error {
	for k := range tags {
		if err := checkName("tag name", k); err != nil {
			return err
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate checks p's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (p *Project) Validate() error {
	return firstErr(checkOptional("project id", p.ID), checkName("project name", p.Name), checkJSON("project attrs", p.Attrs))
}

// Validate checks t's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (t *Token) Validate() error {
	return firstErr(checkOptional("token id", t.ID), checkName("token project", t.ProjectID), checkName("token name", t.Name))
}

// Validate checks r's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (r *Region) Validate() error {
	return firstErr(checkName("region name", r.Name), checkName("region storage", r.Storage), checkJSON("region attrs", r.Attrs))
}

// Validate checks r's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (r *Resource) Validate() error {
	if err := firstErr(
		checkOptional("resource id", r.ID),
		checkName("resource project", r.ProjectID),
		checkOptional("resource group", r.ResourceGroup),
		checkName("resource name", r.Name),
		checkName("resource region", r.Region),
		checkJSON("resource profile", r.Profile),
		checkJSON("resource attrs", r.Attrs),
		checkTags(r.Tags),
	); err != nil {
		return err
	}
	if r.Kind != KindVM && r.Kind != KindVolume {
		return invalid("resource kind %q: must be %q or %q", r.Kind, KindVM, KindVolume)
	}
	seen := map[string]bool{}
	for _, d := range r.Disks {
		if err := checkName("disk name", d.Name); err != nil {
			return err
		}
		if seen[d.Name] {
			return invalid("resource %s: disk name %q appears twice", r.Name, d.Name)
		}
		seen[d.Name] = true
		if d.Size < 0 {
			return invalid("disk %s: size %d is negative", d.Name, d.Size)
		}
	}
	return nil
}

// Validate checks v's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (v *Vault) Validate() error {
	return firstErr(
		checkOptional("vault id", v.ID),
		checkName("vault project", v.ProjectID),
		checkOptional("resource group", v.ResourceGroup),
		checkName("vault name", v.Name),
		checkName("vault region", v.Region),
		checkOptional("vault source resource", v.SourceResourceID),
		checkOptional("vault source vault", v.SourceVaultID),
		checkJSON("vault attrs", v.Attrs),
		checkTags(v.Tags),
	)
}

// Validate checks p's fields before it is stored; an empty State counts as
// PointCreating. Errors are of kind cairn.Invalid.
func (p *RestorePoint) Validate() error {
	if err := firstErr(
		checkOptional("restore point id", p.ID),
		checkName("restore point vault", p.VaultID),
		checkName("restore point name", p.Name),
		checkOptional("restore point resource", p.ResourceID),
		checkOptional("restore point vault point", p.VaultPointID),
		checkOptional("restore point source", p.SourcePointID),
		checkJSON("restore point metadata", p.Metadata),
		checkJSON("restore point attrs", p.Attrs),
	); err != nil {
		return err
	}
	if p.State != "" && !p.State.Valid() {
		return invalid("restore point state %q is not valid", p.State)
	}
	return nil
}

// Validate checks d's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (d *DiskRestorePoint) Validate() error {
	if err := firstErr(
		checkOptional("disk restore point id", d.ID),
		checkName("disk restore point's restore point", d.RestorePointID),
		checkName("disk name", d.DiskName),
		checkJSON("disk restore point attrs", d.Attrs),
	); err != nil {
		return err
	}
	if !d.ReplicationState.Valid() {
		return invalid("replication state %q is not valid", d.ReplicationState)
	}
	if d.Size < 0 || d.BytesDone < 0 || d.BytesTotal < 0 {
		return invalid("disk restore point %s: sizes must not be negative", d.DiskName)
	}
	return nil
}

// Validate checks the fields of a new operation. Errors are of kind
// cairn.Invalid.
func (o *Operation) Validate() error {
	if err := firstErr(
		checkOptional("operation id", o.ID),
		checkOptional("operation project", o.ProjectID),
		checkName("operation kind", o.Kind),
		checkOptional("operation target", o.TargetID),
		checkOptional("operation resource", o.ResourceID),
		checkJSON("operation params", o.Params),
	); err != nil {
		return err
	}
	if o.State != "" && o.State != OpQueued {
		return invalid("a new operation must be queued, not %s", o.State)
	}
	return checkProgress(o.Progress)
}

func checkProgress(ps []DiskProgress) error {
	for _, p := range ps {
		if err := checkName("progress disk", p.Disk); err != nil {
			return err
		}
		if p.BytesDone < 0 || p.BytesTotal < 0 {
			return invalid("progress of disk %s: bytes must not be negative", p.Disk)
		}
	}
	return nil
}

// CheckProgress checks progress reports for UpdateProgress. Errors are of
// kind cairn.Invalid.
func CheckProgress(ps []DiskProgress) error { return checkProgress(ps) }

// Validate checks an outcome for FinishOperation. Errors are of kind
// cairn.Invalid.
func (o Outcome) Validate() error {
	if !o.State.Final() {
		return invalid("an operation cannot finish as %q", o.State)
	}
	if o.State == OpFailed && (o.Error == nil || o.Error.Code == "" && o.Error.Message == "") {
		return invalid("a failed operation needs an error")
	}
	if o.State == OpSucceeded && o.Error != nil {
		return invalid("a succeeded operation has no error")
	}
	return checkJSON("operation result", o.Result)
}

// ErrLeaseLost is wrapped by the cairn.Conflict errors of RenewLease,
// UpdateProgress and FinishOperation when the caller no longer holds the
// operation.
var ErrLeaseLost = errors.New("lease lost")

// LeaseLost returns the error for an owner that does not hold operation
// op: kind cairn.Conflict, wrapping ErrLeaseLost.
func LeaseLost(op *Operation, owner string) error {
	var why string
	switch {
	case op.State != OpRunning:
		why = "it is " + string(op.State)
	case op.Lease.Owner == "":
		why = "nobody holds it"
	default:
		why = "it is held by " + op.Lease.Owner
	}
	return cairn.E(cairn.Conflict, fmt.Errorf("operation %s: %w by %s: %s", op.ID, ErrLeaseLost, owner, why))
}

// Busy returns the error for a new operation on a resource that active
// operation op holds: kind cairn.Conflict.
func Busy(resourceID string, op *Operation) error {
	if op == nil {
		return cairn.E(cairn.Conflict, fmt.Errorf("resource %s is busy with another operation", resourceID))
	}
	return cairn.E(cairn.Conflict, fmt.Errorf("resource %s is busy: operation %s (%s) is %s", resourceID, op.ID, op.Kind, op.State))
}

// NotFound returns the error for a missing record: kind cairn.NotExist.
// what names the kind of record ("vault").
func NotFound(what, id string) error {
	return cairn.E(cairn.NotExist, fmt.Errorf("%s %s does not exist", what, id))
}

// trimJSON returns m, or nil when it holds only white space or null.
func trimJSON(m json.RawMessage) json.RawMessage {
	s := strings.TrimSpace(string(m))
	if s == "" || s == "null" {
		return nil
	}
	return m
}

// NormJSON returns m as implementations store it: nil for an empty value
// or JSON null, else m unchanged.
func NormJSON(m json.RawMessage) json.RawMessage { return trimJSON(m) }

// Validate checks r's fields before it is stored. Errors are of kind
// cairn.Invalid.
func (r *Record) Validate() error {
	return firstErr(
		checkName("record kind", r.Kind),
		checkOptional("record id", r.ID),
		checkName("record project", r.ProjectID),
		checkOptional("record parent", r.ParentID),
		checkOptional("record key", r.Key),
		checkJSON("record data", r.Data),
	)
}
