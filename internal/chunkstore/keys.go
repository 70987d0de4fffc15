package chunkstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/zeebo/blake3"

	"github.com/cairn-vm/cairn/internal/cairn"
)

// MasterKeySize is the length of a vault's master key.
const MasterKeySize = 32

// Keys holds the keys derived from a vault's master key: one that addresses
// chunks (keyed BLAKE3) and one that encrypts objects (AES-256-GCM).
// A Keys is safe for concurrent use.
type Keys struct {
	idKey [32]byte
	aead  cipher.AEAD
}

// ErrAuth is returned (wrapped) when an object fails authentication: it was
// damaged, or sealed with another key.
var ErrAuth = errors.New("authentication failed")

// NewMasterKey returns a fresh random master key.
func NewMasterKey() ([]byte, error) {
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return k, nil
}

// DeriveKeys derives the working keys from a master key.
func DeriveKeys(master []byte) (*Keys, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("master key: want %d bytes, have %d", MasterKeySize, len(master))
	}
	var k Keys
	blake3.DeriveKey("cairn v1 chunk id", master, k.idKey[:])
	var enc [32]byte
	blake3.DeriveKey("cairn v1 object encryption", master, enc[:])
	aead, err := NewAEAD(enc[:])
	if err != nil {
		return nil, err
	}
	k.aead = aead
	return &k, nil
}

// NewAEAD returns AES-256-GCM for a 32-byte key.
func NewAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

// Hasher computes chunk ids. It is not safe for concurrent use: give each
// worker its own (NewHasher is cheap).
type Hasher struct {
	h *blake3.Hasher
}

// NewHasher returns a Hasher keyed with the vault's id key.
func (k *Keys) NewHasher() *Hasher {
	h, err := blake3.NewKeyed(k.idKey[:])
	if err != nil {
		panic(err) // the key is always 32 bytes
	}
	return &Hasher{h: h}
}

// Sum returns the chunk id of data.
func (h *Hasher) Sum(data []byte) cairn.ChunkID {
	h.h.Reset()
	_, _ = h.h.Write(data)
	var id cairn.ChunkID
	h.h.Sum(id[:0])
	return id
}
