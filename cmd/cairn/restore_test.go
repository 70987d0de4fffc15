package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// twoPoints makes a vault with two restore points of VM web (disks os and
// data0) and returns the vault, the source images and the point ids.
func twoPoints(t *testing.T) (dir, osImg, dataImg string, ids []string) {
	t.Helper()
	dir = newVault(t)
	src := t.TempDir()
	osImg, dataImg = filepath.Join(src, "os.raw"), filepath.Join(src, "data.raw")
	makeImage(t, osImg, 2<<20, 21)
	makeImage(t, dataImg, 1<<20, 22)
	for i := range 2 {
		if i > 0 {
			scribble(t, osImg, 300<<10, 70<<10, 23)
		}
		res, _ := backupJSON(t, dir, "--vm", "web", "--disk", "os="+osImg, "--disk", "data0="+dataImg)
		ids = append(ids, res.ID)
	}
	return dir, osImg, dataImg, ids
}

func TestRestoreRefusals(t *testing.T) {
	dir, osImg, _, ids := twoPoints(t)
	out := t.TempDir()
	cairnRun(t, "restore", dir, ids[1], "--to", out, "--disk", "os").ok(t)
	// The image is there: refused, and left alone.
	writeFile(t, filepath.Join(out, "os.raw"), "precious")
	cairnRun(t, "restore", dir, ids[1], "--to", out, "--disk", "os").fails(t, exitConflict, "already exists", "--overwrite")
	if data, _ := os.ReadFile(filepath.Join(out, "os.raw")); string(data) != "precious" {
		t.Errorf("a refused restore changed the existing image")
	}
	// A refusal for one disk writes no other disk either.
	cairnRun(t, "restore", dir, ids[1], "--to", out).fails(t, exitConflict, "os.raw", "already exists")
	if _, err := os.Stat(filepath.Join(out, "data0.raw")); !os.IsNotExist(err) {
		t.Errorf("a refused restore wrote data0.raw")
	}
	cairnRun(t, "restore", dir, ids[1], "--to", out, "--overwrite").ok(t)
	if sha256File(t, filepath.Join(out, "os.raw")) != sha256File(t, osImg) {
		t.Errorf("--overwrite did not restore the image")
	}

	other := t.TempDir()
	unknown := "0123456789abcdef0123456789abcdef"
	for _, id := range ids {
		if strings.HasPrefix(id, "0123") {
			unknown = "fedcba9876543210fedcba9876543210"
		}
	}
	cairnRun(t, "restore", dir, unknown[:8], "--to", other).fails(t, exitNotFound, "restore point "+unknown[:8]+" does not exist", "cairn list")
	cairnRun(t, "restore", dir, "zz", "--to", other).fails(t, exitInvalid, "4 to 32 hex digits")
	cairnRun(t, "restore", dir, ids[0], "--to", other, "--disk", "swap").fails(t, exitNotFound, `no disk "swap"`)
	cairnRun(t, "restore", dir, ids[0]).fails(t, exitInvalid, "missing --to")
	cairnRun(t, "restore", dir, ids[0], "--to", other, "--rate", "fast").fails(t, exitInvalid, "--rate", `e.g. "200MiB/s"`)
	cairnRun(t, "restore", dir, ids[0], "--to", other, "--vm", "web").fails(t, exitInvalid, "--vm", "latest")
	cairnRun(t, "restore", dir, "latest", "--vm", "db", "--to", other).fails(t, exitNotFound, `VM "db" has no restore point`)

	// An ambiguous prefix: a second point object sharing the first 6
	// digits of a real one (FindPoint refuses before reading it).
	fake := ids[0][:6] + strings.Repeat("0", 26)
	if fake == ids[0] {
		fake = ids[0][:6] + strings.Repeat("1", 26)
	}
	copyFile(t, filepath.Join(dir, "points", ids[0]), filepath.Join(dir, "points", fake))
	cairnRun(t, "restore", dir, ids[0][:6], "--to", other).fails(t, exitInvalid, "ambiguous", "give more digits")
	if ents, _ := os.ReadDir(other); len(ents) != 0 {
		t.Errorf("failed restores left %d files", len(ents))
	}
}

func TestRestoreOutputAndRate(t *testing.T) {
	dir, osImg, dataImg, ids := twoPoints(t)
	out := t.TempDir()
	start := time.Now()
	r := cairnRun(t, "restore", dir, "latest", "--to", out, "--rate", "8MiB/s", "--json").ok(t)
	took := time.Since(start)
	var res restoreResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Point != ids[1] || len(res.Disks) != 2 {
		t.Fatalf("restore --json: %+v", res)
	}
	var written int64
	for _, d := range res.Disks {
		written += d.Written
		src := osImg
		if d.Disk == "data0" {
			src = dataImg
		}
		if d.Path != filepath.Join(out, d.Disk+".raw") || sha256File(t, d.Path) != sha256File(t, src) {
			t.Errorf("disk %s: %s is not its source", d.Disk, d.Path)
		}
	}
	// The bucket starts empty: the data cannot arrive faster than the rate.
	if min := time.Duration(float64(written) / (8 << 20) * float64(time.Second) * 0.9); took < min {
		t.Errorf("%d bytes restored in %v at 8MiB/s; want at least %v", written, took, min)
	}

	// People get a line per disk: path, size, written, time, rate.
	out2 := t.TempDir()
	r = cairnRun(t, "restore", dir, ids[0][:8], "--to", out2).ok(t)
	for _, want := range []string{"restored " + ids[0][:8], "VM web", filepath.Join(out2, "os.raw"), filepath.Join(out2, "data0.raw"), "2.0 MiB", "WRITTEN", "RATE"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("restore output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// chunkFiles returns the chunk objects of the vault in dir.
func chunkFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, f := range files(t, dir) {
		if strings.HasPrefix(f, "chunks"+string(filepath.Separator)) {
			out = append(out, filepath.Join(dir, f))
		}
	}
	return out
}

func TestCorruptChunk(t *testing.T) {
	dir := newVault(t)
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 1<<20, 31)
	res, _ := backupJSON(t, dir, "--vm", "web", "--disk", "os="+img)
	chunks := chunkFiles(t, dir)
	if len(chunks) == 0 {
		t.Fatal("no chunks")
	}
	// Flip one byte in the middle of a chunk.
	victim := chunks[len(chunks)/2]
	data, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(victim, data, 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Base(victim)[:8]

	out := t.TempDir()
	cairnRun(t, "restore", dir, "latest", "--to", out).fails(t, exitDamage, "chunk "+short)
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a failed restore left %v", ents)
	}
	// Without --read-data the chunk is there and looks fine.
	cairnRun(t, "verify", dir).ok(t)
	r := cairnRun(t, "verify", dir, "--read-data")
	r.fails(t, exitDamage, "damage found", res.ID)
	if !strings.Contains(r.stdout, "DAMAGED") || !strings.Contains(r.stdout, "chunk "+short) {
		t.Errorf("verify output does not show the damage:\n%s", r.stdout)
	}
	r = cairnRun(t, "verify", dir, "--read-data", "--json")
	r.fails(t, exitDamage, res.ID)
	var rep verifyResult
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify --json: %v\n%s", err, r.stdout)
	}
	if rep.OK || rep.Damaged != 1 || len(rep.Points) != 1 || !rep.Points[0].Damaged || rep.Points[0].ID != res.ID {
		t.Errorf("verify --json: %+v", rep)
	}

	// A missing chunk is found without --read-data.
	if err := os.Remove(victim); err != nil {
		t.Fatal(err)
	}
	cairnRun(t, "verify", dir).fails(t, exitDamage, res.ID)
}
