package catalogtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
)

func testUpdateCommits(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	var p catalog.Project
	var v catalog.Vault
	err := c.Update(ctx, func(tx catalog.Tx) error {
		p = catalog.Project{Name: "p"}
		if err := tx.PutProject(ctx, &p); err != nil {
			return err
		}
		if err := tx.PutRegion(ctx, &catalog.Region{Name: "r", Storage: "/r"}); err != nil {
			return err
		}
		v = catalog.Vault{ProjectID: p.ID, Name: "v", Region: "r"}
		if err := tx.PutVault(ctx, &v); err != nil {
			return err
		}
		// A transaction reads its own writes.
		got, err := tx.GetVault(ctx, v.ID)
		if err != nil {
			return fmt.Errorf("GetVault inside Update: %w", err)
		}
		if got.Name != "v" {
			return fmt.Errorf("GetVault inside Update: name %q", got.Name)
		}
		vs, _, err := tx.ListVaults(ctx, catalog.VaultFilter{ProjectID: p.ID}, catalog.Page{})
		if err != nil || len(vs) != 1 {
			return fmt.Errorf("ListVaults inside Update: %d vaults, %v", len(vs), err)
		}
		return nil
	})
	ok(t, err, "Update")
	got, err := c.GetVault(ctx, v.ID)
	ok(t, err, "GetVault after Update")
	same(t, "GetVault after Update", got, &v)
}

