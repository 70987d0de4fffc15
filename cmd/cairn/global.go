package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/progress"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// passwordEnv names the environment variable holding the passphrase.
const passwordEnv = "CAIRN_PASSWORD"

// fastKDFEnv, when "1", makes 'vault init' and 'demo' use the cheap test
// key derivation (vault.TestKDF). It is for tests of the built binary
// only: a vault made so is easy to brute-force.
const fastKDFEnv = "CAIRN_TEST_FAST_KDF"

// globalOptions are the flags every command takes, and the process's
// streams and environment, which tests replace.
type globalOptions struct {
	JSON         bool
	Quiet        bool
	NoProgress   bool
	PasswordFile string
	// Client mode (see remote.go): the server, its token and CA file.
	Server string
	Token  string
	CACert string

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string

	// progressInterval is how often JSON progress lines are written.
	progressInterval time.Duration
	// testKDF, when set, replaces the key derivation of new vaults. Only
	// tests set it, to make vaults fast to open.
	testKDF *vault.KDFParams
	// started is set when a command's run function starts: errors before
	// that are usage errors.
	started bool
}

func newGlobalOptions(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *globalOptions {
	return &globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, progressInterval: time.Second}
}

// printf writes human output to stdout, unless --quiet or --json.
func (g *globalOptions) printf(format string, args ...any) {
	if !g.Quiet && !g.JSON {
		fmt.Fprintf(g.stdout, format, args...)
	}
}

// warnf writes a warning line to stderr.
func (g *globalOptions) warnf(format string, args ...any) {
	fmt.Fprintf(g.stderr, "warning: "+format+"\n", args...)
}

// printJSON writes v as the command's one JSON document on stdout.
func (g *globalOptions) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// isTerminal reports whether f is an *os.File open on a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// kdf returns the key derivation parameters for a new vault, and whether
// they are the weak test ones.
func (g *globalOptions) kdf() (*vault.KDFParams, bool) {
	if g.testKDF != nil {
		return g.testKDF, true
	}
	if g.getenv(fastKDFEnv) == "1" {
		return &vault.TestKDF, true
	}
	return nil, false
}

// passphrase returns the vault passphrase from --password-file,
// CAIRN_PASSWORD or the terminal; confirm asks twice on a terminal.
func (g *globalOptions) passphrase(confirm bool) ([]byte, error) {
	if g.PasswordFile != "" {
		data, err := os.ReadFile(g.PasswordFile)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, cairn.E(cairn.NotExist, fmt.Errorf("password file %s does not exist: check --password-file", g.PasswordFile))
		}
		if err != nil {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("password file: %w", err))
		}
		data = bytes.TrimSuffix(data, []byte("\n"))
		data = bytes.TrimSuffix(data, []byte("\r"))
		if len(data) == 0 {
			return nil, cairn.E(cairn.Invalid, fmt.Errorf("password file %s is empty: put the passphrase in it", g.PasswordFile))
		}
		return data, nil
	}
	if p := g.getenv(passwordEnv); p != "" {
		return []byte(p), nil
	}
	if !isTerminal(g.stdin) {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("no passphrase: set %s, pass --password-file FILE, or run cairn on a terminal to type it", passwordEnv))
	}
	fd := int(g.stdin.(*os.File).Fd())
	fmt.Fprint(g.stderr, "Vault passphrase: ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(g.stderr)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if len(p) == 0 {
		return nil, cairn.E(cairn.Invalid, errors.New("the passphrase must not be empty"))
	}
	if confirm {
		fmt.Fprint(g.stderr, "Repeat the passphrase: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(g.stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if !bytes.Equal(p, again) {
			return nil, cairn.E(cairn.Invalid, errors.New("the passphrases do not match: nothing was created, try again"))
		}
	}
	return p, nil
}

// openBackend opens the directory of an existing vault. Unlike local.Open
// it does not create a missing directory.
func openBackend(dir string) (*local.Backend, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cairn.E(cairn.NotExist, fmt.Errorf("vault %s: the directory does not exist; check the path, or create a vault with 'cairn vault init %s'", dir, dir))
	}
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("vault %s: %w", dir, err))
	}
	if !fi.IsDir() {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("vault %s: not a directory", dir))
	}
	be, err := local.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("vault %s: %w", dir, err)
	}
	return be, nil
}

// openVault opens the vault in dir: it checks the format first, so that a
// vault too new is reported without asking for a passphrase.
func (g *globalOptions) openVault(ctx context.Context, dir string) (*vault.Vault, error) {
	be, err := openBackend(dir)
	if err != nil {
		return nil, err
	}
	if _, err := vault.ReadConfig(ctx, be); err != nil {
		be.Close()
		return nil, fmt.Errorf("vault %s: %w", dir, err)
	}
	pass, err := g.passphrase(false)
	if err != nil {
		be.Close()
		return nil, err
	}
	v, err := vault.Open(ctx, be, pass, vault.Options{})
	if err != nil {
		be.Close()
		if cairn.IsKind(err, cairn.Permission) {
			return nil, fmt.Errorf("vault %s: %w (check %s or --password-file)", dir, err, passwordEnv)
		}
		return nil, fmt.Errorf("vault %s: %w", dir, err)
	}
	return v, nil
}

// withVault opens the vault in dir, runs fn and closes the vault.
func (g *globalOptions) withVault(ctx context.Context, dir string, fn func(v *vault.Vault) error) error {
	v, err := g.openVault(ctx, dir)
	if err != nil {
		return err
	}
	err = fn(v)
	if cerr := v.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close vault: %w", cerr)
	}
	return err
}

// progressUI is the progress renderer of one command run.
type progressUI interface {
	progress.Reporter
	Close()
}

type noProgress struct{ progress.Noop }

func (noProgress) Close() {}

// newProgress returns the progress renderer the flags and stderr call
// for: nothing with --quiet or --no-progress, JSON lines with --json, bars
// when stderr is a terminal, else nothing. Close it before printing the
// command's results.
func (g *globalOptions) newProgress() progressUI {
	switch {
	case g.Quiet || g.NoProgress:
		return noProgress{}
	case g.JSON:
		return ui.NewJSONLines(g.stderr, g.progressInterval)
	case isTerminal(g.stderr):
		return ui.NewBars(g.stderr)
	}
	return noProgress{}
}

// startCount starts an item counted in things other than bytes, when the
// renderer can show such items.
func startCount(r progress.Reporter, item string, total int64) {
	if c, ok := r.(ui.Counter); ok {
		c.StartCount(item, total)
		return
	}
	r.Start(item, total)
}
