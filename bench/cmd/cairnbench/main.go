// Command cairnbench compares cairn with restic and borg on a VM-like raw
// disk image: full backup, incremental backup after a ~1 % change (cairn
// with and without a change map), restore, repository size and peak
// memory. It installs restic and borg from Debian's packages when they are
// missing, builds cairn, generates (and caches) a reproducible ext4 image,
// and prints one markdown table, which it also writes to bench/results.md.
//
// Two more sections measure cairn's service on the same image: the
// cross-region copy of a first restore point and of a ~1 % different
// second one ("copy"), and the latency of status polls from many clients
// to cairn serve while a copy runs ("poll"). They run in
// cairnbench-internal, which this program builds.
//
// Run it from the repository (make bench does):
//
//	go run ./bench/cmd/cairnbench [-size 4GiB] [-image disk.raw] [-runs 3] [-only cairn,restic,borg,copy,poll]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/bytesize"
	"github.com/cairn-vm/cairn/bench/internal/change"
	"github.com/cairn-vm/cairn/bench/internal/diskfile"
	"github.com/cairn-vm/cairn/bench/internal/imagegen"
	"github.com/cairn-vm/cairn/bench/internal/report"
	"github.com/cairn-vm/cairn/bench/internal/run"
	"github.com/cairn-vm/cairn/bench/internal/tools"
)

type config struct {
	size        int64
	image       string
	seed        uint64
	runs        int
	only        []string
	work        string
	results     string
	cairnBin    string
	changePct   float64
	skipInstall bool
	skipBuild   bool
	skipGen     bool
	keep        bool
	osRoot      string
	genOnly     bool
	pollClients int
	pollFor     time.Duration
	pollRegions int
}

// parts are what -only selects: the compared tools, then the service
// sections. (A "cbr" section, replicating a vault of several checkpoints
// with and without enable_acceleration, is to come with the CBR dialect.)
var parts = []string{"cairn", "restic", "borg", "copy", "poll"}

func main() {
	os.Exit(realMain())
}

func realMain() int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairnbench:", err)
		return 1
	}
	var c config
	var sizeFlag, onlyFlag string
	flag.StringVar(&sizeFlag, "size", "4GiB", "size of the generated image (e.g. 512MiB, 4GiB); every part of it scales with it")
	flag.StringVar(&c.image, "image", "", "benchmark this raw disk image instead of generating one")
	flag.Uint64Var(&c.seed, "seed", 1, "seed of the generated image and of the change")
	flag.IntVar(&c.runs, "runs", 3, "repeat each timed step this many times (fresh repositories each time) and report medians")
	flag.StringVar(&onlyFlag, "only", strings.Join(parts, ","), "comma-separated parts to run: tools (cairn, restic, borg) and sections (copy: cross-region copy; poll: status polling under load)")
	flag.StringVar(&c.work, "work", filepath.Join(root, "bench", "work"), "work directory: image cache, repositories, restores, logs")
	flag.StringVar(&c.results, "results", filepath.Join(root, "bench", "results.md"), "write the report here too (\"\" for none)")
	flag.StringVar(&c.cairnBin, "cairn", filepath.Join(root, "bin", "cairn"), "cairn binary (built from ./cmd/cairn unless -skip-build)")
	flag.Float64Var(&c.changePct, "change", 1.0, "percent of the image's allocated bytes the incremental rewrites")
	flag.BoolVar(&c.skipInstall, "skip-install", false, "do not install missing packages")
	flag.BoolVar(&c.skipBuild, "skip-build", false, "do not build cairn; use the -cairn binary as it is")
	flag.BoolVar(&c.skipGen, "skip-gen", false, "do not generate an image; fail unless a cached one exists")
	flag.BoolVar(&c.keep, "keep", false, "keep the repositories of the last run")
	flag.StringVar(&c.osRoot, "os-root", "/usr", "tree whose files fill the image's OS part")
	flag.BoolVar(&c.genOnly, "gen-only", false, "only make the base and changed images (and install what that needs), then stop")
	flag.IntVar(&c.pollClients, "poll-clients", 200, "poll section: concurrent clients")
	flag.DurationVar(&c.pollFor, "poll-duration", 10*time.Second, "poll section: how long each poll runs")
	flag.IntVar(&c.pollRegions, "poll-regions", 6, "poll section: further regions to copy into when a copy ends before the poll does")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "cairnbench: unexpected arguments %q\n", flag.Args())
		return 2
	}
	if c.size, err = bytesize.Parse(sizeFlag); err != nil {
		fmt.Fprintln(os.Stderr, "cairnbench:", err)
		return 2
	}
	for _, t := range strings.Split(onlyFlag, ",") {
		if t = strings.TrimSpace(t); t != "" {
			if !slices.Contains(parts, t) {
				fmt.Fprintf(os.Stderr, "cairnbench: -only: unknown part %q (want some of %s)\n", t, strings.Join(parts, ", "))
				return 2
			}
			c.only = append(c.only, t)
		}
	}
	if c.runs < 1 {
		fmt.Fprintln(os.Stderr, "cairnbench: -runs must be at least 1")
		return 2
	}
	if c.pollClients < 1 || c.pollClients > 1000 || c.pollFor <= 0 || c.pollFor > 10*time.Minute || c.pollRegions < 0 || c.pollRegions > 6 {
		fmt.Fprintln(os.Stderr, "cairnbench: want -poll-clients from 1 to 1000, -poll-duration up to 10m, -poll-regions from 0 to 6")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{cfg: c, root: root}
	return b.main(ctx)
}

