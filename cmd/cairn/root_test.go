package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/vault"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("plain"), 1},
		{cairn.E(cairn.IO, errors.New("disk full")), 1},
		{cairn.E(cairn.Invalid, errors.New("bad")), 2},
		{cairn.E(cairn.Permission, errors.New("wrong passphrase")), 3},
		{cairn.E(cairn.NotExist, errors.New("gone")), 4},
		{cairn.E(cairn.Conflict, errors.New("busy")), 5},
		{cairn.E(cairn.Exist, errors.New("there already")), 5},
		{cairn.E(cairn.Corrupt, errors.New("damaged")), 6},
		{cairn.E(cairn.Unsupported, errors.New("too new")), 7},
		{cairn.E(cairn.Canceled, context.Canceled), 130},
		{fmt.Errorf("wrapped: %w", cairn.E(cairn.Corrupt, errors.New("x"))), 6},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestHelp(t *testing.T) {
	r := cairnRun(t, "--help").ok(t)
	for _, want := range []string{"Exit codes:", "130", "upgrade cairn", "CAIRN_PASSWORD", "backup", "restore", "forget", "prune", "demo", "Examples:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("cairn --help does not mention %q:\n%s", want, r.stdout)
		}
	}
	for _, cmd := range [][]string{{"vault", "init"}, {"backup"}, {"list"}, {"restore"}, {"verify"}, {"forget"}, {"prune"}, {"demo"}, {"version"}} {
		r := cairnRun(t, append(cmd, "--help")...).ok(t)
		if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "cairn "+strings.Join(cmd, " ")) {
			t.Errorf("cairn %s --help has no examples:\n%s", strings.Join(cmd, " "), r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	r := cairnRun(t, "version").ok(t)
	if !strings.HasPrefix(r.stdout, "cairn ") || !strings.Contains(r.stdout, fmt.Sprintf("vault format %d", vault.FormatVersion)) {
		t.Errorf("version says %q", r.stdout)
	}
	r = cairnRun(t, "version", "--json").ok(t)
	var v versionResult
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.VaultFormat != vault.FormatVersion || v.Version == "" {
		t.Errorf("version --json: %+v, %v", v, err)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"list"}, "missing argument DIR"},
		{[]string{"list", "a", "b"}, `unexpected argument "b"`},
		{[]string{"list", "x", "--frob"}, "unknown flag: --frob"},
		{[]string{"forget", "x", "--keep-last", "many"}, "--keep-last"},
		{[]string{"restore", "x"}, "missing argument POINT"},
		{[]string{"vault", "frob"}, `unknown command "frob" for "cairn vault"`},
	}
	for _, tc := range tests {
		r := cairnRun(t, tc.args...)
		r.fails(t, exitInvalid, tc.want, "--help")
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "v")
	r := cairnRun(t, "vault", "init", dir).ok(t)
	if !strings.Contains(r.stdout, "created vault") || !strings.Contains(r.stdout, "1.0 MiB") {
		t.Errorf("init says %q", r.stdout)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	var c vault.Config
	if err := json.Unmarshal(cfg, &c); err != nil || c.Format != vault.FormatVersion || c.ChunkSize != vault.DefaultChunkSize {
		t.Errorf("config %+v, %v", c, err)
	}
	cairnRun(t, "vault", "init", dir).fails(t, exitConflict, "already exists")
	cairnRun(t, "list", dir).ok(t)

	other := filepath.Join(t.TempDir(), "w")
	cairnRun(t, "vault", "init", other, "--chunk-size", "100000").fails(t, exitInvalid, "chunk size", "power of two")
	cairnRun(t, "vault", "init", other, "--chunk-size", "1 parsec").fails(t, exitInvalid, "--chunk-size", "unknown unit")
	cairnRun(t, "vault", "init", other, "--compression", "maximum").fails(t, exitInvalid, "compression", "auto, zstd, better or none")
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a refused init made %s", other)
	}

	// A directory holding something else is refused.
	full := t.TempDir()
	writeFile(t, filepath.Join(full, "notes.txt"), "hello")
	cairnRun(t, "vault", "init", full).fails(t, exitInvalid, "not empty", "notes.txt")

	// JSON output and --password-file.
	pf := filepath.Join(t.TempDir(), "pass")
	writeFile(t, pf, "from a file\n")
	jd := filepath.Join(t.TempDir(), "j")
	r = cairnEnv(t, env{}, "vault", "init", jd, "--password-file", pf, "--json", "--chunk-size", "256K", "--compression", "better").ok(t)
	var res vaultInitResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Config.ChunkSize != 256<<10 || res.Config.Compression != "better" {
		t.Errorf("init --json: %+v, %v\n%s", res, err, r.stdout)
	}
	// The passphrase is the file's content without the newline.
	cairnEnv(t, env{vars: map[string]string{passwordEnv: "from a file"}}, "list", jd).ok(t)
}

func TestPassphraseSources(t *testing.T) {
	dir := newVault(t)
	// No passphrase at all, and stdin is no terminal.
	cairnEnv(t, env{}, "list", dir).fails(t, exitInvalid, "no passphrase", passwordEnv, "--password-file")
	cairnEnv(t, env{vars: map[string]string{passwordEnv: "wrong"}}, "list", dir).fails(t, exitPassphrase, "wrong passphrase", passwordEnv)
	// --password-file wins over the environment.
	pf := filepath.Join(t.TempDir(), "pass")
	writeFile(t, pf, testPassword+"\n")
	cairnEnv(t, env{vars: map[string]string{passwordEnv: "wrong"}}, "list", dir, "--password-file", pf).ok(t)
	cairnRun(t, "list", dir, "--password-file", filepath.Join(t.TempDir(), "nope")).fails(t, exitNotFound, "password file", "does not exist")
	empty := filepath.Join(t.TempDir(), "empty")
	writeFile(t, empty, "\n")
	cairnRun(t, "list", dir, "--password-file", empty).fails(t, exitInvalid, "is empty")
}

func TestMissingVault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing")
	cairnRun(t, "list", dir).fails(t, exitNotFound, dir, "does not exist", "cairn vault init")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("list made the missing vault directory")
	}
	empty := t.TempDir()
	cairnRun(t, "verify", empty).fails(t, exitNotFound, "no vault here")
}

func TestNewerFormat(t *testing.T) {
	dir := newVault(t)
	p := filepath.Join(dir, "config")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["format"] = 99
	data, _ = json.Marshal(cfg)
	writeFile(t, p, string(data))
	for _, args := range [][]string{{"list", dir}, {"verify", dir}, {"prune", dir}, {"restore", dir, "latest", "--to", t.TempDir()}} {
		// No passphrase is needed to learn that the vault is too new.
		cairnEnv(t, env{}, args...).fails(t, exitUnsupported, "format 99", "upgrade cairn")
	}
}
