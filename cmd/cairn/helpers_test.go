package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/vault"
)

const testPassword = "test passphrase"

// result is what one run of the command line gave.
type result struct {
	code           int
	stdout, stderr string
}

// env is the environment of a test run: variables and options.
type env struct {
	vars  map[string]string
	stdin io.Reader
	ctx   context.Context
}

// testKDF returns the cheap key derivation of test vaults.
func testKDF() *vault.KDFParams { k := vault.TestKDF; return &k }

// cairnRun runs the command line in-process with the test passphrase in
// CAIRN_PASSWORD and the cheap test key derivation.
func cairnRun(t *testing.T, args ...string) result {
	t.Helper()
	return cairnEnv(t, env{vars: map[string]string{passwordEnv: testPassword}}, args...)
}

// cairnEnv runs the command line in-process in e.
func cairnEnv(t *testing.T, e env, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	stdin := e.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	g := newGlobalOptions(stdin, &stdout, &stderr, func(k string) string { return e.vars[k] })
	g.testKDF = testKDF()
	g.progressInterval = 10 * time.Millisecond
	ctx := e.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	code := run(ctx, g, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// ok fails the test unless r succeeded.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// fails checks that r failed with code and a one-line error on stderr
// that contains every one of wants.
func (r result) fails(t *testing.T, code int, wants ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	var errLines []string
	for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
		if strings.HasPrefix(l, "cairn: ") {
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 {
		t.Errorf("want exactly one error line starting with \"cairn: \" on stderr, have %d:\n%s", len(errLines), r.stderr)
		return
	}
	for _, w := range wants {
		if !strings.Contains(errLines[0], w) {
			t.Errorf("error %q does not say %q", errLines[0], w)
		}
	}
}

// newVault makes a vault with 64 KiB chunks and returns its directory.
func newVault(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vault")
	cairnRun(t, "vault", "init", dir, "--chunk-size", "64KiB").ok(t)
	return dir
}

// makeImage writes a disk image of size bytes with text-like, random and
// zero regions; zero regions are left as holes.
func makeImage(t *testing.T, path string, size int64, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < size; {
		n := int64(r.IntN(300<<10) + 1)
		n = min(n, size-off)
		buf := make([]byte, n)
		switch r.IntN(3) {
		case 0:
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
		case 1:
			for i := range buf {
				buf[i] = "lorem ipsum dolor\n"[r.IntN(18)]
			}
		default:
			off += n
			continue
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
		off += n
	}
}

// scribble overwrites n random bytes at off in the file at path.
func scribble(t *testing.T, path string, off, n int64, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(buf, off); err != nil {
		t.Fatal(err)
	}
}

// sha256File returns the hex SHA-256 of the whole file at path.
func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// files lists the regular files below dir, relative, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// writeFile writes data to path.
func writeFile(t *testing.T, path string, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