// repoRoot finds the directory holding the module's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/cairn-vm/cairn")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run me inside the cairn repository (no go.mod of github.com/cairn-vm/cairn above the current directory)")
		}
		dir = parent
	}
}

type bench struct {
	cfg     config
	root    string
	runner  *run.Runner
	img     *imagegen.Image
	chg     *change.Change
	env     *tools.Env
	rep     *report.Report
	badData bool // a restored image differed

	cairnErr     error  // cairn did not build
	cairnVersion string // cairn version's line
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cairnbench: "+format+"\n", args...)
	b.runner.Log.Write([]byte(fmt.Sprintf("# "+format+"\n", args...)))
}

func (b *bench) main(ctx context.Context) int {
	c := b.cfg
	for _, d := range []string{"logs", "run", "repos", "restore", "scratch", "images", "bin"} {
		if err := os.MkdirAll(filepath.Join(c.work, d), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "cairnbench:", err)
			return 1
		}
	}
	logPath := filepath.Join(c.work, "logs", "bench-"+time.Now().UTC().Format("20060102T150405Z")+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairnbench:", err)
		return 1
	}
	defer logFile.Close()
	lw := bufio.NewWriter(logFile)
	defer lw.Flush()
	b.runner = &run.Runner{Log: lw}
	b.logf("log of every command: %s", b.rel(logPath))

	if err := b.prepare(ctx); err != nil {
		b.logf("error: %v", err)
		return 1
	}
	if b.runner.TimeBin = run.FindGNUTime(); b.runner.TimeBin == "" {
		b.logf("GNU time not found: peak RSS comes from wait4 and may include this program's own peak")
	}
	b.runner.TempDir = filepath.Join(c.work, "scratch")
	if c.genOnly {
		fmt.Printf("base:    %s sha256 %s\nchanged: %s sha256 %s\nmap:     %s\n", b.rel(b.img.Path), b.img.SHA256, b.rel(b.chg.Path), b.chg.SHA256, b.rel(b.chg.MapPath))
		return 0
	}
	b.env = &tools.Env{Runner: b.runner, RunDir: filepath.Join(c.work, "run"), Disk: "disk.raw", Scratch: filepath.Join(c.work, "scratch")}
	b.rep = &report.Report{Title: "cairn benchmark: cairn vs restic vs borg", Logical: b.img.Size, Allocated: b.img.Allocated}
	sectionsOn := b.selected("copy") || b.selected("poll")
	if (b.selected("cairn") || sectionsOn) && !c.skipBuild {
		if err := b.buildCairn(ctx); err != nil {
			b.cairnErr = fmt.Errorf("build: %w", err)
			b.logf("cairn does not build; its cells will show the error: %v", err)
		}
	}
	if sectionsOn && b.cairnErr == nil {
		if ct, _ := tools.New("cairn", b.env, c.cairnBin); ct.Check() == nil {
			b.cairnVersion = ct.Version(ctx)
		}
	}
	var active []tools.Tool
	for _, name := range []string{"cairn", "restic", "borg"} {
		rt := &report.Tool{Name: name}
		b.rep.Tools = append(b.rep.Tools, rt)
		if !b.selected(name) {
			rt.Skipped = true
			continue
		}
		t, _ := tools.New(name, b.env, c.cairnBin)
		if name == "cairn" && b.cairnErr != nil {
			rt.Err = b.cairnErr.Error()
			continue
		}
		if err := t.Check(); err != nil {
			rt.Err = err.Error()
			continue
		}
		rt.Version = t.Version(ctx)
		active = append(active, t)
	}
	b.facts(ctx)

	for i := 1; i <= c.runs && ctx.Err() == nil; i++ {
		for _, t := range active {
			if ctx.Err() != nil {
				break
			}
			rt := b.rep.Tool(t.Name())
			if err := b.scenario(ctx, t, rt, i, t.ChangeMaps()); err != nil {
				b.logf("run %d %s: %v", i, t.Name(), err)
			}
			if t.ChangeMaps() { // cairn: the same workload without the map, on a fresh vault
				if err := b.scenario(ctx, t, rt, i, false); err != nil {
					b.logf("run %d %s (no change map): %v", i, t.Name(), err)
				}
			}
		}
	}
	b.sections(ctx)
	if ctx.Err() != nil {
		b.logf("interrupted")
	}
	if !c.keep {
		os.Remove(filepath.Join(b.env.RunDir, b.env.Disk))
	}

	var out bytes.Buffer
	b.rep.Write(&out)
	lw.Flush()
	fmt.Println()
	os.Stdout.Write(out.Bytes())
	if c.results != "" {
		if err := os.WriteFile(c.results, out.Bytes(), 0o644); err != nil {
			b.logf("write %s: %v", c.results, err)
			return 1
		}
		b.logf("wrote %s", b.rel(c.results))
	}
	if b.badData {
		fmt.Fprintln(os.Stderr, "\ncairnbench: FAILED: a restored image differs from the backed-up image (see the table and the log)")
		return 2
	}
	for _, rt := range b.rep.Tools {
		if !b.selected(rt.Name) {
			continue
		}
		failed := rt.Err != ""
		for _, s := range rt.Samples {
			failed = failed || s.Err != ""
		}
		if failed {
			b.logf("%s had errors (see the table)", rt.Name)
			return 1
		}
	}
	if b.rep.Copy.Failed() || b.rep.Poll.Failed() {
		b.logf("a service section had errors (see its table)")
		return 1
	}
	if ctx.Err() != nil {
		return 130
	}
	return 0
}

