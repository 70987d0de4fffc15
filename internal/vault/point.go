package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
)

const pointPrefix = "points/"

// Consistency modes of a restore point, as Azure names them.
const (
	CrashConsistent       = "CrashConsistent"
	FileSystemConsistent  = "FileSystemConsistent"
	ApplicationConsistent = "ApplicationConsistent"
)

// ParseConsistencyMode accepts a mode by its Azure name or a short form
// (crash, filesystem, application), case-insensitively.
func ParseConsistencyMode(s string) (string, error) {
	switch strings.ToLower(s) {
	case "", "crash", "crashconsistent":
		return CrashConsistent, nil
	case "filesystem", "fs", "filesystemconsistent":
		return FileSystemConsistent, nil
	case "application", "app", "applicationconsistent":
		return ApplicationConsistent, nil
	}
	return "", cairn.E(cairn.Invalid, fmt.Errorf("consistency mode %q: must be CrashConsistent, FileSystemConsistent or ApplicationConsistent", s))
}

// VM describes the machine a restore point was made of, with the profiles
// Azure reports as a restore point's sourceMetadata.
type VM struct {
	Name            string          `json:"name"`
	ID              string          `json:"id,omitempty"`
	Location        string          `json:"location,omitempty"`
	HardwareProfile json.RawMessage `json:"hardwareProfile,omitempty"`
	OSProfile       json.RawMessage `json:"osProfile,omitempty"`
	StorageProfile  json.RawMessage `json:"storageProfile,omitempty"`
}

// Disk is one disk of a restore point.
type Disk struct {
	Name       string `json:"name"`
	Size       int64  `json:"size"`
	Manifest   string `json:"manifest"`   // object name of the disk's manifest
	Chunks     int    `json:"chunks"`     // chunks in the manifest, zero chunks included
	ZeroChunks int    `json:"zeroChunks"` // chunks of zeros (not stored)
	NewChunks  int    `json:"newChunks"`  // chunks this backup stored
	NewBytes   int64  `json:"newBytes"`   // sealed bytes this backup stored
	ReadBytes  int64  `json:"readBytes"`  // bytes read from the source disk
	Mode       string `json:"mode"`       // "full", "changemap" or "full-compare"
}

