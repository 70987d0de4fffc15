// Package faulty provides a storage.Backend decorator for tests: it passes
// every call to another Backend, counts the calls, and fails the ones its
// hooks choose.
//
// A test sets the hooks after New and before sharing the Backend:
//
//	b := faulty.New(inner)
//	b.FailPut = func(name string) error {
//		if strings.HasPrefix(name, "chunks/") {
//			return faulty.ErrInjected
//		}
//		return nil
//	}
package faulty

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cairn-vm/cairn/internal/storage"
)

// ErrInjected is an error for hooks to return. Any other error works too.
var ErrInjected = errors.New("injected fault")

// Op names a Backend operation, to count its calls.
type Op int

// The operations counted.
const (
	Put Op = iota
	Get
	Stat
	List
	Delete
	Close
	numOps
)

var opNames = [numOps]string{"put", "get", "stat", "list", "delete", "close"}

// String names the operation.
func (op Op) String() string {
	if op >= 0 && op < numOps {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// Backend wraps a storage.Backend, calling each hook that is set before (or
// for FailPutAfter, after) passing the operation on. A hook returning a
// non-nil error fails the operation with an error wrapping it. Hooks may
// run concurrently; set them before the Backend is in use and do not
// change them while it is.
type Backend struct {
	inner storage.Backend

	// FailPut decides whether Put(name) fails without storing anything.
	FailPut func(name string) error
	// FailPutAfter decides whether Put(name), after it stored the object,
	// reports an error anyway, as when a reply is lost.
	FailPutAfter func(name string) error
	// FailGet decides whether Get(name) fails.
	FailGet func(name string) error
	// CorruptGet, if set, may change the data that a successful Get of
	// name returns, in place or by returning other data.
	CorruptGet func(name string, data []byte) []byte
	// FailStat decides whether Stat(name) fails.
	FailStat func(name string) error
	// FailList decides whether List(prefix) fails before listing.
	FailList func(prefix string) error
	// FailDelete decides whether Delete(name) fails without deleting.
	FailDelete func(name string) error

	calls [numOps]atomic.Int64
}

var (
	_ storage.Backend  = (*Backend)(nil)
	_ storage.Location = (*Backend)(nil)
)

// New returns a Backend passing every operation to inner, with no faults.
func New(inner storage.Backend) *Backend {
	return &Backend{inner: inner}
}

// Unwrap returns the wrapped Backend.
func (b *Backend) Unwrap() storage.Backend { return b.inner }

// Calls returns how many times op has been called, failed or not.
func (b *Backend) Calls(op Op) int64 { return b.calls[op].Load() }

// Location returns the wrapped Backend's location, if it has one.
func (b *Backend) Location() string {
	if l, ok := b.inner.(storage.Location); ok {
		return "faulty:" + l.Location()
	}
	return "faulty"
}

func fault(hook func(string) error, op Op, arg string) error {
	if hook == nil {
		return nil
	}
	if err := hook(arg); err != nil {
		return fmt.Errorf("faulty: %s %s: %w", op, arg, err)
	}
	return nil
}

// Put calls FailPut, the wrapped Put, then FailPutAfter.
func (b *Backend) Put(ctx context.Context, name string, data []byte) error {
	b.calls[Put].Add(1)
	if err := fault(b.FailPut, Put, name); err != nil {
		return err
	}
	if err := b.inner.Put(ctx, name, data); err != nil {
		return err
	}
	return fault(b.FailPutAfter, Put, name)
}

// Get calls FailGet, the wrapped Get, then CorruptGet.
func (b *Backend) Get(ctx context.Context, name string) ([]byte, error) {
	b.calls[Get].Add(1)
	if err := fault(b.FailGet, Get, name); err != nil {
		return nil, err
	}
	data, err := b.inner.Get(ctx, name)
	if err == nil && b.CorruptGet != nil {
		data = b.CorruptGet(name, data)
	}
	return data, err
}

// Stat calls FailStat, then the wrapped Stat.
func (b *Backend) Stat(ctx context.Context, name string) (storage.ObjectInfo, error) {
	b.calls[Stat].Add(1)
	if err := fault(b.FailStat, Stat, name); err != nil {
		return storage.ObjectInfo{}, err
	}
	return b.inner.Stat(ctx, name)
}

// List calls FailList, then the wrapped List.
func (b *Backend) List(ctx context.Context, prefix string, fn func(storage.ObjectInfo) error) error {
	b.calls[List].Add(1)
	if err := fault(b.FailList, List, prefix); err != nil {
		return err
	}
	return b.inner.List(ctx, prefix, fn)
}

// Delete calls FailDelete, then the wrapped Delete.
func (b *Backend) Delete(ctx context.Context, name string) error {
	b.calls[Delete].Add(1)
	if err := fault(b.FailDelete, Delete, name); err != nil {
		return err
	}
	return b.inner.Delete(ctx, name)
}

// Close closes the wrapped Backend.
func (b *Backend) Close() error {
	b.calls[Close].Add(1)
	return b.inner.Close()
}
