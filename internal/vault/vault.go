// Package vault is cairn's storage format: a vault holds the restore points
// of some VMs as deduplicated, compressed, encrypted chunks on a
// storage.Backend, together with per-disk manifests and restore point
// records.
//
// # Objects
//
//	config                     plain JSON: format version, vault id, chunk size, compression
//	keys/<id>                  the master key sealed by a passphrase (Argon2id + AES-256-GCM)
//	chunks/<2 hex>/<64 hex>    one sealed chunk, named by the keyed hash of its plaintext
//	manifests/<point>/<n>      sealed manifest of disk n of a restore point: chunk ids by index
//	points/<point>             sealed restore point record: the commit object
//	locks/<id>                 a running backup's or garbage collection's lock, refreshed
//	gc/<id>                    chunks a running garbage collection means to delete
//	xref/<vault>/<id>          chunk ids of copies from another vault (package replicate)
//
// # Invariants
//
// Every object is written whole and durably by one Put. A manifest is
// written only after every chunk it names is durable, and a restore point
// becomes visible by the Put of its points/ object, after its manifests: a
// crash at any moment leaves a vault in which every visible restore point
// is complete. Garbage collection follows the protocol described in gc.go so
// that it never deletes a chunk that a running backup may reference.
package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/clock"
	"github.com/cairn-vm/cairn/internal/storage"
)

// FormatVersion is the vault format this build writes and the newest it reads.
const FormatVersion = 1

// DefaultChunkSize is the chunk size of new vaults, chosen by measurement
// (see the README): 1 MiB.
const DefaultChunkSize = 1 << 20

// Chunk sizes a vault may use: a power of two between these bounds.
const (
	MinChunkSize = 64 << 10
	MaxChunkSize = 16 << 20
)

const configName = "config"

// Config is a vault's plain configuration object.
type Config struct {
	Format      int                    `json:"format"`
	ID          string                 `json:"id"`
	ChunkSize   int                    `json:"chunkSize"`
	Compression chunkstore.Compression `json:"compression"`
	Created     time.Time              `json:"created"`
}

// Options tune Init and Open.
type Options struct {
	ChunkSize   int                    // Init only; 0 = DefaultChunkSize
	Compression chunkstore.Compression // Init only; "" = auto
	KDF         *KDFParams             // Init only; nil = DefaultKDF
	Clock       clock.Clock            // nil = clock.Real
}

// Vault is an open vault. It is safe for concurrent use.
type Vault struct {
	be     storage.Backend
	cfg    Config
	store  *chunkstore.Store
	keys   *chunkstore.Keys
	clock  clock.Clock
	hostID string
}

// ValidateChunkSize checks a chunk size setting.
func ValidateChunkSize(n int) error {
	if n < MinChunkSize || n > MaxChunkSize || n&(n-1) != 0 {
		return cairn.E(cairn.Invalid, fmt.Errorf("chunk size %d: must be a power of two from %d KiB to %d MiB", n, MinChunkSize>>10, MaxChunkSize>>20))
	}
	return nil
}

// Init creates a new vault on be, sealed by passphrase, and returns it open.
// It refuses a backend that already holds a vault.
func Init(ctx context.Context, be storage.Backend, passphrase []byte, opts Options) (*Vault, error) {
	if len(passphrase) == 0 {
		return nil, cairn.E(cairn.Invalid, errors.New("passphrase: must not be empty"))
	}
	if opts.ChunkSize == 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if err := ValidateChunkSize(opts.ChunkSize); err != nil {
		return nil, err
	}
	comp, err := chunkstore.ParseCompression(string(opts.Compression))
	if err != nil {
		return nil, err
	}
	if _, err := be.Stat(ctx, configName); err == nil {
		return nil, cairn.E(cairn.Exist, fmt.Errorf("a vault already exists here"))
	} else if !errors.Is(err, storage.ErrNotExist) {
		return nil, cairn.E(cairn.IO, fmt.Errorf("check for a vault: %w", err))
	}
	// An earlier Init that was interrupted may have left a key file: a
	// second key with the same passphrase would unlock the wrong master
	// key. Refuse rather than guess.
	hasKeys := false
	if err := be.List(ctx, keyPrefix, func(storage.ObjectInfo) error { hasKeys = true; return nil }); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("check for a vault: %w", err))
	}
	if hasKeys {
		return nil, cairn.E(cairn.Exist, errors.New("an unfinished vault is here (key files but no config: an interrupted init?): remove it or choose an empty directory"))
	}
	kdf := DefaultKDF
	if opts.KDF != nil {
		kdf = *opts.KDF
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real
	}
	master, err := chunkstore.NewMasterKey()
	if err != nil {
		return nil, err
	}
	kf, err := newKeyFile(passphrase, master, kdf)
	if err != nil {
		return nil, err
	}
	cfg := Config{Format: FormatVersion, ID: newID(), ChunkSize: opts.ChunkSize, Compression: comp, Created: clk.Now().UTC()}
	// The key goes first, the config last: a vault without config is not a
	// vault yet, and Init can be run again.
	if err := writeKeyFile(ctx, be, kf); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("write key: %w", err))
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := be.Put(ctx, configName, data); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("write config: %w", err))
	}
	return newVault(be, cfg, master, clk)
}

