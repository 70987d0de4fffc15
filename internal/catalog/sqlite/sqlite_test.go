package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/catalog/catalogtest"
)

func TestConformance(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) catalog.Catalog {
		c, err := Open(t.Context(), filepath.Join(t.TempDir(), "catalog.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

func open(t *testing.T, path string) *Catalog {
	t.Helper()
	c, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return c
}

func closeOK(t *testing.T, c *Catalog) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestFreshDatabase(t *testing.T) {
	ctx := t.Context()
	c := open(t, filepath.Join(t.TempDir(), "catalog.db"))
	defer closeOK(t, c)
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if c.SchemaVersion() != len(ms) {
		t.Errorf("schema version %d, want %d", c.SchemaVersion(), len(ms))
	}
	var n, max int
	if err := c.r.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || max != len(ms) {
		t.Errorf("schema_migrations has %d rows up to %d, want %d", n, max, len(ms))
	}
	for _, db := range []struct {
		name string
		q    querier
	}{{"writer", c.w}, {"reader", c.r}} {
		var mode string
		var fk, busy int
		if err := db.q.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := db.q.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.q.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy < 1000 {
			t.Errorf("%s: journal_mode %s, foreign_keys %d, busy_timeout %d; want wal, 1, >= 1000", db.name, mode, fk, busy)
		}
	}
	// Reads cannot write.
	if _, err := c.r.ExecContext(ctx, `DELETE FROM projects`); err == nil {
		t.Error("the read pool can write")
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	for i := range 3 {
		c := open(t, path)
		var n int
		if err := c.r.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != c.SchemaVersion() {
			t.Errorf("open %d: %d migration rows for version %d", i, n, c.SchemaVersion())
		}
		closeOK(t, c)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.db")
	c := open(t, path)
	if _, err := c.w.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'future', 0)`, c.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	closeOK(t, c)
	_, err := Open(t.Context(), path, Options{})
	if !cairn.IsKind(err, cairn.Unsupported) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want a clear error of kind %q", err, cairn.Unsupported)
	}
}

func TestOpenBadPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if _, err := Open(t.Context(), p, Options{}); !cairn.IsKind(err, cairn.Invalid) {
			t.Errorf("Open(%q): %v, want kind %q", p, err, cairn.Invalid)
		}
	}
}

// TestMigrationSteps applies migrations in steps to one database: each
// is applied once, in order, and a failing one changes nothing.
func TestMigrationSteps(t *testing.T) {
	ctx := t.Context()
	fs := fstest.MapFS{
		"m/0001_one.sql": {Data: []byte("CREATE TABLE t1 (a INTEGER); INSERT INTO t1 VALUES (1);")},
	}
	steps := func() []migration {
		ms, err := loadMigrations(fs, "m")
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	// A bare database with the catalog's connection settings.
	w, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "steps.db")+"?_txlock=immediate&_fk=1&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	v, err := migrate(ctx, w, steps(), time.Now())
	if err != nil || v != 1 {
		t.Fatalf("migrate to 1: version %d, %v", v, err)
	}
	fs["m/0002_two.sql"] = &fstest.MapFile{Data: []byte("ALTER TABLE t1 ADD COLUMN b TEXT NOT NULL DEFAULT 'x'; INSERT INTO t1 (a) VALUES (2);")}
	v, err = migrate(ctx, w, steps(), time.Now())
	if err != nil || v != 2 {
		t.Fatalf("migrate to 2: version %d, %v", v, err)
	}
	v, err = migrate(ctx, w, steps(), time.Now()) // nothing to do
	if err != nil || v != 2 {
		t.Fatalf("migrate again: version %d, %v", v, err)
	}
	var rows int
	if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM t1 WHERE b = 'x'`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("t1 has %d rows with column b (%v), want 2: each migration once", rows, err)
	}
	fs["m/0003_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE t3 (a INTEGER); THIS IS NOT SQL;")}
	if _, err := migrate(ctx, w, steps(), time.Now()); err == nil {
		t.Fatal("a broken migration was applied")
	}
	var max int
	if err := w.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&max); err != nil || max != 2 {
		t.Errorf("after a failed migration the version is %d (%v), want 2", max, err)
	}
	var t3 int
	if err := w.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 't3'`).Scan(&t3); err != nil || t3 != 0 {
		t.Errorf("a failed migration left table t3 behind")
	}

	for name, files := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"bad name": {"m/first.sql": {}},
		"none":     {"m/README": {}},
	} {
		if _, err := loadMigrations(files, "m"); err == nil {
			t.Errorf("loadMigrations accepted %s", name)
		}
	}
}

// TestRestart closes the catalog and opens it again: everything persists,
// and an operation whose runner died with the server is claimed again.
func TestRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c := open(t, path)
	p := &catalog.Project{Name: "p"}
	if err := c.PutProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := c.PutRegion(ctx, &catalog.Region{Name: "r", Storage: "/srv"}); err != nil {
		t.Fatal(err)
	}
	v := &catalog.Vault{ProjectID: p.ID, Name: "v", Region: "r", Tags: map[string]string{"a": "b"}}
	if err := c.PutVault(ctx, v); err != nil {
		t.Fatal(err)
	}
	rp := &catalog.RestorePoint{VaultID: v.ID, Name: "rp", State: catalog.PointSucceeded}
	if err := c.PutRestorePoint(ctx, rp); err != nil {
		t.Fatal(err)
	}
	secret, err := c.CreateToken(ctx, &catalog.Token{ProjectID: p.ID, Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	running := &catalog.Operation{ProjectID: p.ID, Kind: "backup", ResourceID: "vm-1"}
	queued := &catalog.Operation{ProjectID: p.ID, Kind: "backup", ResourceID: "vm-2"}
	for _, op := range []*catalog.Operation{running, queued} {
		if err := c.CreateOperation(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := c.ClaimOperation(ctx, "node-1", 200*time.Millisecond)
	if err != nil || claimed == nil || claimed.ID != running.ID {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	if err := c.UpdateProgress(ctx, running.ID, "node-1", catalog.DiskProgress{Disk: "os", BytesDone: 7, BytesTotal: 10}); err != nil {
		t.Fatal(err)
	}
	closeOK(t, c)

	c = open(t, path)
	defer closeOK(t, c)
	gotV, err := c.GetVault(ctx, v.ID)
	if err != nil || gotV.Tags["a"] != "b" || gotV.Name != "v" {
		t.Errorf("vault after restart: %+v, %v", gotV, err)
	}
	gotP, err := c.GetRestorePoint(ctx, rp.ID)
	if err != nil || gotP.State != catalog.PointSucceeded {
		t.Errorf("restore point after restart: %+v, %v", gotP, err)
	}
	if tk, err := c.Authenticate(ctx, secret); err != nil || tk.ProjectID != p.ID {
		t.Errorf("token after restart: %+v, %v", tk, err)
	}
	// Both are claimed again: the queued one at once, the dead runner's
	// one once its lease has run out, with its progress.
	got := map[string]*catalog.Operation{}
	for deadline := time.Now().Add(10 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		op, err := c.ClaimOperation(ctx, "node-2", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if op == nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if op.ID == running.ID && time.Now().Before(claimed.Lease.Until) {
			t.Errorf("the dead runner's operation was claimed before its lease ran out")
		}
		got[op.ID] = op
	}
	resumed := got[running.ID]
	if got[queued.ID] == nil || resumed == nil {
		t.Fatalf("claimed after restart: %v; want both operations", got)
	}
	if resumed.Attempt != 2 || len(resumed.Progress) != 1 || resumed.Progress[0].BytesDone != 7 {
		t.Errorf("resumed operation: attempt %d, progress %+v", resumed.Attempt, resumed.Progress)
	}
	// The one-active-operation rule holds across the restart too.
	err = c.CreateOperation(ctx, &catalog.Operation{ProjectID: p.ID, Kind: "restore", ResourceID: "vm-1"})
	if !cairn.IsKind(err, cairn.Conflict) {
		t.Errorf("second operation on vm-1 after restart: %v, want a conflict", err)
	}
}

// TestTwoProcesses opens one database file twice, as two server processes
// would, and claims from both at once: each operation goes to exactly one.
func TestTwoProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "catalog.db")
	a, b := open(t, path), open(t, path)
	defer closeOK(t, a)
	defer closeOK(t, b)
	p := &catalog.Project{Name: "p"}
	if err := a.PutProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		c := a
		if i%2 == 1 {
			c = b
		}
		if err := c.CreateOperation(ctx, &catalog.Operation{ProjectID: p.ID, Kind: "k"}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for i := range 6 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n + 1 {
				op, err := c.ClaimOperation(ctx, fmt.Sprintf("runner-%d", i), time.Minute)
				if err != nil {
					t.Errorf("claim: %v", err)
					return
				}
				if op == nil {
					return
				}
				mu.Lock()
				count[op.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(count) != n {
		t.Errorf("%d operations claimed, want %d", len(count), n)
	}
	for id, k := range count {
		if k != 1 {
			t.Errorf("operation %s claimed %d times", id, k)
		}
	}
}
