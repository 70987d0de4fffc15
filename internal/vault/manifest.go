package vault

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
)

const manifestMagic = "CAIRNMF1"

// Manifest is the fixed index of one disk at one restore point: the id of
// every chunk-sized slice of the disk, in order; cairn.ZeroChunkID for a
// slice of zeros. The last chunk may be shorter than ChunkSize. A manifest
// is complete on its own: restoring never needs another restore point.
type Manifest struct {
	DiskSize  int64
	ChunkSize int
	IDs       []cairn.ChunkID
}

// NewManifest returns an all-zero manifest for a disk of size bytes.
func NewManifest(size int64, chunkSize int) *Manifest {
	return &Manifest{DiskSize: size, ChunkSize: chunkSize, IDs: make([]cairn.ChunkID, ChunkCount(size, chunkSize))}
}

// ChunkCount returns how many chunks of chunkSize cover size bytes.
func ChunkCount(size int64, chunkSize int) int {
	return int((size + int64(chunkSize) - 1) / int64(chunkSize))
}

// ChunkLen returns the length of chunk i.
func (m *Manifest) ChunkLen(i int) int {
	off := int64(i) * int64(m.ChunkSize)
	if rest := m.DiskSize - off; rest < int64(m.ChunkSize) {
		return int(rest)
	}
	return m.ChunkSize
}

// MarshalBinary encodes the manifest.
func (m *Manifest) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, 24+32*len(m.IDs))
	out = append(out, manifestMagic...)
	out = binary.LittleEndian.AppendUint64(out, uint64(m.DiskSize))
	out = binary.LittleEndian.AppendUint32(out, uint32(m.ChunkSize))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(m.IDs)))
	for i := range m.IDs {
		out = append(out, m.IDs[i][:]...)
	}
	return out, nil
}

// UnmarshalBinary decodes a manifest, checking its internal consistency.
func (m *Manifest) UnmarshalBinary(data []byte) error {
	if len(data) < 24 || string(data[:8]) != manifestMagic {
		return cairn.E(cairn.Corrupt, fmt.Errorf("manifest: bad header"))
	}
	size := int64(binary.LittleEndian.Uint64(data[8:]))
	cs := int(binary.LittleEndian.Uint32(data[16:]))
	n := int(binary.LittleEndian.Uint32(data[20:]))
	if size < 0 || ValidateChunkSize(cs) != nil || ChunkCount(size, cs) != n || len(data) != 24+32*n {
		return cairn.E(cairn.Corrupt, fmt.Errorf("manifest: size %d, chunk size %d and %d ids in %d bytes do not agree", size, cs, n, len(data)))
	}
	m.DiskSize, m.ChunkSize = size, cs
	m.IDs = make([]cairn.ChunkID, n)
	for i := range m.IDs {
		copy(m.IDs[i][:], data[24+32*i:])
	}
	return nil
}

// manifestName is the object name of disk n's manifest in a restore point.
func manifestName(point string, n int) string {
	return fmt.Sprintf("manifests/%s/%d", point, n)
}

// LoadManifest reads the manifest of a restore point's disk.
func (v *Vault) LoadManifest(ctx context.Context, d *Disk) (*Manifest, error) {
	data, err := v.getRaw(ctx, d.Manifest)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := m.UnmarshalBinary(data); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Manifest, err)
	}
	if m.DiskSize != d.Size {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("%s: disk size %d, the restore point says %d", d.Manifest, m.DiskSize, d.Size))
	}
	return &m, nil
}
