package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-vm/cairn/internal/storage/local"
	"github.com/cairn-vm/cairn/internal/vault"
)

// pointsOf makes n restore points of vm, changing the image before each.
func pointsOf(t *testing.T, dir, vm string, n int, seed uint64) (img string, ids []string) {
	t.Helper()
	img = filepath.Join(t.TempDir(), vm+".raw")
	makeImage(t, img, 512<<10, seed)
	for i := range n {
		scribble(t, img, int64(i)*64<<10, 64<<10, seed+uint64(i))
		res, _ := backupJSON(t, dir, "--vm", vm, "--disk", "os="+img)
		ids = append(ids, res.ID)
	}
	return img, ids
}

func TestList(t *testing.T) {
	dir := newVault(t)
	r := cairnRun(t, "list", dir).ok(t)
	if strings.TrimSpace(r.stdout) != "no restore points" {
		t.Errorf("list of an empty vault: %q", r.stdout)
	}
	if r := cairnRun(t, "list", dir, "--json").ok(t); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("list --json of an empty vault: %q", r.stdout)
	}
	_, web := pointsOf(t, dir, "web", 2, 40)
	_, db := pointsOf(t, dir, "db", 1, 50)

	r = cairnRun(t, "list", dir).ok(t)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("list:\n%s", r.stdout)
	}
	for _, h := range []string{"TIME", "VM", "DISKS", "SIZE", "NEW DATA", "PARENT"} {
		if !strings.Contains(lines[0], h) {
			t.Errorf("header lacks %s: %q", h, lines[0])
		}
	}
	// Oldest first; short ids; the second web point names its parent.
	if !strings.HasPrefix(lines[1], web[0][:8]+" ") || !strings.HasPrefix(lines[3], db[0][:8]+" ") {
		t.Errorf("rows out of order:\n%s", r.stdout)
	}
	if !strings.HasSuffix(strings.TrimSpace(lines[2]), web[0][:8]) || strings.Contains(lines[2], web[0][:9]) {
		t.Errorf("the second row does not end with the parent's short id:\n%s", lines[2])
	}
	if !strings.Contains(lines[1], "512.0 KiB") || !strings.Contains(lines[1], " os ") {
		t.Errorf("row lacks size or disks: %q", lines[1])
	}
	stamp := points(t, dir)[0].Time.Local().Format("2006-01-02 15:04:05")
	if !strings.Contains(lines[1], stamp) {
		t.Errorf("row lacks the local time %s: %q", stamp, lines[1])
	}

	r = cairnRun(t, "list", dir, "--vm", "db", "--json").ok(t)
	var pts []vault.RestorePoint
	if err := json.Unmarshal([]byte(r.stdout), &pts); err != nil || len(pts) != 1 || pts[0].ID != db[0] || pts[0].Disks[0].Manifest == "" || pts[0].Host == "" {
		t.Errorf("list --vm db --json: %v %+v", err, pts)
	}
	if r := cairnRun(t, "list", dir, "--vm", "mail").ok(t); !strings.Contains(r.stdout, `no restore points of VM "mail"`) {
		t.Errorf("list --vm mail: %q", r.stdout)
	}
}

