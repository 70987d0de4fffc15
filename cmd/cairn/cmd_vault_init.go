package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// newVaultCommand returns the "vault" command group.
func newVaultCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Create and manage vaults",
		// Runnable, so that an unknown subcommand is an error rather
		// than a silent help text.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newVaultInitCommand(g))
	return cmd
}

// vaultInitOptions are the flags of "vault init".
type vaultInitOptions struct {
	ChunkSize   string
	Compression string
}

func newVaultInitCommand(g *globalOptions) *cobra.Command {
	var opts vaultInitOptions
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Create a new vault in a directory",
		Long: `Create a new, empty vault in DIR (made if missing; it must not hold
anything else). The vault is sealed by a passphrase: from --password-file,
else CAIRN_PASSWORD, else typed twice on the terminal. Without the
passphrase nothing in the vault can be read: keep it safe.

The chunk size is fixed for the life of the vault: a power of two from
64KiB to 16MiB. Smaller chunks deduplicate small changes better and cost
more metadata.`,
		Example: `  CAIRN_PASSWORD=secret cairn vault init /srv/vault
  cairn vault init /srv/vault --password-file ~/.cairn-pass --chunk-size 4MiB --compression better`,
		Args: wantArgs("DIR"),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runVaultInit(ctx, opts, g, args[0])
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.ChunkSize, "chunk-size", "1MiB", "chunk `SIZE`: a power of two from 64KiB to 16MiB")
	f.StringVar(&opts.Compression, "compression", "auto", "chunk compression: auto (S2, and zstd for very compressible chunks), zstd (zstd fastest: 12 % smaller, 1.7× slower), better (zstd default level) or none")
	return cmd
}

// vaultInitResult is the JSON output of "vault init".
type vaultInitResult struct {
	Dir    string       `json:"dir"`
	Config vault.Config `json:"config"`
}

func runVaultInit(ctx context.Context, opts vaultInitOptions, g *globalOptions, dir string) error {
	cs, err := parseSize("--chunk-size", opts.ChunkSize)
	if err != nil {
		return err
	}
	if cs > vault.MaxChunkSize {
		cs = vault.MaxChunkSize + 1 // let ValidateChunkSize explain
	}
	if err := vault.ValidateChunkSize(int(cs)); err != nil {
		return fmt.Errorf("--chunk-size: %w", err)
	}
	comp, err := chunkstore.ParseCompression(opts.Compression)
	if err != nil {
		return fmt.Errorf("--compression: %w", err)
	}
	if err := checkInitDir(dir); err != nil {
		return err
	}
	pass, err := g.passphrase(true)
	if err != nil {
		return err
	}
	kdf, weak := g.kdf()
	if weak && g.testKDF == nil {
		g.warnf("%s=1: the vault key is protected by a weak test key derivation; never keep real data in this vault", fastKDFEnv)
	}
	be, err := local.Open(dir)
	if err != nil {
		return fmt.Errorf("vault %s: %w", dir, err)
	}
	v, err := vault.Init(ctx, be, pass, vault.Options{ChunkSize: int(cs), Compression: comp, KDF: kdf})
	if err != nil {
		be.Close()
		return fmt.Errorf("vault %s: %w", dir, err)
	}
	defer v.Close()
	cfg := v.Config()
	if g.JSON {
		return g.printJSON(vaultInitResult{Dir: dir, Config: cfg})
	}
	g.printf("created vault %s in %s (format %d, chunk size %s, compression %s)\n", cfg.ID, dir, cfg.Format, ui.Bytes(int64(cfg.ChunkSize)), cfg.Compression)
	g.printf("keep the passphrase safe: without it nothing in the vault can be restored\n")
	return nil
}

// checkInitDir refuses a directory that holds a vault or anything else.
// A keys/ left by an interrupted init is refused too: vault.Init would add
// a second key file, and an old one that opens with the same passphrase
// would unlock a master key that matches nothing in the vault.
func checkInitDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return cairn.E(cairn.Invalid, fmt.Errorf("vault %s: %w", dir, err))
	}
	for _, e := range entries {
		if e.Name() == "config" {
			return cairn.E(cairn.Exist, fmt.Errorf("vault %s: a vault already exists here; use it, or choose another directory", dir))
		}
	}
	for _, e := range entries {
		switch e.Name() {
		case "keys":
			return cairn.E(cairn.Invalid, fmt.Errorf("vault %s: holds keys/ but no config, left by an interrupted 'vault init': remove %s and run it again", dir, filepath.Join(dir, "keys")))
		default:
			return cairn.E(cairn.Invalid, fmt.Errorf("vault %s: the directory is not empty (it holds %q): choose a new or empty directory", dir, e.Name()))
		}
	}
	return nil
}
