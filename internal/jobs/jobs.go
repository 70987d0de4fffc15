// Package jobs runs persisted operations: a Runner claims queued
// operations from the catalog with a lease, runs the handler registered for
// each one's Kind, renews the lease while the handler works, writes the
// handler's per-disk progress to the catalog, honours cancellation, and
// records how the operation ended.
//
// # Leases and restarts
//
// A claimed operation is leased for Options.Lease and the lease is renewed
// every third of it. When a runner dies its operations stay running in the
// catalog until their leases expire; any runner then claims them again
// (Attempt counts the claims). A Runner that is stopped (Stop) interrupts
// its handlers without finishing their operations, so they are resumed the
// same way. A runner that starts again under the same id (a server
// restarted on the same data directory keeps its id in a file, see LoadID)
// does not wait for its own old leases: Start ends them at once.
//
// Handlers must therefore be idempotent: run again after an interruption,
// at any point, they must reach the same end (by redoing the work, or by
// finding what the earlier attempt did).
//
// # Errors
//
// A handler's error becomes the operation's catalog.OpError: a
// *catalog.OpError found in its chain is used as it is; otherwise the code
// comes from the error's cairn.Kind (see Code) and the message is the
// error's text.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/catalog"
	"github.com/cairn-vm/cairn/internal/progress"
)

// Stable codes of catalog.OpError.
const (
	CodeInvalid     = "InvalidInput"
	CodeNotFound    = "NotFound"
	CodeExist       = "AlreadyExists"
	CodePermission  = "PermissionDenied"
	CodeConflict    = "Conflict"
	CodeCorrupt     = "DataCorrupt"
	CodeUnsupported = "Unsupported"
	CodeIO          = "StorageError"
	CodeCanceled    = "Canceled"
	CodeInternal    = "InternalError"
	CodeUnknownKind = "UnknownOperationKind"
)

// Code returns the OpError code for an error's cairn.Kind.
func Code(err error) string {
	switch cairn.KindOf(err) {
	case cairn.Invalid:
		return CodeInvalid
	case cairn.NotExist:
		return CodeNotFound
	case cairn.Exist:
		return CodeExist
	case cairn.Permission:
		return CodePermission
	case cairn.Conflict:
		return CodeConflict
	case cairn.Corrupt:
		return CodeCorrupt
	case cairn.Unsupported:
		return CodeUnsupported
	case cairn.IO:
		return CodeIO
	case cairn.Canceled:
		return CodeCanceled
	}
	if errors.Is(err, context.Canceled) {
		return CodeCanceled
	}
	return CodeInternal
}

// OpError returns the catalog.OpError of a handler's error: a
// *catalog.OpError in err's chain, or one made of Code(err) and err's text.
func OpError(err error) *catalog.OpError {
	var oe *catalog.OpError
	if errors.As(err, &oe) {
		return oe
	}
	return &catalog.OpError{Code: Code(err), Message: err.Error()}
}

// Progress is how a handler reports how far it has come, per disk. It is a
// progress.Reporter (Start sets a disk's total and restarts its count, Add
// counts bytes done, Done does nothing), so engines can report to it
// directly. It is safe for concurrent use. The runner writes it to the
// catalog every Options.ProgressEvery and when the handler returns.
type Progress interface {
	progress.Reporter
	// Set sets a disk's bytes done and total.
	Set(disk string, done, total int64)
}

// Handler runs one operation. It returns the operation's result (nil for
// none) or an error. ctx is canceled when the operation is canceled, when
// its lease is lost and when the runner stops; the handler must then
// return soon. Handlers must be idempotent (see the package doc).
type Handler func(ctx context.Context, op *catalog.Operation, p Progress) (json.RawMessage, error)

// FinishFunc runs inside the transaction that finishes an operation, so
// that the records the operation made change together with its state (a
// restore point becoming succeeded, or failed with the reason). It sees the
// outcome and may change it (a failure of the final step, say). Errors
// abort the transaction: the runner then tries to finish the operation as
// failed, calling FinishFunc again with that outcome.
type FinishFunc func(ctx context.Context, tx catalog.Tx, op *catalog.Operation, out *catalog.Outcome) error