// RestorePoint is one consistent point of one VM: all its backed-up disks.
type RestorePoint struct {
	ID              string            `json:"id"`
	Time            time.Time         `json:"time"`
	VM              VM                `json:"vm"`
	ConsistencyMode string            `json:"consistencyMode"`
	Parent          string            `json:"parent,omitempty"`
	Host            string            `json:"host,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	Disks           []Disk            `json:"disks"`
	ExcludedDisks   []string          `json:"excludedDisks,omitempty"`
	Duration        time.Duration     `json:"duration"`
	// CopiedFrom is set on a restore point copied from another vault.
	CopiedFrom *Origin `json:"copiedFrom,omitempty"`
}

// Origin names the restore point that a copied restore point was copied
// from.
type Origin struct {
	Vault  string    `json:"vault"`  // the id of the vault copied from (Config.ID)
	Point  string    `json:"point"`  // the id of the restore point there
	Copied time.Time `json:"copied"` // when the copy was committed
}

// Disk returns the disk with the given name, or nil.
func (rp *RestorePoint) Disk(name string) *Disk {
	for i := range rp.Disks {
		if rp.Disks[i].Name == name {
			return &rp.Disks[i]
		}
	}
	return nil
}

// Size returns the sum of the disks' sizes.
func (rp *RestorePoint) Size() int64 {
	var n int64
	for _, d := range rp.Disks {
		n += d.Size
	}
	return n
}

func pointName(id string) string { return pointPrefix + id }

// NewPointID returns a fresh restore point id.
func NewPointID() string { return newID() }

// ValidPointID reports whether id has the form of a restore point id: 32
// lower-case hex digits.
func ValidPointID(id string) bool { return validID(id) }

// Commit makes a restore point visible: it writes the manifests, then the
// restore point record. Every chunk the manifests name must already be
// durable. manifests[i] belongs to rp.Disks[i]; Commit fills in the disks'
// Manifest names.
func (v *Vault) Commit(ctx context.Context, rp *RestorePoint, manifests []*Manifest) error {
	if len(manifests) != len(rp.Disks) {
		return fmt.Errorf("commit: %d manifests for %d disks", len(manifests), len(rp.Disks))
	}
	if !validID(rp.ID) {
		return fmt.Errorf("commit: restore point id %q is not valid", rp.ID)
	}
	for i, m := range manifests {
		data, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		name := manifestName(rp.ID, i)
		if err := v.putRaw(ctx, name, data); err != nil {
			return err
		}
		rp.Disks[i].Manifest = name
		rp.Disks[i].Size = m.DiskSize
		rp.Disks[i].Chunks = len(m.IDs)
	}
	return v.putObject(ctx, pointName(rp.ID), rp)
}

// LoadPoint reads one restore point by its full id.
func (v *Vault) LoadPoint(ctx context.Context, id string) (*RestorePoint, error) {
	var rp RestorePoint
	if err := v.getObject(ctx, pointName(id), &rp); err != nil {
		if cairn.IsKind(err, cairn.NotExist) {
			return nil, cairn.E(cairn.NotExist, fmt.Errorf("restore point %s does not exist", id))
		}
		return nil, err
	}
	if rp.ID != id {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("%s holds restore point %q", pointName(id), rp.ID))
	}
	return &rp, nil
}

// PointIDs lists the ids of the committed restore points.
func (v *Vault) PointIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := v.be.List(ctx, pointPrefix, func(oi storage.ObjectInfo) error {
		id := strings.TrimPrefix(oi.Name, pointPrefix)
		if validID(id) {
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("list restore points: %w", err))
	}
	sort.Strings(ids)
	return ids, nil
}

// Points loads every committed restore point, oldest first. A point that
// cannot be read fails the call; Verify reports such points one by one.
func (v *Vault) Points(ctx context.Context) ([]*RestorePoint, error) {
	ids, err := v.PointIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*RestorePoint, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, id := range ids {
		g.Go(func() error {
			rp, err := v.LoadPoint(gctx, id)
			if err != nil {
				return err
			}
			out[i] = rp
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	SortPoints(out)
	return out, nil
}

// SortPoints orders restore points oldest first (ties by id).
func SortPoints(pts []*RestorePoint) {
	sort.Slice(pts, func(i, j int) bool {
		if !pts[i].Time.Equal(pts[j].Time) {
			return pts[i].Time.Before(pts[j].Time)
		}
		return pts[i].ID < pts[j].ID
	})
}

// ErrAmbiguous is returned when an id prefix matches several restore points.
var ErrAmbiguous = errors.New("ambiguous restore point id")

// FindPoint resolves a restore point by id, unique id prefix (at least 4
// hex digits) or "latest" (the newest; of vm when vm is not empty).
func (v *Vault) FindPoint(ctx context.Context, ref, vm string) (*RestorePoint, error) {
	if ref == "latest" {
		pts, err := v.Points(ctx)
		if err != nil {
			return nil, err
		}
		for i := len(pts) - 1; i >= 0; i-- {
			if vm == "" || pts[i].VM.Name == vm {
				return pts[i], nil
			}
		}
		if vm != "" {
			return nil, cairn.E(cairn.NotExist, fmt.Errorf("VM %q has no restore point", vm))
		}
		return nil, cairn.E(cairn.NotExist, errors.New("the vault has no restore point"))
	}
	ref = strings.ToLower(ref)
	if len(ref) < 4 || len(ref) > 32 || !validID(ref+strings.Repeat("0", 32-len(ref))) {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("restore point %q: give 4 to 32 hex digits of its id, or 'latest'", ref))
	}
	ids, err := v.PointIDs(ctx)
	if err != nil {
		return nil, err
	}
	var match []string
	for _, id := range ids {
		if strings.HasPrefix(id, ref) {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 0:
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("restore point %s does not exist (see 'cairn list')", ref))
	case 1:
		return v.LoadPoint(ctx, match[0])
	}
	return nil, cairn.E(cairn.Invalid, fmt.Errorf("restore point %s: %w: matches %d points, give more digits", ref, ErrAmbiguous, len(match)))
}

// DeletePoint removes a restore point: first its record (it disappears at
// once), then its manifests. Its chunks stay until garbage collection.
func (v *Vault) DeletePoint(ctx context.Context, rp *RestorePoint) error {
	if err := v.be.Delete(ctx, pointName(rp.ID)); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("delete restore point %s: %w", rp.ID, err))
	}
	for i := range rp.Disks {
		if err := v.be.Delete(ctx, manifestName(rp.ID, i)); err != nil {
			return cairn.E(cairn.IO, fmt.Errorf("delete %s: %w", manifestName(rp.ID, i), err))
		}
	}
	return nil
}

// loadPointsTolerant loads every point, returning those that load and an
// error per point that does not.
func (v *Vault) loadPointsTolerant(ctx context.Context) ([]*RestorePoint, map[string]error, error) {
	ids, err := v.PointIDs(ctx)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	var pts []*RestorePoint
	bad := map[string]error{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, id := range ids {
		g.Go(func() error {
			rp, err := v.LoadPoint(gctx, id)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				bad[id] = err
				return nil
			}
			pts = append(pts, rp)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	SortPoints(pts)
	return pts, bad, nil
}
