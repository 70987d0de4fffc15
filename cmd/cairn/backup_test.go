package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/cli/ui"
	"github.com/cairn-vm/cairn/internal/vault"
)

// points returns the restore points of the vault in dir, via list --json.
func points(t *testing.T, dir string) []vault.RestorePoint {
	t.Helper()
	r := cairnRun(t, "list", dir, "--json").ok(t)
	var pts []vault.RestorePoint
	if err := json.Unmarshal([]byte(r.stdout), &pts); err != nil {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	return pts
}

// backupJSON runs a backup with --json and returns its result.
func backupJSON(t *testing.T, args ...string) (backupResult, result) {
	t.Helper()
	r := cairnRun(t, append([]string{"backup"}, append(args, "--json")...)...).ok(t)
	var res backupResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("backup --json: %v\n%s", err, r.stdout)
	}
	return res, r
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBackupChangeRestore is the whole cycle through the command line:
// init, full backup, change, incremental backup with a change map,
// restore of both points, each image byte for byte its source.
func TestBackupChangeRestore(t *testing.T) {
	dir := newVault(t)
	src := t.TempDir()
	osImg, dataImg := filepath.Join(src, "web-os.raw"), filepath.Join(src, "web-data.raw")
	makeImage(t, osImg, 4<<20, 1)
	makeImage(t, dataImg, 3<<20+12345, 2) // not a multiple of the chunk size
	osV1, dataV1 := sha256File(t, osImg), sha256File(t, dataImg)

	first, _ := backupJSON(t, dir, "--vm", "web", "--disk", "os="+osImg, "--disk", "data0="+dataImg)
	if first.Point == nil || first.ID != first.Point.ID || len(first.Point.Disks) != 2 || first.Point.Parent != "" {
		t.Fatalf("first backup: %+v", first)
	}
	for _, d := range first.Point.Disks {
		if d.Mode != "full" {
			t.Errorf("first backup: disk %s mode %s, want full", d.Name, d.Mode)
		}
	}
	if first.NewBytes == 0 || first.BytesRead == 0 {
		t.Errorf("first backup stored %d bytes, read %d", first.NewBytes, first.BytesRead)
	}

	// Change 3 places of os: two 4 KiB writes and one across a chunk edge.
	changes := [][2]int64{{100 << 10, 4 << 10}, {(2 << 20) - 1000, 3000}, {3<<20 + 5, 10}}
	var cm []map[string]int64
	for i, c := range changes {
		scribble(t, osImg, c[0], c[1], uint64(10+i))
		cm = append(cm, map[string]int64{"offset": c[0], "length": c[1]})
	}
	cmData, _ := json.Marshal(cm)
	cmFile := filepath.Join(src, "os-dirty.json")
	writeFile(t, cmFile, string(cmData))
	osV2 := sha256File(t, osImg)
	if osV2 == osV1 {
		t.Fatal("the change changed nothing")
	}

	second, _ := backupJSON(t, dir, "--vm", "web", "--disk", "os="+osImg, "--disk", "data0="+dataImg, "--changes", "os="+cmFile)
	if second.Point.Parent != first.ID {
		t.Errorf("second backup's parent %s, want %s", second.Point.Parent, first.ID)
	}
	osDisk, dataDisk := second.Point.Disk("os"), second.Point.Disk("data0")
	if osDisk.Mode != "changemap" || dataDisk.Mode != "full" {
		t.Errorf("second backup modes: os %s, data0 %s; want changemap, full", osDisk.Mode, dataDisk.Mode)
	}
	// Only the 4 chunks the changes touch are read (64 KiB chunks).
	if osDisk.ReadBytes != 4*64<<10 {
		t.Errorf("os: read %d bytes with the change map, want %d", osDisk.ReadBytes, 4*64<<10)
	}
	if dataDisk.NewChunks != 0 {
		t.Errorf("data0 did not change but %d new chunks were stored", dataDisk.NewChunks)
	}

	// Restore the second point: both images are their sources.
	out := filepath.Join(t.TempDir(), "out")
	r := cairnRun(t, "restore", dir, "latest", "--to", out).ok(t)
	for _, want := range []string{"os.raw", "data0.raw", short(second.ID), "4.0 MiB"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("restore output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := sha256File(t, filepath.Join(out, "os.raw")); got != osV2 {
		t.Errorf("restored os of the second point: SHA-256 %s, want %s", got, osV2)
	}
	if got := sha256File(t, filepath.Join(out, "data0.raw")); got != dataV1 {
		t.Errorf("restored data0: SHA-256 %s, want %s", got, dataV1)
	}
	// And the first point, by id prefix, is the image before the change.
	out1 := filepath.Join(t.TempDir(), "out1")
	cairnRun(t, "restore", dir, first.ID[:6], "--to", out1, "--disk", "os").ok(t)
	if got := sha256File(t, filepath.Join(out1, "os.raw")); got != osV1 {
		t.Errorf("restored os of the first point: SHA-256 %s, want %s", got, osV1)
	}
	if _, err := os.Stat(filepath.Join(out1, "data0.raw")); !os.IsNotExist(err) {
		t.Errorf("--disk os restored data0 too")
	}
	if ents, _ := os.ReadDir(out1); len(ents) != 1 {
		t.Errorf("restore left %d files in the target, want 1", len(ents))
	}
	cairnRun(t, "verify", dir, "--read-data").ok(t)
}

func TestBackupOutput(t *testing.T) {
	dir := newVault(t)
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 1<<20, 3)

	// People: id, per-disk mode, read and new bytes, duration and rate;
	// nothing on stderr (no terminal, no warnings).
	r := cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img).ok(t)
	for _, want := range []string{"restore point ", "of VM web", "no parent", "CrashConsistent", "DISK", "MODE", "full", "1.0 MiB", "read ", "/s", "stored"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("backup output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("backup wrote to stderr without a terminal:\n%s", r.stderr)
	}
	id := points(t, dir)[0].ID
	if !strings.Contains(r.stdout, id) {
		t.Errorf("backup output lacks the full id %s", id)
	}

	// --quiet: only the id, for scripts.
	r = cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img, "--quiet").ok(t)
	pts := points(t, dir)
	if strings.TrimSpace(r.stdout) != pts[len(pts)-1].ID {
		t.Errorf("backup --quiet printed %q, want the id %s", r.stdout, pts[len(pts)-1].ID)
	}

	// --json: the document on stdout, progress lines on stderr.
	res, r := backupJSON(t, dir, "--vm", "web", "--disk", "os="+img)
	if res.Point.Parent != pts[len(pts)-1].ID || res.Seconds <= 0 || res.BytesRead != 1<<20 {
		t.Errorf("backup --json: %+v", res)
	}
	var events []ui.Event
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var ev ui.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("stderr line %q is not a progress event: %v", l, err)
		}
		events = append(events, ev)
	}
	if len(events) < 2 || events[0].Event != "start" || events[0].Item != "os" || events[len(events)-1].Event != "done" || events[len(events)-1].Done != 1<<20 {
		t.Errorf("progress events: %+v", events)
	}
	// --json --no-progress: nothing on stderr.
	r = cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img, "--json", "--no-progress").ok(t)
	if r.stderr != "" {
		t.Errorf("--no-progress still wrote:\n%s", r.stderr)
	}
}