func (b *bench) selected(name string) bool {
	for _, n := range b.cfg.only {
		if n == name {
			return true
		}
	}
	return false
}

// rel shows path relative to the repository when it is inside it.
func (b *bench) rel(path string) string {
	if r, err := filepath.Rel(b.root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// prepare installs what is missing, and makes or finds the base image and
// the changed image.
func (b *bench) prepare(ctx context.Context) error {
	c := b.cfg
	need := map[string]string{"time": "time"}
	if b.selected("restic") && !c.genOnly {
		need["restic"] = "restic"
	}
	if b.selected("borg") && !c.genOnly {
		need["borg"] = "borgbackup"
	}
	if c.image == "" {
		for _, bin := range []string{"mkfs.ext4", "debugfs", "dumpe2fs", "e2fsck"} {
			need[bin] = "e2fsprogs"
		}
	}
	if err := b.install(ctx, need); err != nil {
		return err
	}
	cache := filepath.Join(c.work, "images")
	var dir string
	var err error
	if c.image != "" {
		b.logf("inspecting %s", c.image)
		b.img, dir, err = imagegen.Inspect(c.image, cache)
		if err != nil {
			return err
		}
	} else {
		o := imagegen.Options{Size: c.size, Seed: c.seed, CacheDir: cache, OSRoot: c.osRoot, Log: logWriter{b}, Runner: b.runner}
		dir = filepath.Join(cache, o.Key())
		if c.skipGen {
			if b.img, err = imagegen.Load(dir); err != nil {
				return err
			}
			if b.img == nil {
				return fmt.Errorf("-skip-gen: no cached image in %s", b.rel(dir))
			}
		} else if b.img, err = imagegen.Generate(ctx, o); err != nil {
			return fmt.Errorf("generate image: %w", err)
		}
	}
	b.logf("base image %s: %s logical, %s allocated", b.rel(b.img.Path), bytesize.Format(b.img.Size), bytesize.Format(b.img.Allocated))
	chDir := filepath.Join(dir, fmt.Sprintf("change-%gpct-seed%d-%s", c.changePct, c.seed, change.Version))
	b.chg, err = change.Make(ctx, b.img, chDir, c.changePct, c.seed)
	if err != nil {
		return fmt.Errorf("make the change: %w", err)
	}
	b.logf("changed image %s: %d extents, %s rewritten (%.2f %% of allocated)", b.rel(b.chg.Path), len(b.chg.Extents),
		bytesize.Format(b.chg.Bytes), 100*float64(b.chg.Bytes)/float64(b.img.Allocated))
	return nil
}

type logWriter struct{ b *bench }

func (w logWriter) Write(p []byte) (int, error) {
	w.b.logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// install installs the Debian packages of the missing binaries in need
// (binary -> package), retrying while another apt or dpkg holds the lock.
func (b *bench) install(ctx context.Context, need map[string]string) error {
	var pkgs []string
	seen := map[string]bool{}
	for bin, pkg := range need {
		if _, err := exec.LookPath(bin); err != nil && !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	if b.cfg.skipInstall || os.Geteuid() != 0 {
		return fmt.Errorf("missing packages %s: install them with apt-get install -y %s", strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
	b.logf("installing %s", strings.Join(pkgs, " "))
	env := []string{"DEBIAN_FRONTEND=noninteractive"}
	apt := func(args ...string) error {
		for try := 1; ; try++ {
			res := b.runner.Exec(ctx, run.Spec{Path: "apt-get", Args: args, Env: env})
			if res.Err == nil {
				return nil
			}
			locked := bytes.Contains(res.Stderr, []byte("lock")) || bytes.Contains(res.Stdout, []byte("lock"))
			if !locked || try >= 40 || ctx.Err() != nil {
				return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), res.Err)
			}
			b.logf("apt is locked by another process; retrying in 15s (%d)", try)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(15 * time.Second):
			}
		}
	}
	if err := apt("update", "-qq"); err != nil {
		return err
	}
	return apt(append([]string{"install", "-y", "-qq"}, pkgs...)...)
}

// buildCairn builds ./cmd/cairn into the -cairn path.
func (b *bench) buildCairn(ctx context.Context) error {
	b.logf("building cairn: go build -o %s ./cmd/cairn", b.rel(b.cfg.cairnBin))
	res := b.runner.Exec(ctx, run.Spec{Path: "go", Args: []string{"build", "-o", b.cfg.cairnBin, "./cmd/cairn"}, Dir: b.root})
	if res.Err != nil {
		return errors.New(res.FirstLine())
	}
	return nil
}

// scenario runs one tool once: a fresh repository, a full backup of the
// base image, the change applied in place, an incremental backup (with the
// change map if useMap) and, unless this is cairn's no-map pass, a restore
// of the incremental that must equal the changed image, then measures the
// repository.
func (b *bench) scenario(ctx context.Context, t tools.Tool, rt *report.Tool, runNo int, useMap bool) error {
	name := t.Name()
	restore := useMap || !t.ChangeMaps()
	tag := fmt.Sprintf("%s-%d", name, runNo)
	if t.ChangeMaps() && !useMap {
		tag += "-nomap"
	}
	repo := filepath.Join(b.cfg.work, "repos", tag)
	if err := os.RemoveAll(repo); err != nil {
		return err
	}
	if !b.cfg.keep || runNo < b.cfg.runs {
		defer os.RemoveAll(repo)
	}
	disk := filepath.Join(b.env.RunDir, b.env.Disk)
	record := func(step string, res run.Result) bool {
		s := report.Sample{Tool: name, Run: runNo, Step: step, Wall: res.Wall, CPU: res.User + res.Sys, MaxRSS: res.MaxRSS}
		if res.Err != nil {
			s.Err = res.FirstLine()
		}
		rt.Samples = append(rt.Samples, s)
		status := "ok"
		if s.Err != "" {
			status = "ERROR: " + s.Err
		}
		b.logf("run %d/%d %-6s %-8s %7.2fs  peak RSS %6.1f MiB  %s", runNo, b.cfg.runs, name, step, res.Wall.Seconds(), float64(res.MaxRSS)/float64(bytesize.MiB), status)
		return s.Err == ""
	}
	fail := func(step string, err error) error {
		record(step, run.Result{Err: err})
		return err
	}

	// Base image in place, read once so it is in the page cache.
	if err := diskfile.SparseCopy(disk, b.img.Path); err != nil {
		return fail(report.Full, fmt.Errorf("copy base image: %w", err))
	}
	if err := b.warm(disk, b.img.SHA256); err != nil {
		return fail(report.Full, err)
	}
	if err := t.Init(ctx, repo); err != nil {
		return fail(report.Full, fmt.Errorf("init: %w", err))
	}
	syscall.Sync()
	if !record(report.Full, t.Backup(ctx, repo, "full", "")) {
		return errors.New("full backup failed")
	}

	// The same file, changed in place, as a running VM would change it.
	if err := diskfile.CopyExtents(disk, b.chg.Path, b.chg.Extents); err != nil {
		return fail(report.Incr, fmt.Errorf("apply change: %w", err))
	}
	if err := b.warm(disk, b.chg.SHA256); err != nil {
		return fail(report.Incr, err)
	}
	syscall.Sync()
	step, changeMap := report.Incr, ""
	if useMap {
		step, changeMap = report.IncrMap, b.chg.MapPath
	}
	if !record(step, t.Backup(ctx, repo, "incr", changeMap)) {
		return errors.New("incremental backup failed")
	}
	if !restore {
		return nil
	}

	out := filepath.Join(b.cfg.work, "restore", tag)
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(out)
	syscall.Sync()
	restored, res := t.Restore(ctx, repo, "incr", out)
	if res.Err == nil {
		if err := b.verify(restored); err != nil {
			res.Err = err
			b.badData = true
			fmt.Fprintf(os.Stderr, "\n!!! %s run %d: RESTORE VERIFICATION FAILED: %v\n\n", name, runNo, err)
		}
	}
	if !record(report.Restore, res) {
		return errors.New("restore failed")
	}
	os.RemoveAll(out)
	du, err := diskfile.DiskUsage(repo)
	if err != nil {
		return fmt.Errorf("measure repository: %w", err)
	}
	rt.VaultSizes = append(rt.VaultSizes, du)
	return nil
}

// warm reads the disk image whole, which puts it in the page cache, and
// checks that it is the image the step expects.
func (b *bench) warm(disk, want string) error {
	sum, _, err := diskfile.HashFile(disk)
	if err != nil {
		return err
	}
	if sum != want {
		return fmt.Errorf("%s has sha256 %s, want %s", b.rel(disk), sum, want)
	}
	return nil
}

// verify checks that the restored image equals the changed image.
func (b *bench) verify(path string) error {
	sum, n, err := diskfile.HashFile(path)
	if err != nil {
		return fmt.Errorf("restored image: %w", err)
	}
	if n != b.img.Size {
		return fmt.Errorf("restored image %s is %d bytes, want %d", filepath.Base(path), n, b.img.Size)
	}
	if sum != b.chg.SHA256 {
		return fmt.Errorf("restored image %s has sha256 %s, want %s", filepath.Base(path), sum[:16], b.chg.SHA256[:16])
	}
	return nil
}

// facts describes the machine, the tools and the workload.
func (b *bench) facts(ctx context.Context) {
	r := b.rep
	add := func(name, value string) { r.Facts = append(r.Facts, report.Fact{Name: name, Value: value}) }
	add("date", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	add("machine", fmt.Sprintf("%d CPUs (nproc), %s, %s RAM, Linux %s, %s", runtime.NumCPU(), cpuModel(), memTotal(), osRelease(), distro()))
	add("go", runtime.Version())
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		add("load average at start", strings.Join(strings.Fields(string(la))[:3], " "))
	}
	for _, rt := range r.Tools {
		if rt.Skipped && rt.Name == "cairn" && b.cairnVersion != "" {
			add(rt.Name, b.cairnVersion+b.revSuffix(ctx)+" (for the copy and polling sections only)")
			continue
		}
		if rt.Skipped {
			add(rt.Name, "not run (-only)")
			continue
		}
		v := rt.Version
		if rt.Err != "" {
			v = "error: " + rt.Err
		}
		if rt.Name == "cairn" && rt.Err == "" {
			v += b.revSuffix(ctx)
		}
		add(rt.Name, v)
	}
	img := b.img
	if img.Generated {
		var parts []string
		for _, p := range img.Parts {
			parts = append(parts, fmt.Sprintf("%s %s in %d files", p.Name, bytesize.Format(p.Bytes), p.Files))
		}
		add("image", fmt.Sprintf("generated ext4 (seed %d, generator %s): %s logical, %s allocated (%d bytes); %s; the rest free space",
			img.Seed, img.Version, bytesize.Format(img.Size), bytesize.Format(img.Allocated), img.Allocated, strings.Join(parts, ", ")))
	} else {
		add("image", fmt.Sprintf("%s: %s logical, %s allocated (%d bytes)", filepath.Base(img.Path), bytesize.Format(img.Size), bytesize.Format(img.Allocated), img.Allocated))
	}
	var cls []string
	for _, s := range b.chg.Stats {
		cls = append(cls, fmt.Sprintf("%s %s/%d", s.Class, bytesize.Format(s.Bytes), s.Extents))
	}
	add("change", fmt.Sprintf("%d extents of 64 KiB–1 MiB, 64 KiB-aligned, %s rewritten = %.2f %% of allocated bytes (bytes/extents per area: %s); the change map lists exactly these extents",
		len(b.chg.Extents), bytesize.Format(b.chg.Bytes), 100*float64(b.chg.Bytes)/float64(img.Allocated), strings.Join(cls, ", ")))
	runs := fmt.Sprintf("%d per tool, each on a fresh repository; medians reported", b.cfg.runs)
	if b.selected("copy") {
		runs += fmt.Sprintf("; cross-region copy: %d, each into a fresh destination vault", b.cfg.runs)
	}
	if b.selected("poll") {
		runs += "; status polling: once"
	}
	add("runs", runs)
	r.Notes = []string{
		"Page cache is not dropped (no permission assumed). Instead the image is read whole (SHA-256) right before each timed backup, so every tool starts with it in the page cache; `sync` runs before each timed step.",
		"One file, `run/disk.raw`, holds the base image for the full backup and is then changed in place (same inode) for the incremental, so restic and borg see the same file changed.",
		"Each tool runs with its default settings and encryption on: restic (`restic init`, `restic backup --host bench disk.raw`, `restic restore latest --target DIR`; a format-2 repository, compression auto = zstd; restic 0.14 has no sparse restore), borg (`borg init -e repokey-blake2`, `borg create repo::NAME disk.raw`, `borg extract --sparse`; lz4 by default), cairn (`cairn vault init`, `cairn backup --vm web --disk os=… [--changes os=map.json]`, `cairn restore … --to DIR/`). cairn's no-map incremental runs on a second fresh vault after its own full backup (those full backups are counted in the full-backup median too).",
		"Every restore is of the incremental backup into a fresh directory and must equal the changed image (SHA-256), or the run fails. Vault size is `du` of the repository after the incremental. Peak RSS is GNU time's %M of each command (the largest process's peak resident set); the table shows the largest over the tool's timed commands.",
	}
}

// revSuffix is " (commit REV)" for cairn's version line, or "".
func (b *bench) revSuffix(ctx context.Context) string {
	if rev := b.gitRev(ctx); rev != "" {
		return " (commit " + rev + ")"
	}
	return ""
}

func (b *bench) gitRev(ctx context.Context) string {
	out, err := b.runner.Output(ctx, run.Spec{Path: "git", Args: []string{"-C", b.root, "rev-parse", "--short", "HEAD"}})
	if err != nil {
		return ""
	}
	// Uncommitted changes to the code cairn is built from.
	diff := b.runner.Exec(ctx, run.Spec{Path: "git", Args: []string{"-C", b.root, "status", "--porcelain", "--", "cmd", "internal", "go.mod", "go.sum"}})
	if diff.Err == nil && len(bytes.TrimSpace(diff.Stdout)) > 0 {
		out += " with uncommitted changes"
	}
	return out
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	var kb int64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%d", &kb)
		}
	}
	return bytesize.Format(kb * 1024)
}

func osRelease() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func distro() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return "unknown OS"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown OS"
}

var _ io.Writer = logWriter{}
