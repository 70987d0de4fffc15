// Package run executes the benchmarked commands and measures them: wall
// time, CPU time and peak resident memory.
//
// Peak memory comes from GNU time's %M when Runner.TimeBin is set, and from
// the wait4 rusage of the child otherwise. The wait4 figure alone can be
// too high: Go starts children with vfork semantics (CLONE_VM), so the
// kernel folds the parent's high-water RSS into the child's ru_maxrss at
// exec. GNU time forks from a process of a few hundred KiB, which keeps
// its figure clean.
package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes one command to run.
type Spec struct {
	Path string   // program, looked up in PATH when it has no slash
	Args []string // arguments, without the program
	Dir  string   // working directory; "" means the current one
	Env  []string // extra "K=V" entries added to the inherited environment
}

// String renders the command line for logs.
func (s Spec) String() string {
	var b strings.Builder
	if s.Dir != "" {
		fmt.Fprintf(&b, "(cd %s) ", s.Dir)
	}
	b.WriteString(s.Path)
	for _, a := range s.Args {
		b.WriteByte(' ')
		if strings.ContainsAny(a, " \t'\"") || a == "" {
			fmt.Fprintf(&b, "%q", a)
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// Result is what one command did.
type Result struct {
	Wall   time.Duration // from start to exit
	User   time.Duration // user CPU time of the command and its children
	Sys    time.Duration // system CPU time of the command and its children
	MaxRSS int64         // peak resident set size in bytes
	Stdout []byte        // captured standard output (its head when it is long, for measured commands)
	Stderr []byte        // captured standard error (likewise)
	Err    error         // nil when the command ran and exited 0
}

// FirstLine returns, when the command failed, the first informative line
// of its stderr, or else of its stdout, or else of the error; it returns ""
// when the command succeeded.
func (r Result) FirstLine() string {
	if r.Err == nil {
		return ""
	}
	for _, b := range [][]byte{r.Stderr, r.Stdout} {
		for _, line := range strings.Split(string(b), "\n") {
			// "# package" headers (go build) say nothing by themselves.
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "# ") {
				return line
			}
		}
	}
	return firstLine(r.Err.Error())
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return s
}

// capBuffer keeps the first max bytes written to it and drops the rest.
type capBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (c *capBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - c.buf.Len(); room > 0 {
		if len(p) <= room {
			c.buf.Write(p)
		} else {
			c.buf.Write(p[:room])
		}
	}
	return len(p), nil
}

// Runner runs commands and appends each command line and its output to a
// log.
type Runner struct {
	Log     io.Writer // may be nil
	TimeBin string    // GNU time, to measure peak RSS with; "" to use wait4's figure
	TempDir string    // where GNU time writes its report; "" means os.TempDir()
}

// Exec runs s to completion and measures it. A non-zero exit is reported in
// Result.Err together with the first line of its stderr.
func (r *Runner) Exec(ctx context.Context, s Spec) Result {
	return r.exec(ctx, s, true)
}

// exec runs s; a measured command runs under GNU time when there is one
// and keeps only the head of its output.
func (r *Runner) exec(ctx context.Context, s Spec, measured bool) Result {
	path, args := s.Path, s.Args
	var timeOut string
	if measured && r.TimeBin != "" {
		f, err := os.CreateTemp(r.TempDir, "time-*.txt")
		if err != nil {
			return Result{Err: err}
		}
		timeOut = f.Name()
		f.Close()
		defer os.Remove(timeOut)
		path, args = r.TimeBin, append([]string{"-f", "%M", "-o", timeOut, "--", s.Path}, s.Args...)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), s.Env...)
	// Own process group, so that cancelling kills the whole command.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	// Measured commands keep 1 MiB of each stream; Output keeps it all.
	limit := 1 << 30
	if measured {
		limit = 1 << 20
	}
	stdout, stderr := capBuffer{max: limit}, capBuffer{max: limit}
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	r.logf("$ %s\n", s)
	start := time.Now()
	err := cmd.Run()
	res := Result{Wall: time.Since(start), Err: err}
	if ps := cmd.ProcessState; ps != nil {
		res.User = ps.UserTime()
		res.Sys = ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			res.MaxRSS = int64(ru.Maxrss) * 1024 // Linux reports KiB
		}
	}
	if timeOut != "" {
		if kib, ok := lastInt(timeOut); ok {
			res.MaxRSS = kib * 1024
		}
	}
	res.Stdout = stdout.buf.Bytes()
	res.Stderr = stderr.buf.Bytes()
	if err != nil {
		res.Err = fmt.Errorf("%s: %w: %s", s.Path, err, firstLine(string(res.Stderr)))
	}
	r.logf("  wall %.3fs user %.3fs sys %.3fs maxrss %d KiB err=%v\n", res.Wall.Seconds(), res.User.Seconds(), res.Sys.Seconds(), res.MaxRSS/1024, err)
	if len(res.Stdout) > 0 {
		r.logf("  stdout:\n%s\n", indent(res.Stdout))
	}
	if len(res.Stderr) > 0 {
		r.logf("  stderr:\n%s\n", indent(res.Stderr))
	}
	return res
}

// lastInt reads the integer on the last non-empty line of the file (GNU
// time writes "Command exited with non-zero status N" before it when the
// command fails).
func lastInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	n, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	return n, err == nil
}

// FindGNUTime returns the path of GNU time (/usr/bin/time), or "".
func FindGNUTime() string {
	p, err := exec.LookPath("time")
	if err != nil || !filepath.IsAbs(p) {
		return ""
	}
	return p
}

// Output runs s unmeasured and returns its trimmed stdout, or an error that
// carries the first line of its stderr.
func (r *Runner) Output(ctx context.Context, s Spec) (string, error) {
	res := r.exec(ctx, s, false)
	return strings.TrimSpace(string(res.Stdout)), res.Err
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format, args...)
	}
}

func indent(b []byte) string {
	const limit = 16 << 10
	s := string(b)
	if len(s) > limit {
		s = s[:limit] + "\n…(cut)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