func TestBackupWarnings(t *testing.T) {
	dir := newVault(t)
	src := t.TempDir()
	img := filepath.Join(src, "os.raw")
	makeImage(t, img, 1<<20, 4)
	cm := filepath.Join(src, "cm.json")
	writeFile(t, cm, `[{"offset":0,"length":4096}]`)
	// A change map without a parent: read everything, and say so.
	r := cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img, "--changes", "os="+cm).ok(t)
	if !strings.Contains(r.stderr, "warning: disk os: no earlier restore point") {
		t.Errorf("no warning on stderr:\n%s", r.stderr)
	}
	res, _ := backupJSON(t, dir, "--vm", "other", "--disk", "os="+img, "--changes", "os="+cm)
	if len(res.Warnings) != 1 || res.Warnings[0].Disk != "os" || res.Point.Disks[0].Mode != "full" {
		t.Errorf("warnings in JSON: %+v", res.Warnings)
	}
}

func TestBackupMetadata(t *testing.T) {
	dir := newVault(t)
	src := t.TempDir()
	img := filepath.Join(src, "os.raw")
	makeImage(t, img, 256<<10, 5)
	md := filepath.Join(src, "sourceMetadata.json")
	writeFile(t, md, `{"vmId":"0f6a-77","location":"westeurope","hardwareProfile":{"vmSize":"Standard_D2s_v3"},"licenseType":"ignored"}`)
	cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img, "--metadata", md,
		"--consistency", "application", "--tag", "env=prod", "--tag", "owner=ops").ok(t)
	rp := points(t, dir)[0]
	if rp.VM.ID != "0f6a-77" || rp.VM.Location != "westeurope" || !strings.Contains(string(rp.VM.HardwareProfile), "Standard_D2s_v3") {
		t.Errorf("VM record %+v", rp.VM)
	}
	if rp.ConsistencyMode != vault.ApplicationConsistent || rp.Tags["env"] != "prod" || rp.Tags["owner"] != "ops" {
		t.Errorf("consistency %s, tags %v", rp.ConsistencyMode, rp.Tags)
	}
	cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img, "--metadata", md, "--vm-id", "other").
		fails(t, exitInvalid, "--vm-id", "differ")
	// --parent none: no parent even though the VM has a point.
	res, _ := backupJSON(t, dir, "--vm", "web", "--disk", "os="+img, "--parent", "none")
	if res.Point.Parent != "" {
		t.Errorf("--parent none made parent %s", res.Point.Parent)
	}
	res2, _ := backupJSON(t, dir, "--vm", "web", "--disk", "os="+img, "--parent", rp.ID[:8])
	if res2.Point.Parent != rp.ID {
		t.Errorf("--parent %s made parent %s", rp.ID[:8], res2.Point.Parent)
	}
}

