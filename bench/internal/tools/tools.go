// Package tools drives the backup programs the benchmark compares: cairn,
// restic and borg, each with its default settings and encryption on.
package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cairn-vm/cairn/bench/internal/run"
)

// Password is the passphrase every tool's repository is encrypted with.
const Password = "cairn-bench-passphrase"

// Env is what the tools share: where the disk image lives and where they
// may keep caches.
type Env struct {
	Runner  *run.Runner
	RunDir  string // directory holding the disk image, the tools' working directory
	Disk    string // file name of the disk image inside RunDir, e.g. disk.raw
	Scratch string // per-benchmark scratch directory for caches and config
}

// Tool is one backup program.
type Tool interface {
	// Name is the tool's short name: cairn, restic or borg.
	Name() string
	// Check reports why the tool cannot run, or nil.
	Check() error
	// Version returns the tool's version line.
	Version(ctx context.Context) string
	// ChangeMaps reports whether Backup uses a change map.
	ChangeMaps() bool
	// Init creates an empty encrypted repository in the new directory repo
	// and forgets any cache from earlier repositories.
	Init(ctx context.Context, repo string) error
	// Backup backs the disk image up into repo as a backup called label;
	// changeMap, if not "", names a change map file relative to the last
	// backup. Tools that take no change map ignore it.
	Backup(ctx context.Context, repo, label, changeMap string) run.Result
	// Restore restores the backup called label (the newest one) into the
	// empty directory out and returns the restored image's path.
	Restore(ctx context.Context, repo, label, out string) (string, run.Result)
}

// New returns the tool called name; cairnBin is the cairn binary to use.
func New(name string, env *Env, cairnBin string) (Tool, error) {
	switch name {
	case "cairn":
		return &cairn{env: env, bin: cairnBin}, nil
	case "restic":
		return &restic{env: env}, nil
	case "borg":
		return &borg{env: env}, nil
	}
	return nil, fmt.Errorf("unknown tool %q (want cairn, restic or borg)", name)
}

func lookPath(bin string) error {
	_, err := exec.LookPath(bin)
	return err
}

func versionLine(ctx context.Context, r *run.Runner, bin string, argsList ...[]string) string {
	for _, args := range argsList {
		out, err := r.Output(ctx, run.Spec{Path: bin, Args: args})
		if err == nil && out != "" {
			return strings.SplitN(out, "\n", 2)[0]
		}
	}
	return "unknown"
}

func failed(err error) run.Result { return run.Result{Err: err} }

// restic: restic backup --host bench disk.raw; restic restore latest.
type restic struct{ env *Env }

func (t *restic) Name() string     { return "restic" }
func (t *restic) Check() error     { return lookPath("restic") }
func (t *restic) ChangeMaps() bool { return false }
func (t *restic) Version(ctx context.Context) string {
	return versionLine(ctx, t.env.Runner, "restic", []string{"version"})
}

func (t *restic) spec(repo string, args ...string) run.Spec {
	return run.Spec{Path: "restic", Args: args, Dir: t.env.RunDir, Env: []string{
		"RESTIC_REPOSITORY=" + repo, "RESTIC_PASSWORD=" + Password,
		"RESTIC_CACHE_DIR=" + filepath.Join(t.env.Scratch, "restic-cache"),
	}}
}

func (t *restic) Init(ctx context.Context, repo string) error {
	if err := os.RemoveAll(filepath.Join(t.env.Scratch, "restic-cache")); err != nil {
		return err
	}
	_, err := t.env.Runner.Output(ctx, t.spec(repo, "init"))
	return err
}

func (t *restic) Backup(ctx context.Context, repo, label, _ string) run.Result {
	return t.env.Runner.Exec(ctx, t.spec(repo, "backup", "--host", "bench", t.env.Disk))
}

func (t *restic) Restore(ctx context.Context, repo, _, out string) (string, run.Result) {
	res := t.env.Runner.Exec(ctx, t.spec(repo, "restore", "latest", "--target", out))
	return filepath.Join(out, t.env.Disk), res
}

// borg: borg create repo::label disk.raw; borg extract --sparse.
type borg struct{ env *Env }

func (t *borg) Name() string     { return "borg" }
func (t *borg) Check() error     { return lookPath("borg") }
func (t *borg) ChangeMaps() bool { return false }
func (t *borg) Version(ctx context.Context) string {
	return versionLine(ctx, t.env.Runner, "borg", []string{"--version"})
}

func (t *borg) spec(dir string, args ...string) run.Spec {
	return run.Spec{Path: "borg", Args: args, Dir: dir, Env: []string{
		"BORG_PASSPHRASE=" + Password, "BORG_BASE_DIR=" + filepath.Join(t.env.Scratch, "borg-base"),
		"BORG_DISPLAY_PASSPHRASE=no",
	}}
}