// Kind is what the runner does for one operation kind.
type Kind struct {
	Run    Handler    // required
	Finish FinishFunc // optional
}

// Options tune a Runner.
type Options struct {
	// ID identifies the runner as lease owner. Required: give a stable id
	// (LoadID) so that a restarted runner takes its operations back at
	// once.
	ID            string
	Workers       int           // operations run at once; 0 = 4
	Lease         time.Duration // 0 = 15 s
	Poll          time.Duration // how often idle workers look for work; 0 = 1 s
	ProgressEvery time.Duration // 0 = 250 ms
	Logger        *slog.Logger  // nil discards
}

// Runner runs operations. Register kinds, then Start; Stop ends it.
type Runner struct {
	cat   catalog.Catalog
	opts  Options
	log   *slog.Logger
	kinds map[string]Kind

	kick chan struct{}

	mu      sync.Mutex
	started bool
	ctx     context.Context // canceled by Stop
	stop    context.CancelCauseFunc
	wg      sync.WaitGroup
}

// errShutdown is the cause of a handler's cancellation by Stop.
var errShutdown = errors.New("the runner is stopping")

// errCancelRequested is the cause of a handler's cancellation by
// CancelOperation.
var errCancelRequested = errors.New("canceled by request")

// New returns a Runner of operations in cat.
func New(cat catalog.Catalog, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = 15 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 250 * time.Millisecond
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cat: cat, opts: opts, log: log.With("runner", opts.ID), kinds: map[string]Kind{}, kick: make(chan struct{}, 1)}
}

// Register sets what the runner does for operations of kind. It must be
// called before Start.
func (r *Runner) Register(kind string, k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: Register after Start")
	}
	r.kinds[kind] = k
}

// ID returns the runner's lease owner id.
func (r *Runner) ID() string { return r.opts.ID }

// Start ends the leases that an earlier runner of the same id left (so
// their operations are claimable at once) and starts the workers. It
// returns at once. The workers stop when Stop is called; ctx only bounds
// Start's own catalog calls.
func (r *Runner) Start(ctx context.Context) error {
	if r.opts.ID == "" {
		return cairn.E(cairn.Invalid, errors.New("jobs: the runner needs an id"))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return cairn.E(cairn.Conflict, errors.New("jobs: runner already started"))
	}
	if err := r.releaseOwn(ctx); err != nil {
		return err
	}
	r.ctx, r.stop = context.WithCancelCause(context.Background())
	r.started = true
	for range r.opts.Workers {
		r.wg.Add(1)
		go r.worker()
	}
	return nil
}

// releaseOwn makes the running operations leased to this runner's id
// claimable now: their runner was an earlier life of this one.
func (r *Runner) releaseOwn(ctx context.Context) error {
	page := catalog.Page{Size: catalog.MaxPageSize}
	for {
		ops, next, err := r.cat.ListOperations(ctx, catalog.OperationFilter{States: []catalog.OpState{catalog.OpRunning}}, page)
		if err != nil {
			return fmt.Errorf("jobs: list running operations: %w", err)
		}
		for _, op := range ops {
			if op.Lease.Owner != r.opts.ID {
				continue
			}
			// A lease of a microsecond has as good as expired.
			if _, err := r.cat.RenewLease(ctx, op.ID, r.opts.ID, time.Microsecond); err != nil && !cairn.IsKind(err, cairn.Conflict) && !cairn.IsKind(err, cairn.NotExist) {
				return fmt.Errorf("jobs: release operation %s: %w", op.ID, err)
			}
			r.log.Info("resuming operation of an earlier run", "op", op.ID, "kind", op.Kind)
		}
		if next == "" {
			return nil
		}
		page.Token = next
	}
}

