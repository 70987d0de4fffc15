package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/storage"
)

const lockPrefix = "locks/"

// Lock kinds.
const (
	LockBackup = "backup"
	LockGC     = "gc"
)

// Lock timing: a holder rewrites its lock every LockRefresh; a lock not
// rewritten for LockStale is taken for the lock of a dead process. Tests may
// shorten both.
var (
	LockRefresh = time.Minute
	LockStale   = 10 * time.Minute
)

// LockInfo is the content of a lock object.
type LockInfo struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Host  string `json:"host"`
	PID   int    `json:"pid"`
	Point string `json:"point,omitempty"` // the restore point a backup is making
	// SawPending lists the pending deletion lists (gc/ ids) that a
	// backup saw when it began: it relies on none of their chunks, so
	// those garbage collections need not wait for it.
	SawPending []string  `json:"sawPending,omitempty"`
	Started    time.Time `json:"started"`
	Refreshed  time.Time `json:"refreshed"`
}

// Stale reports whether the lock was not refreshed for LockStale before now.
func (li LockInfo) Stale(now time.Time) bool { return now.Sub(li.Refreshed) > LockStale }

// Lock is a held lock, refreshed in the background until Release.
type Lock struct {
	v    *Vault
	name string

	wmu    sync.Mutex // serializes rewrites of the lock object
	mu     sync.Mutex
	info   LockInfo
	lastOK time.Time
	err    error

	stop chan struct{}
	done chan struct{}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}

// lock writes a lock object of kind and starts refreshing it.
func (v *Vault) lock(ctx context.Context, kind, point string) (*Lock, error) {
	now := v.clock.Now().UTC()
	l := &Lock{
		v:    v,
		info: LockInfo{ID: newID(), Kind: kind, Host: hostname(), PID: os.Getpid(), Point: point, Started: now, Refreshed: now},
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	l.name = lockPrefix + l.info.ID
	if err := v.putObject(ctx, l.name, l.info); err != nil {
		return nil, fmt.Errorf("take %s lock: %w", kind, err)
	}
	l.lastOK = now
	go l.refreshLoop()
	return l, nil
}

func (l *Lock) refreshLoop() {
	defer close(l.done)
	t := time.NewTicker(LockRefresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.refresh()
		}
	}
}

func (l *Lock) refresh() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), LockRefresh)
	defer cancel()
	if _, err := l.v.be.Stat(ctx, l.name); errors.Is(err, storage.ErrNotExist) {
		l.mu.Lock()
		l.err = cairn.E(cairn.Conflict, fmt.Errorf("lock %s was removed by another process (taken for stale)", l.info.ID))
		l.mu.Unlock()
		return
	}
	now := l.v.clock.Now().UTC()
	l.mu.Lock()
	info := l.info
	info.Refreshed = now
	l.mu.Unlock()
	if err := l.v.putObject(ctx, l.name, info); err != nil {
		return // try again next tick; Check fails once the lock may look stale
	}
	l.mu.Lock()
	l.info, l.lastOK = info, now
	l.mu.Unlock()
}

// declare records in the lock the pending deletion lists its holder saw.
func (l *Lock) declare(ctx context.Context, pending []string) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	info := l.info
	l.mu.Unlock()
	info.SawPending = pending
	if err := l.v.putObject(ctx, l.name, info); err != nil {
		return fmt.Errorf("update lock: %w", err)
	}
	l.mu.Lock()
	l.info = info
	l.mu.Unlock()
	return nil
}

// Check returns an error when the lock may no longer protect its holder:
// it was removed, or it could not be refreshed for long enough that another
// process may take it for stale.
func (l *Lock) Check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if age := l.v.clock.Now().Sub(l.lastOK); age > LockStale-LockRefresh {
		return cairn.E(cairn.Conflict, fmt.Errorf("lock %s not refreshed for %s; another process may take it for stale", l.info.ID, age.Round(time.Second)))
	}
	return nil
}

// Info returns the lock's content.
func (l *Lock) Info() LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.info
}

// Release stops refreshing and removes the lock object.
func (l *Lock) Release(ctx context.Context) error {
	select {
	case <-l.stop:
		return nil
	default:
	}
	close(l.stop)
	<-l.done
	if err := l.v.be.Delete(ctx, l.name); err != nil {
		return cairn.E(cairn.IO, fmt.Errorf("release lock: %w", err))
	}
	return nil
}

// Locks lists the lock objects of the vault. A lock that cannot be read
// is reported with only its id and a zero Refreshed time (so it is stale).
func (v *Vault) Locks(ctx context.Context) ([]LockInfo, error) {
	var names []string
	err := v.be.List(ctx, lockPrefix, func(oi storage.ObjectInfo) error {
		names = append(names, oi.Name)
		return nil
	})
	if err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("list locks: %w", err))
	}
	var out []LockInfo
	for _, n := range names {
		var li LockInfo
		if err := v.getObject(ctx, n, &li); err != nil {
			if cairn.IsKind(err, cairn.NotExist) {
				continue // released meanwhile
			}
			li = LockInfo{ID: strings.TrimPrefix(n, lockPrefix)}
		}
		out = append(out, li)
	}
	return out, nil
}

func (v *Vault) removeLock(ctx context.Context, id string) error {
	return v.be.Delete(ctx, lockPrefix+id)
}
