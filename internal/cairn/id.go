package cairn

import (
	"encoding/hex"
	"fmt"
)

// ChunkID is the content address of one chunk: a keyed hash of its
// plaintext. It is comparable and usable as a map key.
type ChunkID [32]byte

// ZeroChunkID marks, in a manifest, a chunk whose bytes are all zero; such
// chunks are never stored and restore as holes.
var ZeroChunkID ChunkID

// IsZero reports whether id is ZeroChunkID.
func (id ChunkID) IsZero() bool { return id == ZeroChunkID }

// String returns the id as 64 lower-case hex digits.
func (id ChunkID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 hex digits, for messages.
func (id ChunkID) Short() string { return hex.EncodeToString(id[:4]) }

// ParseChunkID parses 64 hex digits.
func ParseChunkID(s string) (ChunkID, error) {
	var id ChunkID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("chunk id %q: want %d hex digits, have %d", s, 2*len(id), len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("chunk id %q: %w", s, err)
	}
	return id, nil
}

// Extent is a byte range of a disk: Length bytes from Offset.
type Extent struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// End returns the offset just past the extent.
func (e Extent) End() int64 { return e.Offset + e.Length }