// ReadConfig reads and checks a vault's configuration without a passphrase.
func ReadConfig(ctx context.Context, be storage.Backend) (Config, error) {
	var cfg Config
	data, err := be.Get(ctx, configName)
	if errors.Is(err, storage.ErrNotExist) {
		return cfg, cairn.E(cairn.NotExist, errors.New("no vault here (no config object); create one with 'cairn vault init'"))
	}
	if err != nil {
		return cfg, cairn.E(cairn.IO, fmt.Errorf("read config: %w", err))
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, cairn.E(cairn.Corrupt, fmt.Errorf("config: %w", err))
	}
	if cfg.Format > FormatVersion {
		return cfg, cairn.E(cairn.Unsupported, fmt.Errorf("vault format %d is newer than this cairn reads (format %d): upgrade cairn", cfg.Format, FormatVersion))
	}
	if cfg.Format < 1 {
		return cfg, cairn.E(cairn.Corrupt, fmt.Errorf("config: format %d is not valid", cfg.Format))
	}
	if err := ValidateChunkSize(cfg.ChunkSize); err != nil {
		return cfg, cairn.E(cairn.Corrupt, fmt.Errorf("config: %w", err))
	}
	if _, err := chunkstore.ParseCompression(string(cfg.Compression)); err != nil {
		return cfg, cairn.E(cairn.Corrupt, fmt.Errorf("config: %w", err))
	}
	return cfg, nil
}

// Open opens an existing vault with its passphrase. Only opts.Clock is used.
func Open(ctx context.Context, be storage.Backend, passphrase []byte, opts Options) (*Vault, error) {
	cfg, err := ReadConfig(ctx, be)
	if err != nil {
		return nil, err
	}
	master, err := unlock(ctx, be, passphrase)
	if err != nil {
		return nil, err
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real
	}
	return newVault(be, cfg, master, clk)
}

func newVault(be storage.Backend, cfg Config, master []byte, clk clock.Clock) (*Vault, error) {
	keys, err := chunkstore.DeriveKeys(master)
	if err != nil {
		return nil, err
	}
	return &Vault{
		be:    be,
		cfg:   cfg,
		keys:  keys,
		store: chunkstore.New(be, keys, cfg.Compression, cfg.ChunkSize),
		clock: clk,
	}, nil
}

// AddKey adds a key file so that the vault also opens with passphrase.
func (v *Vault) AddKey(ctx context.Context, master, passphrase []byte, p KDFParams) error {
	kf, err := newKeyFile(passphrase, master, p)
	if err != nil {
		return err
	}
	return writeKeyFile(ctx, v.be, kf)
}

// Config returns the vault's configuration.
func (v *Vault) Config() Config { return v.cfg }

// ChunkSize returns the vault's chunk size in bytes.
func (v *Vault) ChunkSize() int { return v.cfg.ChunkSize }

// Store returns the vault's chunk store.
func (v *Vault) Store() *chunkstore.Store { return v.store }

// Backend returns the backend the vault lives on.
func (v *Vault) Backend() storage.Backend { return v.be }

// Clock returns the vault's clock.
func (v *Vault) Clock() clock.Clock { return v.clock }

// Close closes the backend.
func (v *Vault) Close() error { return v.be.Close() }

// putObject seals and stores a metadata object.
func (v *Vault) putObject(ctx context.Context, name string, value any) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return v.putRaw(ctx, name, data)
}

func (v *Vault) putRaw(ctx context.Context, name string, data []byte) error {
	if err := v.be.Put(ctx, name, v.keys.SealObject(name, data)); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("write %s: %w", name, err))
	}
	return nil
}

// getObject reads and opens a metadata object into value.
func (v *Vault) getObject(ctx context.Context, name string, value any) error {
	data, err := v.getRaw(ctx, name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, value); err != nil {
		return cairn.E(cairn.Corrupt, fmt.Errorf("%s: %w", name, err))
	}
	return nil
}

func (v *Vault) getRaw(ctx context.Context, name string) ([]byte, error) {
	sealed, err := v.be.Get(ctx, name)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("%s: %w", name, err))
	}
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("read %s: %w", name, err))
	}
	return v.keys.OpenObject(name, sealed)
}
