package chunkstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
)

// ChunkPrefix is the object name prefix under which chunks are stored.
const ChunkPrefix = "chunks/"

// ChunkName returns the object name of a chunk: chunks/<2 hex>/<64 hex>.
func ChunkName(id cairn.ChunkID) string {
	s := id.String()
	return ChunkPrefix + s[:2] + "/" + s
}

// ParseChunkName returns the id of a chunk object name, or false when name
// is not one.
func ParseChunkName(name string) (cairn.ChunkID, bool) {
	if len(name) != len(ChunkPrefix)+3+64 || name[:len(ChunkPrefix)] != ChunkPrefix {
		return cairn.ChunkID{}, false
	}
	id, err := cairn.ParseChunkID(name[len(ChunkPrefix)+3:])
	if err != nil || name[len(ChunkPrefix):len(ChunkPrefix)+2] != id.String()[:2] {
		return cairn.ChunkID{}, false
	}
	return id, true
}

// Store reads and writes sealed chunks on a backend. It is safe for
// concurrent use.
type Store struct {
	be          storage.Backend
	keys        *Keys
	compression Compression
	maxChunk    int
}

// New returns a Store over be. maxChunk bounds the plaintext size of any
// chunk read back (a damaged object cannot make a reader allocate more).
func New(be storage.Backend, keys *Keys, compression Compression, maxChunk int) *Store {
	initCodecs()
	if compression == "" {
		compression = defaultCompression
	}
	return &Store{be: be, keys: keys, compression: compression, maxChunk: maxChunk}
}

// Keys returns the store's keys.
func (s *Store) Keys() *Keys { return s.keys }

// Backend returns the backend the store writes to.
func (s *Store) Backend() storage.Backend { return s.be }

const headerLen = 1 + nonceSize

func chunkAD(ad *[6 + 32]byte, id cairn.ChunkID) []byte {
	copy(ad[:], "chunk/")
	copy(ad[6:], id[:])
	return ad[:]
}

// SealChunk compresses (unless that saves under 3 %) and seals a chunk's
// plaintext, reusing dst's storage. It does no I/O and is safe to call from
// many goroutines.
func (s *Store) SealChunk(dst []byte, id cairn.ChunkID, data []byte) []byte {
	need := headerLen + 1 + len(data) + len(data)/64 + 64 + 16
	if cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	dst = dst[:headerLen]
	dst[0] = formatV1
	if _, err := rand.Read(dst[1:headerLen]); err != nil {
		panic(fmt.Errorf("nonce: %w", err))
	}
	dst = s.encode(dst, data)
	var ad [38]byte
	return s.keys.aead.Seal(dst[:headerLen], dst[1:headerLen], dst[headerLen:], chunkAD(&ad, id))
}

// encode appends the codec byte and the encoded chunk to dst.
func (s *Store) encode(dst, data []byte) []byte {
	worth := len(data) - len(data)/32 // compression must save 3 %
	switch s.compression {
	case CompressionNone:
	case CompressionAuto:
		start := len(dst)
		dst = append(dst, codecS2)
		dst = slices.Grow(dst, s2.MaxEncodedLen(len(data)))
		enc := s2.Encode(dst[start+1:cap(dst)], data)
		if len(enc) >= worth {
			dst = dst[:start]
			break
		}
		dst = dst[:start+1+len(enc)]
		if len(enc)*autoZstdRatio >= len(data) {
			return dst
		}
		// Very compressible: zstd is worth its time here. Try it after
		// the S2 result and keep the smaller.
		z := encByMode[CompressionZstd].EncodeAll(data, dst[len(dst):len(dst)+1])
		if len(z)-1 < len(enc) {
			z[0] = codecZstd
			dst = dst[:start]
			return append(dst, z...)
		}
		return dst
	default:
		start := len(dst)
		dst = append(dst, codecZstd)
		dst = encByMode[s.compression].EncodeAll(data, dst)
		if len(dst)-start-1 < worth {
			return dst
		}
		dst = dst[:start]
	}
	dst = append(dst, codecNone)
	return append(dst, data...)
}

// PutSealed stores a sealed chunk durably.
func (s *Store) PutSealed(ctx context.Context, id cairn.ChunkID, sealed []byte) error {
	if err := s.be.Put(ctx, ChunkName(id), sealed); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("store chunk %s: %w", id.Short(), err))
	}
	return nil
}

// OpenChunk authenticates, decrypts and decompresses a sealed chunk and
// checks that its plaintext hashes to id, appending the plaintext to dst.
func (s *Store) OpenChunk(h *Hasher, id cairn.ChunkID, sealed, dst []byte) ([]byte, error) {
	var ad [38]byte
	codec, payload, err := s.keys.open(sealed, chunkAD(&ad, id))
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", id.Short(), err)
	}
	out, err := decode(codec, payload, dst[:0], s.maxChunk)
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", id.Short(), err)
	}
	if got := h.Sum(out); got != id {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("chunk %s: content hashes to %s", id.Short(), got.Short()))
	}
	return out, nil
}

// Get fetches, opens and verifies one chunk, appending its plaintext to dst.
func (s *Store) Get(ctx context.Context, h *Hasher, id cairn.ChunkID, dst []byte) ([]byte, error) {
	sealed, err := s.be.Get(ctx, ChunkName(id))
	if err != nil {
		kind := cairn.IO
		if isNotExist(err) {
			kind = cairn.Corrupt
		}
		return nil, cairn.E(kind, fmt.Errorf("chunk %s: %w", id.Short(), err))
	}
	return s.OpenChunk(h, id, sealed, dst)
}