// Kick wakes an idle worker to look for work now: call it after queuing
// an operation.
func (r *Runner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Stop stops claiming operations, cancels the running handlers and waits
// for them to return. Their operations are left running in the catalog,
// leased until their leases expire: a runner started later resumes them.
// Stop may be called more than once.
func (r *Runner) Stop() {
	r.mu.Lock()
	stop := r.stop
	r.mu.Unlock()
	if stop == nil {
		return
	}
	stop(errShutdown)
	r.wg.Wait()
}

func (r *Runner) worker() {
	defer r.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		if r.ctx.Err() != nil {
			return
		}
		op, err := r.cat.ClaimOperation(r.ctx, r.opts.ID, r.opts.Lease)
		if err != nil && r.ctx.Err() == nil {
			r.log.Warn("claim operation", "err", err)
		}
		if op != nil {
			r.run(op)
			// Look for more at once: others may be queued.
			continue
		}
		t.Reset(r.opts.Poll)
		select {
		case <-r.ctx.Done():
			return
		case <-r.kick:
		case <-t.C:
		}
	}
}

// run runs one claimed operation to its end, or until the runner stops.
func (r *Runner) run(op *catalog.Operation) {
	log := r.log.With("op", op.ID, "kind", op.Kind, "attempt", op.Attempt)
	kind, ok := r.kinds[op.Kind]
	if !ok {
		log.Error("no handler for the operation's kind")
		r.finish(log, op, Kind{}, catalog.Outcome{State: catalog.OpFailed, Error: &catalog.OpError{Code: CodeUnknownKind, Message: fmt.Sprintf("this server cannot run operations of kind %q", op.Kind)}})
		return
	}
	if op.CancelRequested {
		r.finish(log, op, kind, canceledOutcome())
		return
	}
	ctx, cancel := context.WithCancelCause(r.ctx)
	defer cancel(nil)
	prog := newProgress(op.Progress)

	// The lease keeper renews the lease, learns of cancel requests and
	// writes progress.
	keeperDone := make(chan struct{})
	var lost bool
	go func() {
		defer close(keeperDone)
		renew := time.NewTicker(r.opts.Lease / 3)
		defer renew.Stop()
		flush := time.NewTicker(r.opts.ProgressEvery)
		defer flush.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-flush.C:
				r.flushProgress(ctx, log, op.ID, prog)
			case <-renew.C:
				cur, err := r.cat.RenewLease(ctx, op.ID, r.opts.ID, r.opts.Lease)
				switch {
				case err == nil && cur.CancelRequested:
					log.Info("cancel requested")
					cancel(errCancelRequested)
					return
				case errors.Is(err, catalog.ErrLeaseLost), cairn.IsKind(err, cairn.NotExist):
					log.Warn("lease lost: stopping the operation", "err", err)
					lost = true
					cancel(err)
					return
				case err != nil && ctx.Err() == nil:
					// The catalog may be busy for a moment; the lease
					// lasts three renewals.
					log.Warn("renew lease", "err", err)
				}
			}
		}
	}()

	log.Info("operation started")
	result, err := r.call(ctx, kind.Run, op, prog)
	cause := context.Cause(ctx)
	cancel(nil)
	<-keeperDone

	switch {
	case lost:
		return
	case err != nil && errors.Is(cause, errShutdown):
		log.Info("operation interrupted by shutdown; it resumes at the next start", "err", err)
		return
	}
	r.flushProgress(context.WithoutCancel(r.ctx), log, op.ID, prog)
	var out catalog.Outcome
	switch {
	case err == nil:
		out = catalog.Outcome{State: catalog.OpSucceeded, Result: result}
	case errors.Is(cause, errCancelRequested):
		out = canceledOutcome()
	default:
		out = catalog.Outcome{State: catalog.OpFailed, Error: OpError(err)}
	}
	r.finish(log, op, kind, out)
}

func canceledOutcome() catalog.Outcome {
	return catalog.Outcome{State: catalog.OpCanceled, Error: &catalog.OpError{Code: CodeCanceled, Message: "the operation was canceled by request"}}
}

// call runs a handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, h Handler, op *catalog.Operation, p Progress) (res json.RawMessage, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("handler panicked", "op", op.ID, "panic", v, "stack", string(debug.Stack()))
			res, err = nil, &catalog.OpError{Code: CodeInternal, Message: fmt.Sprintf("internal error: %v", v)}
		}
	}()
	return h(ctx, op, p)
}

