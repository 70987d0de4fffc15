package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/restore"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// demoPassphrase seals the demo vault unless CAIRN_PASSWORD or
// --password-file give another.
const demoPassphrase = "cairn-demo"

// demoOptions are the flags of "demo".
type demoOptions struct {
	Dir  string
	Size string
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	opts := demoOptions{Size: "64MiB"}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show a backup, an incremental backup and a byte-exact restore",
		Long: `Run cairn end to end on a made-up disk and check the result:

  1. make a disk image of --size bytes: text, random data and zeros (holes);
  2. create a vault in --dir (default: a new temporary directory, printed);
  3. back the image up;
  4. change about 1% of it, in 64KiB blocks, and write their change map;
  5. back it up again with the change map: only the changed blocks are read;
  6. restore the second restore point;
  7. check that the restored image's SHA-256 equals the source's.

Each step prints its time and the vault's size. The exit code is 0 only if
every step passed and the images match (6 if they differ). The vault stays
for you to explore with the other commands; the images are removed. The
passphrase is CAIRN_PASSWORD's or --password-file's, else "cairn-demo".`,
		Example: `  cairn demo
  cairn demo --dir ./demo-vault --size 256MiB`,
		Args: wantArgs(),
		RunE: action(g, func(ctx context.Context, args []string) error {
			return runDemo(ctx, opts, g)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "", "create the demo vault in `DIR` (new or empty; default: a new temporary directory)")
	f.StringVar(&opts.Size, "size", opts.Size, "the disk image's `SIZE`, at least 1MiB")
	return cmd
}

// demoStep is one step of the demo in the JSON output.
type demoStep struct {
	Step       string  `json:"step"`
	Seconds    float64 `json:"seconds"`
	Detail     string  `json:"detail"`
	VaultBytes int64   `json:"vaultBytes"`
}

// demoResult is the JSON output of "demo".
type demoResult struct {
	Vault          string     `json:"vault"`
	Passphrase     string     `json:"passphrase,omitempty"` // only the demo's fixed one
	Steps          []demoStep `json:"steps"`
	Points         []string   `json:"points"`
	SourceSHA256   string     `json:"sourceSHA256"`
	RestoredSHA256 string     `json:"restoredSHA256"`
	Match          bool       `json:"match"`
	Seconds        float64    `json:"seconds"`
}

// demo carries the state of one demo run.
type demo struct {
	g     *globalOptions
	res   demoResult
	start time.Time
}

// step runs fn as step n, timing it and printing its line.
func (d *demo) step(n int, name string, fn func() (string, error)) error {
	t := time.Now()
	detail, err := fn()
	took := time.Since(t)
	if err != nil {
		return fmt.Errorf("demo step %d (%s): %w", n, name, err)
	}
	size := dirSize(d.res.Vault)
	d.res.Steps = append(d.res.Steps, demoStep{Step: name, Seconds: took.Seconds(), Detail: detail, VaultBytes: size})
	d.g.printf("%d. %-28s %8s  vault %9s  %s\n", n, name, ui.Duration(took), ui.Bytes(size), detail)
	return nil
}

func runDemo(ctx context.Context, opts demoOptions, g *globalOptions) error {
	size, err := parseSize("--size", opts.Size)
	if err != nil {
		return err
	}
	if size < 1<<20 {
		return cairn.E(cairn.Invalid, fmt.Errorf("--size %s: the demo needs at least 1MiB", opts.Size))
	}
	pass := []byte(demoPassphrase)
	fixedPass := true
	if g.PasswordFile != "" || g.getenv(passwordEnv) != "" {
		if pass, err = g.passphrase(false); err != nil {
			return err
		}
		fixedPass = false
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "cairn-demo-"); err != nil {
			return cairn.E(cairn.IO, fmt.Errorf("demo directory: %w", err))
		}
	} else if err := checkInitDir(dir); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "cairn-demo-work-")
	if err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("demo work directory: %w", err))
	}
	defer os.RemoveAll(work)

	d := &demo{g: g, start: time.Now(), res: demoResult{Vault: dir, Steps: []demoStep{}}}
	if fixedPass {
		d.res.Passphrase = demoPassphrase
	}
	g.printf("demo vault: %s\n", dir)
	if fixedPass {
		g.printf("passphrase: %s (set %s to choose another)\n", demoPassphrase, passwordEnv)
	}

	img := filepath.Join(work, "web-os.raw")
	changesFile := filepath.Join(work, "os-changes.json")
	var v *vault.Vault
	var second *vault.RestorePoint

	if err := d.step(1, "make a disk image", func() (string, error) {
		data, err := makeDemoImage(img, size)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, %s of it data, the rest holes", ui.Bytes(size), ui.Bytes(data)), nil
	}); err != nil {
		return err
	}
	if err := d.step(2, "create the vault", func() (string, error) {
		be, err := local.Open(dir)
		if err != nil {
			return "", err
		}
		kdf, _ := g.kdf()
		v, err = vault.Init(ctx, be, pass, vault.Options{KDF: kdf})
		if err != nil {
			be.Close()
			return "", err
		}
		return fmt.Sprintf("chunk size %s, compression %s", ui.Bytes(int64(v.ChunkSize())), v.Config().Compression), nil
	}); err != nil {
		return err
	}
	defer v.Close()

	backupOnce := func(changes string) (string, error) {
		bo := backupOptions{VM: "demo-web", Disks: []string{"os=" + img}, Consistency: "crash"}
		if changes != "" {
			bo.Changes = []string{"os=" + changes}
		}
		disks, bopts, closeDisks, err := prepareBackup(bo)
		if err != nil {
			return "", err
		}
		defer closeDisks()
		res, took, err := doBackup(ctx, g, v, disks, bopts)
		if err != nil {
			return "", err
		}
		for _, w := range res.Warnings {
			g.warnf("disk %s: %s", w.Disk, w.Message)
		}
		second = res.Point
		d.res.Points = append(d.res.Points, res.Point.ID)
		dk := res.Point.Disks[0]
		return fmt.Sprintf("restore point %s, %s: read %s (%s), stored %s new",
			short(res.Point.ID), dk.Mode, ui.Bytes(dk.ReadBytes), ui.Rate(dk.ReadBytes, took), ui.Bytes(dk.NewBytes)), nil
	}
	if err := d.step(3, "back it up", func() (string, error) { return backupOnce("") }); err != nil {
		return err
	}
	if err := d.step(4, "change 1% of it", func() (string, error) {
		ext, err := changeDemoImage(img, changesFile, size)
		if err != nil {
			return "", err
		}
		var n int64
		for _, e := range ext {
			n += e.Length
		}
		return fmt.Sprintf("%d extents, %s, listed in a change map", len(ext), ui.Bytes(n)), nil
	}); err != nil {
		return err
	}
	if err := d.step(5, "back up the changes", func() (string, error) { return backupOnce(changesFile) }); err != nil {
		return err
	}
	out := filepath.Join(work, "restored")
	if err := d.step(6, "restore the second point", func() (string, error) {
		prog := g.newProgress()
		res, err := restore.ToDir(ctx, v, second, out, restore.Options{Progress: prog})
		prog.Close()
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %s, %s written", filepath.Base(res[0].Path), ui.Bytes(res[0].Size), ui.Bytes(res[0].Written)), nil
	}); err != nil {
		return err
	}
	if err := d.step(7, "compare SHA-256", func() (string, error) {
		var err error
		if d.res.SourceSHA256, err = fileSHA256(img); err != nil {
			return "", err
		}
		if d.res.RestoredSHA256, err = fileSHA256(filepath.Join(out, "os.raw")); err != nil {
			return "", err
		}
		d.res.Match = d.res.SourceSHA256 == d.res.RestoredSHA256
		if !d.res.Match {
			return "", cairn.E(cairn.Corrupt, fmt.Errorf("the restored image differs from the source: SHA-256 %s, want %s", d.res.RestoredSHA256, d.res.SourceSHA256))
		}
		return "identical: " + d.res.SourceSHA256[:16] + "…", nil
	}); err != nil {
		return err
	}
	took := time.Since(d.start)
	d.res.Seconds = took.Seconds()
	if g.JSON {
		return g.printJSON(d.res)
	}
	g.printf("all steps passed in %s; the restored image is byte for byte the source\n", ui.Duration(took))
	env := ""
	if fixedPass {
		env = passwordEnv + "=" + demoPassphrase + " "
	}
	g.printf("explore the vault: %scairn list %s\n", env, dir)
	return nil
}