// TestBackupBadInput checks that a backup with any bad input fails with a
// clear one-line error and the right exit code, and writes nothing.
func TestBackupBadInput(t *testing.T) {
	dir := newVault(t)
	src := t.TempDir()
	img := filepath.Join(src, "web-os.raw")
	makeImage(t, img, 1<<20, 6)
	data := filepath.Join(src, "web-data.raw")
	makeImage(t, data, 1<<20, 7)
	// One good backup, so that the vault has objects and a parent.
	cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img).ok(t)
	parent := points(t, dir)[0].ID

	missing := filepath.Join(src, "nope", "web-os.raw")
	empty := filepath.Join(src, "empty.raw")
	writeFile(t, empty, "")
	badJSON := filepath.Join(src, "bad.json")
	writeFile(t, badJSON, `[{"offset": 0, "length": `)
	tooFar := filepath.Join(src, "far.json")
	writeFile(t, tooFar, `[{"offset": 1048000, "length": 4096}]`)
	notMap := filepath.Join(src, "notmap.json")
	writeFile(t, notMap, `{"dirty": []}`)
	md := filepath.Join(src, "md.json")
	writeFile(t, md, `["not", "an", "object"]`)
	unreadable := filepath.Join(src, "secret.raw")
	makeImage(t, unreadable, 64<<10, 8)
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	otherID := strings.Repeat("ab", 16)
	if strings.HasPrefix(parent, "ab") {
		otherID = strings.Repeat("cd", 16)
	}

	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string
		skipRoot bool
	}{
		{"missing disk", []string{"--disk", "os=" + missing}, exitNotFound, []string{`disk "os": ` + missing + ` does not exist: check the path`}, false},
		{"disk is a directory", []string{"--disk", "os=" + src}, exitInvalid, []string{`disk "os"`, "is a directory"}, false},
		{"disk unreadable", []string{"--disk", "os=" + unreadable}, exitOther, []string{`disk "os"`, "cannot be read", "permission denied"}, true},
		{"empty disk", []string{"--disk", "os=" + empty}, exitInvalid, []string{"empty"}, false},
		{"one name twice", []string{"--disk", "os=" + img, "--disk", "os=" + data}, exitInvalid, []string{`"os" is given twice`}, false},
		{"name with a space", []string{"--disk", "os disk=" + img}, exitInvalid, []string{"os disk", "' ' is not allowed"}, false},
		{"name too long", []string{"--disk", strings.Repeat("d", 65) + "=" + img}, exitInvalid, []string{"1 to 64 characters"}, false},
		{"name with a slash", []string{"--disk", "a/b=" + img}, exitInvalid, []string{`'/' is not allowed`}, false},
		{"disk without =", []string{"--disk", img}, exitInvalid, []string{"want NAME=PATH"}, false},
		{"disk without name", []string{"--disk", "=" + img}, exitInvalid, []string{"both sides"}, false},
		{"no disk", nil, exitInvalid, []string{"no disk to back up", "--disk NAME=PATH"}, false},
		{"no VM", []string{"--vm", "", "--disk", "os=" + img}, exitInvalid, []string{"missing --vm NAME"}, false},
		{"bad VM name", []string{"--vm", "web/1", "--disk", "os=" + img}, exitInvalid, []string{"VM name", "not allowed"}, false},
		{"changes of no disk", []string{"--disk", "os=" + img, "--changes", "data=" + tooFar}, exitInvalid, []string{`no --disk named "data"`}, false},
		{"changes missing", []string{"--disk", "os=" + img, "--changes", "os=" + missing}, exitNotFound, []string{"change map does not exist"}, false},
		{"changes not JSON", []string{"--disk", "os=" + img, "--changes", "os=" + badJSON}, exitInvalid, []string{"--changes os=" + badJSON, "change map"}, false},
		{"changes past the end", []string{"--disk", "os=" + img, "--changes", "os=" + tooFar}, exitInvalid, []string{"entry 0", "past the end of the disk"}, false},
		{"changes not a map", []string{"--disk", "os=" + img, "--changes", "os=" + notMap}, exitInvalid, []string{`no "extents"`}, false},
		{"two change maps", []string{"--disk", "os=" + img, "--changes", "os=" + tooFar, "--changes", "os=" + badJSON}, exitInvalid, []string{"two change maps"}, false},
		{"bad consistency", []string{"--disk", "os=" + img, "--consistency", "sloppy"}, exitInvalid, []string{"--consistency", "sloppy"}, false},
		{"bad tag", []string{"--disk", "os=" + img, "--tag", "novalue"}, exitInvalid, []string{"--tag", "KEY=VALUE"}, false},
		{"bad metadata", []string{"--disk", "os=" + img, "--metadata", md}, exitInvalid, []string{"--metadata", "not a JSON object"}, false},
		{"missing metadata", []string{"--disk", "os=" + img, "--metadata", missing}, exitNotFound, []string{"--metadata", "does not exist"}, false},
		{"unknown parent", []string{"--disk", "os=" + img, "--parent", otherID[:8]}, exitNotFound, []string{"parent", "does not exist"}, false},
		{"short parent", []string{"--disk", "os=" + img, "--parent", "ab"}, exitInvalid, []string{"--parent"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipRoot && os.Geteuid() == 0 {
				t.Skip("root reads files whatever their mode")
			}
			before := files(t, dir)
			args := []string{"backup", dir}
			if !slices.Contains(tc.args, "--vm") {
				args = append(args, "--vm", "web")
			}
			r := cairnRun(t, append(args, tc.args...)...)
			r.fails(t, tc.code, tc.want...)
			if after := files(t, dir); !slices.Equal(before, after) {
				t.Errorf("the failed backup changed the vault:\nbefore %v\nafter  %v", before, after)
			}
		})
	}

	t.Run("wrong passphrase", func(t *testing.T) {
		before := files(t, dir)
		cairnEnv(t, env{vars: map[string]string{passwordEnv: "not it"}}, "backup", dir, "--vm", "web", "--disk", "os="+img).
			fails(t, exitPassphrase, "wrong passphrase")
		if after := files(t, dir); !slices.Equal(before, after) {
			t.Errorf("the failed backup changed the vault")
		}
	})
	t.Run("no vault", func(t *testing.T) {
		nv := filepath.Join(t.TempDir(), "none")
		cairnRun(t, "backup", nv, "--vm", "web", "--disk", "os="+img).fails(t, exitNotFound, "does not exist")
		if _, err := os.Stat(nv); !os.IsNotExist(err) {
			t.Errorf("backup made the vault directory")
		}
	})
	if n := len(points(t, dir)); n != 1 {
		t.Errorf("the vault has %d restore points after failed backups, want 1", n)
	}
}

func TestBackupNewerFormat(t *testing.T) {
	dir := newVault(t)
	img := filepath.Join(t.TempDir(), "os.raw")
	makeImage(t, img, 64<<10, 9)
	p := filepath.Join(dir, "config")
	data, _ := os.ReadFile(p)
	writeFile(t, p, strings.Replace(string(data), `"format": 1`, `"format": 99`, 1))
	before := files(t, dir)
	cairnRun(t, "backup", dir, "--vm", "web", "--disk", "os="+img).fails(t, exitUnsupported, "format 99", "upgrade cairn")
	if after := files(t, dir); !slices.Equal(before, after) {
		t.Errorf("the failed backup changed the vault")
	}
}
