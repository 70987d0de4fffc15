package backup_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/backup"
	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// The crash test runs backups in a child process (this test binary,
// re-executed) and kills it with SIGKILL at many moments.
func TestMain(m *testing.M) {
	if dir := os.Getenv("CAIRN_CRASH_CHILD_VAULT"); dir != "" {
		os.Exit(crashChild(dir, os.Getenv("CAIRN_CRASH_CHILD_IMAGE")))
	}
	os.Exit(m.Run())
}

func crashChild(dir, img string) int {
	ctx := context.Background()
	be, err := local.Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	v, err := vault.Open(ctx, be, []byte("secret"), vault.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := os.Open(img)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st, _ := f.Stat()
	// A single writer and worker slow the backup down so that kills land
	// on every phase: chunk writes, manifests, the commit.
	_, err = backup.Run(ctx, v, []backup.Disk{{Name: "os", Source: fileSource{f, st.Size()}}}, backup.Options{VM: vault.VM{Name: "web"}, Workers: 1, Writers: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("committed")
	return 0
}

func TestCrashDuringBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	ctx := context.Background()
	v := newVault(t)
	vdir := v.Backend().(*local.Backend).Location()
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 6<<20, 7)
	states := map[string]string{}

	// How long does an uninterrupted child backup take?
	run := func(kill time.Duration) (killed bool) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CAIRN_CRASH_CHILD_VAULT="+vdir, "CAIRN_CRASH_CHILD_IMAGE="+img)
		out := &bytesBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if kill > 0 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("child failed: %v\n%s", err, out)
				}
				return false
			case <-time.After(kill):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-done
				return true
			}
		}
		if err := <-done; err != nil {
			t.Fatalf("child failed: %v\n%s", err, out)
		}
		return false
	}
	start := time.Now()
	run(0)
	full := time.Since(start)
	t.Logf("an uninterrupted backup in a child process takes %v", full)

	check := func(round int) {
		t.Helper()
		v2 := reopen(t, vdir)
		rep, err := v2.Verify(ctx, vault.VerifyOptions{ReadData: true})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("round %d: verify after kill: damaged %v: %+v", round, rep.DamagedPoints(), rep.Points)
		}
		pts, err := v2.Points(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, rp := range pts {
			want, ok := states[rp.ID]
			if !ok {
				// A point committed just before the kill: the image
				// it was made of is the image as it is now.
				want = copyFile(t, img)
				states[rp.ID] = want
			}
			restoreAndCompare(t, v2, rp, "os", want)
		}
	}
	check(0)

	kills := 0
	const rounds = 16
	for round := 1; round <= rounds; round++ {
		// New content each round, so that each backup writes many chunks.
		makeImage(t, img, 6<<20, uint64(1000+round))
		// Kill points spread over the backup's whole duration.
		at := full * time.Duration(round) / time.Duration(rounds+2)
		if run(at) {
			kills++
		}
		check(round)
	}
	if kills < rounds/2 {
		t.Fatalf("only %d of %d backups were killed; the kill points are too late", kills, rounds)
	}
	t.Logf("%d backups killed, vault verified and restored after each", kills)
	// After all this, a backup still works and so does GC.
	run(0)
	check(rounds + 1)
}

func reopen(t *testing.T, dir string) *vault.Vault {
	t.Helper()
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(context.Background(), be, []byte("secret"), vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *bytesBuffer) String() string              { return string(w.b) }
