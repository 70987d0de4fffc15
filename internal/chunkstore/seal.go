package chunkstore

import (
	"crypto/rand"
	"fmt"

	"github.com/cairn-vm/cairn/internal/cairn"
)

const (
	formatV1  = 1
	nonceSize = 12
	// Overhead is the number of bytes sealing adds to a payload.
	Overhead = 1 + nonceSize + 16 + 1
)

// Codecs, the first plaintext byte of a sealed object.
const (
	codecNone = 0
	codecZstd = 1
	codecS2   = 2
)

// Seal encrypts payload (already encoded with codec) for the object
// identified by ad, appending the sealed object to dst.
func (k *Keys) seal(dst []byte, codec byte, payload, ad []byte) []byte {
	need := len(dst) + Overhead + len(payload)
	if cap(dst) < need {
		nd := make([]byte, len(dst), need)
		copy(nd, dst)
		dst = nd
	}
	start := len(dst)
	dst = dst[:start+1+nonceSize]
	dst[start] = formatV1
	nonce := dst[start+1 : start+1+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Errorf("nonce: %w", err)) // crypto/rand never fails on Linux
	}
	// The codec byte is sealed along with the payload: plain holds it
	// contiguous with the payload without a copy when possible.
	plainStart := len(dst)
	dst = append(dst, codec)
	dst = append(dst, payload...)
	out := k.aead.Seal(dst[:plainStart], nonce, dst[plainStart:], ad)
	return out
}

// open authenticates and decrypts a sealed object, returning its codec and
// payload. The payload aliases buf's storage where possible.
func (k *Keys) open(sealed, ad []byte) (codec byte, payload []byte, err error) {
	if len(sealed) < Overhead {
		return 0, nil, cairn.E(cairn.Corrupt, fmt.Errorf("object of %d bytes is shorter than the %d-byte envelope: %w", len(sealed), Overhead, ErrAuth))
	}
	if sealed[0] != formatV1 {
		// The vault's config names the format; an object of another
		// version in a vault this build opened is damage.
		return 0, nil, cairn.E(cairn.Corrupt, fmt.Errorf("object header says format %d, not %d: %w", sealed[0], formatV1, ErrAuth))
	}
	nonce := sealed[1 : 1+nonceSize]
	plain, err := k.aead.Open(sealed[1+nonceSize:1+nonceSize], nonce, sealed[1+nonceSize:], ad)
	if err != nil {
		return 0, nil, cairn.E(cairn.Corrupt, ErrAuth)
	}
	return plain[0], plain[1:], nil
}

// SealObject seals a small object (a point, a manifest, a lock) with
// compression, binding it to name.
func (k *Keys) SealObject(name string, data []byte) []byte {
	codec, payload := codecNone, data
	if c := compressSmall(data); c != nil {
		codec, payload = codecZstd, c
	}
	return k.seal(nil, byte(codec), payload, []byte("object/"+name))
}

// OpenObject opens an object sealed by SealObject under the same name.
func (k *Keys) OpenObject(name string, sealed []byte) ([]byte, error) {
	codec, payload, err := k.open(sealed, []byte("object/"+name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out, err := decode(codec, payload, nil, 1<<30)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
