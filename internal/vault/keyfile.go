package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/storage"
)

// keyPrefix is where key files live: one per passphrase.
const keyPrefix = "keys/"

// KDFParams are the Argon2id parameters of a key file.
type KDFParams struct {
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memoryKiB"`
	Threads uint8  `json:"threads"`
}

// DefaultKDF costs about 60 ms and 64 MiB on these machines (one pass
// over 64 MiB in two lanes; more memory than OWASP's minimum of 46 MiB for
// one pass): memory-hard enough that each guessed passphrase costs an
// attacker as much, cheap enough that an incremental backup, which takes a
// few hundred milliseconds, is not dominated by opening the vault.
var DefaultKDF = KDFParams{Time: 1, Memory: 64 << 10, Threads: 2}

// TestKDF is a cheap setting for tests.
var TestKDF = KDFParams{Time: 1, Memory: 1 << 10, Threads: 1}

type keyFile struct {
	KDF    string    `json:"kdf"`
	Params KDFParams `json:"params"`
	Salt   []byte    `json:"salt"`
	Sealed []byte    `json:"sealed"` // AES-256-GCM: nonce || ciphertext of the master key
}

// ErrWrongPassphrase is returned when no key file opens with the passphrase.
var ErrWrongPassphrase = errors.New("wrong passphrase: no key of this vault opens with it")

func deriveKEK(pass []byte, salt []byte, p KDFParams) []byte {
	return argon2.IDKey(pass, salt, p.Time, p.Memory, p.Threads, 32)
}

func newKeyFile(pass, master []byte, p KDFParams) (*keyFile, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	aead, err := chunkstore.NewAEAD(deriveKEK(pass, salt, p))
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &keyFile{KDF: "argon2id", Params: p, Salt: salt, Sealed: aead.Seal(nonce, nonce, master, []byte("cairn master key"))}, nil
}

func (kf *keyFile) open(pass []byte) ([]byte, error) {
	if kf.KDF != "argon2id" {
		return nil, fmt.Errorf("key file: unknown kdf %q", kf.KDF)
	}
	p := kf.Params
	if p.Time < 1 || p.Time > 100 || p.Memory < 8 || p.Memory > 4<<20 || p.Threads < 1 {
		return nil, fmt.Errorf("key file: kdf parameters out of range: %+v", p)
	}
	aead, err := chunkstore.NewAEAD(deriveKEK(pass, kf.Salt, p))
	if err != nil {
		return nil, err
	}
	if len(kf.Sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("key file: truncated")
	}
	master, err := aead.Open(nil, kf.Sealed[:aead.NonceSize()], kf.Sealed[aead.NonceSize():], []byte("cairn master key"))
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return master, nil
}

func writeKeyFile(ctx context.Context, be storage.Backend, kf *keyFile) error {
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return err
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return err
	}
	return be.Put(ctx, keyPrefix+hex.EncodeToString(id), data)
}

// unlock tries every key file with the passphrase.
func unlock(ctx context.Context, be storage.Backend, pass []byte) ([]byte, error) {
	var names []string
	err := be.List(ctx, keyPrefix, func(oi storage.ObjectInfo) error {
		names = append(names, oi.Name)
		return nil
	})
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("list keys: %w", err))
	}
	if len(names) == 0 {
		return nil, cairn.E(cairn.Corrupt, fmt.Errorf("vault has no key file (%s is empty)", strings.TrimSuffix(keyPrefix, "/")))
	}
	var lastErr error
	for _, n := range names {
		data, err := be.Get(ctx, n)
		if err != nil {
			lastErr = cairn.E(cairn.IO, fmt.Errorf("read %s: %w", n, err))
			continue
		}
		var kf keyFile
		if err := json.Unmarshal(data, &kf); err != nil {
			lastErr = cairn.E(cairn.Corrupt, fmt.Errorf("%s: %w", n, err))
			continue
		}
		master, err := kf.open(pass)
		if err == nil {
			return master, nil
		}
		if errors.Is(err, ErrWrongPassphrase) {
			lastErr = cairn.E(cairn.Permission, err)
		} else {
			lastErr = cairn.E(cairn.Corrupt, fmt.Errorf("%s: %w", n, err))
		}
	}
	return nil, lastErr
}
