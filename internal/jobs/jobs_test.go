package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/catalog/sqlite"
)

func newRunner(t *testing.T, cat catalog.Catalog, id string, kinds map[string]Kind) *Runner {
	t.Helper()
	r := New(cat, Options{ID: id, Workers: 2, Lease: 600 * time.Millisecond, Poll: 20 * time.Millisecond, ProgressEvery: 20 * time.Millisecond})
	for k, v := range kinds {
		r.Register(k, v)
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

func queue(t *testing.T, cat catalog.Catalog, kind string) *catalog.Operation {
	t.Helper()
	op := &catalog.Operation{Kind: kind, Params: json.RawMessage(`{"x":1}`)}
	if err := cat.CreateOperation(t.Context(), op); err != nil {
		t.Fatal(err)
	}
	return op
}

// waitFor polls op until cond holds.
func waitFor(t *testing.T, cat catalog.Catalog, id string, what string, cond func(*catalog.Operation) bool) *catalog.Operation {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		op, err := cat.GetOperation(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(op) {
			return op
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation %s: timed out waiting for %s; it is %s (%+v)", id, what, op.State, op.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func final(op *catalog.Operation) bool { return op.State.Final() }

func TestSuccessWithResultAndProgress(t *testing.T) {
	cat := sqlite.TestCatalog(t)
	var finished atomic.Value
	release := make(chan struct{})
	r := newRunner(t, cat, "r1", map[string]Kind{
		"work": {
			Run: func(ctx context.Context, op *catalog.Operation, p Progress) (json.RawMessage, error) {
				p.Start("d0", 100)
				p.Add("d0", 40)
				p.Set("d1", 5, 10)
				<-release
				p.Add("d0", 60)
				return json.RawMessage(`{"ok":true}`), nil
			},
			Finish: func(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
				finished.Store(out.State)
				return nil
			},
		},
	})
	op := queue(t, cat, "work")
	r.Kick()
	mid := waitFor(t, cat, op.ID, "progress", func(o *catalog.Operation) bool { return len(o.Progress) == 2 })
	if mid.State != catalog.OpRunning || mid.Progress[0].BytesDone != 40 || mid.Progress[1].BytesTotal != 10 || mid.Lease.Owner != "r1" {
		t.Fatalf("mid-run: %+v", mid)
	}
	if p := mid.Percent(); p != 40 {
		t.Errorf("percent %d, want 40", p)
	}
	close(release)
	done := waitFor(t, cat, op.ID, "the end", final)
	if done.State != catalog.OpSucceeded || string(done.Result) != `{"ok":true}` || done.Progress[0].BytesDone != 100 {
		t.Fatalf("end: %+v", done)
	}
	if finished.Load() != catalog.OpSucceeded {
		t.Errorf("Finish saw %v", finished.Load())
	}
}

func TestFailureCodes(t *testing.T) {
	cat := sqlite.TestCatalog(t)
	cases := []struct {
		kind string
		err  error
		code string
	}{
		{"invalid", cairn.E(cairn.Invalid, errors.New("bad disk")), CodeInvalid},
		{"io", fmt.Errorf("wrap: %w", cairn.E(cairn.IO, errors.New("disk full"))), CodeIO},
		{"custom", fmt.Errorf("x: %w", &catalog.OpError{Code: "SourceGone", Message: "the source is gone"}), "SourceGone"},
		{"plain", errors.New("boom"), CodeInternal},
	}
	kinds := map[string]Kind{
		"panic": {Run: func(context.Context, *catalog.Operation, Progress) (json.RawMessage, error) { panic("oops") }},
	}
	for _, c := range cases {
		kinds[c.kind] = Kind{Run: func(context.Context, *catalog.Operation, Progress) (json.RawMessage, error) { return nil, c.err }}
	}
	newRunner(t, cat, "r1", kinds)
	for _, c := range cases {
		op := queue(t, cat, c.kind)
		got := waitFor(t, cat, op.ID, "the end", final)
		if got.State != catalog.OpFailed || got.Error == nil || got.Error.Code != c.code {
			t.Errorf("%s: %s %+v, want failed %s", c.kind, got.State, got.Error, c.code)
		}
	}
	op := queue(t, cat, "panic")
	if got := waitFor(t, cat, op.ID, "the end", final); got.State != catalog.OpFailed || got.Error.Code != CodeInternal {
		t.Errorf("panic: %s %+v", got.State, got.Error)
	}
	op = queue(t, cat, "no-such-kind")
	if got := waitFor(t, cat, op.ID, "the end", final); got.State != catalog.OpFailed || got.Error.Code != CodeUnknownKind {
		t.Errorf("unknown kind: %s %+v", got.State, got.Error)
	}
}

func TestCancelRunning(t *testing.T) {
	cat := sqlite.TestCatalog(t)
	started := make(chan struct{}, 1)
	var sawOutcome atomic.Value
	newRunner(t, cat, "r1", map[string]Kind{
		"slow": {
			Run: func(ctx context.Context, op *catalog.Operation, p Progress) (json.RawMessage, error) {
				started <- struct{}{}
				<-ctx.Done()
				return nil, cairn.E(cairn.Canceled, ctx.Err())
			},
			Finish: func(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error {
				sawOutcome.Store(*out)
				return nil
			},
		},
	})
	op := queue(t, cat, "slow")
	<-started
	if _, err := cat.CancelOperation(t.Context(), op.ID); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, cat, op.ID, "the end", final)
	if got.State != catalog.OpCanceled || got.Error == nil || got.Error.Code != CodeCanceled {
		t.Fatalf("got %s %+v", got.State, got.Error)
	}
	if out, _ := sawOutcome.Load().(catalog.Outcome); out.State != catalog.OpCanceled {
		t.Errorf("Finish saw %+v", out)
	}
}

// TestStopResumes: Stop interrupts a handler without finishing its
// operation; a runner started again under the same id resumes it at once,
// long before the lease would have expired.
func TestStopResumes(t *testing.T) {
	cat := sqlite.TestCatalog(t)
	var attempts atomic.Int32
	started := make(chan struct{}, 4)
	kinds := map[string]Kind{
		"resumable": {Run: func(ctx context.Context, op *catalog.Operation, p Progress) (json.RawMessage, error) {
			attempts.Add(1)
			started <- struct{}{}
			if op.Attempt == 1 {
				p.Set("d", 30, 100)
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return json.RawMessage(`{"attempt":2}`), nil
		}},
	}
	r := New(cat, Options{ID: "same", Lease: time.Hour, Poll: 20 * time.Millisecond, ProgressEvery: 10 * time.Millisecond})
	r.Register("resumable", kinds["resumable"])
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	op := queue(t, cat, "resumable")
	r.Kick()
	<-started
	waitFor(t, cat, op.ID, "progress", func(o *catalog.Operation) bool { return len(o.Progress) == 1 })
	r.Stop()
	got, err := cat.GetOperation(t.Context(), op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != catalog.OpRunning || got.Lease.Owner != "same" {
		t.Fatalf("after Stop: %s owner %q, want running, still leased", got.State, got.Lease.Owner)
	}
	// Another runner does not take it while the (hour-long) lease lasts.
	other := New(cat, Options{ID: "other", Poll: 10 * time.Millisecond})
	other.Register("resumable", kinds["resumable"])
	if err := other.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	other.Stop()
	if attempts.Load() != 1 {
		t.Fatalf("another runner took a leased operation")
	}
	r2 := New(cat, Options{ID: "same", Lease: time.Hour, Poll: 20 * time.Millisecond})
	r2.Register("resumable", kinds["resumable"])
	if err := r2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer r2.Stop()
	done := waitFor(t, cat, op.ID, "the end", final)
	if done.State != catalog.OpSucceeded || done.Attempt != 2 || string(done.Result) != `{"attempt":2}` {
		t.Fatalf("resumed: %s attempt %d result %s", done.State, done.Attempt, done.Result)
	}
}

// TestLeaseRenewed: an operation that runs longer than its lease keeps it,
// and a crashed runner's operation is taken over once its lease expires.
func TestLeaseRenewed(t *testing.T) {
	cat := sqlite.TestCatalog(t)
	var runs atomic.Int32
	kind := Kind{Run: func(ctx context.Context, op *catalog.Operation, p Progress) (json.RawMessage, error) {
		runs.Add(1)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return nil, nil
	}}
	ra := newRunner(t, cat, "a", map[string]Kind{"long": kind}) // lease 600 ms
	rb := newRunner(t, cat, "b", map[string]Kind{"long": kind})
	op := queue(t, cat, "long")
	got := waitFor(t, cat, op.ID, "the end", final)
	if got.State != catalog.OpSucceeded || got.Attempt != 1 || runs.Load() != 1 {
		t.Fatalf("got %s attempt %d runs %d", got.State, got.Attempt, runs.Load())
	}

	ra.Stop()
	rb.Stop()
	// A runner that dies: claim by hand and never renew.
	op2 := queue(t, cat, "orphan")
	var claimed *catalog.Operation
	for claimed == nil || claimed.ID != op2.ID {
		c, err := cat.ClaimOperation(t.Context(), "dead", 200*time.Millisecond)
		if err != nil || c == nil {
			t.Fatalf("claim: %v %v", c, err)
		}
		claimed = c
	}
	newRunner(t, cat, "c", map[string]Kind{"orphan": {Run: func(context.Context, *catalog.Operation, Progress) (json.RawMessage, error) { return nil, nil }}})
	got = waitFor(t, cat, op2.ID, "the end", final)
	if got.State != catalog.OpSucceeded || got.Attempt != 2 {
		t.Fatalf("orphan: %s attempt %d", got.State, got.Attempt)
	}
}

func TestLoadID(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "runner-id")
	a, err := LoadID(p)
	if err != nil || a == "" {
		t.Fatal(a, err)
	}
	b, err := LoadID(p)
	if err != nil || a != b {
		t.Fatalf("second load %q %v, want %q", b, err, a)
	}
}
