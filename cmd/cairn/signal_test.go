package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSignals builds cairn and interrupts a rate-limited restore with
// SIGINT and SIGTERM: it exits 130 and leaves no image behind.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "cairn")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := newVault(t)
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 4<<20, 90)
	cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img).ok(t)

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := t.TempDir()
			c := exec.Command(bin, "restore", dir, "latest", "--to", out, "--rate", "512KiB/s")
			c.Env = append(os.Environ(), passwordEnv+"="+testPassword)
			var stderr bytes.Buffer
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			partial := filepath.Join(out, "os.raw.partial")
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(partial); err == nil {
					break
				}
				if time.Now().After(deadline) {
					c.Process.Kill()
					t.Fatalf("the restore did not start: %s", stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			if err := c.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := c.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
				t.Errorf("after %v: %v, want exit code %d; stderr %q", sig, err, exitInterrupted, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), "cairn: interrupted") {
				t.Errorf("stderr %q", stderr.String())
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("the interrupted restore left %v", ents)
			}
		})
	}
}

// cancelOnStart is a stderr that cancels a context when the first
// progress item starts.
type cancelOnStart struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (c *cancelOnStart) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(`"event":"start"`)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

// TestInterruptedBackup cancels a backup once it has started reading: it
// exits 130, and the vault gains no restore point and keeps no lock.
func TestInterruptedBackup(t *testing.T) {
	dir := newVault(t)
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 8<<20, 91)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOnStart{cancel: cancel}
	var stdout bytes.Buffer
	g := newGlobalOptions(strings.NewReader(""), &stdout, stderr, func(k string) string {
		if k == passwordEnv {
			return testPassword
		}
		return ""
	})
	g.testKDF = testKDF()
	code := run(ctx, g, []string{"backup", dir, "--vm", "web", "--disk", "os=" + img, "--json"})
	if code != exitInterrupted || !strings.Contains(stderr.buf.String(), "cairn: interrupted") {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr.buf.String())
	}
	if n := len(points(t, dir)); n != 0 {
		t.Errorf("the interrupted backup made %d restore points", n)
	}
	if slices.ContainsFunc(files(t, dir), func(f string) bool { return strings.HasPrefix(f, "locks") }) {
		t.Errorf("the interrupted backup left its lock: %v", files(t, dir))
	}
	// The next backup works, and prune cleans up what the first stored.
	cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img).ok(t)
	cairnRun(t, "verify", dir, "--read-data").ok(t)
}
