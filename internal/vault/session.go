package vault

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairn-vm/cairn/internal/cairn"
	"github.com/cairn-vm/cairn/internal/chunkstore"
	"github.com/cairn-vm/cairn/internal/storage"
)

// Session is a backup in progress: it holds a backup lock and knows which
// chunks the vault already has and may be relied on. It is safe for
// concurrent use.
type Session struct {
	v       *Vault
	lock    *Lock
	PointID string

	known   map[cairn.ChunkID]struct{} // stored and not doomed; read-only
	doomed  map[cairn.ChunkID]struct{} // a garbage collection may delete these; read-only
	pending []*pendingList             // the pending deletion lists seen at the start

	mu      sync.Mutex
	claimed map[cairn.ChunkID]struct{}
}

// PendingPoll is how often a backup looks whether the garbage collections
// it waits for have finished. Tests may shorten it.
var PendingPoll = 500 * time.Millisecond

// BeginBackup starts a backup of a new restore point. The order matters to
// garbage collection (see gc.go): the lock is written first, then the
// pending deletions are read (and, if there are any, declared in the lock),
// then the chunks are listed.
func (v *Vault) BeginBackup(ctx context.Context) (*Session, error) {
	return v.BeginBackupAs(ctx, NewPointID())
}

// BeginBackupAs is BeginBackup for a restore point whose id the caller
// chooses, so that a job that is resumed makes the same restore point (a
// copy from another vault does). id must satisfy ValidPointID. Committing
// a point under the id of an existing one replaces its record.
func (v *Vault) BeginBackupAs(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, cairn.E(cairn.Invalid, fmt.Errorf("restore point id %q: want 32 lower-case hex digits", id))
	}
	l, err := v.lock(ctx, LockBackup, id)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Session, error) {
		_ = l.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	s := &Session{v: v, lock: l, PointID: id, claimed: map[cairn.ChunkID]struct{}{}, doomed: map[cairn.ChunkID]struct{}{}}
	if s.pending, err = v.pendingLists(ctx); err != nil {
		return fail(err)
	}
	if len(s.pending) > 0 {
		var seen []string
		for _, p := range s.pending {
			seen = append(seen, p.ID)
			for _, id := range p.ids() {
				s.doomed[id] = struct{}{}
			}
		}
		// Tell the collections not to wait for this backup: it will not
		// rely on what they delete, and stores it only after they end.
		if err := l.declare(ctx, seen); err != nil {
			return fail(err)
		}
	}
	s.known = map[cairn.ChunkID]struct{}{}
	err = v.be.List(ctx, chunkstore.ChunkPrefix, func(oi storage.ObjectInfo) error {
		if id, ok := chunkstore.ParseChunkName(oi.Name); ok && oi.Size >= chunkstore.Overhead {
			if _, d := s.doomed[id]; !d {
				s.known[id] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return fail(cairn.E(cairn.IO, fmt.Errorf("list chunks: %w", err)))
	}
	return s, nil
}

// Doomed reports whether a garbage collection running when the backup
// began may delete chunk id. A backup must not store such a chunk before
// WaitPending returns: the collection could delete it right after.
func (s *Session) Doomed(id cairn.ChunkID) bool {
	_, ok := s.doomed[id]
	return ok
}

// WaitPending waits until every garbage collection whose pending deletions
// this backup saw has finished (or died).
func (s *Session) WaitPending(ctx context.Context) error {
	for len(s.pending) > 0 {
		lists, err := s.v.pendingLists(ctx)
		if err != nil {
			return err
		}
		locks, err := s.v.Locks(ctx)
		if err != nil {
			return err
		}
		live := map[string]bool{}
		now := s.v.clock.Now()
		for _, li := range locks {
			if li.Kind == LockGC && !li.Stale(now) {
				live[li.ID] = true
			}
		}
		exists := map[string]bool{}
		for _, p := range lists {
			if live[p.LockID] {
				exists[p.ID] = true
			}
		}
		var still []*pendingList
		for _, p := range s.pending {
			if exists[p.ID] {
				still = append(still, p)
			}
		}
		s.pending = still
		if len(still) == 0 {
			return nil
		}
		t := time.NewTimer(PendingPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Usable reports whether the vault has chunk id and this backup may refer
// to it without storing it again (for chunks inherited from a parent).
func (s *Session) Usable(id cairn.ChunkID) bool {
	if id.IsZero() {
		return true
	}
	_, ok := s.known[id]
	return ok
}

// Claim reports whether the caller must store chunk id: it is neither in
// the vault nor already being stored by this backup. Exactly one caller
// gets true for each new id.
func (s *Session) Claim(id cairn.ChunkID) bool {
	if _, ok := s.known[id]; ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.claimed[id]; ok {
		return false
	}
	s.claimed[id] = struct{}{}
	return true
}

// Commit checks that the backup lock still protects this backup and makes
// the restore point visible, then releases the lock.
func (s *Session) Commit(ctx context.Context, rp *RestorePoint, manifests []*Manifest) error {
	if rp.ID != s.PointID {
		return fmt.Errorf("commit: restore point %s in session %s", rp.ID, s.PointID)
	}
	if err := s.lock.Check(); err != nil {
		return fmt.Errorf("commit restore point: %w", err)
	}
	if err := s.v.Commit(ctx, rp, manifests); err != nil {
		return err
	}
	return s.lock.Release(context.WithoutCancel(ctx))
}

// Abort ends the session without a restore point. Chunks it stored stay
// until garbage collection removes them.
func (s *Session) Abort(ctx context.Context) error {
	return s.lock.Release(ctx)
}

const gcPrefix = "gc/"

// pendingList is the content of a gc/ object: chunks a garbage collection
// intends to delete.
type pendingList struct {
	ID      string `json:"id"`
	LockID  string `json:"lock"`
	Chunks  []byte `json:"chunks"` // concatenated 32-byte ids
	Created string `json:"created"`
}

func (p *pendingList) ids() []cairn.ChunkID {
	out := make([]cairn.ChunkID, len(p.Chunks)/32)
	for i := range out {
		copy(out[i][:], p.Chunks[32*i:])
	}
	return out
}

// pendingLists reads every gc/ object.
func (v *Vault) pendingLists(ctx context.Context) ([]*pendingList, error) {
	var names []string
	if err := v.be.List(ctx, gcPrefix, func(oi storage.ObjectInfo) error {
		names = append(names, oi.Name)
		return nil
	}); err != nil {
		return nil, cairn.E(cairn.IO, fmt.Errorf("list pending deletions: %w", err))
	}
	var out []*pendingList
	for _, n := range names {
		data, err := v.getRaw(ctx, n)
		if cairn.IsKind(err, cairn.NotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var p pendingList
		if err := json.Unmarshal(data, &p); err != nil || len(p.Chunks)%32 != 0 {
			return nil, cairn.E(cairn.Corrupt, fmt.Errorf("%s: not a pending deletion list", n))
		}
		p.ID = strings.TrimPrefix(n, gcPrefix)
		out = append(out, &p)
	}
	return out, nil
}