// makeDemoImage writes a sparse image of size bytes in 64 KiB blocks: log
// text, random data and zeros (left as holes). It returns the data bytes.
func makeDemoImage(path string, size int64) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, cairn.E(cairn.IO, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return 0, cairn.E(cairn.IO, err)
	}
	r := rand.New(rand.NewPCG(2026, 11))
	const block = 64 << 10
	buf := make([]byte, block)
	var data int64
	kind := 0
	for off := int64(0); off < size; off += block {
		n := min(int64(block), size-off)
		if r.IntN(8) == 0 { // runs of one kind, 8 blocks long on average
			kind = r.IntN(10)
		}
		switch {
		case kind < 4: // text: log lines
			fillText(r, buf[:n])
		case kind < 6: // random: compressed or encrypted files
			fillRandom(r, buf[:n])
		default: // zeros: a hole
			continue
		}
		if _, err := f.WriteAt(buf[:n], off); err != nil {
			return 0, cairn.E(cairn.IO, err)
		}
		data += n
	}
	if err := f.Close(); err != nil {
		return 0, cairn.E(cairn.IO, err)
	}
	return data, nil
}

// changeDemoImage rewrites about 1% of the image in 64 KiB blocks, as a
// running VM would, and writes the change map listing them.
func changeDemoImage(path, changes string, size int64) ([]cairn.Extent, error) {
	const block = 64 << 10
	blocks := (size + block - 1) / block
	n := max(1, blocks/100)
	r := rand.New(rand.NewPCG(7, uint64(size)))
	picked := map[int64]bool{}
	for int64(len(picked)) < n {
		picked[r.Int64N(blocks)] = true
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, cairn.E(cairn.IO, err)
	}
	defer f.Close()
	var ext []cairn.Extent
	buf := make([]byte, block)
	for b := range picked {
		off := b * block
		l := min(int64(block), size-off)
		if r.IntN(2) == 0 {
			fillText(r, buf[:l])
		} else {
			fillRandom(r, buf[:l])
		}
		if _, err := f.WriteAt(buf[:l], off); err != nil {
			return nil, cairn.E(cairn.IO, err)
		}
		ext = append(ext, cairn.Extent{Offset: off, Length: l})
	}
	if err := f.Close(); err != nil {
		return nil, cairn.E(cairn.IO, err)
	}
	slices.SortFunc(ext, func(a, b cairn.Extent) int { return cmp.Compare(a.Offset, b.Offset) })
	data, err := json.Marshal(ext)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(changes, data, 0o644); err != nil {
		return nil, cairn.E(cairn.IO, err)
	}
	return ext, nil
}

var demoWords = []string{"GET", "POST", "/index.html", "/api/v1/orders", "200", "404", "user", "session", "cache", "miss", "hit", "db", "query", "took", "ms", "web-01", "nginx", "worker", "started", "ok"}

// fillText fills b with log-like lines.
func fillText(r *rand.Rand, b []byte) {
	i := 0
	for i < len(b) {
		line := fmt.Sprintf("2026-11-%02d %02d:%02d:%02d web-01 app[%d]:", 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 1000+r.IntN(9000))
		for range 4 + r.IntN(8) {
			line += " " + demoWords[r.IntN(len(demoWords))]
		}
		line += "\n"
		i += copy(b[i:], line)
	}
}

// fillRandom fills b with random bytes.
func fillRandom(r *rand.Rand, b []byte) {
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(r.Uint32())
	}
}

// fileSHA256 returns the hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", cairn.E(cairn.IO, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", cairn.E(cairn.IO, fmt.Errorf("read %s: %w", path, err))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dirSize returns the bytes of the files below dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
