// Package chunkstore turns plaintext into the sealed objects a vault stores
// and back: keyed content addresses, compression that skips incompressible
// data, and authenticated encryption bound to each object's name.
//
// # Object format (version 1)
//
//	byte 0        object format version (1)
//	bytes 1..12   random 96-bit nonce
//	bytes 13..    AES-256-GCM ciphertext (with its 16-byte tag) of:
//	                byte 0   codec: 0 = stored as is, 1 = zstd, 2 = S2
//	                bytes 1.. payload
//
// The additional authenticated data is the object's role and name (for a
// chunk, "chunk/" and its 32-byte id), so a sealed object cannot be passed
// off as another one.
package chunkstore