func (t *borg) Init(ctx context.Context, repo string) error {
	if err := os.RemoveAll(filepath.Join(t.env.Scratch, "borg-base")); err != nil {
		return err
	}
	_, err := t.env.Runner.Output(ctx, t.spec("", "init", "-e", "repokey-blake2", repo))
	return err
}

func (t *borg) Backup(ctx context.Context, repo, label, _ string) run.Result {
	return t.env.Runner.Exec(ctx, t.spec(t.env.RunDir, "create", repo+"::"+label, t.env.Disk))
}

func (t *borg) Restore(ctx context.Context, repo, label, out string) (string, run.Result) {
	res := t.env.Runner.Exec(ctx, t.spec(out, "extract", "--sparse", repo+"::"+label))
	return filepath.Join(out, t.env.Disk), res
}

// cairn: cairn vault init / backup / list --json / restore.
type cairn struct {
	env *Env
	bin string
}

func (t *cairn) Name() string     { return "cairn" }
func (t *cairn) ChangeMaps() bool { return true }
func (t *cairn) Check() error {
	if _, err := os.Stat(t.bin); err != nil {
		return fmt.Errorf("no cairn binary: %w", err)
	}
	return nil
}
func (t *cairn) Version(ctx context.Context) string {
	return versionLine(ctx, t.env.Runner, t.bin, []string{"version"}, []string{"--version"})
}

func (t *cairn) spec(args ...string) run.Spec {
	return run.Spec{Path: t.bin, Args: args, Dir: t.env.RunDir, Env: []string{"CAIRN_PASSWORD=" + Password}}
}

func (t *cairn) Init(ctx context.Context, repo string) error {
	_, err := t.env.Runner.Output(ctx, t.spec("vault", "init", repo))
	return err
}

func (t *cairn) Backup(ctx context.Context, repo, label, changeMap string) run.Result {
	args := []string{"backup", repo, "--vm", "web", "--disk", "os=" + filepath.Join(t.env.RunDir, t.env.Disk)}
	if changeMap != "" {
		args = append(args, "--changes", "os="+changeMap)
	}
	return t.env.Runner.Exec(ctx, t.spec(args...))
}

func (t *cairn) Restore(ctx context.Context, repo, _, out string) (string, run.Result) {
	list, err := t.env.Runner.Output(ctx, t.spec("list", repo, "--json"))
	if err != nil {
		return "", failed(fmt.Errorf("cairn list: %w", err))
	}
	id, err := NewestID([]byte(list))
	if err != nil {
		return "", failed(fmt.Errorf("cairn list --json: %w", err))
	}
	res := t.env.Runner.Exec(ctx, t.spec("restore", repo, id, "--to", out+string(filepath.Separator)))
	return filepath.Join(out, "os.raw"), res
}

// NewestID finds the newest restore point's id in the output of
// cairn list --json. It accepts a list of restore points, or an object
// holding such a list anywhere inside; the newest is the one with the
// latest time field, or else the last one listed.
func NewestID(data []byte) (string, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "", fmt.Errorf("not JSON: %w (output starts %q)", err, head(data))
	}
	// Breadth-first: the outermost list of objects that carry an id.
	queue := []any{v}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		switch x := cur.(type) {
		case []any:
			if id, ok := newestIn(x); ok {
				return id, nil
			}
			queue = append(queue, x...)
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				queue = append(queue, x[k])
			}
		}
	}
	return "", fmt.Errorf("no restore point id found in %q", head(data))
}

var (
	idKeys   = []string{"id", "restorepointid", "restorepoint", "checkpointid", "pointid"}
	timeKeys = []string{"created", "createdat", "time", "timestamp", "started", "startedat", "finished", "finishedat", "completed", "completedat", "date"}
)

func norm(k string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(k))
}

func field(m map[string]any, keys []string) (any, bool) {
	for _, want := range keys {
		for k, v := range m {
			if norm(k) == want {
				return v, true
			}
		}
	}
	return nil, false
}

func newestIn(list []any) (string, bool) {
	var best string
	var bestT time.Time
	found := false
	for _, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		idv, ok := field(m, idKeys)
		if !ok {
			continue
		}
		id := fmt.Sprint(idv)
		if s, ok := idv.(string); ok {
			id = s
		}
		var t time.Time
		if tv, ok := field(m, timeKeys); ok {
			if s, ok := tv.(string); ok {
				t, _ = time.Parse(time.RFC3339Nano, s)
			}
		}
		if !found || !t.Before(bestT) {
			best, bestT, found = id, t, true
		}
	}
	return best, found
}

func head(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