func TestForget(t *testing.T) {
	dir := newVault(t)
	webImg, web := pointsOf(t, dir, "web", 3, 60)
	_, db := pointsOf(t, dir, "db", 2, 70)

	cairnRun(t, "forget", dir).fails(t, exitInvalid, "no retention policy", "--keep-last")
	cairnRun(t, "forget", dir, "--keep-daily", "-1").fails(t, exitInvalid, "--keep-daily must not be negative")
	cairnRun(t, "forget", dir, "--keep-within-days", "-2").fails(t, exitInvalid, "--keep-within-days")

	// Dry run: the plan, per VM, and nothing removed.
	before := files(t, dir)
	r := cairnRun(t, "forget", dir, "--keep-last", "1", "--dry-run").ok(t)
	for _, want := range []string{"VM web (policy: last 1): keep 1, would remove 2", "VM db (policy: last 1): keep 1, would remove 1",
		"keep    " + web[2][:8], "remove  " + web[0][:8], "remove  " + db[0][:8], "last"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("forget --dry-run lacks %q:\n%s", want, r.stdout)
		}
	}
	if !slices.Equal(before, files(t, dir)) {
		t.Errorf("forget --dry-run changed the vault")
	}

	// --vm: only db's points are judged.
	r = cairnRun(t, "forget", dir, "--keep-last", "1", "--vm", "db", "--json").ok(t)
	var res forgetResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Removed != 1 || len(res.Groups) != 1 || res.Groups[0].VM != "db" || res.Groups[0].Remove[0].ID != db[0] ||
		res.Groups[0].Keep[0].ID != db[1] || !slices.Contains(res.Groups[0].Keep[0].Reasons, "last") {
		t.Errorf("forget --vm db: %+v", res)
	}
	if n := len(points(t, dir)); n != 4 {
		t.Errorf("%d points left, want 4", n)
	}

	// Every VM's points on their own, then prune.
	r = cairnRun(t, "forget", dir, "--keep-last", "1", "--keep-within-days", "0", "--prune", "--json").ok(t)
	res = forgetResult{}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Removed != 2 || len(res.Groups) != 2 || res.Prune == nil || res.Prune.DeletedChunks == 0 || res.Prune.Deferred {
		t.Errorf("forget --prune: %+v, prune %+v", res, res.Prune)
	}
	var left []string
	for _, p := range points(t, dir) {
		left = append(left, p.ID)
	}
	slices.Sort(left)
	want := []string{web[2], db[1]}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("points left %v, want %v", left, want)
	}
	// What is left is whole.
	cairnRun(t, "verify", dir, "--read-data").ok(t)
	out := t.TempDir()
	cairnRun(t, "restore", dir, web[2], "--to", out).ok(t)
	if sha256File(t, filepath.Join(out, "os.raw")) != sha256File(t, webImg) {
		t.Errorf("the kept point does not restore to its image after prune")
	}
}

func TestPrune(t *testing.T) {
	dir := newVault(t)
	_, ids := pointsOf(t, dir, "web", 2, 80)
	cairnRun(t, "forget", dir, "--keep-last", "1").ok(t)
	nChunks := len(chunkFiles(t, dir))

	r := cairnRun(t, "prune", dir, "--dry-run").ok(t)
	if !strings.Contains(r.stdout, "would be removed") || len(chunkFiles(t, dir)) != nChunks {
		t.Errorf("prune --dry-run:\n%s", r.stdout)
	}

	// A running backup holds its lock: prune waits, gives up, deletes
	// nothing and says to run again (exit 5).
	be, err := local.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(context.Background(), be, []byte(testPassword), vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := v.BeginBackup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r = cairnRun(t, "prune", dir, "--wait", "300ms")
	r.fails(t, exitConflict, "prune deferred", "again later")
	if !strings.Contains(r.stderr, "warning: prune deferred") || len(chunkFiles(t, dir)) != nChunks {
		t.Errorf("deferred prune: stderr %q, %d chunks (had %d)", r.stderr, len(chunkFiles(t, dir)), nChunks)
	}
	if err := sess.Abort(context.Background()); err != nil {
		t.Fatal(err)
	}
	v.Close()

	r = cairnRun(t, "prune", dir, "--json").ok(t)
	var st pruneResult
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	if st.DeletedChunks == 0 || st.Points != 1 || len(chunkFiles(t, dir)) != nChunks-st.DeletedChunks {
		t.Errorf("prune: %+v; %d chunks left of %d", st, len(chunkFiles(t, dir)), nChunks)
	}
	out := t.TempDir()
	cairnRun(t, "restore", dir, ids[1], "--to", out).ok(t)
	cairnRun(t, "verify", dir, "--read-data").ok(t)
}