// finish records the outcome, with the kind's Finish in the same
// transaction. If that fails, it records a failure instead.
func (r *Runner) finish(log *slog.Logger, op *catalog.Operation, kind Kind, out catalog.Outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	try := func(out catalog.Outcome) error {
		return r.cat.Update(ctx, func(tx catalog.Tx) error {
			o := out
			if kind.Finish != nil {
				if err := kind.Finish(ctx, tx, op, &o); err != nil {
					return err
				}
			}
			return tx.FinishOperation(ctx, op.ID, r.opts.ID, o)
		})
	}
	err := try(out)
	if err != nil && !errors.Is(err, catalog.ErrLeaseLost) && out.State != catalog.OpFailed {
		log.Error("finish operation", "state", out.State, "err", err)
		out = catalog.Outcome{State: catalog.OpFailed, Error: &catalog.OpError{Code: Code(err), Message: "finishing the operation failed: " + err.Error()}}
		err = try(out)
	}
	if err != nil {
		log.Error("finish operation", "state", out.State, "err", err)
		return
	}
	attrs := []any{"state", out.State}
	if out.Error != nil {
		attrs = append(attrs, "code", out.Error.Code, "reason", out.Error.Message)
	}
	log.Info("operation finished", attrs...)
}

// flushProgress writes the disks whose progress changed.
func (r *Runner) flushProgress(ctx context.Context, log *slog.Logger, id string, p *diskProgress) {
	changed := p.takeChanged()
	if len(changed) == 0 {
		return
	}
	if err := r.cat.UpdateProgress(ctx, id, r.opts.ID, changed...); err != nil && ctx.Err() == nil {
		log.Warn("write progress", "err", err)
		p.markChanged(changed)
	}
}

// diskProgress implements Progress.
type diskProgress struct {
	mu      sync.Mutex
	disks   map[string]*catalog.DiskProgress
	order   []string
	changed map[string]bool
}

var _ Progress = (*diskProgress)(nil)

func newProgress(initial []catalog.DiskProgress) *diskProgress {
	p := &diskProgress{disks: map[string]*catalog.DiskProgress{}, changed: map[string]bool{}}
	for _, d := range initial {
		p.disks[d.Disk] = &d
		p.order = append(p.order, d.Disk)
	}
	return p
}

func (p *diskProgress) get(disk string) *catalog.DiskProgress {
	d := p.disks[disk]
	if d == nil {
		d = &catalog.DiskProgress{Disk: disk}
		p.disks[disk] = d
		p.order = append(p.order, disk)
	}
	p.changed[disk] = true
	return d
}

// Start sets disk's total and restarts its count.
func (p *diskProgress) Start(disk string, total int64) {
	p.Set(disk, 0, total)
}

// Add counts n more bytes of disk done.
func (p *diskProgress) Add(disk string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.get(disk)
	d.BytesDone += n
	if d.BytesDone < 0 {
		d.BytesDone = 0
	}
}

// Done does nothing: the count stays as it is.
func (p *diskProgress) Done(string) {}

// Set sets disk's bytes done and total.
func (p *diskProgress) Set(disk string, done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.get(disk)
	d.BytesDone, d.BytesTotal = max(done, 0), max(total, 0)
}

func (p *diskProgress) takeChanged() []catalog.DiskProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []catalog.DiskProgress
	for _, name := range p.order {
		if p.changed[name] {
			out = append(out, *p.disks[name])
			delete(p.changed, name)
		}
	}
	return out
}

func (p *diskProgress) markChanged(ds []catalog.DiskProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range ds {
		p.changed[d.Disk] = true
	}
}

// LoadID returns the runner id kept in the file at path, creating the file
// with a new random id when it does not exist. A server keeps its runner id
// in its data directory, so that after a restart it takes back its own
// operations at once (see Runner.Start).
func LoadID(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(data))
		if id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", cairn.E(cairn.IO, fmt.Errorf("read runner id: %w", err))
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	id := "runner-" + hex.EncodeToString(b[:])
	if host != "" {
		id = host + "-" + hex.EncodeToString(b[:])
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", cairn.E(cairn.IO, fmt.Errorf("write runner id: %w", err))
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", cairn.E(cairn.IO, fmt.Errorf("write runner id: %w", err))
	}
	return id, nil
}