func testUpdateRollsBack(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	var newProject, newVault, newPoint, newOp string
	err := c.Update(ctx, func(tx catalog.Tx) error {
		p := &catalog.Project{Name: "doomed"}
		if err := tx.PutProject(ctx, p); err != nil {
			return err
		}
		newProject = p.ID
		v := &catalog.Vault{ProjectID: w.project.ID, Name: "doomed", Region: w.region.Name}
		if err := tx.PutVault(ctx, v); err != nil {
			return err
		}
		newVault = v.ID
		rp := &catalog.RestorePoint{VaultID: w.vault.ID, Name: "doomed"}
		if err := tx.PutRestorePoint(ctx, rp); err != nil {
			return err
		}
		newPoint = rp.ID
		op := &catalog.Operation{ProjectID: w.project.ID, Kind: "backup", ResourceID: w.resource.ID}
		if err := tx.CreateOperation(ctx, op); err != nil {
			return err
		}
		newOp = op.ID
		// Changes and deletes of existing records.
		w.point.State = catalog.PointFailed
		if err := tx.PutRestorePoint(ctx, w.point); err != nil {
			return err
		}
		if err := tx.DeleteDiskRestorePoint(ctx, w.disk.ID); err != nil {
			return err
		}
		return fmt.Errorf("give up: %w", errTest)
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	_, err = c.GetProject(ctx, newProject)
	isKind(t, err, cairn.NotExist, "project created in a rolled-back Update")
	_, err = c.GetVault(ctx, newVault)
	isKind(t, err, cairn.NotExist, "vault created in a rolled-back Update")
	_, err = c.GetRestorePoint(ctx, newPoint)
	isKind(t, err, cairn.NotExist, "restore point created in a rolled-back Update")
	_, err = c.GetOperation(ctx, newOp)
	isKind(t, err, cairn.NotExist, "operation created in a rolled-back Update")
	got, err := c.GetRestorePoint(ctx, w.point.ID)
	ok(t, err, "GetRestorePoint")
	if got.State != catalog.PointCreating {
		t.Errorf("a rolled-back change stuck: state %q", got.State)
	}
	_, err = c.GetDiskRestorePoint(ctx, w.disk.ID)
	ok(t, err, "a disk restore point deleted in a rolled-back Update")
	// The resource is free: the rolled-back operation does not hold it.
	operation(t, c, w.project.ID, "backup", w.resource.ID)

	// An error from a catalog call inside fn rolls back the earlier
	// changes too, and keeps its kind.
	err = c.Update(ctx, func(tx catalog.Tx) error {
		if err := tx.PutProject(ctx, &catalog.Project{Name: "first"}); err != nil {
			return err
		}
		return tx.PutProject(ctx, &catalog.Project{Name: "p"}) // taken
	})
	isKind(t, err, cairn.Exist, "Update whose fn fails on a taken name")
	ps, _, err := c.ListProjects(ctx, catalog.ProjectFilter{Name: "first"}, catalog.Page{})
	ok(t, err, "ListProjects")
	if len(ps) != 0 {
		t.Error("a project created before the failing call was kept")
	}
}

// testUpdateSerializes runs read-modify-write transactions concurrently:
// none of them may lose another's update.
func testUpdateSerializes(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				errs <- c.Update(ctx, func(tx catalog.Tx) error {
					v, err := tx.GetVault(ctx, w.vault.ID)
					if err != nil {
						return err
					}
					var n int
					fmt.Sscan(v.Tags["count"], &n)
					v.Tags = map[string]string{"count": fmt.Sprint(n + 1)}
					return tx.PutVault(ctx, v)
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, err, "Update")
	}
	v, err := c.GetVault(ctx, w.vault.ID)
	ok(t, err, "GetVault")
	if v.Tags["count"] != fmt.Sprint(workers*rounds) {
		t.Errorf("count = %s after %d increments: updates were lost", v.Tags["count"], workers*rounds)
	}
}

func testCanceledContext(t *testing.T, c catalog.Catalog) {
	w := newWorld(t, c, "p")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.GetVault(ctx, w.vault.ID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("GetVault with a canceled context: %v, want context.Canceled", err)
	}
	err = c.PutProject(ctx, &catalog.Project{Name: "late"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("PutProject with a canceled context: %v, want context.Canceled", err)
	}
	err = c.Update(ctx, func(tx catalog.Tx) error { return tx.PutProject(ctx, &catalog.Project{Name: "late"}) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context: %v, want context.Canceled", err)
	}
	ps, _, err := c.ListProjects(t.Context(), catalog.ProjectFilter{Name: "late"}, catalog.Page{})
	ok(t, err, "ListProjects")
	if len(ps) != 0 {
		t.Error("a write with a canceled context was stored")
	}
}

func testOperationCreate(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	op := &catalog.Operation{
		ProjectID: w.project.ID, Kind: "backup", TargetID: w.point.ID, ResourceID: w.resource.ID,
		Params:   json.RawMessage(`{"disks":["vm-1-os"],"consistency":"CrashConsistent"}`),
		Progress: []catalog.DiskProgress{{Disk: "vm-1-os", BytesTotal: 100}},
		// Fields a caller cannot set:
		State: catalog.OpQueued, Attempt: 7, Lease: catalog.Lease{Owner: "x", Until: time.Now().Add(time.Hour)},
		Error: &catalog.OpError{Code: "c", Message: "m"}, Ended: time.Now(),
	}
	ok(t, c.CreateOperation(ctx, op), "CreateOperation")
	if op.ID == "" || op.State != catalog.OpQueued || op.Attempt != 0 || op.Lease.Owner != "" || op.Error != nil || !op.Ended.IsZero() {
		t.Errorf("CreateOperation left %+v", op)
	}
	recent(t, "Created", op.Created)
	got, err := c.GetOperation(ctx, op.ID)
	ok(t, err, "GetOperation")
	same(t, "GetOperation", got, op)

	sys := &catalog.Operation{Kind: "gc"} // a system job, in no project
	ok(t, c.CreateOperation(ctx, sys), "CreateOperation without a project")
	got, err = c.GetOperation(ctx, sys.ID)
	ok(t, err, "GetOperation")
	same(t, "GetOperation(system job)", got, sys)

	isKind(t, c.CreateOperation(ctx, &catalog.Operation{ProjectID: "nope", Kind: "k"}), cairn.NotExist, "CreateOperation in a missing project")
	isKind(t, c.CreateOperation(ctx, &catalog.Operation{ID: op.ID, Kind: "k"}), cairn.Exist, "CreateOperation with a taken id")
	_, err = c.GetOperation(ctx, "nope")
	isKind(t, err, cairn.NotExist, "GetOperation(missing)")
}

func testOneActivePerResource(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	vm2 := resource(t, c, w.project.ID, "vm-2", w.region.Name)
	first := operation(t, c, w.project.ID, "backup", w.resource.ID)

	second := &catalog.Operation{ProjectID: w.project.ID, Kind: "restore", ResourceID: w.resource.ID}
	isKind(t, c.CreateOperation(ctx, second), cairn.Conflict, "a second operation on a VM with a queued one")
	operation(t, c, w.project.ID, "backup", vm2.ID) // another VM is free
	operation(t, c, w.project.ID, "gc", "")         // operations on no resource are not limited
	operation(t, c, w.project.ID, "gc", "")

	// Still refused while it runs.
	claimed, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	if claimed == nil || claimed.ID != first.ID {
		t.Fatalf("claimed %+v, want the first operation %s", claimed, first.ID)
	}
	isKind(t, c.CreateOperation(ctx, second), cairn.Conflict, "a second operation on a VM with a running one")
	ops, _, err := c.ListOperations(ctx, catalog.OperationFilter{ResourceID: w.resource.ID}, catalog.Page{})
	ok(t, err, "ListOperations")
	if len(ops) != 1 {
		t.Errorf("a refused operation was queued anyway: %d operations on the VM", len(ops))
	}

	// Allowed again once it has finished.
	ok(t, c.FinishOperation(ctx, first.ID, "runner", catalog.Outcome{State: catalog.OpSucceeded}), "FinishOperation")
	ok(t, c.CreateOperation(ctx, second), "an operation on a VM whose operation finished")
	// And once a queued one is canceled.
	_, err = c.CancelOperation(ctx, second.ID)
	ok(t, err, "CancelOperation")
	operation(t, c, w.project.ID, "backup", w.resource.ID)
}

func testOneActiveConcurrent(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.CreateOperation(ctx, &catalog.Operation{ProjectID: w.project.ID, Kind: "backup", ResourceID: w.resource.ID})
		}()
	}
	wg.Wait()
	created := 0
	for i, err := range errs {
		if err == nil {
			created++
		} else if !cairn.IsKind(err, cairn.Conflict) {
			t.Errorf("creator %d: %v, want success or a conflict", i, err)
		}
	}
	if created != 1 {
		t.Errorf("%d concurrent operations on one VM were created, want exactly 1", created)
	}
}

func testClaimOrder(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	none, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation with nothing queued")
	if none != nil {
		t.Fatalf("claimed %+v from an empty catalog", none)
	}
	var want []string
	for i := range 3 {
		want = append(want, operation(t, c, p.ID, fmt.Sprintf("k%d", i), "").ID)
	}
	for i, id := range want {
		before := time.Now()
		op, err := c.ClaimOperation(ctx, "runner", time.Minute)
		ok(t, err, "ClaimOperation")
		if op == nil || op.ID != id {
			t.Fatalf("claim %d got %+v, want the oldest queued operation %s", i, op, id)
		}
		if op.State != catalog.OpRunning || op.Attempt != 1 || op.Lease.Owner != "runner" {
			t.Errorf("claimed operation: state %s, attempt %d, owner %q", op.State, op.Attempt, op.Lease.Owner)
		}
		if op.Lease.Until.Before(before.Add(time.Minute - time.Second)) {
			t.Errorf("lease until %s, want about a minute from %s", op.Lease.Until, before)
		}
		recent(t, "Started", op.Started)
		got, err := c.GetOperation(ctx, id)
		ok(t, err, "GetOperation")
		same(t, "the stored claimed operation", got, op)
	}
	none, err = c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation with all leased")
	if none != nil {
		t.Errorf("claimed %s, which is leased to another runner", none.ID)
	}
}

func testClaimExclusive(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	const ops, claimers = 40, 8
	want := map[string]bool{}
	for range ops {
		want[operation(t, c, p.ID, "backup", "").ID] = true
	}
	var mu sync.Mutex
	claimedBy := map[string][]string{}
	var wg sync.WaitGroup
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("runner-%d", i)
			for range ops + 1 { // a claimer that gets more than every operation claims some twice
				op, err := c.ClaimOperation(ctx, owner, time.Minute)
				if err != nil {
					t.Errorf("%s: ClaimOperation: %v", owner, err)
					return
				}
				if op == nil {
					return
				}
				if op.Lease.Owner != owner {
					t.Errorf("%s claimed %s with owner %q", owner, op.ID, op.Lease.Owner)
				}
				mu.Lock()
				claimedBy[op.ID] = append(claimedBy[op.ID], owner)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for id := range want {
		if len(claimedBy[id]) != 1 {
			t.Errorf("operation %s claimed by %v, want exactly one claimer", id, claimedBy[id])
		}
	}
	if len(claimedBy) != ops {
		t.Errorf("%d operations claimed, want %d", len(claimedBy), ops)
	}
	running, _ := pageAll(t, 100, func(pg catalog.Page) ([]*catalog.Operation, string, error) {
		return c.ListOperations(ctx, catalog.OperationFilter{States: []catalog.OpState{catalog.OpRunning}}, pg)
	})
	for _, op := range running {
		if got := claimedBy[op.ID]; len(got) != 1 || got[0] != op.Lease.Owner {
			t.Errorf("operation %s is stored as held by %q, claimed by %v", op.ID, op.Lease.Owner, got)
		}
	}
	if len(running) != ops {
		t.Errorf("%d operations running, want %d", len(running), ops)
	}
}

// waitPast sleeps until the lease of op has certainly expired.
func waitPast(op *catalog.Operation) {
	time.Sleep(time.Until(op.Lease.Until) + 50*time.Millisecond)
}

func testClaimExpiredLease(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	op := operation(t, c, w.project.ID, "backup", w.resource.ID)
	a, err := c.ClaimOperation(ctx, "runner-a", time.Second)
	ok(t, err, "ClaimOperation(a)")
	if a == nil || a.ID != op.ID {
		t.Fatalf("a claimed %+v", a)
	}
	ok(t, c.UpdateProgress(ctx, op.ID, "runner-a", catalog.DiskProgress{Disk: "vm-1-os", BytesDone: 10, BytesTotal: 100}), "UpdateProgress(a)")
	b, err := c.ClaimOperation(ctx, "runner-b", time.Minute)
	ok(t, err, "ClaimOperation(b)")
	if b != nil && time.Now().Before(a.Lease.Until) {
		t.Fatalf("b claimed %s while a's lease lasts", b.ID)
	}
	if b == nil { // as it should be; on a very slow machine the lease may be over already
		waitPast(a) // runner a dies
		b, err = c.ClaimOperation(ctx, "runner-b", time.Minute)
		ok(t, err, "ClaimOperation(b)")
	}
	if b == nil || b.ID != op.ID {
		t.Fatalf("b claimed %+v, want the operation whose lease expired", b)
	}
	if b.Attempt != 2 || b.Lease.Owner != "runner-b" || b.State != catalog.OpRunning {
		t.Errorf("reclaimed: attempt %d, owner %q, state %s; want 2, runner-b, running", b.Attempt, b.Lease.Owner, b.State)
	}
	if !b.Started.Equal(a.Started) {
		t.Errorf("Started moved from %s to %s on the second claim", a.Started, b.Started)
	}
	if len(b.Progress) != 1 || b.Progress[0].BytesDone != 10 {
		t.Errorf("progress of the first attempt is lost: %+v", b.Progress)
	}

	// Runner a comes back: it no longer holds the operation.
	_, err = c.RenewLease(ctx, op.ID, "runner-a", time.Minute)
	isKind(t, err, cairn.Conflict, "RenewLease by the runner that lost the lease")
	if !errors.Is(err, catalog.ErrLeaseLost) {
		t.Errorf("RenewLease error %v does not wrap ErrLeaseLost", err)
	}
	isKind(t, c.UpdateProgress(ctx, op.ID, "runner-a", catalog.DiskProgress{Disk: "vm-1-os", BytesDone: 99}), cairn.Conflict, "UpdateProgress by the runner that lost the lease")
	isKind(t, c.FinishOperation(ctx, op.ID, "runner-a", catalog.Outcome{State: catalog.OpSucceeded}), cairn.Conflict, "FinishOperation by the runner that lost the lease")
	ok(t, c.FinishOperation(ctx, op.ID, "runner-b", catalog.Outcome{State: catalog.OpSucceeded}), "FinishOperation(b)")

	// An expired lease that nobody reclaimed still belongs to its runner.
	op2 := operation(t, c, w.project.ID, "backup", w.resource.ID)
	a2, err := c.ClaimOperation(ctx, "runner-a", 100*time.Millisecond)
	ok(t, err, "ClaimOperation")
	if a2 == nil || a2.ID != op2.ID {
		t.Fatalf("claimed %+v, want %s", a2, op2.ID)
	}
	waitPast(a2)
	renewed, err := c.RenewLease(ctx, op2.ID, "runner-a", time.Minute)
	ok(t, err, "RenewLease after expiry, before anyone reclaimed")
	if renewed.Lease.Until.Before(time.Now().Add(50 * time.Second)) {
		t.Errorf("renewed lease ends at %s", renewed.Lease.Until)
	}
	if again, err := c.ClaimOperation(ctx, "runner-b", time.Minute); err != nil || again != nil {
		t.Errorf("b claimed %+v, %v after a renewed", again, err)
	}
}

func testRenewLease(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	op := operation(t, c, p.ID, "backup", "")
	_, err := c.RenewLease(ctx, op.ID, "runner", time.Minute)
	isKind(t, err, cairn.Conflict, "RenewLease of a queued operation")
	claimed, err := c.ClaimOperation(ctx, "runner", 300*time.Millisecond)
	ok(t, err, "ClaimOperation")
	renewed, err := c.RenewLease(ctx, op.ID, "runner", time.Hour)
	ok(t, err, "RenewLease")
	if !renewed.Lease.Until.After(claimed.Lease.Until.Add(50*time.Minute)) || renewed.Lease.Owner != "runner" {
		t.Errorf("renewed lease %+v, claimed %+v", renewed.Lease, claimed.Lease)
	}
	if renewed.CancelRequested {
		t.Error("CancelRequested without a cancel")
	}
	got, err := c.GetOperation(ctx, op.ID)
	ok(t, err, "GetOperation")
	same(t, "the stored renewed operation", got, renewed)
	// Long past the first lease, nobody else can claim it.
	time.Sleep(time.Until(claimed.Lease.Until) + 50*time.Millisecond)
	if other, err := c.ClaimOperation(ctx, "other", time.Minute); err != nil || other != nil {
		t.Errorf("claimed %+v, %v while the renewed lease lasts", other, err)
	}
	_, err = c.RenewLease(ctx, op.ID, "other", time.Minute)
	isKind(t, err, cairn.Conflict, "RenewLease by another runner")
	_, err = c.RenewLease(ctx, "nope", "runner", time.Minute)
	isKind(t, err, cairn.NotExist, "RenewLease of a missing operation")
	_, err = c.RenewLease(ctx, op.ID, "runner", 0)
	isKind(t, err, cairn.Invalid, "RenewLease for no time")
}

func testProgress(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	op := operation(t, c, p.ID, "backup", "")
	isKind(t, c.UpdateProgress(ctx, op.ID, "runner", catalog.DiskProgress{Disk: "a", BytesDone: 1}), cairn.Conflict, "UpdateProgress of a queued operation")
	_, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	ok(t, c.UpdateProgress(ctx, op.ID, "runner",
		catalog.DiskProgress{Disk: "os", BytesDone: 0, BytesTotal: 400},
		catalog.DiskProgress{Disk: "data", BytesDone: 0, BytesTotal: 600}), "UpdateProgress")
	ok(t, c.UpdateProgress(ctx, op.ID, "runner", catalog.DiskProgress{Disk: "data", BytesDone: 300, BytesTotal: 600}), "UpdateProgress(data)")
	ok(t, c.UpdateProgress(ctx, op.ID, "runner", catalog.DiskProgress{Disk: "os", BytesDone: 100, BytesTotal: 400}), "UpdateProgress(os)")
	got, err := c.GetOperation(ctx, op.ID)
	ok(t, err, "GetOperation")
	want := []catalog.DiskProgress{{Disk: "os", BytesDone: 100, BytesTotal: 400}, {Disk: "data", BytesDone: 300, BytesTotal: 600}}
	if fmt.Sprint(got.Progress) != fmt.Sprint(want) {
		t.Errorf("progress = %+v, want %+v", got.Progress, want)
	}
	if got.Percent() != 40 || got.Progress[0].Percent() != 25 || got.Progress[1].Percent() != 50 {
		t.Errorf("percent: operation %d, os %d, data %d; want 40, 25, 50", got.Percent(), got.Progress[0].Percent(), got.Progress[1].Percent())
	}
	isKind(t, c.UpdateProgress(ctx, op.ID, "runner", catalog.DiskProgress{Disk: "os", BytesDone: -1}), cairn.Invalid, "negative progress")
	isKind(t, c.UpdateProgress(ctx, op.ID, "runner", catalog.DiskProgress{BytesDone: 1}), cairn.Invalid, "progress of no disk")
	isKind(t, c.UpdateProgress(ctx, "nope", "runner", catalog.DiskProgress{Disk: "os"}), cairn.NotExist, "progress of a missing operation")

	// Progress and the disk restore point it feeds change together.
	w := newWorld(t, c, "q")
	op2 := operation(t, c, w.project.ID, "copy", w.resource.ID)
	_, err = c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	err = c.Update(ctx, func(tx catalog.Tx) error {
		if err := tx.UpdateProgress(ctx, op2.ID, "runner", catalog.DiskProgress{Disk: "vm-1-os", BytesDone: 50, BytesTotal: 100}); err != nil {
			return err
		}
		w.disk.BytesDone, w.disk.BytesTotal, w.disk.ReplicationState = 50, 100, catalog.ReplicationCopying
		if err := tx.PutDiskRestorePoint(ctx, w.disk); err != nil {
			return err
		}
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update: %v", err)
	}
	got, err = c.GetOperation(ctx, op2.ID)
	ok(t, err, "GetOperation")
	if len(got.Progress) != 0 {
		t.Errorf("progress of a rolled-back Update stuck: %+v", got.Progress)
	}
}

func testFinish(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	good := operation(t, c, p.ID, "backup", "")
	bad := operation(t, c, p.ID, "backup", "")
	isKind(t, c.FinishOperation(ctx, good.ID, "runner", catalog.Outcome{State: catalog.OpSucceeded}), cairn.Conflict, "FinishOperation of a queued operation")
	for range 2 {
		_, err := c.ClaimOperation(ctx, "runner", time.Minute)
		ok(t, err, "ClaimOperation")
	}
	isKind(t, c.FinishOperation(ctx, good.ID, "runner", catalog.Outcome{State: catalog.OpRunning}), cairn.Invalid, "finish as running")
	isKind(t, c.FinishOperation(ctx, bad.ID, "runner", catalog.Outcome{State: catalog.OpFailed}), cairn.Invalid, "fail without an error")
	isKind(t, c.FinishOperation(ctx, good.ID, "other", catalog.Outcome{State: catalog.OpSucceeded}), cairn.Conflict, "finish by another runner")

	result := json.RawMessage(`{"restorePointId":"rp-1"}`)
	ok(t, c.FinishOperation(ctx, good.ID, "runner", catalog.Outcome{State: catalog.OpSucceeded, Result: result}), "FinishOperation(succeeded)")
	reason := &catalog.OpError{Code: "DiskReadError", Message: "reading disk vm-1-os at offset 4096: input/output error"}
	ok(t, c.FinishOperation(ctx, bad.ID, "runner", catalog.Outcome{State: catalog.OpFailed, Error: reason}), "FinishOperation(failed)")

	g, err := c.GetOperation(ctx, good.ID)
	ok(t, err, "GetOperation")
	if g.State != catalog.OpSucceeded || g.Error != nil || g.Lease.Owner != "" || !g.Lease.Until.IsZero() || g.Percent() != 100 {
		t.Errorf("succeeded operation: %+v", g)
	}
	same(t, "result", &g.Result, &result)
	recent(t, "Ended", g.Ended)
	b, err := c.GetOperation(ctx, bad.ID)
	ok(t, err, "GetOperation")
	if b.State != catalog.OpFailed || b.Error == nil || *b.Error != *reason {
		t.Errorf("failed operation: state %s, error %+v; want failed, %+v", b.State, b.Error, reason)
	}
	recent(t, "Ended", b.Ended)

	isKind(t, c.FinishOperation(ctx, good.ID, "runner", catalog.Outcome{State: catalog.OpFailed, Error: reason}), cairn.Conflict, "finishing twice")
	if again, err := c.ClaimOperation(ctx, "runner", time.Minute); err != nil || again != nil {
		t.Errorf("claimed a finished operation: %+v, %v", again, err)
	}
	isKind(t, c.FinishOperation(ctx, "nope", "runner", catalog.Outcome{State: catalog.OpSucceeded}), cairn.NotExist, "finishing a missing operation")
}

// testFinishAtomic: a job's result and its operation's end commit
// together, or not at all.
func testFinishAtomic(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	op := operation(t, c, w.project.ID, "backup", w.resource.ID)
	_, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	finish := func(fail bool) error {
		return c.Update(ctx, func(tx catalog.Tx) error {
			p, err := tx.GetRestorePoint(ctx, w.point.ID)
			if err != nil {
				return err
			}
			p.State, p.VaultPointID = catalog.PointSucceeded, "vp-1"
			if err := tx.PutRestorePoint(ctx, p); err != nil {
				return err
			}
			if err := tx.FinishOperation(ctx, op.ID, "runner", catalog.Outcome{State: catalog.OpSucceeded}); err != nil {
				return err
			}
			if fail {
				return errTest
			}
			return nil
		})
	}
	if err := finish(true); !errors.Is(err, errTest) {
		t.Fatalf("Update: %v", err)
	}
	got, err := c.GetOperation(ctx, op.ID)
	ok(t, err, "GetOperation")
	if got.State != catalog.OpRunning || got.Lease.Owner != "runner" {
		t.Errorf("after a rolled-back finish the operation is %s held by %q", got.State, got.Lease.Owner)
	}
	rp, err := c.GetRestorePoint(ctx, w.point.ID)
	ok(t, err, "GetRestorePoint")
	if rp.State != catalog.PointCreating || rp.VaultPointID != "" {
		t.Errorf("after a rolled-back finish the restore point is %s, %q", rp.State, rp.VaultPointID)
	}
	ok(t, finish(false), "finish")
	got, err = c.GetOperation(ctx, op.ID)
	ok(t, err, "GetOperation")
	rp, err = c.GetRestorePoint(ctx, w.point.ID)
	ok(t, err, "GetRestorePoint")
	if got.State != catalog.OpSucceeded || rp.State != catalog.PointSucceeded {
		t.Errorf("after the finish: operation %s, restore point %s", got.State, rp.State)
	}
}

func testCancel(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	vm2 := resource(t, c, w.project.ID, "vm-2", w.region.Name)
	running := operation(t, c, w.project.ID, "backup", w.resource.ID)
	_, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	queued := operation(t, c, w.project.ID, "backup", vm2.ID)

	// A queued operation is canceled at once and never claimed.
	got, err := c.CancelOperation(ctx, queued.ID)
	ok(t, err, "CancelOperation(queued)")
	if got.State != catalog.OpCanceled || got.Ended.IsZero() {
		t.Errorf("canceled queued operation: state %s, ended %s", got.State, got.Ended)
	}
	stored, err := c.GetOperation(ctx, queued.ID)
	ok(t, err, "GetOperation")
	same(t, "the stored canceled operation", stored, got)
	if claimed, err := c.ClaimOperation(ctx, "runner", time.Minute); err != nil || claimed != nil {
		t.Errorf("claimed %+v, %v: a canceled operation", claimed, err)
	}
	again, err := c.CancelOperation(ctx, queued.ID)
	ok(t, err, "CancelOperation twice")
	if again.State != catalog.OpCanceled {
		t.Errorf("second cancel: %s", again.State)
	}

	// A running one is asked to stop; its runner learns it and finishes it.
	got, err = c.CancelOperation(ctx, running.ID)
	ok(t, err, "CancelOperation(running)")
	if got.State != catalog.OpRunning || !got.CancelRequested {
		t.Errorf("canceled running operation: state %s, cancel requested %v", got.State, got.CancelRequested)
	}
	isKind(t, c.CreateOperation(ctx, &catalog.Operation{ProjectID: w.project.ID, Kind: "backup", ResourceID: w.resource.ID}),
		cairn.Conflict, "a new operation while a canceled one still runs")
	renewed, err := c.RenewLease(ctx, running.ID, "runner", time.Minute)
	ok(t, err, "RenewLease")
	if !renewed.CancelRequested {
		t.Error("RenewLease does not tell the runner of the cancel")
	}
	ok(t, c.FinishOperation(ctx, running.ID, "runner", catalog.Outcome{State: catalog.OpCanceled,
		Error: &catalog.OpError{Code: "Canceled", Message: "canceled at 40%"}}), "FinishOperation(canceled)")
	got, err = c.GetOperation(ctx, running.ID)
	ok(t, err, "GetOperation")
	if got.State != catalog.OpCanceled || got.Error == nil || got.Error.Message != "canceled at 40%" {
		t.Errorf("finished canceled operation: %+v", got)
	}
	next := operation(t, c, w.project.ID, "backup", w.resource.ID) // the VM is free again
	_, err = c.CancelOperation(ctx, next.ID)
	ok(t, err, "CancelOperation")

	// Finished operations cannot be canceled.
	p := project(t, c, "other")
	done := operation(t, c, p.ID, "k", "")
	_, err = c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	ok(t, c.FinishOperation(ctx, done.ID, "runner", catalog.Outcome{State: catalog.OpSucceeded}), "FinishOperation")
	_, err = c.CancelOperation(ctx, done.ID)
	isKind(t, err, cairn.Conflict, "CancelOperation(succeeded)")
	_, err = c.CancelOperation(ctx, "nope")
	isKind(t, err, cairn.NotExist, "CancelOperation(missing)")
}

func testDeleteOperation(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	p := project(t, c, "p")
	op := operation(t, c, p.ID, "k", "")
	isKind(t, c.DeleteOperation(ctx, op.ID), cairn.Conflict, "DeleteOperation(queued)")
	_, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	isKind(t, c.DeleteOperation(ctx, op.ID), cairn.Conflict, "DeleteOperation(running)")
	ok(t, c.FinishOperation(ctx, op.ID, "runner", catalog.Outcome{State: catalog.OpSucceeded}), "FinishOperation")
	ok(t, c.DeleteOperation(ctx, op.ID), "DeleteOperation(succeeded)")
	_, err = c.GetOperation(ctx, op.ID)
	isKind(t, err, cairn.NotExist, "GetOperation after delete")
	isKind(t, c.DeleteOperation(ctx, op.ID), cairn.NotExist, "DeleteOperation twice")
}

func testListOperations(t *testing.T, c catalog.Catalog) {
	ctx := t.Context()
	w := newWorld(t, c, "p")
	a := operation(t, c, w.project.ID, "backup", w.resource.ID)
	_, err := c.ClaimOperation(ctx, "runner", time.Minute)
	ok(t, err, "ClaimOperation")
	b := operation(t, c, w.project.ID, "copy", "")
	cc := operation(t, c, w.project.ID, "copy", "")
	_, err = c.CancelOperation(ctx, cc.ID)
	ok(t, err, "CancelOperation")
	opID := func(o *catalog.Operation) string { return o.ID }
	for _, tc := range []struct {
		f    catalog.OperationFilter
		want []string
	}{
		{catalog.OperationFilter{ProjectID: w.project.ID}, []string{a.ID, b.ID, cc.ID}},
		{catalog.OperationFilter{Kind: "copy"}, []string{b.ID, cc.ID}},
		{catalog.OperationFilter{ResourceID: w.resource.ID}, []string{a.ID}},
		{catalog.OperationFilter{TargetID: "target-backup"}, []string{a.ID}},
		{catalog.OperationFilter{States: []catalog.OpState{catalog.OpQueued, catalog.OpRunning}}, []string{a.ID, b.ID}},
		{catalog.OperationFilter{States: []catalog.OpState{catalog.OpCanceled}}, []string{cc.ID}},
		{catalog.OperationFilter{Kind: "copy", States: []catalog.OpState{catalog.OpQueued}}, []string{b.ID}},
		{catalog.OperationFilter{ProjectID: "other"}, nil},
	} {
		got, _, err := c.ListOperations(ctx, tc.f, catalog.Page{})
		ok(t, err, "ListOperations(%+v)", tc.f)
		checkOnce(t, fmt.Sprintf("ListOperations(%+v)", tc.f), ids(got, opID), tc.want)
	}
}
